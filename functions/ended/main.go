// Command ended ends a backup or a restore whose state machine execution
// timed out, was stopped or failed without running its Catch (a Lambda
// invoked by an EventBridge rule on Step Functions' execution status
// changes): the backup fails with its quota refunded, the import fails
// with its lock released, and the admins are notified.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/crmbackup/crmbackup/internal/awswire"
	"github.com/crmbackup/crmbackup/internal/lambdas"
)

func main() {
	lambda.Start(awswire.MustLoad(lambdas.Ended).Handler())
}
