package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// NewOperatorPolicy is the managed policy an operator's identity needs for
// `crmbackup accounts` and `crmbackup admins` against this stack, and no
// more: find the stack's outputs, read and write the account items and
// their audit entries (with the stack's key), keep the credentials under
// the secret prefix, and manage the users of the stack's pool. Attach it to
// the operators' role or group (output OperatorPolicyArn).
func NewOperatorPolicy(st *Stack, p *Props) awsiam.ManagedPolicy {
	stack := awscdk.Stack_Of(st.Stack)
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("FindTheStack"),
			Actions: jsii.Strings("cloudformation:DescribeStacks"), Resources: &[]*string{stack.StackId()}}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("Accounts"),
			Actions: jsii.Strings("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query",
				"dynamodb:ConditionCheckItem", "dynamodb:TransactWriteItems"),
			Resources: &[]*string{st.Storage.Table.TableArn()}}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("TheStacksKey"),
			Actions: jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"), Resources: &[]*string{st.Storage.Key.KeyArn()}}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("Credentials"),
			Actions: jsii.Strings("secretsmanager:CreateSecret", "secretsmanager:TagResource", "secretsmanager:GetSecretValue",
				"secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret"),
			Resources: &[]*string{secretArns(stack, p.HubSpotSecretPrefix)}}),
	}
	if st.Pool != nil {
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("Admins"),
			Actions:   jsii.Strings("cognito-idp:AdminCreateUser", "cognito-idp:ListUsers", "cognito-idp:AdminGetUser", "cognito-idp:AdminDeleteUser"),
			Resources: &[]*string{st.Pool.UserPoolArn()}}))
	}
	return awsiam.NewManagedPolicy(st.Stack, jsii.String("OperatorPolicy"), &awsiam.ManagedPolicyProps{
		ManagedPolicyName: jsii.String("crmbackup-" + p.Stage + "-operator"),
		Description:       jsii.String("crmbackup " + p.Stage + ": what `crmbackup accounts` and `crmbackup admins` need"),
		Statements:        &statements,
	})
}
