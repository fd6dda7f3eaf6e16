package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"

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
	// SSOClaim and SSOValues say how the external issuer marks a single
	// sign-on (context "ssoClaim", "ssoValues" comma-separated): a restore
	// by an SSO session needs no fresh two-factor sign-in here. Without
	// them an external issuer's sessions are never SSO. (With the stack's
	// Cognito pool, SSO is a sign-in through a federated SAML or OIDC
	// provider: the ID token's identities claim.)
	SSOClaim  string
	SSOValues []string
	// AccountEmails are who hears of each account: account id → the
	// addresses subscribed to that account's notifications, and to no
	// other's (context "accountNotifications": a JSON object in cdk.json,
	// {"acme": ["ops@acme.example"]}, or for -c the string
	// "acme=ops@acme.example;cto@acme.example,globex=it@globex.example").
	AccountEmails map[string][]string
	// OperatorEmails are the operators' addresses (context "operatorEmails":
	// "ops@example.com,oncall@example.com", or a JSON list in cdk.json),
	// each subscribed, unfiltered, to the operators' topic that the alarms
	// publish to. They hear of the stack's trouble, not of the accounts'
	// backups.
	OperatorEmails []string
	// LogRetention of every log group (context "logRetentionDays", default 90).
	LogRetention awslogs.RetentionDays
	// Retain keeps the bucket, table, key and user pool when the stack is
	// deleted (context "removalPolicy": "retain", the default, or "destroy").
	Retain bool
	// CodeDir holds one folder per function with its `bootstrap` binary
	// (context "codeDir", default "build": `make lambdas` writes it).
	CodeDir string
	// ConsoleDir holds the built admin console (make console; context
	// "consoleDir", default internal/console/dist).
	ConsoleDir string
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
		SSOClaim:       get("ssoClaim", ""),
		CodeDir:        get("codeDir", "build"),
		ConsoleDir:     get("consoleDir", "internal/console/dist"),
		HubSpotBaseURL: get("hubspotBaseUrl", ""),
	}
	p.HubSpotSecretPrefix = get("hubspotSecretPrefix", "crmbackup/"+p.Stage+"/hubspot/")
	if old := get("notificationEmails", ""); old != "" {
		// Subscribing these to every account's notices is what it did;
		// dropping them silently would unsubscribe them.
		return nil, fmt.Errorf("notificationEmails (%s) is replaced by accountNotifications: say which accounts each address hears of, e.g. -c 'accountNotifications=acme=%s'",
			old, strings.ReplaceAll(old, ",", ";"))
	}
	emails, err := accountEmails(app.Node().TryGetContext(jsii.String("accountNotifications")))
	if err != nil {
		return nil, fmt.Errorf("accountNotifications: %w", err)
	}
	p.AccountEmails = emails
	if p.OperatorEmails, err = operatorEmails(app.Node().TryGetContext(jsii.String("operatorEmails"))); err != nil {
		return nil, fmt.Errorf("operatorEmails: %w", err)
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
	for _, v := range strings.Split(get("ssoValues", ""), ",") {
		if v = strings.TrimSpace(v); v != "" {
			p.SSOValues = append(p.SSOValues, v)
		}
	}
	if (p.SSOClaim == "") != (len(p.SSOValues) == 0) {
		return nil, fmt.Errorf("ssoClaim and ssoValues go together")
	}
	if p.SSOClaim != "" && p.JWTIssuer == "" {
		return nil, fmt.Errorf("ssoClaim is for an external issuer (jwtIssuer); the Cognito pool marks SSO itself")
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

// maxFilterValues is the most values an SNS filter policy may hold: an
// address can hear of at most that many accounts.
const maxFilterValues = 150

// accountEmails reads context "accountNotifications": nothing; a JSON
// object of account id → addresses (cdk.json, or a -c value that is one);
// or the -c string form, "id=addr;addr,id=addr". Account ids are
// non-empty and hold no spaces; an address holds one @ with text on either
// side and no spaces, and appears once per account.
func accountEmails(v any) (map[string][]string, error) {
	raw := map[string][]string{}
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		s := strings.TrimSpace(v)
		if s == "" {
			return nil, nil
		}
		if strings.HasPrefix(s, "{") {
			if err := json.Unmarshal([]byte(s), &raw); err != nil {
				return nil, fmt.Errorf("want a JSON object of account id → list of e-mail addresses: %w", err)
			}
			break
		}
		for _, entry := range strings.Split(s, ",") {
			if strings.TrimSpace(entry) == "" {
				continue // a trailing comma
			}
			id, list, ok := strings.Cut(entry, "=")
			if !ok {
				return nil, fmt.Errorf("%q: want accountId=address;address (entries separated by commas)", strings.TrimSpace(entry))
			}
			id = strings.TrimSpace(id)
			if _, dup := raw[id]; dup {
				return nil, fmt.Errorf("account %q appears twice", id)
			}
			raw[id] = strings.Split(list, ";")
		}
	case map[string]any:
		for id, list := range v {
			items, ok := list.([]any)
			if !ok {
				return nil, fmt.Errorf("account %q: want a list of e-mail addresses, got %v", id, list)
			}
			for _, item := range items {
				e, ok := item.(string)
				if !ok {
					return nil, fmt.Errorf("account %q: want e-mail addresses as strings, got %v", id, item)
				}
				raw[id] = append(raw[id], e)
			}
			if len(items) == 0 {
				raw[id] = nil
			}
		}
	default:
		return nil, fmt.Errorf("want a JSON object of account id → list of e-mail addresses, or accountId=address;address,…; got %v", v)
	}
	out := map[string][]string{}
	perAddress := map[string]int{}
	for _, id := range slices.Sorted(maps.Keys(raw)) { // the same error for the same input
		list := raw[id]
		if id == "" || strings.ContainsFunc(id, unicode.IsSpace) {
			return nil, fmt.Errorf("account id %q: want a non-empty id without spaces", id)
		}
		seen := map[string]bool{}
		for _, e := range list {
			e = strings.TrimSpace(e)
			if e == "" {
				continue // "acme=a@x.example;" and the like
			}
			if !emailAddress(e) {
				return nil, fmt.Errorf("account %q: %q is not an e-mail address (want one @, no spaces)", id, e)
			}
			if seen[e] {
				return nil, fmt.Errorf("account %q: %s is listed twice", id, e)
			}
			seen[e] = true
			if perAddress[e]++; perAddress[e] > maxFilterValues {
				return nil, fmt.Errorf("%s hears of more than %d accounts, the most an SNS filter policy holds", e, maxFilterValues)
			}
			out[id] = append(out[id], e)
		}
		if len(out[id]) == 0 {
			return nil, fmt.Errorf("account %q: no e-mail address", id)
		}
	}
	return out, nil
}

// emailAddress reports whether e is what SNS takes for an e-mail
// subscription, as far as the app checks: one @ with text on either side,
// no spaces.
func emailAddress(e string) bool {
	local, domain, _ := strings.Cut(e, "@")
	return strings.Count(e, "@") == 1 && local != "" && domain != "" && !strings.ContainsFunc(e, unicode.IsSpace)
}

// operatorEmails reads context "operatorEmails": nothing; a comma-separated
// string of addresses (-c); or a JSON list of them (cdk.json). Each address
// appears once.
func operatorEmails(v any) ([]string, error) {
	var raw []string
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		raw = strings.Split(v, ",")
	case []any:
		for _, item := range v {
			e, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("want e-mail addresses as strings, got %v", item)
			}
			raw = append(raw, e)
		}
	default:
		return nil, fmt.Errorf("want comma-separated e-mail addresses, or a list of them; got %v", v)
	}
	var out []string
	for _, e := range raw {
		e = strings.TrimSpace(e)
		if e == "" {
			continue // a trailing comma
		}
		if !emailAddress(e) {
			return nil, fmt.Errorf("%q is not an e-mail address (want one @, no spaces)", e)
		}
		if slices.Contains(out, e) {
			return nil, fmt.Errorf("%s is listed twice", e)
		}
		out = append(out, e)
	}
	return out, nil
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
