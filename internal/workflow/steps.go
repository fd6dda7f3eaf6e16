// Package workflow connects the backup state machine to the domain: the
// state machine definitions (ASL, embedded), the step handlers the Lambdas
// and the local runner call, and the Runner adapters that start executions
// (Step Functions on AWS, aws-local-stepfunctions locally).
package workflow

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/restore"
)

//go:embed asl/*.asl.json
var aslFiles embed.FS

// Machines are the state machines' names (their ASL files are asl/<name>.asl.json).
var Machines = []string{"backup", "restore"}

// Definition returns a state machine's ASL with every ${XFunctionArn}
// replaced by arn(x) (x is the lowercased X: discover, export, …).
func Definition(machine string, arn func(function string) string) ([]byte, error) {
	raw, err := aslFiles.ReadFile("asl/" + machine + ".asl.json")
	if err != nil {
		return nil, fmt.Errorf("state machine %q: %w", machine, err)
	}
	return placeholder.ReplaceAllFunc(raw, func(m []byte) []byte {
		return []byte(arn(strings.ToLower(string(placeholder.FindSubmatch(m)[1]))))
	}), nil
}

// RawDefinition returns a state machine's ASL as written, with placeholders.
func RawDefinition(machine string) ([]byte, error) {
	return aslFiles.ReadFile("asl/" + machine + ".asl.json")
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z]+)FunctionArn\}`)

// Functions lists the functions a state machine's tasks call.
func Functions(machine string) ([]string, error) {
	raw, err := RawDefinition(machine)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, m := range placeholder.FindAllSubmatch(raw, -1) {
		seen[strings.ToLower(string(m[1]))] = true
	}
	var out []string
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out, nil
}

// ExportConcurrency is how many objects the backup state machine exports at
// once (its Map state's MaxConcurrency): on AWS, how many containers share
// a portal's rate budget.
func ExportConcurrency() (int, error) {
	raw, err := RawDefinition("backup")
	if err != nil {
		return 0, err
	}
	var def struct {
		States map[string]struct {
			Type           string
			MaxConcurrency int
		}
	}
	if err := json.Unmarshal(raw, &def); err != nil {
		return 0, fmt.Errorf("backup state machine: %w", err)
	}
	st, ok := def.States["ExportObjects"]
	if !ok || st.Type != "Map" || st.MaxConcurrency < 1 {
		return 0, errors.New("backup state machine: no ExportObjects Map state with a MaxConcurrency")
	}
	return st.MaxConcurrency, nil
}

// Transient is a step failure worth retrying (the state machine's Retry
// matches the error name "Transient").
type Transient struct{ Err error }

func (e *Transient) Error() string { return e.Err.Error() }
func (e *Transient) Unwrap() error { return e.Err }

// Permanent is a step failure retrying cannot fix: the state machine goes
// straight to MarkFailed.
type Permanent struct{ Err error }

func (e *Permanent) Error() string { return e.Err.Error() }
func (e *Permanent) Unwrap() error { return e.Err }

// Classify wraps a step's error as Transient or Permanent.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var hs *hubspot.Error
	switch {
	case errors.As(err, new(*Transient)), errors.As(err, new(*Permanent)):
		return err
	case errors.As(err, &hs) && hs.Daily():
		return &Permanent{err}
	case errors.Is(err, hubspot.ErrUnauthorized), errors.Is(err, hubspot.ErrValidation), errors.Is(err, hubspot.ErrNotFound):
		return &Permanent{err}
	case errors.Is(err, context.Canceled):
		return &Transient{err}
	}
	switch apperr.Code(err) {
	case apperr.Invalid, apperr.NotFound, apperr.Conflict, apperr.Forbidden, apperr.Gone, apperr.QuotaUsed, apperr.Unauthorized:
		return &Permanent{err}
	}
	return &Transient{err}
}

// Steps are the backup workflow's task handlers, one per Lambda.
type Steps struct {
	Svc *backup.Service
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

// Discover is the discover task.
func (s *Steps) Discover(ctx context.Context, in backup.StepInput) (*backup.DiscoverOutput, error) {
	out, err := s.Svc.Discover(ctx, in)
	return out, Classify(err)
}

// Export is the export task: one invocation of an object's export loop.
func (s *Steps) Export(ctx context.Context, in backup.ExportInput) (*backup.ExportInput, error) {
	out, err := s.Svc.Export(ctx, in, s.deadline(ctx))
	return out, Classify(err)
}

// Zip is the zip task.
func (s *Steps) Zip(ctx context.Context, in backup.ZipInput) (*backup.ZipOutput, error) {
	out, err := s.Svc.Zip(ctx, in)
	return out, Classify(err)
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
// function.
type ScheduleEvent struct {
	AccountID string `json:"accountId"`
	Trigger   string `json:"trigger"`
}

// CreateScheduled is the create function's handler for schedule events. A
// run that finds the quota used is skipped (and notified), not retried.
func (s *Steps) CreateScheduled(ctx context.Context, ev ScheduleEvent) (*backup.Backup, error) {
	if ev.AccountID == "" || ev.Trigger != string(backup.Scheduled) {
		return nil, &Permanent{apperr.New(apperr.Invalid, "a schedule event needs accountId and trigger \"scheduled\"")}
	}
	b, err := s.Svc.Create(ctx, ev.AccountID, "schedule", backup.Scheduled)
	if apperr.Is(err, apperr.QuotaUsed) {
		return nil, nil
	}
	return b, Classify(err)
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
		return nil, &Permanent{apperr.New(apperr.Invalid, "a restore step needs accountId")}
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
		return nil, &Permanent{apperr.New(apperr.Invalid, "unknown restore action %q", in.Action)}
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
