// Command restore is the restore workflow's task (a Lambda): it computes
// plans and executes restores in checkpointed chunks, and finishes them.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/crmbackup/crmbackup/internal/awswire"
	"github.com/crmbackup/crmbackup/internal/lambdas"
)

func main() {
	lambda.Start(awswire.MustLoad(lambdas.Restore).Handler())
}
