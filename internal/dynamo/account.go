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
}

func (s *Store) accountPuts(a *backup.Account, cond *expression.ConditionBuilder) ([]types.TransactWriteItem, error) {
	if a.ID == "" || !a.Tier.Valid() {
		return nil, apperr.New(apperr.Invalid, "an account needs an id and a tier (starter, professional, enterprise)")
	}
	meta, err := marshal(accountItem{PK: pk(a.ID), SK: skMeta, Account: *a})
	if err != nil {
		return nil, err
	}
	reg, err := marshal(registryItem{PK: pkRegistry, SK: skAccount + a.ID, AccountID: a.ID})
	if err != nil {
		return nil, err
	}
	put := &types.Put{TableName: &s.table, Item: meta}
	if cond != nil {
		expr, err := expression.NewBuilder().WithCondition(*cond).Build()
		if err != nil {
			return nil, err
		}
		put.ConditionExpression, put.ExpressionAttributeNames = expr.Condition(), expr.Names()
	}
	return []types.TransactWriteItem{{Put: put}, {Put: &types.Put{TableName: &s.table, Item: reg}}}, nil
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
// (apperr.Conflict if the id exists).
func (s *Store) CreateAccount(ctx context.Context, a *backup.Account, e *audit.Entry) error {
	cond := expression.AttributeNotExists(expression.Name("PK"))
	return s.writeAccount(ctx, a, e, cond, apperr.New(apperr.Conflict, "account %q exists already", a.ID))
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
	if canceledAt(err, 0) {
		return failed
	}
	if err != nil {
		return fmt.Errorf("write account %s: %w", a.ID, err)
	}
	return nil
}

// DeleteAccount removes an account's settings and its registry entry and
// writes the audit entry (apperr.NotFound if there is no account). Its
// backups, schedule, notifications and audit log stay.
func (s *Store) DeleteAccount(ctx context.Context, id string, e *audit.Entry) error {
	expr, err := expression.NewBuilder().WithCondition(expression.AttributeExists(expression.Name("PK"))).Build()
	if err != nil {
		return err
	}
	au, err := auditPut(s, e)
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.table, Key: key(pk(id), skMeta),
			ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names()}},
		{Delete: &types.Delete{TableName: &s.table, Key: key(pkRegistry, skAccount+id)}},
		au,
	})
	if canceledAt(err, 0) {
		return apperr.New(apperr.NotFound, "no account %q", id)
	}
	if err != nil {
		return fmt.Errorf("delete account %s: %w", id, err)
	}
	return nil
}

// Accounts lists every account, by id.
func (s *Store) Accounts(ctx context.Context) ([]backup.Account, error) {
	var ids []string
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName: &s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pkRegistry}},
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		for _, it := range out.Items {
			var r registryItem
			if err := unmarshal(it, &r); err != nil {
				return nil, fmt.Errorf("decode the account registry: %w", err)
			}
			ids = append(ids, r.AccountID)
		}
	}
	out := make([]backup.Account, 0, len(ids))
	for _, id := range ids {
		a, err := s.Account(ctx, id)
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
