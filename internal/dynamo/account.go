package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/stamp"
)

// The registry of accounts: one item per account in a partition of its
// own (PK = ACCOUNTS, SK = ACCOUNT#<id>), written in the same transaction
// as the account's META, so that listing the accounts is one query, not a
// scan of every backup and audit entry.
const (
	pkRegistry = "ACCOUNTS"
	skAccount  = "ACCOUNT#"
)

type registryItem struct {
	PK        string `json:"PK"`
	SK        string `json:"SK"`
	AccountID string `json:"accountId"`
	PortalID  int64  `json:"portalId,omitempty"`
	// RemovedAt marks an account removed: the item stays, so that its id
	// is never given to another portal (the id's backups, audit log and
	// admins are under it).
	RemovedAt string `json:"removedAt,omitempty"`
}

func (s *Store) accountPuts(a *backup.Account, cond *expression.ConditionBuilder) ([]types.TransactWriteItem, error) {
	if a.ID == "" || !a.Tier.Valid() {
		return nil, apperr.New(apperr.Invalid, "an account needs an id and a tier (starter, professional, enterprise)")
	}
	meta, err := marshal(accountItem{PK: pk(a.ID), SK: skMeta, Account: *a})
	if err != nil {
		return nil, err
	}
	reg, err := marshal(registryItem{PK: pkRegistry, SK: skAccount + a.ID, AccountID: a.ID, PortalID: a.PortalID})
	if err != nil {
		return nil, err
	}
	put, regPut := &types.Put{TableName: &s.table, Item: meta}, &types.Put{TableName: &s.table, Item: reg}
	if cond != nil {
		expr, err := expression.NewBuilder().WithCondition(*cond).Build()
		if err != nil {
			return nil, err
		}
		put.ConditionExpression, put.ExpressionAttributeNames = expr.Condition(), expr.Names()
		// A new account's id is new, or was a removed account of the
		// same portal.
		reuse := expression.AttributeNotExists(expression.Name("PK")).Or(
			expression.AttributeExists(expression.Name("removedAt")).And(expression.Name("portalId").Equal(expression.Value(a.PortalID))),
			expression.AttributeNotExists(expression.Name("removedAt")))
		rexpr, err := expression.NewBuilder().WithCondition(reuse).Build()
		if err != nil {
			return nil, err
		}
		regPut.ConditionExpression, regPut.ExpressionAttributeNames, regPut.ExpressionAttributeValues = rexpr.Condition(), rexpr.Names(), rexpr.Values()
	}
	return []types.TransactWriteItem{{Put: put}, {Put: regPut}}, nil
}

// PutAccount creates or replaces an account.
func (s *Store) PutAccount(ctx context.Context, a *backup.Account) error {
	items, err := s.accountPuts(a, nil)
	if err != nil {
		return err
	}
	if err := s.transact(ctx, items); err != nil {
		return fmt.Errorf("put account %s: %w", a.ID, err)
	}
	return nil
}

// CreateAccount writes a new account and its audit entry
// (apperr.Conflict if the id exists, or belonged to another portal).
func (s *Store) CreateAccount(ctx context.Context, a *backup.Account, e *audit.Entry) error {
	cond := expression.AttributeNotExists(expression.Name("PK"))
	return s.writeAccount(ctx, a, e, cond, apperr.New(apperr.Conflict, "account %q exists already", a.ID))
}

func reusedID(id string) error {
	return apperr.New(apperr.Conflict, "account id %q belonged to a removed account of another portal: its backups, audit log and admins are kept under it; give this one another id", id)
}

// UpdateAccount replaces an existing account and writes its audit entry
// (apperr.NotFound if there is none).
func (s *Store) UpdateAccount(ctx context.Context, a *backup.Account, e *audit.Entry) error {
	cond := expression.AttributeExists(expression.Name("PK"))
	return s.writeAccount(ctx, a, e, cond, apperr.New(apperr.NotFound, "no account %q", a.ID))
}

func (s *Store) writeAccount(ctx context.Context, a *backup.Account, e *audit.Entry, cond expression.ConditionBuilder, failed error) error {
	items, err := s.accountPuts(a, &cond)
	if err != nil {
		return err
	}
	au, err := auditPut(s, e)
	if err != nil {
		return err
	}
	err = s.transact(ctx, append(items, au))
	switch {
	case canceledAt(err, 0):
		return failed
	case canceledAt(err, 1):
		return reusedID(a.ID)
	case err != nil:
		return fmt.Errorf("write account %s: %w", a.ID, err)
	}
	return nil
}

// DeleteAccount removes an account's settings and marks its registry
// entry removed, writing the audit entry, in one transaction:
// apperr.NotFound if there is no account, apperr.Conflict while its
// recurring backups are on. Its backups, schedule, notifications and audit
// log stay.
func (s *Store) DeleteAccount(ctx context.Context, a *backup.Account, e *audit.Entry) error {
	exists, err := expression.NewBuilder().WithCondition(expression.AttributeExists(expression.Name("PK"))).Build()
	if err != nil {
		return err
	}
	off, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("PK")).
		Or(expression.Name("enabled").Equal(expression.Value(false)))).Build()
	if err != nil {
		return err
	}
	tomb, err := marshal(registryItem{PK: pkRegistry, SK: skAccount + a.ID, AccountID: a.ID, PortalID: a.PortalID, RemovedAt: stamp.Of(e.At)})
	if err != nil {
		return err
	}
	au, err := auditPut(s, e)
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.table, Key: key(pk(a.ID), skMeta),
			ConditionExpression: exists.Condition(), ExpressionAttributeNames: exists.Names()}},
		{Put: &types.Put{TableName: &s.table, Item: tomb}},
		{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(pk(a.ID), skSchedule),
			ConditionExpression: off.Condition(), ExpressionAttributeNames: off.Names(), ExpressionAttributeValues: off.Values()}},
		au,
	})
	switch {
	case canceledAt(err, 0):
		return apperr.New(apperr.NotFound, "no account %q", a.ID)
	case canceledAt(err, 2):
		return apperr.New(apperr.Conflict, "account %s has recurring backups switched on", a.ID)
	case err != nil:
		return fmt.Errorf("delete account %s: %w", a.ID, err)
	}
	return nil
}

// Accounts lists every account, by id.
func (s *Store) Accounts(ctx context.Context) ([]backup.Account, error) {
	reg, err := s.registry(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]backup.Account, 0, len(reg))
	for _, r := range reg {
		if r.RemovedAt != "" {
			continue
		}
		a, err := s.Account(ctx, r.AccountID)
		if apperr.Is(err, apperr.NotFound) {
			continue // removed since
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b backup.Account) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// AccountIDs lists the id of every account the table has held, removed
// ones included (whose backups' files the local stack still expires).
func (s *Store) AccountIDs(ctx context.Context) ([]string, error) {
	reg, err := s.registry(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(reg))
	for _, r := range reg {
		ids = append(ids, r.AccountID)
	}
	return ids, nil
}

func (s *Store) registry(ctx context.Context) ([]registryItem, error) {
	var out []registryItem
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName: &s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pkRegistry}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		for _, it := range page.Items {
			var r registryItem
			if err := unmarshal(it, &r); err != nil {
				return nil, fmt.Errorf("decode the account registry: %w", err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}
