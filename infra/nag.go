package main

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

const cognitoPlus = "Cognito threat protection (advanced security) needs the paid Plus feature plan; two-factor (TOTP) is " +
	"required for every user, self sign-up is off, passwords are strong, and the pool can be replaced by the organisation's " +
	"own OIDC issuer (jwtIssuer), whose protections then apply."

// applyNag runs cdk-nag's AwsSolutions rules on the stack at synth. Each
// suppression is narrow (a rule and, for wildcards, the exact resource
// pattern) and says why it is acceptable.
func applyNag(stack awscdk.Stack, accessLogs awss3.Bucket, scheduleGroup string, deadLetters *DeadLetters, console *Console) {
	awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	iam5 := func(reason string, patterns ...string) *cdknag.NagPackSuppression {
		var applies []any
		for _, p := range patterns {
			applies = append(applies, &cdknag.RegexAppliesTo{Regex: jsii.String(p)})
		}
		return &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String(reason), AppliesTo: &applies}
	}
	cdknag.NagSuppressions_AddStackSuppressions(stack, &[]*cdknag.NagPackSuppression{
		iam5("S3 object permissions are scoped to the kinds of file a function touches (package blobkey's patterns, e.g. work/*/chunks/*, backups/*.zip): object keys hold account, backup and import ids created at run time.",
			`/^Resource::.*\/(backups|work)\/.*\*.*$/`),
		iam5("HubSpot tokens are one secret per account under the stack's secret name prefix; accounts are registered after deployment.",
			`/^Resource::arn:.*:secretsmanager:.*:secret:.*\*$/`),
		iam5("X-Ray trace segments and CloudWatch Logs vended log delivery for Step Functions support no resource-level permissions.",
			`/^Resource::\*$/`),
		iam5("Step Functions invokes a function by its ARN and any version or alias of it (CDK's grantInvoke); the functions are this stack's.",
			`/^Resource::<.*Function.*\.Arn>:\*$/`),
		iam5("The ended function reads the input of this stack's two state machines' executions (DescribeExecution), whose names are the backup, plan and import ids made at run time.",
			`/^Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<(Backup|Restore)WorkflowStateMachine[0-9A-F]+\.Name>:\*$/`),
		iam5("A function writes log streams in its own log group only.",
			`/^Resource::<.*Logs.*\.Arn>:\*$/`),
		iam5("Each account's recurring backup is a schedule created at run time, when the account is given one, in the stack's own schedule group; the api manages them and create deletes them, in that group only.",
			`/^Resource::arn:(<AWS::Partition>|aws[a-z-]*):scheduler:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|[0-9]{12}):schedule\/`+regexp.QuoteMeta(scheduleGroup)+`\/\*$/`),
		iam5("KMS data keys for SNS publishing to the encrypted topic (sns:Publish needs kms:GenerateDataKey*), on this stack's key only.",
			`/^Action::kms:GenerateDataKey\*$/`, `/^Action::kms:ReEncrypt\*$/`),
	}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(accessLogs, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-S1"), Reason: jsii.String("The access-log bucket is the server access logs' destination; logging it into itself would loop.")},
	}, jsii.Bool(false))
	for _, q := range deadLetters.All() {
		cdknag.NagSuppressions_AddResourceSuppressions(q.queue, &[]*cdknag.NagPackSuppression{
			{Id: jsii.String("AwsSolutions-SQS3"), Reason: jsii.String("This queue is itself a dead-letter queue (the " + q.what +
				" dead letters): nothing consumes it but an operator, who is alarmed of its first message, and what it holds is kept for 14 days.")},
		}, jsii.Bool(false))
	}
	cdknag.NagSuppressions_AddStackSuppressions(stack, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-COG3"), Reason: jsii.String(cognitoPlus)},
		{Id: jsii.String("AwsSolutions-COG8"), Reason: jsii.String(cognitoPlus)},
	}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(console.Distribution, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-CFR1"), Reason: jsii.String("The console is for the account's own admins wherever they are; every API call needs their sign-in.")},
		{Id: jsii.String("AwsSolutions-CFR2"), Reason: jsii.String("The distribution serves the console's static files and passes /v1/* uncached to the HTTP API, whose JWT authorizer on every route and stage throttling act on every request; the API's own URL (the CLI's) bypasses the distribution, so a WAF here would not guard the API either.")},
		{Id: jsii.String("AwsSolutions-CFR3"), Reason: jsii.String("The distribution serves the console's static files and passes /v1/* uncached to the API: every API call is in the API's access logs, and what admins do in the audit log. CloudFront standard logs need an ACL-enabled bucket, which the stack's buckets are not.")},
		{Id: jsii.String("AwsSolutions-CFR4"), Reason: jsii.String("The distribution uses CloudFront's default *.cloudfront.net certificate, whose TLS policy CloudFront sets; a custom domain with an ACM certificate (TLSv1.2_2021) is the way to choose it.")},
	}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(console.OriginSecret, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-SMG4"), Reason: jsii.String("The console distribution's origin secret reaches CloudFront through a dynamic reference that CloudFormation resolves only when it deploys the distribution: a rotation outside a deployment would lock the console out of its API until the next. A deployment (or replacing the secret) changes it; it guards only which client address the audit log records, every API call still needs its token.")},
	}, jsii.Bool(false))
	// CDK's BucketDeployment copies the built console into its bucket with
	// a Lambda-backed custom resource of its own.
	for _, child := range *stack.Node().Children() {
		if id := *child.Node().Id(); strings.HasPrefix(id, "Custom::CDKBucketDeployment") {
			cdknag.NagSuppressions_AddResourceSuppressions(child, &[]*cdknag.NagPackSuppression{
				{Id: jsii.String("AwsSolutions-IAM4"), Reason: jsii.String("CDK's BucketDeployment handler (a deploy-time custom resource) logs with the basic execution role.")},
				{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String("CDK's BucketDeployment handler reads the CDK asset bucket and writes the console's bucket, with the object wildcards CDK grants it.")},
				{Id: jsii.String("AwsSolutions-L1"), Reason: jsii.String("CDK's BucketDeployment handler runs the Python runtime CDK chooses for it.")},
			}, jsii.Bool(true))
		}
	}
}
