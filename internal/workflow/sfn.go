package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// SFNRunner starts executions of the backup state machine on AWS Step
// Functions. The execution name is the backup id: starting a backup twice
// starts it once.
type SFNRunner struct {
	Client          *sfn.Client
	StateMachineARN string
}

// StartBackup implements backup.Runner.
func (r SFNRunner) StartBackup(ctx context.Context, accountID, backupID string) error {
	input, err := json.Marshal(map[string]string{"accountId": accountID, "backupId": backupID})
	if err != nil {
		return err
	}
	in := string(input)
	_, err = r.Client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: &r.StateMachineARN, Name: &backupID, Input: &in,
	})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start execution %s: %w", backupID, err)
	}
	return nil
}
