package main

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/crmbackup/crmbackup/internal/api"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/awswire/env"
	"github.com/crmbackup/crmbackup/internal/blobkey"
	"github.com/crmbackup/crmbackup/internal/lambdas"
	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

// Stack is crmbackup in one account and region.
type Stack struct {
	awscdk.Stack
	Storage   *Storage
	Notify    *Notifications
	Functions map[string]*Function
	Machines  map[string]awsstepfunctions.StateMachine
	API       awsapigatewayv2.HttpApi
	// Console is the admin console (CloudFront over a private bucket).
	Console *Console
	// Pool is the stack's user pool (nil with an external issuer).
	Pool awscognito.UserPool
	// OperatorPolicy is what `crmbackup accounts` and `admins` need.
	OperatorPolicy awsiam.ManagedPolicy
	Schedules      *Schedules
	// DeadLetters keep what Scheduler, EventBridge or Lambda could not
	// deliver or run; EndedRule hands executions that ended without
	// success to the ended function; Ops tells the operators of trouble.
	DeadLetters *DeadLetters
	EndedRule   awsevents.Rule
	Ops         *Operations
	// AppURL is the stack parameter "AppUrl": the admin console's URL,
	// which notifications link to ("" for no links).
	AppURL awscdk.CfnParameter
}

// NewStack builds the stack. Each concern is a construct of its own;
// permissions are granted here, per function, from what its code calls.
func NewStack(scope constructs.Construct, id string, p *Props) *Stack {
	st := &Stack{Stack: awscdk.NewStack(scope, jsii.String(id), &p.StackProps), Functions: map[string]*Function{},
		Machines: map[string]awsstepfunctions.StateMachine{}}
	awscdk.Tags_Of(st.Stack).Add(jsii.String("app"), jsii.String("crmbackup"), nil)
	awscdk.Tags_Of(st.Stack).Add(jsii.String("stage"), jsii.String(p.Stage), nil)
	st.AppURL = NewAppURL(st.Stack)
	st.Storage = NewStorage(st.Stack, p)
	st.Notify = NewNotifications(st.Stack, p, st.Storage.Key)
	st.DeadLetters = NewDeadLetters(st.Stack, p, st.Storage.Key)

	for _, spec := range lambdas.All {
		st.Functions[spec.Name] = NewFunction(st.Stack, p, spec)
	}
	for _, machine := range asl.Machines {
		st.Machines[machine] = NewStateMachine(st.Stack, p, machine, st.Functions, st.Storage.Key)
	}
	st.Schedules = NewSchedules(st.Stack, p, st.Functions[lambdas.Create], st.DeadLetters.Schedule, st.Storage.Key)
	st.grant(p)
	st.Console = NewConsole(st.Stack, p, st.Storage.Logs)
	var login *ConsoleLogin
	st.API, st.Pool, login = NewAPI(st.Stack, p, st.Functions[lambdas.API], st.Console.URL)
	st.Console.AddAPI(st.API, st.Functions[lambdas.API])
	// The console calls the API at its own origin (AddAPI): "" is the
	// page's origin, whichever name the distribution is reached by (its
	// cloudfront.net one or an alternate domain), as on the local stack.
	config := map[string]any{"api": "", "signIn": "oidc"}
	if login != nil {
		config["signIn"] = "cognito"
		config["authDomain"], config["clientId"] = login.Domain, login.ClientID
		config["redirectUri"] = awscdk.Fn_Join(jsii.String(""), &[]*string{st.Console.URL, jsii.String("/")})
	}
	st.Console.Deploy(st.Stack, p.ConsoleDir, config)

	// Scheduler invokes create, and EventBridge ended, asynchronously:
	// what Lambda gives up on is kept.
	async := constructs.NewConstruct(st.Stack, jsii.String("AsyncFailures"))
	asyncFailures(async, "Create", st.Functions[lambdas.Create], st.DeadLetters.Create, st.Storage.Key, createRetries, createMaxEventAge)
	asyncFailures(async, "Ended", st.Functions[lambdas.Ended], st.DeadLetters.Ended, st.Storage.Key, endedRetries, endedMaxEventAge)
	st.EndedRule = NewEndedRule(st.Stack, p, st.Machines, st.Functions[lambdas.Ended], st.DeadLetters.Ended, st.Storage.Key)
	st.Ops = NewOperations(st, p)

	awscdk.NewCfnOutput(st.Stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: st.API.ApiEndpoint()})
	awscdk.NewCfnOutput(st.Stack, jsii.String("ConsoleUrl"), &awscdk.CfnOutputProps{Value: st.Console.URL})
	awscdk.NewCfnOutput(st.Stack, jsii.String("BucketName"), &awscdk.CfnOutputProps{Value: st.Storage.Bucket.BucketName()})
	awscdk.NewCfnOutput(st.Stack, jsii.String("TableName"), &awscdk.CfnOutputProps{Value: st.Storage.Table.TableName()})
	awscdk.NewCfnOutput(st.Stack, jsii.String("HubSpotSecretPrefix"), &awscdk.CfnOutputProps{Value: jsii.String(p.HubSpotSecretPrefix)})
	if p.HubSpotBaseURL != "" { // the CLI's checks call HubSpot where the functions do
		awscdk.NewCfnOutput(st.Stack, jsii.String("HubSpotBaseUrl"), &awscdk.CfnOutputProps{Value: jsii.String(p.HubSpotBaseURL)})
	}
	awscdk.NewCfnOutput(st.Stack, jsii.String("DashboardName"), &awscdk.CfnOutputProps{Value: st.Ops.Dashboard.DashboardName()})
	awscdk.NewCfnOutput(st.Stack, jsii.String("OperatorsTopicArn"), &awscdk.CfnOutputProps{Value: st.Ops.Topic.TopicArn()})
	st.OperatorPolicy = NewOperatorPolicy(st, p)
	awscdk.NewCfnOutput(st.Stack, jsii.String("OperatorPolicyArn"), &awscdk.CfnOutputProps{Value: st.OperatorPolicy.ManagedPolicyArn()})
	applyNag(st.Stack, st.Storage.Logs, *st.Schedules.Group.Name(), st.DeadLetters, st.Console)
	return st
}

// appURLPattern is what the AppUrl parameter takes: nothing, or an https
// URL with a host and an optional path, and neither query nor fragment
// (links are the URL + /#/backups[/<id>] or /#/imports/<id>, the
// console's pages: awswire.ConsoleLink). CloudFormation matches it
// against the whole value.
const appURLPattern = `^$|^https://[^\s/?#]+(/[^\s?#]*)?$`

// NewAppURL declares the AppUrl parameter (`cdk deploy --parameters
// AppUrl=https://…`): the admin console's URL, which the functions that
// publish notifications put links to backups and imports under.
func NewAppURL(scope constructs.Construct) awscdk.CfnParameter {
	return awscdk.NewCfnParameter(scope, jsii.String("AppUrl"), &awscdk.CfnParameterProps{
		Type:    jsii.String("String"),
		Default: jsii.String(""),
		Description: jsii.String("The admin console's URL (https://...), used for links in notification e-mails; " +
			"empty for notifications without links."),
		AllowedPattern:        jsii.String(appURLPattern),
		ConstraintDescription: jsii.String("empty, or an https URL without query or fragment, such as https://backups.example.com"),
	})
}

// Storage is the encrypted state: a customer-managed key, the backups
// bucket (and its access-log bucket), the metadata table.
type Storage struct {
	Key    awskms.Key
	Logs   awss3.Bucket
	Bucket awss3.Bucket
	Table  awsdynamodb.Table
}

// lifecycle is the backups bucket's: each folder of the file layout
// (package blobkey) expires after its days (ZIPs and error CSVs with the
// 14-day download window, work files after a day), and unfinished uploads
// are aborted after a day.
func lifecycle() *[]*awss3.LifecycleRule {
	var rules []*awss3.LifecycleRule
	for _, r := range blobkey.Lifecycle {
		rules = append(rules, &awss3.LifecycleRule{Id: jsii.String("expire-" + r.Name),
			Prefix: jsii.String(r.Prefix), Expiration: awscdk.Duration_Days(jsii.Number(r.Days))})
	}
	rules = append(rules, &awss3.LifecycleRule{Id: jsii.String("abort-incomplete-uploads"),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1))})
	return &rules
}

// NewStorage builds the key, buckets and table.
func NewStorage(scope constructs.Construct, p *Props) *Storage {
	c := constructs.NewConstruct(scope, jsii.String("Storage"))
	s := &Storage{}
	s.Key = awskms.NewKey(c, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("crmbackup " + p.Stage + ": backups, metadata and notifications"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     p.removal(),
	})
	s.Logs = awss3.NewBucket(c, jsii.String("AccessLogs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		Encryption:        awss3.BucketEncryption_S3_MANAGED, // S3 server access logging delivers only to SSE-S3 buckets
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules:    &[]*awss3.LifecycleRule{{Id: jsii.String("expire-access-logs"), Expiration: awscdk.Duration_Days(jsii.Number(365))}},
		RemovalPolicy:     p.removal(),
	})
	s.Bucket = awss3.NewBucket(c, jsii.String("Backups"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		Encryption:             awss3.BucketEncryption_KMS,
		EncryptionKey:          s.Key,
		BucketKeyEnabled:       jsii.Bool(true),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: s.Logs,
		ServerAccessLogsPrefix: jsii.String("backups-bucket/"),
		LifecycleRules:         lifecycle(),
		RemovalPolicy:          p.removal(),
	})
	s.Table = awsdynamodb.NewTable(c, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:                     &awsdynamodb.Attribute{Name: jsii.String("PK"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:                          &awsdynamodb.Attribute{Name: jsii.String("SK"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		Encryption:                       awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey:                    s.Key,
		TimeToLiveAttribute:              jsii.String("ttl"),
		DeletionProtection:               jsii.Bool(p.Retain),
		RemovalPolicy:                    p.removal(),
	})
	return s
}

// Notifications is the KMS-encrypted topic every notification goes to.
type Notifications struct{ Topic awssns.Topic }

// accountAttribute is the message attribute that names a notification's
// account (internal/notify sets it on every message).
const accountAttribute = "accountId"

// recipient is one e-mail subscription: an address and the accounts it
// hears of.
type recipient struct {
	email    string
	accounts []string
}

// recipients inverts account → addresses into one recipient per address,
// sorted, each with its accounts sorted: SNS keeps one subscription per
// topic, protocol and address, so an address on two accounts gets one
// subscription whose filter allows both.
func recipients(byAccount map[string][]string) []recipient {
	accounts := map[string][]string{}
	for id, emails := range byAccount {
		for _, e := range emails {
			accounts[e] = append(accounts[e], id)
		}
	}
	var out []recipient
	for e, ids := range accounts {
		slices.Sort(ids)
		out = append(out, recipient{email: e, accounts: slices.Compact(ids)})
	}
	slices.SortFunc(out, func(a, b recipient) int { return strings.Compare(a.email, b.email) })
	return out
}

// NewNotifications builds the topic and its e-mail subscriptions: each
// address receives only its accounts' notifications (a filter policy on
// the accountId message attribute); no subscription goes unfiltered. A
// subscription's construct id is its address (the CDK's own choice for
// e-mail subscriptions), so adding, removing or reordering others leaves
// it, and its confirmation, alone.
func NewNotifications(scope constructs.Construct, p *Props, key awskms.IKey) *Notifications {
	c := constructs.NewConstruct(scope, jsii.String("Notifications"))
	t := awssns.NewTopic(c, jsii.String("Topic"), &awssns.TopicProps{
		DisplayName: jsii.String("crmbackup " + p.Stage),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	for _, r := range recipients(p.AccountEmails) {
		sub := t.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(r.email), &awssnssubscriptions.EmailSubscriptionProps{
			FilterPolicy: &map[string]awssns.SubscriptionFilter{
				accountAttribute: awssns.SubscriptionFilter_StringFilter(&awssns.StringConditions{Allowlist: jsii.Strings(r.accounts...)}),
			},
		}))
		sub.Node().DefaultChild().(awssns.CfnSubscription).SetFilterPolicyScope(jsii.String("MessageAttributes"))
	}
	return &Notifications{Topic: t}
}

// Function is a Lambda with a role and a log group of its own.
type Function struct {
	Fn   awslambda.Function
	Role awsiam.Role
	Logs awslogs.LogGroup
}

// NewFunction builds one function: provided.al2023 on arm64 from
// CodeDir/<name>/bootstrap, JSON logs into its own log group, X-Ray
// tracing, and a role that starts with only the right to write its logs.
func NewFunction(scope constructs.Construct, p *Props, spec lambdas.Function) *Function {
	c := constructs.NewConstruct(scope, jsii.String(title(spec.Name)+"Function"))
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("crmbackup " + p.Stage + " " + spec.Name + " function"),
	})
	logs := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/lambda/crmbackup-" + p.Stage + "-" + spec.Name),
		Retention:     p.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	logs.GrantWrite(role)
	vars := map[string]*string{}
	if p.HubSpotBaseURL != "" {
		vars[env.HubSpotBaseURL] = jsii.String(p.HubSpotBaseURL)
	}
	fn := awslambda.NewFunction(c, jsii.String("Fn"), &awslambda.FunctionProps{
		FunctionName:  jsii.String("crmbackup-" + p.Stage + "-" + spec.Name),
		Description:   jsii.String(spec.Description),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(p.CodeDir, spec.Name)), nil),
		MemorySize:    jsii.Number(spec.MemoryMB),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(spec.TimeoutSec)),
		Role:          role,
		LogGroup:      logs,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		Tracing:       awslambda.Tracing_ACTIVE,
		Environment:   &vars,
	})
	return &Function{Fn: fn, Role: role, Logs: logs}
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// NewStateMachine builds a state machine from the repository's ASL file,
// each ${XFunctionArn} replaced by function x's ARN, with logging (not of
// execution data: cursors carry sample values) and tracing, its definition
// and execution history encrypted with the stack's key. The CDK gives the
// machine's role kms:Decrypt and kms:GenerateDataKey for this machine's
// encryption context, and kms:GenerateDataKey for log delivery, and lets
// delivery.logs.amazonaws.com decrypt with the key; who starts an
// execution needs kms:GenerateDataKey too (grants.go).
func NewStateMachine(scope constructs.Construct, p *Props, machine string, fns map[string]*Function, key awskms.IKey) awsstepfunctions.StateMachine {
	c := constructs.NewConstruct(scope, jsii.String(title(machine)+"Workflow"))
	def, err := asl.Raw(machine)
	if err != nil {
		panic(err)
	}
	used, err := asl.Functions(machine)
	if err != nil {
		panic(err)
	}
	subs := map[string]*string{}
	for _, name := range used {
		f, ok := fns[name]
		if !ok {
			panic(fmt.Sprintf("state machine %s calls function %q, which the stack does not have", machine, name))
		}
		subs[title(name)+"FunctionArn"] = f.Fn.FunctionArn()
	}
	logs := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/vendedlogs/states/crmbackup-" + p.Stage + "-" + machine),
		Retention:     p.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	sm := awsstepfunctions.NewStateMachine(c, jsii.String("StateMachine"), &awsstepfunctions.StateMachineProps{
		StateMachineName:        jsii.String("crmbackup-" + p.Stage + "-" + machine),
		DefinitionBody:          awsstepfunctions.DefinitionBody_FromString(jsii.String(string(def))),
		DefinitionSubstitutions: &subs,
		Logs: &awsstepfunctions.LogOptions{
			Destination: logs, Level: awsstepfunctions.LogLevel_ALL, IncludeExecutionData: jsii.Bool(false),
		},
		TracingEnabled:          jsii.Bool(true),
		EncryptionConfiguration: awsstepfunctions.NewCustomerManagedEncryptionConfiguration(key, awscdk.Duration_Seconds(jsii.Number(dataKeyReuseSec))),
	})
	for _, name := range used {
		fns[name].Fn.GrantInvoke(sm)
	}
	return sm
}

// dataKeyReuseSec is how long Step Functions reuses a data key of the
// stack's key (its default).
const dataKeyReuseSec = 300

// Schedules is where per-account recurring backups live: the schedule
// group and the role EventBridge Scheduler assumes, which may only invoke
// the create function and put the runs it cannot deliver on the schedule
// dead-letter queue, and only Scheduler may assume, for this account's
// group (aws:SourceAccount and aws:SourceArn: Scheduler gives the schedule
// group's ARN as the source, not the schedule's).
type Schedules struct {
	Group awsscheduler.CfnScheduleGroup
	Role  awsiam.Role
}

// NewSchedules builds the group and the scheduler's role. Scheduler sends
// to the dead-letter queue with that role: sqs:SendMessage, and the key
// for the encrypted queue.
func NewSchedules(scope constructs.Construct, p *Props, create *Function, dlq awssqs.Queue, key awskms.IKey) *Schedules {
	c := constructs.NewConstruct(scope, jsii.String("Schedules"))
	group := awsscheduler.NewCfnScheduleGroup(c, jsii.String("Group"), &awsscheduler.CfnScheduleGroupProps{
		Name: jsii.String("crmbackup-" + p.Stage),
	})
	role := awsiam.NewRole(c, jsii.String("SchedulerRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()},
				"ArnEquals":    map[string]any{"aws:SourceArn": group.AttrArn()},
			},
		}),
		Description: jsii.String("crmbackup " + p.Stage + ": EventBridge Scheduler starts scheduled backups"),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &[]*string{create.Fn.FunctionArn()},
	}))
	grantSendTo(role, dlq, key)
	return &Schedules{Group: group, Role: role}
}

// apiStage is the HTTP API's one stage.
const apiStage = "$default"

// NewAPI builds the HTTP API: every route of the api package, each behind
// the JWT authorizer (a Cognito user pool with two-factor required, or an
// external OIDC issuer), throttled, with JSON access logs.
// ConsoleLogin is how the console signs in through the stack's pool: its
// managed login's domain and the console's app client.
type ConsoleLogin struct {
	Domain   *string // https://<prefix>.auth.<region>.amazoncognito.com
	ClientID *string
}

func NewAPI(scope constructs.Construct, p *Props, fn *Function, consoleURL *string) (awsapigatewayv2.HttpApi, awscognito.UserPool, *ConsoleLogin) {
	c := constructs.NewConstruct(scope, jsii.String("Api"))
	var authorizer awsapigatewayv2.IHttpRouteAuthorizer
	var pool awscognito.UserPool
	var login *ConsoleLogin
	if p.JWTIssuer != "" {
		authorizer = awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("Jwt"), jsii.String(p.JWTIssuer),
			&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: jsii.Strings(p.JWTAudience)})
		// The issuer's own mark of SSO, or none: never the dev tokens' amr.
		fn.Fn.AddEnvironment(jsii.String(env.ClaimSSO), jsii.String(cmp.Or(p.SSOClaim, "-")), nil)
		if p.SSOClaim != "" {
			fn.Fn.AddEnvironment(jsii.String(env.ClaimSSOValues), jsii.String(strings.Join(p.SSOValues, ",")), nil)
		}
	} else {
		pool = awscognito.NewUserPool(c, jsii.String("Users"), &awscognito.UserPoolProps{
			UserPoolName:      jsii.String("crmbackup-" + p.Stage),
			SelfSignUpEnabled: jsii.Bool(false),
			SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
			Mfa:               awscognito.Mfa_REQUIRED,
			MfaSecondFactor:   &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
			PasswordPolicy: &awscognito.PasswordPolicy{
				MinLength: jsii.Number(12), RequireLowercase: jsii.Bool(true), RequireUppercase: jsii.Bool(true),
				RequireDigits: jsii.Bool(true), RequireSymbols: jsii.Bool(true),
			},
			AccountRecovery: awscognito.AccountRecovery_EMAIL_ONLY,
			CustomAttributes: &map[string]awscognito.ICustomAttribute{
				"account_id": awscognito.NewStringAttribute(&awscognito.StringAttributeProps{Mutable: jsii.Bool(true)}),
				"role":       awscognito.NewStringAttribute(&awscognito.StringAttributeProps{Mutable: jsii.Bool(true)}),
			},
			DeletionProtection: jsii.Bool(p.Retain),
			RemovalPolicy:      p.removal(),
		})
		client := pool.AddClient(jsii.String("Web"), &awscognito.UserPoolClientOptions{
			AuthFlows: &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
			// Sign-in is SRP with TOTP (the CLI); no OAuth flow is used, so
			// none is on (the CDK's default turns on code and implicit).
			DisableOAuth:               jsii.Bool(true),
			GenerateSecret:             jsii.Bool(false),
			PreventUserExistenceErrors: jsii.Bool(true),
			IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
			// Users may not write their own account or role.
			WriteAttributes: awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{
				Email: jsii.Bool(true), Fullname: jsii.Bool(true)}),
		})
		// The console signs in through the managed login: the authorization
		// code flow with PKCE (a public client: no secret), back to the
		// console's own URL only; nothing else is on.
		consoleClient := pool.AddClient(jsii.String("Console"), &awscognito.UserPoolClientOptions{
			AuthFlows:      &awscognito.AuthFlow{UserSrp: jsii.Bool(false), UserPassword: jsii.Bool(false), Custom: jsii.Bool(false), AdminUserPassword: jsii.Bool(false)},
			GenerateSecret: jsii.Bool(false),
			OAuth: &awscognito.OAuthSettings{
				Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true), ImplicitCodeGrant: jsii.Bool(false), ClientCredentials: jsii.Bool(false)},
				Scopes:       &[]awscognito.OAuthScope{awscognito.OAuthScope_OPENID(), awscognito.OAuthScope_EMAIL(), awscognito.OAuthScope_PROFILE()},
				CallbackUrls: &[]*string{awscdk.Fn_Join(jsii.String(""), &[]*string{consoleURL, jsii.String("/")})},
				LogoutUrls:   &[]*string{awscdk.Fn_Join(jsii.String(""), &[]*string{consoleURL, jsii.String("/")})},
			},
			SupportedIdentityProviders: &[]awscognito.UserPoolClientIdentityProvider{awscognito.UserPoolClientIdentityProvider_COGNITO()},
			PreventUserExistenceErrors: jsii.Bool(true),
			IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
			WriteAttributes: awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{
				Email: jsii.Bool(true), Fullname: jsii.Bool(true)}),
		})
		domain := pool.AddDomain(jsii.String("Login"), &awscognito.UserPoolDomainOptions{
			CognitoDomain:       &awscognito.CognitoDomainOptions{DomainPrefix: loginDomainPrefix(p)},
			ManagedLoginVersion: awscognito.ManagedLoginVersion_NEWER_MANAGED_LOGIN,
		})
		awscognito.NewCfnManagedLoginBranding(c, jsii.String("LoginBranding"), &awscognito.CfnManagedLoginBrandingProps{
			UserPoolId: pool.UserPoolId(), ClientId: consoleClient.UserPoolClientId(), UseCognitoProvidedValues: jsii.Bool(true),
		}).Node().AddDependency(domain)
		login = &ConsoleLogin{Domain: domain.BaseUrl(nil), ClientID: consoleClient.UserPoolClientId()}
		authorizer = awsapigatewayv2authorizers.NewHttpUserPoolAuthorizer(jsii.String("Cognito"), pool,
			&awsapigatewayv2authorizers.HttpUserPoolAuthorizerProps{UserPoolClients: &[]awscognito.IUserPoolClient{client, consoleClient}})
		// Cognito requires two-factor on every sign-in and sends no amr.
		fn.Fn.AddEnvironment(jsii.String(env.MFAAlways), jsii.String("true"), nil)
		// SSO is a sign-in through a federated SAML or OIDC provider.
		fn.Fn.AddEnvironment(jsii.String(env.ClaimSSO), jsii.String(auth.IdentitiesClaim), nil)
		awscdk.NewCfnOutput(scope, jsii.String("UserPoolId"), &awscdk.CfnOutputProps{Value: pool.UserPoolId()})
		awscdk.NewCfnOutput(scope, jsii.String("UserPoolClientId"), &awscdk.CfnOutputProps{Value: client.UserPoolClientId()})
	}
	httpAPI := awsapigatewayv2.NewHttpApi(c, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String("crmbackup-" + p.Stage),
		CreateDefaultStage: jsii.Bool(false),
		DefaultAuthorizer:  authorizer,
		// No CORS: the console calls the API through its own distribution
		// (/v1/*), at its own origin, and nothing else runs in a browser.
		// A browser page of another origin gets no CORS headers, so it
		// cannot read an answer even with a token.
	})
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("Function"), fn.Fn, nil)
	for _, route := range api.Routes() {
		method, path, _ := strings.Cut(route, " ")
		httpAPI.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(method)},
			Integration: integration,
			Authorizer:  authorizer,
		})
	}
	logs := awslogs.NewLogGroup(c, jsii.String("AccessLogs"), &awslogs.LogGroupProps{
		Retention: p.LogRetention, RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	stage := awsapigatewayv2.NewHttpStage(c, jsii.String("Stage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    httpAPI,
		StageName:  jsii.String(apiStage),
		AutoDeploy: jsii.Bool(true),
		Throttle:   &awsapigatewayv2.ThrottleSettings{RateLimit: jsii.Number(20), BurstLimit: jsii.Number(40)},
	})
	stage.Node().DefaultChild().(awsapigatewayv2.CfnStage).SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: logs.LogGroupArn(),
		Format: jsii.String(`{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","user":"$context.authorizer.claims.sub",` +
			`"time":"$context.requestTime","method":"$context.httpMethod","route":"$context.routeKey","status":"$context.status",` +
			`"length":"$context.responseLength","latencyMs":"$context.responseLatency","authorizerError":"$context.authorizer.error"}`),
	})
	return httpAPI, pool, login
}
