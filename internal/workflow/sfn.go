package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// SFNRunner starts executions of the state machines on AWS Step Functions.
// The execution name is the backup, plan or import id: starting one twice
// starts it once.
type SFNRunner struct {
	Client *sfn.Client
	// BackupARN and RestoreARN are the state machines' ARNs.
	BackupARN, RestoreARN string
}

// StartBackup implements backup.Runner.
func (r SFNRunner) StartBackup(ctx context.Context, accountID, backupID string) error {
	return r.start(ctx, r.BackupARN, backupID, map[string]string{"accountId": accountID, "backupId": backupID})
}

// StartPlan implements restore.Runner.
func (r SFNRunner) StartPlan(ctx context.Context, accountID, planID string) error {
	return r.start(ctx, r.RestoreARN, planID, restoreInput("plan", accountID, "planId", planID))
}

// StartRestore implements restore.Runner.
func (r SFNRunner) StartRestore(ctx context.Context, accountID, importID string) error {
	return r.start(ctx, r.RestoreARN, importID, restoreInput("execute", accountID, "importId", importID))
}

// ExecutionInput reads an execution's input.
func (r SFNRunner) ExecutionInput(ctx context.Context, executionArn string) (string, error) {
	out, err := r.Client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &executionArn})
	if err != nil {
		return "", err
	}
	if out.Input == nil {
		return "", fmt.Errorf("execution %s: no input", executionArn)
	}
	return *out.Input, nil
}

func (r SFNRunner) start(ctx context.Context, arn, name string, input any) error {
	if arn == "" {
		return errors.New("no state machine ARN configured")
	}
	raw, err := json.Marshal(input)
	if err != nil {
		return err
	}
	in := string(raw)
	_, err = r.Client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &arn, Name: &name, Input: &in})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start execution %s: %w", name, err)
	}
	return nil
}
