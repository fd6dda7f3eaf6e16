package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/schedule"
	"github.com/crmbackup/crmbackup/internal/stamp"
)

var _ schedule.Store = (*Store)(nil)

const skSchedule = "SCHEDULE"

// scheduleItem is the SCHEDULE item: the settings (PutSchedule) and the
// last run (ClaimRun, FinishRun), written by separate updates so neither
// overwrites the other.
type scheduleItem struct {
	AccountID      string             `json:"accountId"`
	Enabled        bool               `json:"enabled"`
	Frequency      schedule.Frequency `json:"frequency"`
	TimeOfDay      string             `json:"timeOfDay"`
	Timezone       string             `json:"timezone"`
	DayOfWeek      string             `json:"dayOfWeek,omitempty"`
	Anchor         string             `json:"anchor,omitempty"`
	DisabledReason string             `json:"disabledReason,omitempty"`
	UpdatedAt      string             `json:"updatedAt"`
	UpdatedBy      string             `json:"updatedBy"`
	Version        int64              `json:"version"`
	LastRunAt      string             `json:"lastRunAt,omitempty"`
	LastRunDone    bool               `json:"lastRunDone,omitempty"`
}

func (it *scheduleItem) value() *schedule.Schedule {
	return &schedule.Schedule{AccountID: it.AccountID,
		Settings: schedule.Settings{Enabled: it.Enabled, Frequency: it.Frequency, TimeOfDay: it.TimeOfDay, Timezone: it.Timezone, DayOfWeek: it.DayOfWeek},
		Anchor:   it.Anchor, DisabledReason: it.DisabledReason, UpdatedAt: stamp.Time(it.UpdatedAt), UpdatedBy: it.UpdatedBy,
		Version: it.Version, LastRunAt: stamp.Time(it.LastRunAt), LastRunDone: it.LastRunDone}
}

// Schedule returns the account's schedule (apperr.NotFound if none).
func (s *Store) Schedule(ctx context.Context, accountID string) (*schedule.Schedule, error) {
	sch, err := getItem(ctx, s, accountID, skSchedule, (*scheduleItem).value)
	return sch, notFound(err, "no schedule for %q", accountID)
}

// PutSchedule writes the settings over version sch.Version-1 and the audit
// entry in one transaction; the last run stays as it is.
func (s *Store) PutSchedule(ctx context.Context, sch *schedule.Schedule, entry *audit.Entry) error {
	cond := expression.AttributeNotExists(expression.Name("PK"))
	if sch.Version > 1 {
		cond = expression.Name("version").Equal(expression.Value(sch.Version - 1))
	}
	set := func(u expression.UpdateBuilder, name string, v any) expression.UpdateBuilder {
		return u.Set(expression.Name(name), expression.Value(v))
	}
	u := expression.Set(expression.Name("accountId"), expression.Value(sch.AccountID))
	u = set(u, "enabled", sch.Enabled)
	u = set(u, "frequency", sch.Frequency)
	u = set(u, "timeOfDay", sch.TimeOfDay)
	u = set(u, "timezone", sch.Timezone)
	u = set(u, "dayOfWeek", sch.DayOfWeek)
	u = set(u, "anchor", sch.Anchor)
	u = set(u, "disabledReason", sch.DisabledReason)
	u = set(u, "updatedAt", stamp.Of(sch.UpdatedAt))
	u = set(u, "updatedBy", sch.UpdatedBy)
	u = set(u, "version", sch.Version)
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(u).Build()
	if err != nil {
		return err
	}
	auItem, err := auditPut(s, entry)
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: key(pk(sch.AccountID), skSchedule),
			ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}},
		auItem,
	})
	if canceledAt(err, 0) {
		return apperr.New(apperr.Conflict, "the schedule of %s is not at version %d", sch.AccountID, sch.Version-1)
	}
	if err != nil {
		return fmt.Errorf("put schedule of %s: %w", sch.AccountID, err)
	}
	return nil
}

// ClaimRun records at as the last run if it is later than the last one.
func (s *Store) ClaimRun(ctx context.Context, accountID string, at time.Time) (schedule.Claim, error) {
	t := stamp.Of(at)
	expr, err := expression.NewBuilder().
		WithCondition(expression.And(expression.AttributeExists(expression.Name("PK")), expression.Or(
			expression.AttributeNotExists(expression.Name("lastRunAt")),
			expression.Name("lastRunAt").LessThan(expression.Value(t))))).
		WithUpdate(expression.Set(expression.Name("lastRunAt"), expression.Value(t)).
			Set(expression.Name("lastRunDone"), expression.Value(false))).Build()
	if err != nil {
		return 0, err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(pk(accountID), skSchedule),
		ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if err == nil {
		return schedule.Claimed, nil
	}
	if !isConditionFailed(err) {
		return 0, fmt.Errorf("claim the run of %s at %s: %w", accountID, t, err)
	}
	cur, gerr := s.Schedule(ctx, accountID)
	if gerr != nil {
		return 0, gerr
	}
	if stamp.Of(cur.LastRunAt) == t && !cur.LastRunDone {
		return schedule.Unfinished, nil
	}
	return schedule.Handled, nil
}

// FinishRun marks the run of at finished if it is still the last.
func (s *Store) FinishRun(ctx context.Context, accountID string, at time.Time) error {
	expr, err := expression.NewBuilder().
		WithCondition(expression.Name("lastRunAt").Equal(expression.Value(stamp.Of(at)))).
		WithUpdate(expression.Set(expression.Name("lastRunDone"), expression.Value(true))).Build()
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(pk(accountID), skSchedule),
		ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("finish the run of %s: %w", accountID, err)
	}
	return nil
}
