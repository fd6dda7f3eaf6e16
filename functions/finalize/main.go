// Command finalize is the backup workflow's finalize task (a Lambda).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/crmbackup/crmbackup/internal/awswire"
	"github.com/crmbackup/crmbackup/internal/lambdas"
)

func main() {
	lambda.Start(awswire.MustLoad(lambdas.Finalize).Handler())
}
