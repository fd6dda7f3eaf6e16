package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// Props configure one deployment of crmbackup. Every field has a context
// key (`cdk deploy -c key=value`, or cdk.json's context).
type Props struct {
	awscdk.StackProps
	// Stage names the deployment (context "stage", default "prod"); it is
	// part of every resource name.
	Stage string
	// HubSpotSecretPrefix is the Secrets Manager name prefix under which
	// each account's private-app token lives, one secret per account
	// (context "hubspotSecretPrefix", default "crmbackup/<stage>/hubspot/").
	HubSpotSecretPrefix string
	// JWTIssuer and JWTAudience name an external OIDC issuer (context
	// "jwtIssuer", "jwtAudience"); without them the stack creates a
	// Cognito user pool with two-factor required.
	JWTIssuer, JWTAudience string
	// NotificationEmails are subscribed to the notifications topic
	// (context "notificationEmails", comma-separated).
	NotificationEmails []string
	// LogRetention of every log group (context "logRetentionDays", default 90).
	LogRetention awslogs.RetentionDays
	// Retain keeps the bucket, table, key and user pool when the stack is
	// deleted (context "removalPolicy": "retain", the default, or "destroy").
	Retain bool
	// CodeDir holds one folder per function with its `bootstrap` binary
	// (context "codeDir", default "build": `make lambdas` writes it).
	CodeDir string
	// HubSpotBaseURL overrides https://api.hubapi.com (context "hubspotBaseUrl").
	HubSpotBaseURL string
}

// FileContext reads the context of cdk.json: the feature flags (the
// recommended set, written by `cdk flags --set --recommended --all`) and the
// props' defaults. The app starts from it whether the CLI runs it or not,
// and the tests synth with it, so all three build the same template; the
// CLI's -c values override it.
func FileContext(path string) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cdk context: %w", err)
	}
	var f struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("cdk context: %s: %w", path, err)
	}
	return f.Context, nil
}

// PropsFromContext reads the props from the app's context.
func PropsFromContext(app awscdk.App) (*Props, error) {
	get := func(key, def string) string {
		if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok && v != "" {
			return v
		}
		return def
	}
	p := &Props{
		Stage:          get("stage", "prod"),
		JWTIssuer:      get("jwtIssuer", ""),
		JWTAudience:    get("jwtAudience", ""),
		CodeDir:        get("codeDir", "build"),
		HubSpotBaseURL: get("hubspotBaseUrl", ""),
	}
	p.HubSpotSecretPrefix = get("hubspotSecretPrefix", "crmbackup/"+p.Stage+"/hubspot/")
	for _, e := range strings.Split(get("notificationEmails", ""), ",") {
		if e = strings.TrimSpace(e); e != "" {
			p.NotificationEmails = append(p.NotificationEmails, e)
		}
	}
	days, err := strconv.Atoi(get("logRetentionDays", "90"))
	if err != nil {
		return nil, fmt.Errorf("logRetentionDays: %w", err)
	}
	if p.LogRetention, err = retention(days); err != nil {
		return nil, err
	}
	switch rp := get("removalPolicy", "retain"); rp {
	case "retain":
		p.Retain = true
	case "destroy":
	default:
		return nil, fmt.Errorf("removalPolicy %q: want retain or destroy", rp)
	}
	if (p.JWTIssuer == "") != (p.JWTAudience == "") {
		return nil, fmt.Errorf("jwtIssuer and jwtAudience go together")
	}
	p.Env = &awscdk.Environment{Account: jsii.String(get("account", "")), Region: jsii.String(get("region", ""))}
	if *p.Env.Account == "" && *p.Env.Region == "" {
		p.Env = nil // environment-agnostic
	}
	return p, nil
}

func retention(days int) (awslogs.RetentionDays, error) {
	for _, r := range []struct {
		days int
		r    awslogs.RetentionDays
	}{{7, awslogs.RetentionDays_ONE_WEEK}, {14, awslogs.RetentionDays_TWO_WEEKS}, {30, awslogs.RetentionDays_ONE_MONTH},
		{90, awslogs.RetentionDays_THREE_MONTHS}, {180, awslogs.RetentionDays_SIX_MONTHS}, {365, awslogs.RetentionDays_ONE_YEAR},
		{730, awslogs.RetentionDays_TWO_YEARS}, {1827, awslogs.RetentionDays_FIVE_YEARS}} {
		if r.days == days {
			return r.r, nil
		}
	}
	return "", fmt.Errorf("logRetentionDays %d: want 7, 14, 30, 90, 180, 365, 730 or 1827", days)
}

func (p *Props) removal() awscdk.RemovalPolicy {
	if p.Retain {
		return awscdk.RemovalPolicy_RETAIN
	}
	return awscdk.RemovalPolicy_DESTROY
}
