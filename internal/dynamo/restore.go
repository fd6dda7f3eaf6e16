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
	"github.com/crmbackup/crmbackup/internal/listing"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/stamp"
)

var _ restore.Store = (*Store)(nil)

const (
	skPlan   = "PLAN#"
	skImport = "IMPORT#"
	skLock   = "LOCK#RESTORE"
	skAudit  = "AUDIT#"
)

// planKeep is how long a plan's item outlives the plan (for reference),
// before TTL deletes it.
const planKeep = 7 * 24 * time.Hour

type planItem struct {
	PK  string `json:"PK"`
	SK  string `json:"SK"`
	TTL int64  `json:"ttl"`
	restore.Plan
}

// CreatePlan writes a new plan and its audit entry in one transaction.
func (s *Store) CreatePlan(ctx context.Context, p *restore.Plan, entry *audit.Entry) error {
	item, err := marshal(planItem{PK: pk(p.AccountID), SK: skPlan + p.ID, TTL: p.ExpiresAt.Add(planKeep).Unix(), Plan: *p})
	if err != nil {
		return err
	}
	auItem, err := auditPut(s, entry)
	if err != nil {
		return err
	}
	fresh, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("PK"))).Build()
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: fresh.Condition(), ExpressionAttributeNames: fresh.Names()}},
		auItem,
	})
	if canceledAt(err, 0) {
		return apperr.New(apperr.Conflict, "plan %s exists", p.ID)
	}
	if err != nil {
		return fmt.Errorf("create plan %s: %w", p.ID, err)
	}
	return nil
}

func (it *planItem) value() *restore.Plan { return &it.Plan }

// Plan returns a plan.
func (s *Store) Plan(ctx context.Context, accountID, id string) (*restore.Plan, error) {
	p, err := getItem(ctx, s, accountID, skPlan+id, (*planItem).value)
	return p, notFound(err, "no restore plan %q", id)
}

// UpdatePlan writes p if its stored status is one of from.
func (s *Store) UpdatePlan(ctx context.Context, p *restore.Plan, from ...restore.PlanStatus) error {
	item, err := marshal(planItem{PK: pk(p.AccountID), SK: skPlan + p.ID, TTL: p.ExpiresAt.Add(planKeep).Unix(), Plan: *p})
	if err != nil {
		return err
	}
	err = s.putIf(ctx, item, statusOneOf(from))
	if isConditionFailed(err) {
		return apperr.New(apperr.Conflict, "plan %s is no longer %v", p.ID, from)
	}
	if err != nil {
		return fmt.Errorf("update plan %s: %w", p.ID, err)
	}
	return nil
}

type importItem struct {
	PK       string `json:"PK"`
	SK       string `json:"SK"`
	ErrorKey string `json:"errorKey,omitempty"` // restore.Import hides it from JSON
	restore.Import
}

func toImportItem(im *restore.Import) importItem {
	return importItem{PK: pk(im.AccountID), SK: skImport + im.ID, ErrorKey: im.ErrorKey, Import: *im}
}

func (it *importItem) value() *restore.Import {
	im := it.Import
	im.ErrorKey = it.ErrorKey
	return &im
}

type lockItem struct {
	PK       string `json:"PK"`
	SK       string `json:"SK"`
	ImportID string `json:"importId"`
	Until    string `json:"until"` // a stamp: compared as a string
	TTL      int64  `json:"ttl"`
}

func (it *lockItem) value() *restore.Lock {
	return &restore.Lock{ImportID: it.ImportID, Until: stamp.Time(it.Until)}
}

type auditItem struct {
	PK string `json:"PK"`
	SK string `json:"SK"`
	audit.Entry
}

func (it *auditItem) value() *audit.Entry { return &it.Entry }

// auditPut is the transaction item that writes an audit entry.
func auditPut(s *Store, e *audit.Entry) (types.TransactWriteItem, error) {
	item, err := marshal(auditItem{PK: pk(e.AccountID), SK: skAudit + e.ID, Entry: *e})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: item}}, nil
}

// canceledAt reports whether err is a transaction cancelled by the
// condition of its item i.
func canceledAt(err error, i int) bool {
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		return false
	}
	r := canceled.CancellationReasons
	return i < len(r) && aws.ToString(r[i].Code) == "ConditionalCheckFailed"
}

// AddAudit stores e once: adding the same id again changes nothing.
func (s *Store) AddAudit(ctx context.Context, e *audit.Entry) error {
	item, err := marshal(auditItem{PK: pk(e.AccountID), SK: skAudit + e.ID, Entry: *e})
	if err != nil {
		return err
	}
	err = s.putIf(ctx, item, expression.AttributeNotExists(expression.Name("PK")))
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("add audit entry %s: %w", e.ID, err)
	}
	return nil
}

// AuditLog pages through an account's audit entries (ULIDs of their
// time), of one action if q says so.
func (s *Store) AuditLog(ctx context.Context, accountID string, q audit.Query) (listing.Page[*audit.Entry], error) {
	var filter *expression.ConditionBuilder
	if q.Action != "" {
		f := expression.Name("action").Equal(expression.Value(q.Action))
		filter = &f
	}
	return queryPage(ctx, s, accountID, skAudit, q.Query, filter, (*auditItem).value)
}

// StartImport takes the lock, writes the import, marks the plan EXECUTED
// and writes the audit entry, in one transaction.
func (s *Store) StartImport(ctx context.Context, im *restore.Import, lock restore.Lock, entry *audit.Entry) error {
	imItem, err := marshal(toImportItem(im))
	if err != nil {
		return err
	}
	lkItem, err := marshal(lockItem{PK: pk(im.AccountID), SK: skLock, ImportID: lock.ImportID, Until: stamp.Of(lock.Until), TTL: lock.Until.Add(24 * time.Hour).Unix()})
	if err != nil {
		return err
	}
	auItem, err := marshal(auditItem{PK: pk(entry.AccountID), SK: skAudit + entry.ID, Entry: *entry})
	if err != nil {
		return err
	}
	free, err := expression.NewBuilder().WithCondition(expression.Or(
		expression.AttributeNotExists(expression.Name("PK")),
		expression.LessThanEqual(expression.Name("until"), expression.Value(stamp.Of(im.StartedAt))))).Build()
	if err != nil {
		return err
	}
	fresh, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("PK"))).Build()
	if err != nil {
		return err
	}
	plan, err := expression.NewBuilder().
		WithCondition(expression.Name("status").Equal(expression.Value(restore.Ready))).
		WithUpdate(expression.Set(expression.Name("status"), expression.Value(restore.Executed)).
			Set(expression.Name("importId"), expression.Value(im.ID))).Build()
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: lkItem, ConditionExpression: free.Condition(),
			ExpressionAttributeNames: free.Names(), ExpressionAttributeValues: free.Values()}},
		{Put: &types.Put{TableName: &s.table, Item: imItem, ConditionExpression: fresh.Condition(),
			ExpressionAttributeNames: fresh.Names()}},
		{Update: &types.Update{TableName: &s.table, Key: key(pk(im.AccountID), skPlan+im.PlanID),
			ConditionExpression: plan.Condition(), UpdateExpression: plan.Update(),
			ExpressionAttributeNames: plan.Names(), ExpressionAttributeValues: plan.Values()}},
		{Put: &types.Put{TableName: &s.table, Item: auItem, ConditionExpression: fresh.Condition(),
			ExpressionAttributeNames: fresh.Names()}},
	})
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		failed := func(i int) bool {
			r := canceled.CancellationReasons
			return i < len(r) && aws.ToString(r[i].Code) == "ConditionalCheckFailed"
		}
		switch {
		case failed(0):
			held, lerr := s.RestoreLock(ctx, im.AccountID)
			if lerr != nil {
				return lerr
			}
			e := apperr.New(apperr.Conflict, "another restore of this account is running: one restore at a time")
			if held != nil {
				e = e.With("importId", held.ImportID)
			}
			return e
		case failed(2):
			return apperr.New(apperr.Conflict, "plan %s is no longer ready: it was executed or changed", im.PlanID)
		case failed(1), failed(3):
			return apperr.New(apperr.Conflict, "import %s exists", im.ID)
		}
	}
	if err != nil {
		return fmt.Errorf("start import %s: %w", im.ID, err)
	}
	return nil
}

// Import returns one import.
func (s *Store) Import(ctx context.Context, accountID, id string) (*restore.Import, error) {
	im, err := getItem(ctx, s, accountID, skImport+id, (*importItem).value)
	return im, notFound(err, "no import %q", id)
}

// Imports pages through an account's imports (ULIDs sort by time).
func (s *Store) Imports(ctx context.Context, accountID string, q listing.Query) (listing.Page[*restore.Import], error) {
	return queryPage(ctx, s, accountID, skImport, q, nil, (*importItem).value)
}

// SetImportProgress records the rows a RUNNING import has handled.
func (s *Store) SetImportProgress(ctx context.Context, accountID, id string, rows int64, tally *restore.Tally) error {
	up := expression.Set(expression.Name("rowsDone"), expression.Value(rows))
	if tally != nil {
		t, err := attributevalue.MarshalWithOptions(tally, func(o *attributevalue.EncoderOptions) { o.TagKey = "json" })
		if err != nil {
			return err
		}
		up = up.Set(expression.Name("tally"), expression.Value(t))
	}
	expr, err := expression.NewBuilder().
		WithCondition(expression.Name("status").Equal(expression.Value(restore.ImportRunning))).
		WithUpdate(up).Build()
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(pk(accountID), skImport+id),
		ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if isConditionFailed(err) {
		return apperr.New(apperr.Conflict, "import %s is not running", id)
	}
	if err != nil {
		return fmt.Errorf("progress of import %s: %w", id, err)
	}
	return nil
}

// FinishImport writes a RUNNING import's end and its audit entry.
func (s *Store) FinishImport(ctx context.Context, im *restore.Import, entry *audit.Entry) error {
	imItem, err := marshal(toImportItem(im))
	if err != nil {
		return err
	}
	auItem, err := auditPut(s, entry)
	if err != nil {
		return err
	}
	running, err := expression.NewBuilder().WithCondition(expression.Name("status").Equal(expression.Value(restore.ImportRunning))).Build()
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: imItem, ConditionExpression: running.Condition(),
			ExpressionAttributeNames: running.Names(), ExpressionAttributeValues: running.Values()}},
		auItem,
	})
	if canceledAt(err, 0) {
		return apperr.New(apperr.Conflict, "import %s already ended", im.ID)
	}
	if err != nil {
		return fmt.Errorf("finish import %s: %w", im.ID, err)
	}
	return nil
}

// ReleaseLock deletes the lock if importID holds it.
func (s *Store) ReleaseLock(ctx context.Context, accountID, importID string) error {
	expr, err := expression.NewBuilder().WithCondition(expression.Name("importId").Equal(expression.Value(importID))).Build()
	if err != nil {
		return err
	}
	_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(pk(accountID), skLock),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release restore lock of %s: %w", accountID, err)
	}
	return nil
}

// RestoreLock returns the account's restore lock, nil if free.
func (s *Store) RestoreLock(ctx context.Context, accountID string) (*restore.Lock, error) {
	l, err := getItem(ctx, s, accountID, skLock, (*lockItem).value)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	}
	return l, err
}

// get reads one item of an account into v (apperr.NotFound if absent).
func (s *Store) get(ctx context.Context, accountID, sk string, v any) error {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk(accountID), sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("get %s of %s: %w", sk, accountID, err)
	}
	if out.Item == nil {
		return apperr.New(apperr.NotFound, "no item %s", sk)
	}
	if err := unmarshal(out.Item, v); err != nil {
		return fmt.Errorf("decode %s of %s: %w", sk, accountID, err)
	}
	return nil
}

// getItem reads one item of an account as an I and turns it into a *T by
// value (apperr.NotFound if absent).
func getItem[I, T any](ctx context.Context, s *Store, accountID, sk string, value func(*I) *T) (*T, error) {
	var it I
	if err := s.get(ctx, accountID, sk, &it); err != nil {
		return nil, err
	}
	return value(&it), nil
}

// notFound gives a NotFound error a message for the caller.
func notFound(err error, format string, args ...any) error {
	if apperr.Is(err, apperr.NotFound) {
		return apperr.New(apperr.NotFound, format, args...)
	}
	return err
}

// putIf puts item on condition.
func (s *Store) putIf(ctx context.Context, item map[string]types.AttributeValue, cond expression.ConditionBuilder) error {
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	return err
}

// statusOneOf is the condition that an item's status is one of from.
func statusOneOf[S ~string](from []S) expression.ConditionBuilder {
	if len(from) == 0 {
		return expression.AttributeExists(expression.Name("PK"))
	}
	ops := make([]expression.OperandBuilder, 0, len(from)-1)
	for _, st := range from[1:] {
		ops = append(ops, expression.Value(st))
	}
	return expression.Name("status").In(expression.Value(from[0]), ops...)
}
