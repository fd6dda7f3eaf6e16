// Command discover is the backup workflow's discover task (a Lambda).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/crmbackup/crmbackup/internal/awswire"
)

func main() {
	lambda.Start(awswire.MustLoad().Steps.Discover)
}
