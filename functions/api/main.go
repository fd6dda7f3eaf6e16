// Command api serves crmbackup's HTTP API behind API Gateway (HTTP API,
// payload format 2.0, JWT authorizer).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/crmbackup/crmbackup/internal/awswire"
	"github.com/crmbackup/crmbackup/internal/lambdas"
)

func main() {
	lambda.Start(httpadapter.NewV2(awswire.MustLoad(lambdas.API).API().Handler()).ProxyWithContext)
}
