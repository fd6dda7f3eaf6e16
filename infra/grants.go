package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/crmbackup/crmbackup/internal/awswire/env"
	"github.com/crmbackup/crmbackup/internal/blobkey"
	"github.com/crmbackup/crmbackup/internal/lambdas"
)

// scheduleManage is what the api does to an account's schedule: read it,
// create it, replace it, delete it.
var scheduleManage = []string{"scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"}

// scheduleArns is every schedule of the group:
// arn:<partition>:scheduler:<region>:<account>:schedule/<group>/*.
func scheduleArns(stack awscdk.Stack, group string) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("scheduler"), Resource: jsii.String("schedule"), ResourceName: jsii.String(group + "/*"),
	})
}

// secretArns is every account's HubSpot secret: those named under the
// stack's prefix (with Secrets Manager's random suffix).
func secretArns(stack awscdk.Stack, prefix string) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("secretsmanager"), Resource: jsii.String("secret"),
		ResourceName: jsii.String(prefix + "*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

// keyActions is what a function does with the stack's key, read off its
// access: the bucket, the table and both state machines are encrypted with
// it. Reading an object decrypts; writing one, or an item, also generates
// data keys; starting an execution of a machine encrypted with a customer
// managed key needs kms:GenerateDataKey (Step Functions encrypts the input
// under the caller's credentials) and kms:Decrypt.
func keyActions(a lambdas.Access) []string {
	decrypt := len(a.Read) > 0 || len(a.Write) > 0 || len(a.Table) > 0 || len(a.Start) > 0
	generate := len(a.Write) > 0 || len(a.Table) > 0 || len(a.Start) > 0
	var out []string
	if decrypt {
		out = append(out, "kms:Decrypt")
	}
	if generate {
		out = append(out, "kms:GenerateDataKey")
	}
	return out
}

// grant gives each function its access and the environment that names
// the resources.
func (st *Stack) grant(p *Props) {
	s := st.Storage
	secrets := secretArns(st.Stack, p.HubSpotSecretPrefix)
	group := *st.Schedules.Group.Name()
	schedules := scheduleArns(st.Stack, group)
	for _, spec := range lambdas.All {
		a, f := spec.Access, st.Functions[spec.Name]
		add := func(actions []string, resources ...*string) {
			f.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings(actions...), Resources: &resources,
			}))
		}
		if len(a.Table) > 0 {
			add(a.Table, s.Table.TableArn())
			f.Fn.AddEnvironment(jsii.String(env.Table), s.Table.TableName(), nil)
		}
		objects := func(kinds []blobkey.Kind) []*string {
			var out []*string
			for _, k := range kinds {
				out = append(out, s.Bucket.ArnForObjects(jsii.String(k.Pattern)))
			}
			return out
		}
		if len(a.Read) > 0 {
			add([]string{"s3:GetObject"}, objects(a.Read)...)
		}
		if len(a.Write) > 0 {
			add([]string{"s3:PutObject", "s3:AbortMultipartUpload"}, objects(a.Write)...)
		}
		if len(a.Delete) > 0 {
			add([]string{"s3:DeleteObject"}, objects(a.Delete)...)
		}
		for _, prefix := range a.List {
			f.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings("s3:ListBucket"), Resources: &[]*string{s.Bucket.BucketArn()},
				Conditions: &map[string]any{"StringLike": map[string]any{"s3:prefix": prefix}},
			}))
		}
		if a.Files() {
			f.Fn.AddEnvironment(jsii.String(env.Bucket), s.Bucket.BucketName(), nil)
		}
		if kms := keyActions(a); len(kms) > 0 {
			add(kms, s.Key.KeyArn())
		}
		if a.Secrets {
			add([]string{"secretsmanager:GetSecretValue"}, secrets)
			f.Fn.AddEnvironment(jsii.String(env.SecretPrefix), jsii.String(p.HubSpotSecretPrefix), nil)
		}
		for _, m := range a.Start {
			add([]string{"states:StartExecution"}, st.Machines[m].StateMachineArn())
			f.Fn.AddEnvironment(jsii.String(lambdas.MachineSetting(m)), st.Machines[m].StateMachineArn(), nil)
		}
		for _, m := range a.Describe {
			add([]string{"states:DescribeExecution"}, awscdk.Stack_Of(st.Stack).FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("states"), Resource: jsii.String("execution"),
				ResourceName: jsii.String(*st.Machines[m].StateMachineName() + ":*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
			}))
		}
		if a.Publish {
			st.Notify.Topic.GrantPublish(f.Role)
			f.Fn.AddEnvironment(jsii.String(env.Topic), st.Notify.Topic.TopicArn(), nil)
			f.Fn.AddEnvironment(jsii.String(env.AppURL), st.AppURL.ValueAsString(), nil) // links in notifications
		}
		switch a.Schedules {
		case "":
		case lambdas.ScheduleManage:
			add(scheduleManage, schedules)
			// Creating or updating a schedule hands Scheduler its role:
			// this role only, to Scheduler only.
			f.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings("iam:PassRole"), Resources: &[]*string{st.Schedules.Role.RoleArn()},
				Conditions: &map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "scheduler.amazonaws.com"}},
			}))
			f.Fn.AddEnvironment(jsii.String(env.ScheduleGroup), jsii.String(group), nil)
			f.Fn.AddEnvironment(jsii.String(env.ScheduleTarget), st.Functions[lambdas.Create].Fn.FunctionArn(), nil)
			f.Fn.AddEnvironment(jsii.String(env.SchedulerRole), st.Schedules.Role.RoleArn(), nil)
			// Each schedule's target names the queue for runs Scheduler
			// cannot deliver (the scheduler role may send to it).
			f.Fn.AddEnvironment(jsii.String(env.ScheduleDeadLetter), st.DeadLetters.Schedule.QueueArn(), nil)
		case lambdas.ScheduleRemove:
			add([]string{"scheduler:DeleteSchedule"}, schedules)
			f.Fn.AddEnvironment(jsii.String(env.ScheduleGroup), jsii.String(group), nil)
		default:
			panic(fmt.Sprintf("function %s: schedule access %q is neither %q nor %q", spec.Name, a.Schedules,
				lambdas.ScheduleManage, lambdas.ScheduleRemove))
		}
	}
}
