package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/crmbackup/crmbackup/internal/lambdas"
	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

// DeadLetters are the SQS queues that keep, for deadLetterDays, what could
// not be delivered or processed. They are dead-letter queues themselves,
// and have none of their own.
type DeadLetters struct {
	// Schedule: the runs EventBridge Scheduler could not deliver to the
	// create function within the schedule's retry policy (SCHEDULE_DLQ_ARN,
	// set on each schedule's target by the api).
	Schedule awssqs.Queue
	// Create: the scheduled runs Lambda gave up on, after the create
	// function failed them createRetries more times (its asynchronous
	// invocations' on-failure destination).
	Create awssqs.Queue
	// Ended: the status changes EventBridge could not deliver to the ended
	// function (the rule target's dead-letter queue), and those Lambda gave
	// up on after the function failed them (its on-failure destination).
	Ended awssqs.Queue
}

// deadLetterDays is how long a dead letter is kept: SQS's longest.
const deadLetterDays = 14

// deadLetterName is a queue's name, crmbackup-<stage>-<what>-dlq.
func deadLetterName(p *Props, what string) string {
	return "crmbackup-" + p.Stage + "-" + what + "-dlq"
}

// NewDeadLetters builds the queues: encrypted with the stack's key, TLS
// only, named so an operator finds them.
func NewDeadLetters(scope constructs.Construct, p *Props, key awskms.IKey) *DeadLetters {
	c := constructs.NewConstruct(scope, jsii.String("DeadLetters"))
	queue := func(id, what string) awssqs.Queue {
		return awssqs.NewQueue(c, jsii.String(id), &awssqs.QueueProps{
			QueueName:           jsii.String(deadLetterName(p, what)),
			Encryption:          awssqs.QueueEncryption_KMS,
			EncryptionMasterKey: key,
			EnforceSSL:          jsii.Bool(true),
			RetentionPeriod:     awscdk.Duration_Days(jsii.Number(deadLetterDays)),
		})
	}
	return &DeadLetters{Schedule: queue("Schedule", "schedule"), Create: queue("Create", "create"), Ended: queue("Ended", "ended")}
}

// namedQueue is a dead-letter queue and what it keeps, for alarms and the
// dashboard.
type namedQueue struct {
	id, what string
	queue    awssqs.Queue
}

// All lists the queues in a fixed order.
func (d *DeadLetters) All() []namedQueue {
	return []namedQueue{{"Schedule", "schedule", d.Schedule}, {"Create", "create", d.Create}, {"Ended", "ended", d.Ended}}
}

// queueArn is the ARN of a queue of this stack, by name. Key policies name
// queues by it rather than by the queue's own ARN attribute: each queue is
// encrypted with the key, so a reference from the key would be circular.
func queueArn(stack awscdk.Stack, name string) *string {
	return stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("sqs"), Resource: jsii.String(name),
		ArnFormat: awscdk.ArnFormat_NO_RESOURCE_NAME})
}

// grantSendTo lets a role put messages on an encrypted queue: SQS calls KMS
// with the sender's credentials (kms:GenerateDataKey, and kms:Decrypt to
// reuse a data key), for that queue's encryption context only.
func grantSendTo(role awsiam.Role, q awssqs.Queue, key awskms.IKey) {
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("sqs:SendMessage"), Resources: &[]*string{q.QueueArn()},
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"), Resources: &[]*string{key.KeyArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"kms:EncryptionContext:aws:sqs:arn": q.QueueArn()}},
	}))
}

// Retries of the functions' asynchronous invocations: a scheduled run is
// retried twice within the hour it is due (Scheduler's own retry policy
// spans the same hour); a status change to end is retried twice within
// Lambda's longest event age, as ending late is still ending.
const (
	createRetries, endedRetries         = 2, 2
	createMaxEventAge, endedMaxEventAge = 3600, 6 * 3600 // seconds
)

// asyncFailures configures a function's asynchronous invocations (those of
// Scheduler and EventBridge): retries, the oldest event it still runs, and
// the queue an event goes to once Lambda gives up on it. Lambda sends it
// with the function's role, which Lambda checks when the configuration is
// created, so the configuration waits for the role's policy.
func asyncFailures(scope constructs.Construct, id string, f *Function, q awssqs.Queue, key awskms.IKey, retries, maxAgeSec int) awslambda.CfnEventInvokeConfig {
	grantSendTo(f.Role, q, key)
	cfg := awslambda.NewCfnEventInvokeConfig(scope, jsii.String(id), &awslambda.CfnEventInvokeConfigProps{
		FunctionName:             f.Fn.FunctionName(),
		Qualifier:                jsii.String("$LATEST"),
		MaximumRetryAttempts:     jsii.Number(retries),
		MaximumEventAgeInSeconds: jsii.Number(maxAgeSec),
		DestinationConfig: &awslambda.CfnEventInvokeConfig_DestinationConfigProperty{
			OnFailure: &awslambda.CfnEventInvokeConfig_OnFailureProperty{Destination: q.QueueArn()},
		},
	})
	cfg.Node().AddDependency(f.Role)
	return cfg
}

// endedStatuses are the execution statuses the ended function ends a
// backup or restore for: Step Functions runs no Catch for the first two,
// and a FAILED execution's Catch may itself have failed.
var endedStatuses = []string{"TIMED_OUT", "ABORTED", "FAILED"}

// Retries of the ended rule's target: EventBridge retries a status change
// it could not deliver (throttling, a missing permission) up to this many
// times within the day, then puts it on the Ended dead-letter queue.
const (
	endedRuleRetries     = 8
	endedRuleMaxAgeHours = 24
)

// NewEndedRule builds the EventBridge rule that hands the execution status
// changes of this stack's state machines (and no other's) that ended
// without success to the ended function.
func NewEndedRule(scope constructs.Construct, p *Props, machines map[string]awsstepfunctions.StateMachine, ended *Function,
	dlq awssqs.Queue, key awskms.Key) awsevents.Rule {
	c := constructs.NewConstruct(scope, jsii.String("EndedRule"))
	var arns []*string
	for _, m := range asl.Machines {
		arns = append(arns, machines[m].StateMachineArn())
	}
	rule := awsevents.NewRule(c, jsii.String("Rule"), &awsevents.RuleProps{
		RuleName:    jsii.String("crmbackup-" + p.Stage + "-ended"),
		Description: jsii.String("crmbackup " + p.Stage + ": backup and restore executions that timed out, were stopped or failed go to the ended function"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.states"),
			DetailType: jsii.Strings("Step Functions Execution Status Change"),
			Detail:     &map[string]any{"status": endedStatuses, "stateMachineArn": arns},
		},
	})
	// The target's dead-letter queue gets a queue policy for this rule
	// (the CDK's); EventBridge sends to the encrypted queue as itself, so
	// the key lets events.amazonaws.com use it for that queue only.
	rule.AddTarget(awseventstargets.NewLambdaFunction(ended.Fn, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: dlq,
		RetryAttempts:   jsii.Number(endedRuleRetries),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(endedRuleMaxAgeHours)),
	}))
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("EventBridgeSendsToTheEndedDeadLetterQueue"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{
			"kms:EncryptionContext:aws:sqs:arn": queueArn(awscdk.Stack_Of(scope), deadLetterName(p, "ended"))}},
	}), jsii.Bool(false))
	return rule
}

// HubSpot client log lines (internal/hubspot/client.go, Client.do, as the
// functions' slog JSON handler writes them: {"msg": "…"}). The metric
// filters match the msg field exactly; the tests check the client still
// logs these.
const (
	// A 429 it waits out and retries (not one it gives up on: a daily
	// limit, or too many 429s in a row, returns the error unlogged).
	hubspotRateLimitedMsg = "hubspot rate limited; backing off"
	// A retry after a 5xx, a 423 (locked) or 477 (migration in progress),
	// or a transport error.
	hubspotRetryMsg = "hubspot request failed; retrying"
)

// Metric names of the metric filters, in the stack's namespace.
const (
	rateLimitedMetric = "HubSpotRateLimited"
	retriesMetric     = "HubSpotRetries"
)

// metricNamespace is where the stack's own metrics go: one namespace per
// stage, so two stages in one account do not add up.
func metricNamespace(p *Props) string { return "crmbackup/" + p.Stage }

// Operations is what tells the operators of trouble: their topic, the
// alarms that publish to it, and a dashboard.
type Operations struct {
	Topic     awssns.Topic
	Alarms    []awscloudwatch.Alarm
	Dashboard awscloudwatch.Dashboard
}

// NewOperations builds the operators' topic (KMS, TLS only, one unfiltered
// e-mail subscription per address of operatorEmails), the alarms (each
// state machine's failed and timed-out executions, each function's errors
// and throttles, the API's 5xx, each dead-letter queue's messages: any one
// in five minutes), the HubSpot metric filters and the dashboard.
func NewOperations(st *Stack, p *Props) *Operations {
	c := constructs.NewConstruct(st.Stack, jsii.String("Operations"))
	key := st.Storage.Key
	ops := &Operations{}

	// CloudWatch publishes alarms to the topic as cloudwatch.amazonaws.com,
	// for the stack's alarms only, and needs the key for this topic's
	// messages (SNS's encryption context names the topic).
	topicName := "crmbackup-" + p.Stage + "-operators"
	alarmPrefix := "crmbackup-" + p.Stage + "-"
	ops.Topic = awssns.NewTopic(c, jsii.String("Topic"), &awssns.TopicProps{
		TopicName:   jsii.String(topicName),
		DisplayName: jsii.String("crmbackup " + p.Stage + " operators"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	for _, e := range p.OperatorEmails {
		ops.Topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
	}
	cloudwatch := awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)
	ops.Topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{cloudwatch},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{ops.Topic.TopicArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()},
			"ArnLike": map[string]any{"aws:SourceArn": st.Stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("cloudwatch"),
				Resource: jsii.String("alarm"), ResourceName: jsii.String(alarmPrefix + "*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})},
		},
	}))
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublishToTheOperatorsTopic"),
		Principals: &[]awsiam.IPrincipal{cloudwatch},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{
			"kms:EncryptionContext:aws:sns:topicArn": st.Stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("sns"),
				Resource: jsii.String(topicName), ArnFormat: awscdk.ArnFormat_NO_RESOURCE_NAME})}},
	}), jsii.Bool(false))

	five := awscdk.Duration_Minutes(jsii.Number(5))
	day := awscdk.Duration_Days(jsii.Number(1))
	sum := func(period awscdk.Duration, label string) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Sum"), Label: jsii.String(label)}
	}
	action := awscloudwatchactions.NewSnsAction(ops.Topic)
	alarm := func(id, name, description string, m awscloudwatch.IMetric) {
		a := awscloudwatch.NewAlarm(c, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmName:          jsii.String(alarmPrefix + name),
			AlarmDescription:   jsii.String(description),
			Metric:             m,
			Threshold:          jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			DatapointsToAlarm:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(action)
		ops.Alarms = append(ops.Alarms, a)
	}
	for _, m := range asl.Machines {
		sm := st.Machines[m]
		alarm(title(m)+"ExecutionsFailed", m+"-executions-failed", "A "+m+" execution failed (the ended function ends it).",
			sm.MetricFailed(sum(five, "failed")))
		alarm(title(m)+"ExecutionsTimedOut", m+"-executions-timed-out", "A "+m+" execution timed out (the ended function ends it).",
			sm.MetricTimedOut(sum(five, "timed out")))
	}
	for _, spec := range lambdas.All {
		fn := st.Functions[spec.Name].Fn
		alarm(title(spec.Name)+"Errors", spec.Name+"-errors", "The "+spec.Name+" function returned an error or crashed.",
			fn.MetricErrors(sum(five, "errors")))
		alarm(title(spec.Name)+"Throttles", spec.Name+"-throttles", "The "+spec.Name+" function was throttled.",
			fn.MetricThrottles(sum(five, "throttles")))
	}
	// HTTP APIs publish 5xx (not REST APIs' 5XXError) by ApiId and Stage.
	alarm("Api5xx", "api-5xx", "The HTTP API answered 5xx.", awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String("AWS/ApiGateway"), MetricName: jsii.String("5xx"),
		DimensionsMap: &map[string]*string{"ApiId": st.API.ApiId(), "Stage": jsii.String(apiStage)},
		Period:        five, Statistic: jsii.String("Sum"), Label: jsii.String("5xx"),
	}))
	var depth []awscloudwatch.IMetric
	for _, q := range st.DeadLetters.All() {
		m := q.queue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: five, Statistic: jsii.String("Maximum"), Label: jsii.String(q.what)})
		depth = append(depth, m)
		alarm(q.id+"DeadLetters", q.what+"-dead-letters", "Messages wait on "+deadLetterName(p, q.what)+": see infra/README.md.", m)
	}

	// HubSpot 429s and retries, counted off the logs of the functions that
	// call HubSpot (those that read the accounts' tokens).
	ns := metricNamespace(p)
	for _, spec := range lambdas.All {
		if !spec.Access.Secrets {
			continue
		}
		logs := st.Functions[spec.Name].Logs
		for _, f := range []struct{ id, msg, metric string }{
			{"RateLimited", hubspotRateLimitedMsg, rateLimitedMetric}, {"Retries", hubspotRetryMsg, retriesMetric},
		} {
			awslogs.NewMetricFilter(c, jsii.String(title(spec.Name)+"HubSpot"+f.id), &awslogs.MetricFilterProps{
				LogGroup:        logs,
				FilterPattern:   awslogs.FilterPattern_StringValue(jsii.String("$.msg"), jsii.String("="), jsii.String(f.msg)),
				MetricNamespace: jsii.String(ns),
				MetricName:      jsii.String(f.metric),
				MetricValue:     jsii.String("1"),
			})
		}
	}
	hubspot := func(metric, label string) awscloudwatch.IMetric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String(ns), MetricName: jsii.String(metric),
			Period: awscdk.Duration_Hours(jsii.Number(1)), Statistic: jsii.String("Sum"), Label: jsii.String(label)})
	}

	graph := func(t string, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(t), Left: &metrics,
			Width: jsii.Number(12), Height: jsii.Number(6)})
	}
	perDay := func(m string) awscloudwatch.IWidget {
		sm := st.Machines[m]
		return graph(title(m)+"s per day (executions)",
			sm.MetricStarted(sum(day, "started")), sm.MetricSucceeded(sum(day, "succeeded")), sm.MetricFailed(sum(day, "failed")),
			sm.MetricTimedOut(sum(day, "timed out")), sm.MetricAborted(sum(day, "aborted")))
	}
	var durations []awscloudwatch.IMetric
	for _, m := range asl.Machines {
		for _, stat := range []string{"Average", "Maximum"} {
			durations = append(durations, st.Machines[m].MetricTime(&awscloudwatch.MetricOptions{Period: day,
				Statistic: jsii.String(stat), Label: jsii.String(m + " " + stat)}))
		}
	}
	alarms := make([]interfacesawscloudwatch.IAlarmRef, len(ops.Alarms))
	for i, a := range ops.Alarms {
		alarms[i] = a
	}
	ops.Dashboard = awscloudwatch.NewDashboard(c, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String("crmbackup-" + p.Stage),
		DefaultInterval: awscdk.Duration_Days(jsii.Number(14)),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{perDay(lambdas.BackupMachine), perDay(lambdas.RestoreMachine)},
			{graph("Execution time (ms, per day)", durations...),
				graph("HubSpot 429s and retries (per hour)", hubspot(rateLimitedMetric, "429, backing off"), hubspot(retriesMetric, "retries (5xx, 423/477, transport)"))},
			{graph("Dead-letter queues (messages waiting)", depth...),
				awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{Title: jsii.String("Alarms"),
					Alarms: &alarms, Width: jsii.Number(12), Height: jsii.Number(6)})},
		},
	})
	return ops
}
