// Command create starts scheduled backups (a Lambda invoked by EventBridge
// Scheduler with {"accountId": "…", "trigger": "scheduled"}). Manual
// backups are created through the api function.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/crmbackup/crmbackup/internal/awswire"
	"github.com/crmbackup/crmbackup/internal/lambdas"
)

func main() {
	lambda.Start(awswire.MustLoad(lambdas.Create).Handler())
}
