package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/cognito"
	"github.com/crmbackup/crmbackup/internal/connector"
	"github.com/crmbackup/crmbackup/internal/dynamo"
	"github.com/crmbackup/crmbackup/internal/dynamo/dynamolocal"
	"github.com/crmbackup/crmbackup/internal/localstack"
	"github.com/crmbackup/crmbackup/internal/operator"
	"github.com/crmbackup/crmbackup/internal/secrets"
)

// The flags every command shares: which stack, and how to print.
const (
	flagStack  = "stack"
	flagRegion = "region"
	flagLocal  = "local"
	flagJSON   = "json"
	flagAPIURL = "api-url"
	flagPoolID = "user-pool-id"
	flagClient = "user-pool-client-id"
)

func addTargetFlags(root *cobra.Command) {
	f := root.PersistentFlags()
	f.String(flagStack, os.Getenv("CRMBACKUP_STACK"), "a deployed stack's CloudFormation name ($CRMBACKUP_STACK sets the default); without it, the local stack")
	f.String(flagRegion, "", "the deployed stack's AWS region (default: your AWS configuration's)")
	f.String(flagLocal, cmp.Or(os.Getenv("CRMBACKUP_LOCAL"), defaultLocalDir), "the local stack's data folder ($CRMBACKUP_LOCAL sets the default)")
	f.Bool(flagJSON, false, "print JSON (the API's own answers) instead of tables, for scripts")
	// Admins without AWS credentials reach a deployed stack's API by its
	// outputs, which their operator gives them.
	f.String(flagAPIURL, os.Getenv("CRMBACKUP_API_URL"), "a deployed stack's API (its ApiUrl output; $CRMBACKUP_API_URL sets the default): for admins without AWS credentials, with the two flags below")
	f.String(flagPoolID, os.Getenv("CRMBACKUP_USER_POOL_ID"), "the stack's UserPoolId output ($CRMBACKUP_USER_POOL_ID)")
	f.String(flagClient, os.Getenv("CRMBACKUP_USER_POOL_CLIENT_ID"), "the stack's UserPoolClientId output ($CRMBACKUP_USER_POOL_CLIENT_ID)")
}

// safeKey makes s usable in a file name.
func safeKey(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

// target is the stack a command works on: the local one of a data folder,
// or a deployed one.
type target struct {
	name string // for people: "the local stack (.local/stack)", "stack crmbackup-prod (eu-west-1)"
	key  string // names its session file
	api  string // the API's base URL

	local    string // the local stack's data folder ("" on AWS)
	hubspot  string // HubSpot's base URL for checks (the emulator's locally)
	emulated bool

	aws     aws.Config
	outputs map[string]string // the stack's CloudFormation outputs
}

// awsHTTPClient replaces the AWS SDK's HTTP client (tests' fakes).
var awsHTTPClient *http.Client

// resolve finds the command's target: --stack, or the local stack (which
// must be running: its endpoints are in its folder).
func resolve(c *cobra.Command) (*target, error) {
	ctx := c.Context()
	stack, _ := c.Flags().GetString(flagStack)
	if apiURL, _ := c.Flags().GetString(flagAPIURL); apiURL != "" && stack == "" {
		return apiTarget(c, apiURL)
	}
	if stack == "" {
		dir, _ := c.Flags().GetString(flagLocal)
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		ep, err := localstack.ReadEndpoints(dir)
		if err != nil {
			return nil, err
		}
		return &target{name: "the local stack (" + dir + ")", key: "local-" + shortHash(abs), api: ep.API,
			local: dir, hubspot: ep.HubSpot, emulated: ep.Emulator}, nil
	}
	region, _ := c.Flags().GetString(flagRegion)
	cfg, err := awsConfig(ctx, region)
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: give --region or set AWS_REGION")
	}
	outputs, err := stackOutputs(ctx, cloudformation.NewFromConfig(cfg), stack)
	if err != nil {
		return nil, err
	}
	api := strings.TrimSuffix(outputs["ApiUrl"], "/")
	// The API's URL names the stack in its account: the session's file.
	t := &target{name: fmt.Sprintf("stack %s (%s)", stack, cfg.Region), key: "aws-" + safeKey(stack) + "-" + shortHash(api),
		api: api, aws: cfg, outputs: outputs}
	for _, need := range []string{"ApiUrl", "TableName", "HubSpotSecretPrefix"} {
		if t.outputs[need] == "" {
			return nil, fmt.Errorf("stack %s has no %s output: is it a crmbackup stack?", stack, need)
		}
	}
	return t, nil
}

// awsConfig is the user's AWS configuration, in region if given.
func awsConfig(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if awsHTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(awsHTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	return cfg, nil
}

// apiTarget is a deployed stack known by its API and user pool (given by
// flags), without CloudFormation: enough to sign in and call the API, not
// for the operator's commands.
func apiTarget(c *cobra.Command, apiURL string) (*target, error) {
	pool, _ := c.Flags().GetString(flagPoolID)
	client, _ := c.Flags().GetString(flagClient)
	region, _, ok := strings.Cut(pool, "_")
	if !ok || client == "" {
		return nil, errors.New("--api-url needs --user-pool-id and --user-pool-client-id (the stack's outputs), or give --stack NAME")
	}
	cfg, err := awsConfig(c.Context(), region)
	if err != nil {
		return nil, err
	}
	api := strings.TrimSuffix(apiURL, "/")
	return &target{name: "the API at " + api, key: "api-" + shortHash(api), api: api, aws: cfg,
		outputs: map[string]string{"ApiUrl": api, "UserPoolId": pool, "UserPoolClientId": client}}, nil
}

// stackOutputs are a stack's CloudFormation outputs by key.
func stackOutputs(ctx context.Context, cf *cloudformation.Client, stack string) (map[string]string, error) {
	out, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: &stack})
	if err != nil {
		return nil, fmt.Errorf("find stack %s in CloudFormation: %w", stack, err)
	}
	if len(out.Stacks) != 1 {
		return nil, fmt.Errorf("CloudFormation has %d stacks named %s", len(out.Stacks), stack)
	}
	m := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return m, nil
}

// operatorTools are the adapters the operator's commands use on a target.
type operatorTools struct {
	store     *dynamo.Store
	secrets   operator.Secrets
	directory operator.Directory
	portals   operator.Portals
	actor     audit.Actor
	// credential reads an account's credential back, for checks.
	credential func(ctx context.Context, ref string) (string, error)
}

// accounts and adminService are the operator's services on these tools.
func (o *operatorTools) accounts() *operator.Accounts {
	return &operator.Accounts{Store: o.store, Secrets: o.secrets, Portals: o.portals, Operator: o.actor}
}

func (o *operatorTools) adminService() *operator.Admins {
	return &operator.Admins{Store: o.store, Directory: o.directory, Portals: o.portals, Operator: o.actor, Credential: o.credential}
}

func (t *target) operatorTools(ctx context.Context) (*operatorTools, error) {
	if t.local == "" && t.outputs["TableName"] == "" {
		return nil, errors.New("the operator's commands need --stack NAME (the table and the secret prefix are in its outputs) and AWS credentials")
	}
	if t.local != "" {
		ep, err := localstack.ReadEndpoints(t.local)
		if err != nil {
			return nil, err
		}
		key, err := localstack.DynamoKey(t.local)
		if err != nil {
			return nil, err
		}
		who := "operator:local"
		if u, err := user.Current(); err == nil {
			who = "operator:" + u.Username
		}
		conn := &connector.Connector{}
		return &operatorTools{
			store:      dynamo.New(dynamolocal.Client(ep.DynamoDB, key), localstack.Table),
			secrets:    secrets.Files{Dir: localstack.CredentialsDir(t.local)},
			directory:  localstack.Directory{Path: localstack.DirectoryFile(t.local)},
			portals:    operator.HubSpot{BaseURL: ep.HubSpot},
			actor:      audit.Actor{Subject: who},
			credential: conn.Credential,
		}, nil
	}
	id, err := sts.NewFromConfig(t.aws).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("who you are in AWS: %w", err)
	}
	sm := secrets.Manager{Client: secretsmanager.NewFromConfig(t.aws), Prefix: t.outputs["HubSpotSecretPrefix"]}
	tools := &operatorTools{
		store:      dynamo.New(dynamodb.NewFromConfig(t.aws), t.outputs["TableName"]),
		secrets:    sm,
		portals:    operator.HubSpot{BaseURL: cmp.Or(os.Getenv("HUBSPOT_BASE_URL"), t.outputs["HubSpotBaseUrl"])},
		actor:      audit.Actor{Subject: "operator:" + aws.ToString(id.Arn)},
		credential: (&connector.Connector{Secrets: sm, SecretPrefix: sm.Prefix}).Credential,
	}
	if pool := t.pool(); pool != nil {
		tools.directory = cognito.Directory{Pool: pool}
	}
	return tools, nil
}

// pool is the stack's own Cognito user pool; nil when the stack trusts
// another issuer (its admins are managed there).
func (t *target) pool() *cognito.Pool {
	if t.outputs["UserPoolId"] == "" || t.outputs["UserPoolClientId"] == "" {
		return nil
	}
	return &cognito.Pool{API: cip.NewFromConfig(t.aws), PoolID: t.outputs["UserPoolId"], ClientID: t.outputs["UserPoolClientId"]}
}
