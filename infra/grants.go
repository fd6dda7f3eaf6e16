package main

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/crmbackup/crmbackup/internal/awswire/env"
	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

// Access is what one function may do, read off what its code calls.
type Access struct {
	Table   []string // DynamoDB actions on the table
	Read    []string // S3 object key patterns it reads
	Write   []string // … writes (single PUTs and multipart uploads)
	Delete  []string // … deletes
	List    []string // S3 key prefixes it lists
	Secrets bool     // reads the accounts' HubSpot tokens
	Start   []string // state machines it starts
	Publish bool     // publishes notifications
	// SplitBudget sets HUBSPOT_BUDGET_SHARES: as many of these containers
	// call one portal at once as the backup state machine exports objects
	// side by side, each taking that share of the portal's rate limit.
	SplitBudget bool
}

var (
	tableRead  = []string{"dynamodb:GetItem", "dynamodb:Query"}
	tableWrite = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
)

func plus(a []string, b ...string) []string { return append(append([]string{}, a...), b...) }

// access per function. Keys: backups/<account>/<backup>/<file>.zip,
// backups/<account>/imports/<import>/errors.csv, work/<account>/….
var access = map[string]Access{
	"api": {Table: plus(tableRead, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:TransactWriteItems"),
		Read: []string{"backups/*"}, Secrets: true, Start: []string{"backup", "restore"}},
	"create":   {Table: plus(tableWrite, "dynamodb:TransactWriteItems"), Start: []string{"backup"}, Publish: true},
	"discover": {Table: tableWrite, Write: []string{"work/*"}, Secrets: true},
	"export":   {Table: tableWrite, Read: []string{"work/*"}, Write: []string{"work/*"}, Secrets: true, SplitBudget: true},
	"zip":      {Table: tableWrite, Read: []string{"work/*"}, Write: []string{"backups/*"}},
	"finalize": {Table: tableWrite, Delete: []string{"work/*"}, List: []string{"work/"}},
	"notify":   {Table: []string{"dynamodb:GetItem", "dynamodb:PutItem"}, Publish: true},
	"restore": {Table: plus(tableWrite, "dynamodb:DeleteItem", "dynamodb:TransactWriteItems"),
		Read: []string{"backups/*", "work/*/imports/*"}, Write: []string{"backups/*/imports/*", "work/*/imports/*"},
		Delete: []string{"work/*/imports/*"}, List: []string{"work/"}, Secrets: true, Publish: true},
}

// grant gives each function its access and the environment that names
// the resources.
func (st *Stack) grant(p *Props) {
	s := st.Storage
	secrets := awscdk.Stack_Of(st.Stack).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("secretsmanager"), Resource: jsii.String("secret"),
		ResourceName: jsii.String(p.HubSpotSecretPrefix + "*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	for name, a := range access {
		f := st.Functions[name]
		add := func(actions []string, resources ...*string) {
			f.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings(actions...), Resources: &resources,
			}))
		}
		if len(a.Table) > 0 {
			add(a.Table, s.Table.TableArn())
			f.Fn.AddEnvironment(jsii.String(env.Table), s.Table.TableName(), nil)
		}
		keyActions := map[string]bool{}
		objects := func(patterns []string) []*string {
			var out []*string
			for _, pat := range patterns {
				out = append(out, s.Bucket.ArnForObjects(jsii.String(pat)))
			}
			return out
		}
		if len(a.Read) > 0 {
			add([]string{"s3:GetObject"}, objects(a.Read)...)
			keyActions["kms:Decrypt"] = true
		}
		if len(a.Write) > 0 {
			add([]string{"s3:PutObject", "s3:AbortMultipartUpload"}, objects(a.Write)...)
			keyActions["kms:Decrypt"], keyActions["kms:GenerateDataKey"] = true, true
		}
		if len(a.Delete) > 0 {
			add([]string{"s3:DeleteObject"}, objects(a.Delete)...)
		}
		for _, prefix := range a.List {
			f.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings("s3:ListBucket"), Resources: &[]*string{s.Bucket.BucketArn()},
				Conditions: &map[string]any{"StringLike": map[string]any{"s3:prefix": prefix + "*"}},
			}))
		}
		if len(a.Read)+len(a.Write)+len(a.Delete)+len(a.List) > 0 {
			f.Fn.AddEnvironment(jsii.String(env.Bucket), s.Bucket.BucketName(), nil)
		}
		if len(a.Table) > 0 { // the table is encrypted with the same key
			keyActions["kms:Decrypt"], keyActions["kms:GenerateDataKey"] = true, true
		}
		var kms []string
		for _, k := range []string{"kms:Decrypt", "kms:GenerateDataKey"} {
			if keyActions[k] {
				kms = append(kms, k)
			}
		}
		if len(kms) > 0 {
			add(kms, s.Key.KeyArn())
		}
		if a.Secrets {
			add([]string{"secretsmanager:GetSecretValue"}, secrets)
		}
		for _, m := range a.Start {
			add([]string{"states:StartExecution"}, st.Machines[m].StateMachineArn())
			name := env.StateMachine
			if m == "restore" {
				name = env.RestoreMachine
			}
			f.Fn.AddEnvironment(jsii.String(name), st.Machines[m].StateMachineArn(), nil)
		}
		if a.Publish {
			st.Notify.Topic.GrantPublish(f.Role)
			f.Fn.AddEnvironment(jsii.String(env.Topic), st.Notify.Topic.TopicArn(), nil)
		}
		if a.SplitBudget {
			n, err := asl.ExportConcurrency()
			if err != nil {
				panic(err)
			}
			f.Fn.AddEnvironment(jsii.String(env.BudgetShares), jsii.String(strconv.Itoa(n)), nil)
		}
	}
}
