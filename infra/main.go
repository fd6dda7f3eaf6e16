// Command infra is crmbackup's CDK app: one stack with the backups bucket,
// the metadata table, one Lambda per function, the backup and restore state
// machines, the HTTP API with its JWT authorizer, the scheduler group, the
// notifications topic, and the operators' side (dead-letter queues, the
// ended rule, alarms, a dashboard), checked by cdk-nag's AwsSolutions rules
// at synth. `make synth` runs it offline; `make deploy` deploys it.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	if err := run("cdk.json"); err != nil {
		fmt.Fprintln(os.Stderr, "crmbackup infra:", err)
		os.Exit(2)
	}
}

func run(cdkJSON string) error {
	ctx, err := FileContext(cdkJSON)
	if err != nil {
		return err
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	props, err := PropsFromContext(app)
	if err != nil {
		return err
	}
	NewStack(app, "crmbackup-"+props.Stage, props)
	app.Synth(nil)
	return nil
}
