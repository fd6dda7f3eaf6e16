// Package workflow connects the state machines (their definitions are in
// package asl) to the domain: the step handlers the Lambdas
// and the local runner call, and the Runner adapters that start executions
// (Step Functions on AWS, aws-local-stepfunctions locally).
package workflow

import (
	"context"
	"log/slog"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/lambdas"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/schedule"
)

// Steps are the backup workflow's task handlers, one per Lambda, and the
// schedules' (the create function).
type Steps struct {
	Svc       *backup.Service
	Schedules *schedule.Service
	// DescribeExecution reads an execution's input (the ended function).
	DescribeExecution func(ctx context.Context, executionArn string) (string, error)
	Budget
}

// Budget is how long one invocation of a checkpointed loop's step works.
type Budget struct {
	// Margin is kept free before the invocation's deadline: a step stops
	// taking work then, saves what it did and returns its checkpoint.
	Margin time.Duration
	// MaxRun bounds one invocation when the context has no deadline
	// (locally).
	MaxRun time.Duration
}

func (s *Budget) deadline(ctx context.Context) time.Time {
	margin := s.Margin
	if margin <= 0 {
		margin = 30 * time.Second
	}
	if d, ok := ctx.Deadline(); ok {
		return d.Add(-margin)
	}
	run := s.MaxRun
	if run <= 0 {
		run = 5 * time.Minute
	}
	return time.Now().Add(run)
}

// The step handlers return their errors classified (*Failure); Handlers
// gives them in the shape the Lambda runtime reports.

// Discover is the discover task.
func (s *Steps) Discover(ctx context.Context, in backup.StepInput) (*backup.DiscoverOutput, error) {
	out, err := s.Svc.Discover(ctx, in)
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

// Export is the export task: one invocation of an object's export loop.
func (s *Steps) Export(ctx context.Context, in backup.ExportInput) (*backup.ExportInput, error) {
	out, err := s.Svc.Export(ctx, in, s.deadline(ctx))
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

// Zip is the zip task.
func (s *Steps) Zip(ctx context.Context, in backup.ZipInput) (*backup.ZipOutput, error) {
	out, err := s.Svc.Zip(ctx, in)
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

// Finalize is the finalize task (also MarkFailed's).
func (s *Steps) Finalize(ctx context.Context, in backup.FinalizeInput) (*backup.FinalizeOutput, error) {
	b, err := s.Svc.Finalize(ctx, in)
	if err != nil {
		return nil, Classify(err)
	}
	return &backup.FinalizeOutput{Status: b.Status}, nil
}

// Notify is the notify task.
func (s *Steps) Notify(ctx context.Context, in backup.NotifyInput) (*backup.NotifyOutput, error) {
	if err := s.Svc.Notify(ctx, in); err != nil {
		return nil, Classify(err)
	}
	return &backup.NotifyOutput{Notified: true}, nil
}

// ScheduleEvent is what an EventBridge Scheduler schedule sends the create
// function: the account, and the run's scheduled time (Scheduler fills in
// <aws.scheduler.scheduled-time>, ISO 8601 in UTC).
type ScheduleEvent struct {
	AccountID   string `json:"accountId"`
	Trigger     string `json:"trigger"`
	ScheduledAt string `json:"scheduledAt"`
}

// ScheduleResult is what a scheduled run did.
type ScheduleResult struct {
	Outcome  schedule.Outcome `json:"outcome"`
	BackupID string           `json:"backupId,omitempty"`
}

// CreateScheduled is the create function's handler for schedule events.
// The same event delivered twice, or retried (Lambda's asynchronous
// retries, Scheduler's), queues one backup. A run that finds the quota used
// is skipped and notified, not retried.
func (s *Steps) CreateScheduled(ctx context.Context, ev ScheduleEvent) (*ScheduleResult, error) {
	if ev.AccountID == "" || ev.Trigger != string(backup.Scheduled) {
		return nil, Permanent(apperr.New(apperr.Invalid, "a schedule event needs accountId and trigger \"scheduled\""))
	}
	at, err := time.Parse(time.RFC3339, ev.ScheduledAt)
	if err != nil {
		return nil, Permanent(apperr.New(apperr.Invalid, "a schedule event needs scheduledAt, the run's time in RFC 3339 (the schedule's input passes <aws.scheduler.scheduled-time>)"))
	}
	outcome, b, err := s.Schedules.Run(ctx, ev.AccountID, at)
	if err != nil {
		return nil, Classify(err)
	}
	out := &ScheduleResult{Outcome: outcome}
	if b != nil {
		out.BackupID = b.ID
	}
	return out, nil
}

// RestoreSteps is the restore workflow's task handler (the restore Lambda):
// one function for every step of the restore state machine, told apart by
// the input's action.
type RestoreSteps struct {
	Svc *restore.Service
	Budget
}

// Restore runs one step of the restore state machine.
func (s *RestoreSteps) Restore(ctx context.Context, in restore.StepInput) (*restore.Cursor, error) {
	if in.AccountID == "" {
		return nil, Permanent(apperr.New(apperr.Invalid, "a restore step needs accountId"))
	}
	var (
		cur *restore.Cursor
		err error
	)
	switch in.Action {
	case restore.ActionPlan:
		cur, err = s.Svc.PlanChunk(ctx, in, s.deadline(ctx))
	case restore.ActionPlanDone:
		err = s.Svc.PlanDone(ctx, in)
	case restore.ActionPlanFailed:
		err = s.Svc.PlanFailedStep(ctx, in)
	case restore.ActionExecute:
		cur, err = s.Svc.ExecuteChunk(ctx, in, s.deadline(ctx))
	case restore.ActionFinish:
		err = s.Svc.Finish(ctx, in)
	default:
		return nil, Permanent(apperr.New(apperr.Invalid, "unknown restore action %q", in.Action))
	}
	if err != nil {
		return nil, Classify(err)
	}
	if cur == nil {
		cur = &in.Cursor
	}
	return cur, nil
}

// restoreInput is a restore execution's input.
func restoreInput(mode, accountID, idKey, id string) map[string]any {
	return map[string]any{"mode": mode, "accountId": accountID, idKey: id, "cursor": restore.Cursor{}}
}

// Handlers are the handlers of every function that the state machines or the
// scheduler invoke, by function name (package lambdas): what the functions'
// mains start and the local stack's invoke endpoint serves. A handler's
// error is a Lambda error whose errorType the state machines match (see
// Failure); its details go to log.
func Handlers(steps *Steps, rs *RestoreSteps) map[string]any {
	var log, rlog = steps.Svc.Log, rs.Svc.Log
	return map[string]any{
		lambdas.Create:   lambdaFunc(log, lambdas.Create, steps.CreateScheduled),
		lambdas.Discover: lambdaFunc(log, lambdas.Discover, steps.Discover),
		lambdas.Export:   lambdaFunc(log, lambdas.Export, steps.Export),
		lambdas.Zip:      lambdaFunc(log, lambdas.Zip, steps.Zip),
		lambdas.Finalize: lambdaFunc(log, lambdas.Finalize, steps.Finalize),
		lambdas.Notify:   lambdaFunc(log, lambdas.Notify, steps.Notify),
		lambdas.Restore:  lambdaFunc(rlog, lambdas.Restore, rs.Restore),
		lambdas.Ended:    lambdaFunc(log, lambdas.Ended, (&Ends{Backups: steps.Svc, Restores: rs.Svc, Describe: steps.DescribeExecution}).Ended),
	}
}

func lambdaFunc[In, Out any](log *slog.Logger, name string, f func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		out, err := f(ctx, in)
		return out, lambdaError(ctx, log, name, err)
	}
}
