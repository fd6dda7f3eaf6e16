package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/restore"
)

// ExecutionEnd is Step Functions' "Step Functions Execution Status Change"
// event, as EventBridge delivers it, of an execution that ended.
type ExecutionEnd struct {
	Version    string    `json:"version"`
	ID         string    `json:"id"`
	Source     string    `json:"source"`
	DetailType string    `json:"detail-type"`
	Account    string    `json:"account"`
	Time       time.Time `json:"time"`
	Region     string    `json:"region"`
	Resources  []string  `json:"resources"`
	Detail     struct {
		ExecutionArn    string `json:"executionArn"`
		StateMachineArn string `json:"stateMachineArn"`
		Name            string `json:"name"`
		Status          string `json:"status"` // SUCCEEDED, FAILED, TIMED_OUT, ABORTED
		StartDate       int64  `json:"startDate"`
		StopDate        *int64 `json:"stopDate"`
		// Input is the execution's input, as a JSON string.
		Input         string          `json:"input"`
		InputDetails  json.RawMessage `json:"inputDetails"`
		Output        *string         `json:"output"`
		OutputDetails json.RawMessage `json:"outputDetails"`
		Error         *string         `json:"error"`
		Cause         *string         `json:"cause"`
	} `json:"detail"`
}

// executionInput is what our executions are started with (SFNRunner).
type executionInput struct {
	Mode      string `json:"mode"` // restore: plan, execute
	AccountID string `json:"accountId"`
	BackupID  string `json:"backupId"`
	PlanID    string `json:"planId"`
	ImportID  string `json:"importId"`
}

// Ends is the ended function's handler: it ends the backup or the restore
// of an execution that timed out, was stopped or failed, as the state
// machine's Catch would have (Step Functions runs no Catch for the first
// two). Everything it calls is idempotent and leaves alone what the Catch
// already ended.
type Ends struct {
	Backups  *backup.Service
	Restores *restore.Service
	// Describe reads an execution's input (Step Functions'
	// DescribeExecution), for an event that does not carry it (nil: none).
	Describe func(ctx context.Context, executionArn string) (string, error)
}

// EndResult says what Ended did.
type EndResult struct {
	Ended string `json:"ended,omitempty"` // "backup 01…", "import 01…", "plan 01…"; "" if nothing was left to end
}

// Ended handles one execution status change.
func (e *Ends) Ended(ctx context.Context, ev ExecutionEnd) (*EndResult, error) {
	d := ev.Detail
	var fail *backup.StepError
	switch d.Status {
	case "SUCCEEDED", "RUNNING", "PENDING_REDRIVE":
		return &EndResult{}, nil
	case "TIMED_OUT":
		fail = &backup.StepError{Error: backup.ExecutionTimedOut}
	case "ABORTED":
		fail = &backup.StepError{Error: backup.ExecutionAborted}
	case "FAILED":
		fail = &backup.StepError{Error: "States.TaskFailed"}
		if d.Error != nil {
			fail.Error = *d.Error
		}
		if d.Cause != nil {
			fail.Cause = *d.Cause
		}
	default:
		return nil, Permanent(apperr.New(apperr.Invalid, "execution %s: unknown status %q", d.Name, d.Status))
	}
	input := d.Input
	if input == "" && e.Describe != nil && d.ExecutionArn != "" {
		// EventBridge leaves the input out of some events (an input too
		// large, or encrypted): the execution has it.
		var err error
		if input, err = e.Describe(ctx, d.ExecutionArn); err != nil {
			return nil, Classify(fmt.Errorf("describe execution %s: %w", d.Name, err))
		}
	}
	var in executionInput
	if err := json.Unmarshal([]byte(input), &in); err != nil || in.AccountID == "" {
		return nil, Permanent(apperr.New(apperr.Invalid, "execution %s: its input names no account", d.Name))
	}
	var err error
	out := &EndResult{}
	switch {
	case in.BackupID != "":
		out.Ended, err = e.endBackup(ctx, in, fail)
	case in.Mode == "execute" && in.ImportID != "":
		out.Ended, err = e.endImport(ctx, in, fail)
	case in.Mode == "plan" && in.PlanID != "":
		out.Ended = "plan " + in.PlanID
		err = e.Restores.PlanFailedStep(ctx, restore.StepInput{Action: restore.ActionPlanFailed, AccountID: in.AccountID, PlanID: in.PlanID, Error: fail})
	default:
		return nil, Permanent(apperr.New(apperr.Invalid, "execution %s: its input is neither a backup's nor a restore's", d.Name))
	}
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

func (e *Ends) endBackup(ctx context.Context, in executionInput, fail *backup.StepError) (string, error) {
	step := backup.StepInput{AccountID: in.AccountID, BackupID: in.BackupID}
	b, err := e.Backups.Get(ctx, in.AccountID, in.BackupID)
	if err != nil {
		return "", err
	}
	if b.Status != backup.Completed {
		if _, err := e.Backups.Finalize(ctx, backup.FinalizeInput{StepInput: step, Error: fail}); err != nil {
			return "", fmt.Errorf("fail backup %s: %w", in.BackupID, err)
		}
	}
	// Completed or failed: its notice (written once, whoever wrote it first).
	if err := e.Backups.Notify(ctx, backup.NotifyInput{StepInput: step}); err != nil {
		return "", err
	}
	return "backup " + in.BackupID, nil
}

func (e *Ends) endImport(ctx context.Context, in executionInput, fail *backup.StepError) (string, error) {
	im, err := e.Restores.Import(ctx, in.AccountID, in.ImportID)
	if err != nil {
		return "", err
	}
	// The execution's cursor (its counts) lived in the execution's state:
	// what the import recorded of its progress is what is known.
	step := restore.StepInput{Action: restore.ActionFinish, AccountID: in.AccountID, ImportID: in.ImportID, Error: fail,
		Cursor: restore.Cursor{Row: im.RowsDone}}
	if im.Tally != nil { // the last checkpoint's counts
		step.Cursor.Tally = *im.Tally
	}
	if err := e.Restores.Finish(ctx, step); err != nil {
		return "", fmt.Errorf("end import %s: %w", in.ImportID, err)
	}
	return "import " + in.ImportID, nil
}
