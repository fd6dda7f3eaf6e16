// Package dynamo implements crmbackup's metadata store on one DynamoDB table
// (DESIGN.md §10): PK = ACCOUNT#<id>, SK = META | QUOTA | SCHEDULE |
// BACKUP#<ulid> | NOTIF#<ulid> | AUDIT#<ulid> | … Every state change is a
// conditional write; the quota is consumed in the same transaction that
// writes the backup and its audit entry. Lists are key ranges of ULIDs:
// they page newest or oldest first (package listing).
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/listing"
	"github.com/crmbackup/crmbackup/internal/stamp"
)

// Store is the table.
type Store struct {
	db    *dynamodb.Client
	table string
	// NotificationTTL is how long notifications are kept (default 90 days).
	NotificationTTL time.Duration
}

// New returns a store on table.
func New(db *dynamodb.Client, table string) *Store {
	return &Store{db: db, table: table, NotificationTTL: 90 * 24 * time.Hour}
}

var _ backup.Store = (*Store)(nil)

func pk(accountID string) string { return "ACCOUNT#" + accountID }

const (
	skMeta   = "META"
	skQuota  = "QUOTA"
	skBackup = "BACKUP#"
	skNotif  = "NOTIF#"
)

func key(pkv, skv string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pkv},
		"SK": &types.AttributeValueMemberS{Value: skv},
	}
}

func marshal(v any) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMapWithOptions(v, func(o *attributevalue.EncoderOptions) { o.TagKey = "json" })
}

func unmarshal(m map[string]types.AttributeValue, v any) error {
	return attributevalue.UnmarshalMapWithOptions(m, v, func(o *attributevalue.DecoderOptions) { o.TagKey = "json" })
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// --- accounts ---

type accountItem struct {
	PK string `json:"PK"`
	SK string `json:"SK"`
	backup.Account
}

func (it *accountItem) value() *backup.Account { return &it.Account }

// Account returns an account (apperr.NotFound if unknown).
func (s *Store) Account(ctx context.Context, id string) (*backup.Account, error) {
	a, err := getItem(ctx, s, id, skMeta, (*accountItem).value)
	return a, notFound(err, "no account %q", id)
}

// --- backups ---

type backupItem struct {
	PK          string                 `json:"PK"`
	SK          string                 `json:"SK"`
	AccountID   string                 `json:"accountId"`
	BackupID    string                 `json:"backupId"`
	Status      backup.Status          `json:"status"`
	Trigger     backup.Trigger         `json:"trigger"`
	RequestedBy string                 `json:"requestedBy,omitempty"`
	CreatedAt   string                 `json:"createdAt"`
	StartedAt   string                 `json:"startedAt,omitempty"`
	CompletedAt string                 `json:"completedAt,omitempty"`
	ExpiresAt   string                 `json:"expiresAt,omitempty"`
	Failure     string                 `json:"failure,omitempty"`
	Progress    map[string]int64       `json:"progress"`
	FileName    string                 `json:"fileName,omitempty"`
	Key         string                 `json:"s3Key,omitempty"`
	Size        int64                  `json:"size,omitempty"`
	SHA256      string                 `json:"sha256,omitempty"`
	Objects     []backup.ObjectSummary `json:"objects,omitempty"`
	Omitted     []backup.Omission      `json:"omitted,omitempty"`
}

func toItem(b *backup.Backup) backupItem {
	progress := b.Progress
	if progress == nil {
		progress = map[string]int64{}
	}
	return backupItem{
		PK: pk(b.AccountID), SK: skBackup + b.ID, AccountID: b.AccountID, BackupID: b.ID,
		Status: b.Status, Trigger: b.Trigger, RequestedBy: b.RequestedBy,
		CreatedAt: stamp.Of(b.CreatedAt), StartedAt: stamp.Of(b.StartedAt), CompletedAt: stamp.Of(b.CompletedAt), ExpiresAt: stamp.Of(b.ExpiresAt),
		Failure: b.Failure, Progress: progress, FileName: b.FileName, Key: b.Key, Size: b.Size, SHA256: b.SHA256, Objects: b.Objects, Omitted: b.Omitted,
	}
}

func (it *backupItem) backup() *backup.Backup {
	return &backup.Backup{
		AccountID: it.AccountID, ID: it.BackupID, Status: it.Status, Trigger: it.Trigger, RequestedBy: it.RequestedBy,
		CreatedAt: stamp.Time(it.CreatedAt), StartedAt: stamp.Time(it.StartedAt), CompletedAt: stamp.Time(it.CompletedAt), ExpiresAt: stamp.Time(it.ExpiresAt),
		Failure: it.Failure, Progress: it.Progress, FileName: it.FileName, Key: it.Key, Size: it.Size, SHA256: it.SHA256, Objects: it.Objects, Omitted: it.Omitted,
	}
}

// CreateBackup writes b, consumes the quota and writes the audit entry in
// one transaction.
func (s *Store) CreateBackup(ctx context.Context, b *backup.Backup, window time.Duration, entry *audit.Entry) error {
	item, err := marshal(toItem(b))
	if err != nil {
		return err
	}
	auItem, err := auditPut(s, entry)
	if err != nil {
		return err
	}
	// The quota item keeps the previous consumption so a failure can refund it.
	cutoff := stamp.Of(b.CreatedAt.Add(-window))
	quota, err := expression.NewBuilder().
		WithCondition(expression.Or(
			expression.AttributeNotExists(expression.Name("lastAt")),
			expression.LessThanEqual(expression.Name("lastAt"), expression.Value(cutoff)))).
		WithUpdate(expression.
			Set(expression.Name("prevAt"), expression.IfNotExists(expression.Name("lastAt"), expression.Value(""))).
			Set(expression.Name("prevBackupId"), expression.IfNotExists(expression.Name("backupId"), expression.Value(""))).
			Set(expression.Name("lastAt"), expression.Value(stamp.Of(b.CreatedAt))).
			Set(expression.Name("backupId"), expression.Value(b.ID))).
		Build()
	if err != nil {
		return err
	}
	notExists, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("PK"))).Build()
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: item,
			ConditionExpression: notExists.Condition(), ExpressionAttributeNames: notExists.Names()}},
		{Update: &types.Update{TableName: &s.table, Key: key(pk(b.AccountID), skQuota),
			ConditionExpression: quota.Condition(), UpdateExpression: quota.Update(),
			ExpressionAttributeNames: quota.Names(), ExpressionAttributeValues: quota.Values()}},
		auItem,
	})
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		reasons := canceled.CancellationReasons
		if len(reasons) > 0 && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
			return apperr.New(apperr.Conflict, "backup %s exists", b.ID)
		}
		if len(reasons) > 1 && aws.ToString(reasons[1].Code) == "ConditionalCheckFailed" {
			return s.quotaError(ctx, b.AccountID, window)
		}
	}
	if err != nil {
		return fmt.Errorf("create backup %s: %w", b.ID, err)
	}
	return nil
}

type quotaItem struct {
	LastAt   string `json:"lastAt"`
	BackupID string `json:"backupId"`
}

func (s *Store) quotaError(ctx context.Context, accountID string, window time.Duration) error {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk(accountID), skQuota), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("read quota of %s: %w", accountID, err)
	}
	var q quotaItem
	if err := unmarshal(out.Item, &q); err != nil {
		return err
	}
	next := stamp.Time(q.LastAt).Add(window)
	return apperr.New(apperr.QuotaUsed, "the account's backup quota is used until %s (backup %s)", next.Format(time.RFC3339), q.BackupID).
		With("nextAllowedAt", next.Format(time.RFC3339))
}

// Backup returns one backup (apperr.NotFound if unknown).
func (s *Store) Backup(ctx context.Context, accountID, id string) (*backup.Backup, error) {
	b, err := getItem(ctx, s, accountID, skBackup+id, (*backupItem).backup)
	return b, notFound(err, "no backup %q", id)
}

// Backups pages through an account's backups (ULIDs sort by time).
func (s *Store) Backups(ctx context.Context, accountID string, q listing.Query) (listing.Page[*backup.Backup], error) {
	return queryPage(ctx, s, accountID, skBackup, q, nil, (*backupItem).backup)
}

// UpdateBackup writes b if its stored status is one of from.
func (s *Store) UpdateBackup(ctx context.Context, b *backup.Backup, from ...backup.Status) error {
	item, err := marshal(toItem(b))
	if err != nil {
		return err
	}
	err = s.putIf(ctx, item, statusOneOf(from))
	if isConditionFailed(err) {
		return apperr.New(apperr.Conflict, "backup %s is no longer %v", b.ID, from)
	}
	if err != nil {
		return fmt.Errorf("update backup %s: %w", b.ID, err)
	}
	return nil
}

// SetProgress records the rows exported of one object.
func (s *Store) SetProgress(ctx context.Context, accountID, backupID, object string, rows int64) error {
	expr, err := expression.NewBuilder().
		WithCondition(expression.Name("status").Equal(expression.Value(backup.Running))).
		WithUpdate(expression.Set(expression.Name("progress."+object), expression.Value(rows))).
		Build()
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(pk(accountID), skBackup+backupID),
		ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if isConditionFailed(err) {
		return apperr.New(apperr.Conflict, "backup %s is not running", backupID)
	}
	if err != nil {
		return fmt.Errorf("progress of backup %s: %w", backupID, err)
	}
	return nil
}

// FailBackup marks b FAILED (from QUEUED or RUNNING) and refunds the quota
// it consumed. Both writes are conditional and idempotent, so a retry after
// a crash between them finishes the job.
func (s *Store) FailBackup(ctx context.Context, b *backup.Backup) error {
	f := *b
	f.Status = backup.Failed
	err := s.UpdateBackup(ctx, &f, backup.Queued, backup.Running)
	if apperr.Is(err, apperr.Conflict) {
		cur, gerr := s.Backup(ctx, b.AccountID, b.ID)
		if gerr != nil {
			return gerr
		}
		if cur.Status != backup.Failed {
			return apperr.New(apperr.Conflict, "backup %s is %s: it cannot fail", b.ID, cur.Status)
		}
	} else if err != nil {
		return err
	}
	// Give the quota back only if this backup is still the one that holds it.
	expr, err := expression.NewBuilder().
		WithCondition(expression.Name("backupId").Equal(expression.Value(b.ID))).
		WithUpdate(expression.
			Set(expression.Name("lastAt"), expression.Name("prevAt")).
			Set(expression.Name("backupId"), expression.Name("prevBackupId"))).
		Build()
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(pk(b.AccountID), skQuota),
		ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("refund quota of backup %s: %w", b.ID, err)
	}
	return nil
}

// --- notifications ---

// notificationItem is a NOTIF#<id> item; readAt is absent while unread.
type notificationItem struct {
	PK        string `json:"PK"`
	SK        string `json:"SK"`
	TTL       int64  `json:"ttl"`
	AccountID string `json:"accountId"`
	ID        string `json:"id"`
	CreatedAt string `json:"createdAt"`
	Kind      string `json:"kind"`
	Subject   string `json:"subject"`
	Message   string `json:"message"`
	BackupID  string `json:"backupId,omitempty"`
	ImportID  string `json:"importId,omitempty"`
	Link      string `json:"link,omitempty"`
	ReadAt    string `json:"readAt,omitempty"`
	Published string `json:"publishedAt,omitempty"`
}

// AddNotification stores n once: adding the same id again changes
// nothing, and says whether the stored one was published.
func (s *Store) AddNotification(ctx context.Context, n *backup.Notification) (bool, error) {
	item, err := marshal(notificationItem{PK: pk(n.AccountID), SK: skNotif + n.ID, TTL: n.CreatedAt.Add(s.NotificationTTL).Unix(),
		AccountID: n.AccountID, ID: n.ID, CreatedAt: stamp.Of(n.CreatedAt), Kind: n.Kind, Subject: n.Subject, Message: n.Message,
		BackupID: n.BackupID, ImportID: n.ImportID, Link: n.Link, ReadAt: stamp.Of(n.ReadAt), Published: stamp.Of(n.PublishedAt)})
	if err != nil {
		return false, err
	}
	expr, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("PK"))).Build()
	if err != nil {
		return false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item,
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		var old notificationItem
		if err := unmarshal(ccf.Item, &old); err != nil {
			return false, err
		}
		return old.Published != "", nil
	}
	if err != nil {
		return false, fmt.Errorf("add notification %s: %w", n.ID, err)
	}
	return !n.PublishedAt.IsZero(), nil
}

// MarkPublished records that a notification went out.
func (s *Store) MarkPublished(ctx context.Context, accountID, id string, at time.Time) error {
	expr, err := expression.NewBuilder().WithCondition(expression.AttributeExists(expression.Name("PK"))).
		WithUpdate(expression.Set(expression.Name("publishedAt"), expression.Value(stamp.Of(at)))).Build()
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(pk(accountID), skNotif+id),
		ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("mark notification %s published: %w", id, err)
	}
	return nil
}

func (it *notificationItem) value() *backup.Notification {
	return &backup.Notification{AccountID: it.AccountID, ID: it.ID, CreatedAt: stamp.Time(it.CreatedAt), Kind: it.Kind,
		Subject: it.Subject, Message: it.Message, BackupID: it.BackupID, ImportID: it.ImportID, Link: it.Link, ReadAt: stamp.Time(it.ReadAt),
		PublishedAt: stamp.Time(it.Published)}
}

// Notifications pages through an account's notifications (by id: ULIDs).
func (s *Store) Notifications(ctx context.Context, accountID string, q listing.Query) (listing.Page[*backup.Notification], error) {
	return queryPage(ctx, s, accountID, skNotif, q, nil, (*notificationItem).value)
}

// unread walks the keys of an account's unread notifications.
func (s *Store) unread(ctx context.Context, accountID string, count bool, fn func(n int32, keys []map[string]types.AttributeValue) error) error {
	expr, err := expression.NewBuilder().
		WithKeyCondition(expression.KeyAnd(expression.Key("PK").Equal(expression.Value(pk(accountID))),
			expression.Key("SK").BeginsWith(skNotif))).
		WithFilter(expression.AttributeNotExists(expression.Name("readAt"))).
		WithProjection(expression.NamesList(expression.Name("PK"), expression.Name("SK"))).Build()
	if err != nil {
		return err
	}
	in := &dynamodb.QueryInput{TableName: &s.table, KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	if count {
		in.Select = types.SelectCount
	} else {
		in.ProjectionExpression = expr.Projection()
	}
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("unread notifications of %s: %w", accountID, err)
		}
		if err := fn(page.Count, page.Items); err != nil {
			return err
		}
	}
	return nil
}

// UnreadCount counts the account's notifications without readAt.
func (s *Store) UnreadCount(ctx context.Context, accountID string) (int, error) {
	total := 0
	err := s.unread(ctx, accountID, true, func(n int32, _ []map[string]types.AttributeValue) error {
		total += int(n)
		return nil
	})
	return total, err
}

// markRead sets readAt on one notification if it has none: false if it
// had one (or does not exist).
func (s *Store) markRead(ctx context.Context, k map[string]types.AttributeValue, at time.Time) (bool, error) {
	expr, err := expression.NewBuilder().
		WithCondition(expression.And(expression.AttributeExists(expression.Name("PK")),
			expression.AttributeNotExists(expression.Name("readAt")))).
		WithUpdate(expression.Set(expression.Name("readAt"), expression.Value(stamp.Of(at)))).Build()
	if err != nil {
		return false, err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: k,
		ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark notification read: %w", err)
	}
	return true, nil
}

// MarkRead sets a notification's readAt unless it is set.
func (s *Store) MarkRead(ctx context.Context, accountID, id string, at time.Time) error {
	marked, err := s.markRead(ctx, key(pk(accountID), skNotif+id), at)
	if err != nil || marked {
		return err
	}
	if _, err := getItem(ctx, s, accountID, skNotif+id, (*notificationItem).value); err != nil {
		return notFound(err, "no notification %q", id)
	}
	return nil
}

// MarkAllRead marks every unread notification read.
func (s *Store) MarkAllRead(ctx context.Context, accountID string, at time.Time) (int, error) {
	marked := 0
	err := s.unread(ctx, accountID, false, func(_ int32, keys []map[string]types.AttributeValue) error {
		for _, k := range keys {
			ok, err := s.markRead(ctx, k, at)
			if err != nil {
				return err
			}
			if ok {
				marked++
			}
		}
		return nil
	})
	return marked, err
}

// CreateTable creates the table as the CDK stack defines it (for local
// stand-ins): string keys PK and SK, on-demand, TTL on "ttl".
func CreateTable(ctx context.Context, db *dynamodb.Client, table string) error {
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: &table,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("SK"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("SK"), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, time.Minute); err != nil {
		return err
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: &table,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("ttl"), Enabled: aws.Bool(true)}})
	if err != nil {
		return fmt.Errorf("enable TTL on %s: %w", table, err)
	}
	return nil
}
