package main

import (
	"debug/elf"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/crmbackup/crmbackup/internal/api"
	"github.com/crmbackup/crmbackup/internal/awswire/env"
	"github.com/crmbackup/crmbackup/internal/blobkey"
	"github.com/crmbackup/crmbackup/internal/lambdas"
	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// synth builds the stack with stand-in function binaries and returns its
// template as JSON, and the stack for annotations.
func synth(t *testing.T, mutate func(*Props)) (map[string]any, awscdk.Stack) {
	t.Helper()
	code := t.TempDir()
	for _, f := range lambdas.All {
		os.MkdirAll(filepath.Join(code, f.Name), 0o755)
		os.WriteFile(filepath.Join(code, f.Name, "bootstrap"), []byte("stand-in"), 0o755)
	}
	ui := t.TempDir()
	os.WriteFile(filepath.Join(ui, "index.html"), []byte("<!doctype html>stand-in"), 0o644)
	p := &Props{Stage: "test", HubSpotSecretPrefix: "crmbackup/test/hubspot/", LogRetention: awslogs.RetentionDays_THREE_MONTHS,
		Retain: true, CodeDir: code, ConsoleDir: ui, AccountEmails: map[string][]string{"acme": {"ops@example.com"}}}
	if mutate != nil {
		mutate(p)
	}
	ctx, err := FileContext("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &ctx})
	st := NewStack(app, "crmbackup-test", p)
	tpl := assertions.Template_FromStack(st.Stack, nil)
	raw, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	json.Unmarshal(raw, &out)
	return out, st.Stack
}

func resources(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tpl["Resources"].(map[string]any) {
		m := r.(map[string]any)
		if m["Type"] == typ {
			out[id] = m
		}
	}
	return out
}

func props(r map[string]any) map[string]any { p, _ := r["Properties"].(map[string]any); return p }

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestStack checks what a security reviewer checks, on one synth.
func TestStack(t *testing.T) {
	tpl, stack := synth(t, nil)

	t.Run("cdk-nag AwsSolutions: no unsuppressed errors", func(t *testing.T) {
		errs := assertions.Annotations_FromStack(stack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
		for _, e := range *errs {
			t.Errorf("%s: %v", *e.Id, e.Entry.Data)
		}
	})

	t.Run("backups bucket: KMS, private, TLS only, access logs, lifecycle", func(t *testing.T) {
		var backups map[string]any
		for _, b := range resources(tpl, "AWS::S3::Bucket") {
			if props(b)["LoggingConfiguration"] != nil && props(b)["LifecycleConfiguration"] != nil {
				backups = props(b)
			}
		}
		if backups == nil {
			t.Fatal("no bucket with server access logs")
		}
		enc := js(backups["BucketEncryption"])
		if !strings.Contains(enc, `"SSEAlgorithm":"aws:kms"`) || !strings.Contains(enc, "KMSMasterKeyID") || !strings.Contains(enc, `"BucketKeyEnabled":true`) {
			t.Errorf("encryption %s", enc)
		}
		pab := backups["PublicAccessBlockConfiguration"].(map[string]any)
		for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			if pab[k] != true {
				t.Errorf("%s is %v", k, pab[k])
			}
		}
		rules := js(backups["LifecycleConfiguration"])
		for _, want := range []string{`"ExpirationInDays":14,"Id":"expire-backups","Prefix":"backups/"`,
			`"ExpirationInDays":1,"Id":"expire-work-files","Prefix":"work/"`,
			`"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1}`} {
			if !strings.Contains(rules, want) {
				t.Errorf("lifecycle %s lacks %s", rules, want)
			}
		}
		denies := 0
		for _, bp := range resources(tpl, "AWS::S3::BucketPolicy") {
			if s := js(props(bp)); strings.Contains(s, `"aws:SecureTransport":"false"`) && strings.Contains(s, `"Effect":"Deny"`) {
				denies++
			}
		}
		if denies != 3 {
			t.Errorf("%d bucket policies deny plain HTTP, want 3 (backups, access logs, the console's files)", denies)
		}
		// cdk.json's @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy: the log
		// service writes under a bucket policy, not the legacy ACL.
		delivery := false
		for _, bp := range resources(tpl, "AWS::S3::BucketPolicy") {
			delivery = delivery || strings.Contains(js(props(bp)), `"Service":"logging.s3.amazonaws.com"`)
		}
		for _, b := range resources(tpl, "AWS::S3::Bucket") {
			if props(b)["AccessControl"] != nil {
				t.Errorf("a bucket has the ACL %v", props(b)["AccessControl"])
			}
		}
		if !delivery {
			t.Error("no bucket policy lets logging.s3.amazonaws.com deliver access logs")
		}
	})

	t.Run("key rotation, table with PITR, KMS and TTL, encrypted topic", func(t *testing.T) {
		for _, k := range resources(tpl, "AWS::KMS::Key") {
			if props(k)["EnableKeyRotation"] != true {
				t.Error("a key without rotation")
			}
		}
		tables := resources(tpl, "AWS::DynamoDB::Table")
		if len(tables) != 1 {
			t.Fatalf("%d tables", len(tables))
		}
		for _, tb := range tables {
			p := js(props(tb))
			for _, want := range []string{`"PointInTimeRecoveryEnabled":true`, `"SSEEnabled":true`, `"SSEType":"KMS"`,
				`"AttributeName":"ttl","Enabled":true`, `"BillingMode":"PAY_PER_REQUEST"`} {
				if !strings.Contains(p, want) {
					t.Errorf("table %s lacks %s", p, want)
				}
			}
			if tb["DeletionPolicy"] != "Retain" {
				t.Errorf("table deletion policy %v", tb["DeletionPolicy"])
			}
		}
		for _, tp := range resources(tpl, "AWS::SNS::Topic") {
			if props(tp)["KmsMasterKeyId"] == nil {
				t.Error("topic without KMS")
			}
		}
		if subs := resources(tpl, "AWS::SNS::Subscription"); len(subs) != 1 || props(first(subs))["Protocol"] != "email" ||
			js(props(first(subs))["FilterPolicy"]) != `{"accountId":["acme"]}` {
			t.Errorf("subscriptions %v", subs)
		}
	})

	fns := functions(tpl)
	byName, logicalID := map[string]map[string]any{}, map[string]string{}
	for id, f := range fns {
		name := strings.TrimPrefix(props(f)["FunctionName"].(string), "crmbackup-test-")
		byName[name], logicalID[name] = f, id
	}
	t.Run("one function per folder: arm64, provided.al2023, JSON logs, tracing", func(t *testing.T) {
		dirs, _ := filepath.Glob("../functions/*/main.go")
		if len(dirs) != len(lambdas.All) || len(byName) != len(lambdas.All) {
			t.Fatalf("%d function folders, %d specs, %d functions", len(dirs), len(lambdas.All), len(byName))
		}
		for _, d := range dirs {
			name := filepath.Base(filepath.Dir(d))
			f, ok := byName[name]
			if !ok {
				t.Errorf("functions/%s has no Lambda", name)
				continue
			}
			p := props(f)
			if js(p["Architectures"]) != `["arm64"]` || p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" ||
				js(p["TracingConfig"]) != `{"Mode":"Active"}` || !strings.Contains(js(p["LoggingConfig"]), `"LogFormat":"JSON"`) {
				t.Errorf("%s: %s", name, js(p))
			}
		}
	})

	policies := policiesByFunction(t, tpl, fns)
	t.Run("IAM: each function only what its code calls", func(t *testing.T) {
		for name, stmts := range policies {
			for _, s := range stmts {
				if s.Effect != "Allow" {
					continue
				}
				for _, a := range s.Actions {
					if a == "*" || strings.HasSuffix(a, ":*") {
						t.Errorf("%s: action %s", name, a)
					}
				}
				if slices.Contains(s.Resources, `"*"`) && !onlyXRay(s.Actions) {
					t.Errorf("%s: %v on *", name, s.Actions)
				}
			}
		}
		for _, tc := range []struct {
			fn      string
			action  string
			allowed bool
		}{
			{"api", "states:StartExecution", true},
			{"create", "states:StartExecution", true},
			{"export", "states:StartExecution", false},
			{"restore", "states:StartExecution", false},
			{"export", "secretsmanager:GetSecretValue", true},
			{"zip", "secretsmanager:GetSecretValue", false},
			{"notify", "secretsmanager:GetSecretValue", false},
			{"notify", "s3:GetObject", false},
			{"notify", "sns:Publish", true},
			{"export", "sns:Publish", false},
			{"zip", "s3:DeleteObject", false},
			{"api", "s3:PutObject", false},
			{"finalize", "s3:DeleteObject", true},
			{"restore", "dynamodb:TransactWriteItems", true},
			{"export", "dynamodb:TransactWriteItems", false},
			{"api", "dynamodb:Scan", false},
			{"api", "scheduler:CreateSchedule", true},
			{"api", "iam:PassRole", true},
			{"create", "scheduler:DeleteSchedule", true},
			{"create", "scheduler:CreateSchedule", false},
			{"create", "iam:PassRole", false},
			{"notify", "scheduler:DeleteSchedule", false},
			// ended ends backups and imports as the Catch would have: the
			// table, its files, notices; it starts nothing and calls no CRM.
			{"ended", "dynamodb:TransactWriteItems", true},
			{"ended", "s3:DeleteObject", true},
			{"ended", "sns:Publish", true},
			{"ended", "states:StartExecution", false},
			{"ended", "secretsmanager:GetSecretValue", false},
			{"ended", "scheduler:DeleteSchedule", false},
		} {
			if got := has(policies[tc.fn], tc.action); got != tc.allowed {
				t.Errorf("%s %s: %v, want %v", tc.fn, tc.action, got, tc.allowed)
			}
		}
		// Object permissions are per key prefix.
		for _, s := range policies["export"] {
			if slices.Contains(s.Actions, "s3:PutObject") && !strings.Contains(js(s.Resources), "/work/*") {
				t.Errorf("export writes %v", s.Resources)
			}
		}
		originSecret := ref(idOf(tpl, "AWS::SecretsManager::Secret", "Description", "crmbackup: the value the console's CloudFront distribution sends the HTTP API in "+api.OriginHeader))
		for _, s := range policies["api"] {
			if slices.Contains(s.Actions, "secretsmanager:GetSecretValue") && !strings.Contains(js(s.Resources), "secret:crmbackup/test/hubspot/*") &&
				!slices.Equal(s.Resources, []string{originSecret}) {
				t.Errorf("api reads secrets %v", s.Resources)
			}
		}
	})

	t.Run("grants and expiry follow the file layout and the function table", func(t *testing.T) {
		// Every kind of file lies under a lifecycle rule with its days.
		var backups map[string]any
		for _, b := range resources(tpl, "AWS::S3::Bucket") {
			if props(b)["LoggingConfiguration"] != nil && props(b)["LifecycleConfiguration"] != nil {
				backups = props(b)
			}
		}
		var rules []struct {
			Prefix           string
			ExpirationInDays int
		}
		json.Unmarshal([]byte(js(backups["LifecycleConfiguration"].(map[string]any)["Rules"])), &rules)
		for _, k := range blobkey.Kinds() {
			covered := false
			for _, r := range rules {
				for _, want := range blobkey.Lifecycle {
					covered = covered || (r.Prefix != "" && r.Prefix == want.Prefix && r.ExpirationInDays == want.Days && strings.HasPrefix(k.Pattern, r.Prefix))
				}
			}
			if !covered {
				t.Errorf("no lifecycle rule expires %s (%s)", k.Name, k.Pattern)
			}
		}
		// Each function's object grants are exactly its kinds' patterns.
		for _, spec := range lambdas.All {
			for action, kinds := range map[string][]blobkey.Kind{"s3:GetObject": spec.Access.Read, "s3:PutObject": spec.Access.Write, "s3:DeleteObject": spec.Access.Delete} {
				var granted []string
				for _, st := range policies[spec.Name] {
					if slices.Contains(st.Actions, action) {
						granted = append(granted, js(st.Resources))
					}
				}
				for _, k := range kinds {
					if !strings.Contains(strings.Join(granted, " "), `/`+k.Pattern+`\"`) { // the ARN ends with the pattern
						t.Errorf("%s: no %s on %s (%s); granted %v", spec.Name, action, k.Name, k.Pattern, granted)
					}
				}
				if len(kinds) == 0 && len(granted) > 0 {
					t.Errorf("%s: %s on %v, which the table does not grant", spec.Name, action, granted)
				}
			}
		}
	})

	t.Run("each function is given the settings it refuses to start without", func(t *testing.T) {
		for _, spec := range lambdas.All {
			vars := js(props(byName[spec.Name])["Environment"])
			for _, name := range spec.Settings() {
				if !strings.Contains(vars, `"`+name+`":`) {
					t.Errorf("%s lacks %s: %s", spec.Name, name, vars)
				}
			}
		}
	})

	t.Run("API: every route behind the JWT authorizer; throttled; access logs", func(t *testing.T) {
		routes := resources(tpl, "AWS::ApiGatewayV2::Route")
		var keys []string
		for _, r := range routes {
			p := props(r)
			keys = append(keys, p["RouteKey"].(string))
			if p["AuthorizationType"] != "JWT" || p["AuthorizerId"] == nil {
				t.Errorf("route %s: authorization %v", p["RouteKey"], p["AuthorizationType"])
			}
		}
		want := api.Routes()
		slices.Sort(keys)
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Errorf("routes %v, want %v", keys, want)
		}
		auths := resources(tpl, "AWS::ApiGatewayV2::Authorizer")
		if len(auths) != 1 || props(first(auths))["AuthorizerType"] != "JWT" {
			t.Errorf("authorizers %v", auths)
		}
		stages := resources(tpl, "AWS::ApiGatewayV2::Stage")
		if len(stages) != 1 {
			t.Fatalf("%d stages", len(stages))
		}
		p := js(props(first(stages)))
		for _, want := range []string{`"AccessLogSettings":{"DestinationArn"`, `"ThrottlingBurstLimit":40`, `"ThrottlingRateLimit":20`} {
			if !strings.Contains(p, want) {
				t.Errorf("stage %s lacks %s", p, want)
			}
		}
		pools := resources(tpl, "AWS::Cognito::UserPool")
		if len(pools) != 1 || props(first(pools))["MfaConfiguration"] != "ON" {
			t.Errorf("user pools %v", pools)
		}
		clients := resources(tpl, "AWS::Cognito::UserPoolClient")
		if len(clients) != 2 {
			t.Fatalf("%d user pool clients, want the CLI's and the console's", len(clients))
		}
		for _, cl := range clients {
			c := props(cl)
			if c["GenerateSecret"] == true {
				t.Errorf("user pool client %s has a secret: both are public clients", js(c))
			}
			if c["AllowedOAuthFlows"] == nil { // the CLI's
				if c["AllowedOAuthScopes"] != nil || c["CallbackURLs"] != nil || c["AllowedOAuthFlowsUserPoolClient"] == true ||
					js(c["ExplicitAuthFlows"]) != `["ALLOW_USER_SRP_AUTH","ALLOW_REFRESH_TOKEN_AUTH"]` {
					t.Errorf("the CLI's client %s: want SRP sign-in only, no OAuth flow (implicit least of all)", js(c))
				}
				continue
			}
			// The console's: the authorization code flow (PKCE is the
			// console's; Cognito requires it of public clients), back to the
			// console only, no password flow.
			if js(c["AllowedOAuthFlows"]) != `["code"]` || c["AllowedOAuthFlowsUserPoolClient"] != true ||
				!strings.Contains(js(c["CallbackURLs"]), "ConsoleDistribution") || strings.Contains(js(c["ExplicitAuthFlows"]), "PASSWORD") ||
				strings.Contains(js(c["ExplicitAuthFlows"]), "SRP") || js(c["SupportedIdentityProviders"]) != `["COGNITO"]` {
				t.Errorf("the console's client %s: want the code flow to the console's URL only", js(c))
			}
		}
		if len(resources(tpl, "AWS::Cognito::UserPoolDomain")) != 1 || len(resources(tpl, "AWS::Cognito::ManagedLoginBranding")) != 1 {
			t.Error("no managed login domain and branding for the console")
		}
		if env := js(props(byName["api"])["Environment"]); !strings.Contains(env, `"CLAIM_SSO":"identities"`) {
			t.Errorf("api environment %s: with Cognito, SSO is a federated sign-in (identities)", env)
		}
		for _, name := range []string{"api", "discover", "export", "restore"} {
			if env := js(props(byName[name])["Environment"]); !strings.Contains(env, `"HUBSPOT_SECRET_PREFIX":"crmbackup/`) {
				t.Errorf("%s environment %s: no secret prefix", name, env)
			}
		}
		if env := js(props(byName["api"])["Environment"]); !strings.Contains(env, `"MFA_ALWAYS":"true"`) {
			t.Errorf("api environment %s: Cognito sends no amr", env)
		}
	})

	t.Run("state machines: from the ASL files, only this stack's functions, logs and tracing", func(t *testing.T) {
		machines := resources(tpl, "AWS::StepFunctions::StateMachine")
		if len(machines) != len(asl.Machines) {
			t.Fatalf("%d state machines, want %d", len(machines), len(asl.Machines))
		}
		for _, m := range machines {
			p := props(m)
			if !strings.Contains(js(p["LoggingConfiguration"]), `"Level":"ALL"`) || js(p["TracingConfiguration"]) != `{"Enabled":true}` {
				t.Errorf("%v: logging %s tracing %s", p["StateMachineName"], js(p["LoggingConfiguration"]), js(p["TracingConfiguration"]))
			}
			if strings.Contains(js(p["LoggingConfiguration"]), `"IncludeExecutionData":true`) {
				t.Errorf("%v logs execution data (cursors carry sample values)", p["StateMachineName"])
			}
			def := js(p["DefinitionString"])
			for _, ph := range regexp.MustCompile(`\$\{(\w+)\}`).FindAllStringSubmatch(def, -1) {
				sub, ok := p["DefinitionSubstitutions"].(map[string]any)[ph[1]]
				if !ok {
					t.Errorf("%v: ${%s} has no substitution", p["StateMachineName"], ph[1])
					continue
				}
				ref := sub.(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
				if _, ok := fns[ref]; !ok {
					t.Errorf("%v: ${%s} is %s, not a function of the stack", p["StateMachineName"], ph[1], ref)
				}
			}
		}
	})

	queues := queuesByName(tpl)
	t.Run("scheduler: a group, and a role that may only invoke create and send to its dead-letter queue", func(t *testing.T) {
		if len(resources(tpl, "AWS::Scheduler::ScheduleGroup")) != 1 {
			t.Error("no schedule group")
		}
		dlq := queues["crmbackup-test-schedule-dlq"]
		if dlq == "" {
			t.Fatalf("no schedule dead-letter queue among %v", queues)
		}
		for id, r := range resources(tpl, "AWS::IAM::Role") {
			if !strings.Contains(js(props(r)["AssumeRolePolicyDocument"]), "scheduler.amazonaws.com") {
				continue
			}
			wantPolicy := []statement{
				{Effect: "Allow", Actions: []string{"lambda:InvokeFunction"}, Resources: []string{getAtt(logicalID["create"], "Arn")}},
				{Effect: "Allow", Actions: []string{"sqs:SendMessage"}, Resources: []string{getAtt(dlq, "Arn")}},
				// The queue is encrypted: SQS uses the sender's KMS rights,
				// for that queue's encryption context only.
				{Effect: "Allow", Actions: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resources: []string{getAtt(keyID(tpl), "Arn")},
					Condition: `{"StringEquals":{"kms:EncryptionContext:aws:sqs:arn":` + getAtt(dlq, "Arn") + `}}`},
			}
			if stmts := statementsOf(tpl, id); js(stmts) != js(wantPolicy) {
				t.Errorf("scheduler role policy\n%+v, want\n%+v", stmts, wantPolicy)
			}
			// Only Scheduler, for this account's group (Scheduler's source
			// is the group's ARN), may assume it.
			trust := props(r)["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)
			var group string
			for gid := range resources(tpl, "AWS::Scheduler::ScheduleGroup") {
				group = gid
			}
			want := `{"ArnEquals":{"aws:SourceArn":{"Fn::GetAtt":["` + group + `","Arn"]}},"StringEquals":{"aws:SourceAccount":{"Ref":"AWS::AccountId"}}}`
			if len(trust) != 1 || js(trust[0].(map[string]any)["Condition"]) != want {
				t.Errorf("scheduler role trust %s, want the condition %s", js(trust), want)
			}
		}
	})

	// The scheduler's role, and the pattern of the group's schedules.
	var schedulerRole string
	for id, r := range resources(tpl, "AWS::IAM::Role") {
		if strings.Contains(js(props(r)["AssumeRolePolicyDocument"]), "scheduler.amazonaws.com") {
			schedulerRole = id
		}
	}
	groupSchedules := `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":scheduler:",{"Ref":"AWS::Region"},":",` +
		`{"Ref":"AWS::AccountId"},":schedule/crmbackup-test/*"]]}`
	t.Run("schedules: api manages the group's, create only deletes them, nobody else touches them", func(t *testing.T) {
		if schedulerRole == "" {
			t.Fatal("no scheduler role")
		}
		want := map[string][]string{
			"api":    {"scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:UpdateSchedule"},
			"create": {"scheduler:DeleteSchedule"},
		}
		for name, stmts := range policies {
			var actions []string
			var passRole []statement
			for _, s := range stmts {
				for _, a := range s.Actions {
					switch {
					case strings.HasPrefix(a, "scheduler:"):
						actions = append(actions, a)
						if js(s.Resources) != js([]string{groupSchedules}) || s.Condition != "" {
							t.Errorf("%s: %s on %v (condition %s), want on the group's schedules only", name, a, s.Resources, s.Condition)
						}
					case a == "iam:PassRole":
						passRole = append(passRole, s)
					}
				}
			}
			slices.Sort(actions)
			if !slices.Equal(actions, want[name]) {
				t.Errorf("%s: scheduler actions %v, want %v", name, actions, want[name])
			}
			if name != "api" {
				if len(passRole) > 0 {
					t.Errorf("%s may pass roles: %+v", name, passRole)
				}
				continue
			}
			wantPass := statement{Effect: "Allow", Actions: []string{"iam:PassRole"},
				Resources: []string{`{"Fn::GetAtt":["` + schedulerRole + `","Arn"]}`},
				Condition: `{"StringEquals":{"iam:PassedToService":"scheduler.amazonaws.com"}}`}
			if len(passRole) != 1 || js(passRole[0]) != js(wantPass) {
				t.Errorf("api passes roles with %+v, want only %+v", passRole, wantPass)
			}
		}
	})

	t.Run("schedule and notification settings go to the functions that use them", func(t *testing.T) {
		vars := func(name string) map[string]any {
			v, _ := props(byName[name])["Environment"].(map[string]any)["Variables"].(map[string]any)
			return v
		}
		want := map[string]map[string]string{
			"api": {"SCHEDULE_GROUP": `"crmbackup-test"`, "SCHEDULE_TARGET_ARN": `{"Fn::GetAtt":["` + logicalID["create"] + `","Arn"]}`,
				"SCHEDULER_ROLE_ARN": `{"Fn::GetAtt":["` + schedulerRole + `","Arn"]}`,
				"SCHEDULE_DLQ_ARN":   getAtt(queues["crmbackup-test-schedule-dlq"], "Arn")},
			"create": {"SCHEDULE_GROUP": `"crmbackup-test"`},
		}
		publishers := 0
		for _, spec := range lambdas.All {
			v := vars(spec.Name)
			for _, k := range []string{"SCHEDULE_GROUP", "SCHEDULE_TARGET_ARN", "SCHEDULER_ROLE_ARN", "SCHEDULE_DLQ_ARN"} {
				got, ok := v[k]
				w, wanted := want[spec.Name][k]
				if ok != wanted || (ok && js(got) != w) {
					t.Errorf("%s: %s = %s (set: %v), want %s (set: %v)", spec.Name, k, js(got), ok, w, wanted)
				}
			}
			// Whoever publishes notifications links them to the console.
			got, ok := v["APP_URL"]
			if ok != spec.Access.Publish || (ok && js(got) != `{"Ref":"AppUrl"}`) {
				t.Errorf("%s (publishes: %v): APP_URL = %s (set: %v), want the AppUrl parameter on publishers only",
					spec.Name, spec.Access.Publish, js(got), ok)
			}
			if spec.Access.Publish {
				publishers++
			}
		}
		if publishers < 2 {
			t.Errorf("%d functions publish: the table changed, check this test", publishers)
		}
	})

	t.Run("AppUrl parameter: a string, empty by default, an https URL or nothing", func(t *testing.T) {
		param, _ := tpl["Parameters"].(map[string]any)["AppUrl"].(map[string]any)
		if param == nil {
			t.Fatalf("no AppUrl parameter: %v", tpl["Parameters"])
		}
		desc, _ := param["Description"].(string)
		if param["Type"] != "String" || param["Default"] != "" || param["AllowedPattern"] != appURLPattern ||
			!strings.Contains(desc, "admin console") || !strings.Contains(desc, "notification") {
			t.Errorf("AppUrl %s", js(param))
		}
		// CloudFormation matches the whole value, as these anchors do.
		re := regexp.MustCompile(appURLPattern)
		for v, ok := range map[string]bool{
			"": true, "https://backups.example.com": true, "https://backups.example.com/": true,
			"https://admin.example.com:8443/crm/backups": true,
			"http://backups.example.com":                 false, "/console": false, "https://": false, "https:///x": false,
			"https://a b.example": false, "https://x.example/?q=1": false, "https://x.example/#top": false,
			"ftp://x.example": false, " https://x.example": false,
		} {
			if re.MatchString(v) != ok {
				t.Errorf("AppUrl %q: accepted %v, want %v", v, !ok, ok)
			}
		}
	})
}

// TestAccountNotifications: each address hears of its accounts only; an
// address on two accounts has one subscription that allows both (SNS
// keeps one per address), and its construct id is still the address.
func TestAccountNotifications(t *testing.T) {
	tpl, _ := synth(t, func(p *Props) {
		p.AccountEmails = map[string][]string{
			"acme":   {"ops@shared.example", "cto@acme.example"},
			"globex": {"it@globex.example", "ops@shared.example"},
		}
	})
	want := map[string]string{
		"cto@acme.example":   `{"accountId":["acme"]}`,
		"it@globex.example":  `{"accountId":["globex"]}`,
		"ops@shared.example": `{"accountId":["acme","globex"]}`,
	}
	alnum := regexp.MustCompile(`[^A-Za-z0-9]`)
	subs := resources(tpl, "AWS::SNS::Subscription")
	got := map[string]string{}
	for id, sub := range subs {
		p := props(sub)
		email, _ := p["Endpoint"].(string)
		got[email] = js(p["FilterPolicy"])
		if p["FilterPolicy"] == nil || p["FilterPolicyScope"] != "MessageAttributes" || p["Protocol"] != "email" {
			t.Errorf("subscription %s: %s, want an e-mail subscription filtered on message attributes", id, js(p))
		}
		if !strings.HasPrefix(id, "NotificationsTopic"+alnum.ReplaceAllString(email, "")) {
			t.Errorf("subscription %s: its id does not derive from its address %s", id, email)
		}
	}
	if js(got) != js(want) {
		t.Errorf("subscriptions (address: filter) %s, want %s", js(got), js(want))
	}
}

// TestAccountNotificationsContext reads context "accountNotifications" in
// both forms (cdk.json's object, -c's string) and refuses bad input.
func TestAccountNotificationsContext(t *testing.T) {
	acme := map[string][]string{"acme": {"ops@acme.example", "cto@acme.example"}, "globex": {"it@globex.example"}}
	// cdk.json's object, as the app reads it (FileContext).
	file := filepath.Join(t.TempDir(), "cdk.json")
	os.WriteFile(file, []byte(`{"context": {"accountNotifications": {"acme": ["ops@acme.example", "cto@acme.example"], "globex": ["it@globex.example"]}}}`), 0o644)
	fileCtx, err := FileContext(file)
	if err != nil {
		t.Fatal(err)
	}
	many := make([]string, maxFilterValues+1)
	for i := range many {
		many[i] = "a" + strconv.Itoa(i) + "=ops@shared.example"
	}
	// The key it replaces is refused, not ignored: ignoring it would
	// unsubscribe its addresses.
	old := map[string]any{"notificationEmails": "ops@acme.example,cto@acme.example"}
	if _, err := PropsFromContext(awscdk.NewApp(&awscdk.AppProps{Context: &old})); err == nil ||
		!strings.Contains(err.Error(), "replaced by accountNotifications") || !strings.Contains(err.Error(), "acme=ops@acme.example;cto@acme.example") {
		t.Errorf("notificationEmails: error %v", err)
	}
	for _, tc := range []struct {
		name  string
		value any // nil: no such key
		want  map[string][]string
		err   string
	}{
		{name: "unset"},
		{name: "empty string", value: " "},
		{name: "string", value: "acme=ops@acme.example;cto@acme.example,globex=it@globex.example", want: acme},
		{name: "string with spaces and a trailing separator", value: " acme = ops@acme.example ; cto@acme.example; , globex=it@globex.example,", want: acme},
		{name: "JSON object (cdk.json)", value: fileCtx["accountNotifications"], want: acme},
		{name: "JSON object as a -c string", value: `{"acme": ["ops@acme.example", "cto@acme.example"], "globex": ["it@globex.example"]}`, want: acme},
		{name: "no =", value: "acme", err: `"acme": want accountId=address;address`},
		{name: "empty account id", value: "=ops@acme.example", err: `account id "": want a non-empty id without spaces`},
		{name: "account id with a space", value: "ac me=ops@acme.example", err: `account id "ac me"`},
		{name: "account id with a space (JSON)", value: map[string]any{"ac me": []any{"ops@acme.example"}}, err: `account id "ac me"`},
		{name: "no @", value: "acme=ops.acme.example", err: `account "acme": "ops.acme.example" is not an e-mail address`},
		{name: "two @", value: "acme=ops@x@acme.example", err: `"ops@x@acme.example" is not an e-mail address`},
		{name: "nothing before @", value: "acme=@acme.example", err: `"@acme.example" is not an e-mail address`},
		{name: "space in address", value: map[string]any{"acme": []any{"ops @acme.example"}}, err: `"ops @acme.example" is not an e-mail address`},
		{name: "no address", value: "acme=", err: `account "acme": no e-mail address`},
		{name: "empty list (JSON)", value: map[string]any{"acme": []any{}}, err: `account "acme": no e-mail address`},
		{name: "address twice", value: "acme=ops@acme.example;ops@acme.example", err: "ops@acme.example is listed twice"},
		{name: "account twice", value: "acme=ops@acme.example,acme=cto@acme.example", err: `account "acme" appears twice`},
		{name: "address as a string (JSON)", value: map[string]any{"acme": "ops@acme.example"}, err: `account "acme": want a list`},
		{name: "address as a number (JSON)", value: map[string]any{"acme": []any{7}}, err: `account "acme": want e-mail addresses as strings`},
		{name: "bad JSON string", value: `{"acme": "ops@acme.example"}`, err: "want a JSON object of account id"},
		{name: "a number", value: 7, err: "want a JSON object of account id"},
		{name: "too many accounts for one address", value: strings.Join(many, ","), err: "more than 150 accounts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := map[string]any{}
			if tc.value != nil {
				ctx["accountNotifications"] = tc.value
			}
			p, err := PropsFromContext(awscdk.NewApp(&awscdk.AppProps{Context: &ctx}))
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), "accountNotifications: ") || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want accountNotifications: …%s…", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, list := range p.AccountEmails {
				slices.Sort(list)
			}
			for _, list := range tc.want {
				slices.Sort(list)
			}
			if js(p.AccountEmails) != js(tc.want) && !(len(p.AccountEmails) == 0 && len(tc.want) == 0) {
				t.Errorf("AccountEmails %s, want %s", js(p.AccountEmails), js(tc.want))
			}
		})
	}
}

// TestExternalIssuer: with jwtIssuer/jwtAudience there is no user pool and
// the authorizer trusts that issuer.
func TestExternalIssuer(t *testing.T) {
	tpl, _ := synth(t, func(p *Props) {
		p.JWTIssuer, p.JWTAudience, p.Retain, p.AccountEmails = "https://login.example.com/", "crmbackup", false, nil
	})
	if n := len(resources(tpl, "AWS::Cognito::UserPool")); n != 0 {
		t.Errorf("%d user pools", n)
	}
	auth := props(first(resources(tpl, "AWS::ApiGatewayV2::Authorizer")))
	if js(auth["JwtConfiguration"]) != `{"Audience":["crmbackup"],"Issuer":"https://login.example.com/"}` {
		t.Errorf("authorizer %s", js(auth))
	}
	for _, tb := range resources(tpl, "AWS::DynamoDB::Table") {
		if tb["DeletionPolicy"] != "Delete" {
			t.Errorf("removalPolicy destroy: table %v", tb["DeletionPolicy"])
		}
	}
	if subs := resources(tpl, "AWS::SNS::Subscription"); len(subs) != 0 {
		t.Errorf("no accountNotifications, yet subscriptions %v", subs)
	}
	// Without ssoClaim the issuer's sessions are never SSO (not the dev
	// tokens' amr marker); with it, its claim and values.
	if env := js(props(functionsByName(tpl)["api"])["Environment"]); !strings.Contains(env, `"CLAIM_SSO":"-"`) {
		t.Errorf("api environment %s: want CLAIM_SSO -", env)
	}
	tpl, _ = synth(t, func(p *Props) {
		p.JWTIssuer, p.JWTAudience, p.SSOClaim, p.SSOValues = "https://login.example.com/", "crmbackup", "idp", []string{"okta", "entra"}
	})
	if env := js(props(functionsByName(tpl)["api"])["Environment"]); !strings.Contains(env, `"CLAIM_SSO":"idp"`) || !strings.Contains(env, `"CLAIM_SSO_VALUES":"okta,entra"`) {
		t.Errorf("api environment %s: want the configured SSO claim", env)
	}
}

func first(m map[string]map[string]any) map[string]any {
	for _, v := range m {
		return v
	}
	return nil
}

type statement struct {
	Effect    string
	Actions   []string
	Resources []string // as JSON, tokens included
	Condition string   // as JSON; "" for none
}

// statementsOf collects the statements of every policy attached to a role.
func statementsOf(tpl map[string]any, roleID string) []statement {
	var out []statement
	for _, pol := range resources(tpl, "AWS::IAM::Policy") {
		p := props(pol)
		if !strings.Contains(js(p["Roles"]), `"`+roleID+`"`) {
			continue
		}
		for _, s := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			sm := s.(map[string]any)
			st := statement{Effect: sm["Effect"].(string)}
			if c, ok := sm["Condition"]; ok {
				st.Condition = js(c)
			}
			switch a := sm["Action"].(type) {
			case string:
				st.Actions = []string{a}
			case []any:
				for _, x := range a {
					st.Actions = append(st.Actions, x.(string))
				}
			}
			switch r := sm["Resource"].(type) {
			case []any:
				for _, x := range r {
					st.Resources = append(st.Resources, js(x))
				}
			default:
				st.Resources = []string{js(r)}
			}
			out = append(out, st)
		}
	}
	return out
}

func policiesByFunction(t *testing.T, tpl map[string]any, fns map[string]map[string]any) map[string][]statement {
	out := map[string][]statement{}
	for _, f := range fns {
		name := strings.TrimPrefix(props(f)["FunctionName"].(string), "crmbackup-test-")
		role := props(f)["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		out[name] = statementsOf(tpl, role)
		if len(out[name]) == 0 {
			t.Fatalf("%s has no policy", name)
		}
	}
	return out
}

func has(stmts []statement, action string) bool {
	for _, s := range stmts {
		if s.Effect == "Allow" && slices.Contains(s.Actions, action) {
			return true
		}
	}
	return false
}

func onlyXRay(actions []string) bool {
	for _, a := range actions {
		if !strings.HasPrefix(a, "xray:") {
			return false
		}
	}
	return true
}

// TestFunctionsBuildForLambda builds every function as `make lambdas` does
// for a deploy, and checks each bootstrap is what provided.al2023 on arm64
// runs: a static linux/arm64 executable. It also leaves the arm64 packages
// in the build cache, so a synth after the tests compiles nothing.
func TestFunctionsBuildForLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles every function")
	}
	dir := t.TempDir()
	cmd := exec.Command("make", "--no-print-directory", "-C", "..", "lambdas", "LAMBDA_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make lambdas: %v\n%s", err, out)
	}
	for _, spec := range lambdas.All {
		path := filepath.Join(dir, spec.Name, "bootstrap")
		f, err := elf.Open(path)
		if err != nil {
			t.Errorf("%s: %v", spec.Name, err)
			continue
		}
		if f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_EXEC {
			t.Errorf("%s: %v %v, want an arm64 executable", spec.Name, f.Machine, f.Type)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s: dynamically linked (%v): provided.al2023 needs CGO_ENABLED=0", spec.Name, p.Type)
			}
		}
		f.Close()
	}
}

// getAtt is a Fn::GetAtt as the template writes it (JSON).
func getAtt(id, attr string) string { return `{"Fn::GetAtt":["` + id + `","` + attr + `"]}` }

// ref is a Ref as the template writes it (JSON).
func ref(id string) string { return `{"Ref":"` + id + `"}` }

// keyID is the logical id of the stack's one KMS key.
func keyID(tpl map[string]any) string {
	for id := range resources(tpl, "AWS::KMS::Key") {
		return id
	}
	return ""
}

// queuesByName maps each SQS queue's name to its logical id.
func queuesByName(tpl map[string]any) map[string]string {
	out := map[string]string{}
	for id, q := range resources(tpl, "AWS::SQS::Queue") {
		name, _ := props(q)["QueueName"].(string)
		out[name] = id
	}
	return out
}

// idOf is the logical id of the one resource of a type whose property
// key is value ("" when none is).
func idOf(tpl map[string]any, typ, key, value string) string {
	for id, r := range resources(tpl, typ) {
		if v, _ := props(r)[key].(string); v == value {
			return id
		}
	}
	return ""
}

// flat renders a template value as a string: an Fn::Join joined, a Ref as
// @Id, an Fn::GetAtt as @Id.Attr, anything else as JSON.
func flat(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if j, ok := v["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range j[1].([]any) {
				parts = append(parts, flat(p))
			}
			return strings.Join(parts, j[0].(string))
		}
		if r, ok := v["Ref"].(string); ok {
			return "@" + r
		}
		if g, ok := v["Fn::GetAtt"].([]any); ok {
			return "@" + g[0].(string) + "." + g[1].(string)
		}
	}
	return js(v)
}

// keyStatements are the key policy's statements for a service principal.
func keyStatements(tpl map[string]any, service string) []map[string]any {
	var out []map[string]any
	for _, k := range resources(tpl, "AWS::KMS::Key") {
		for _, s := range props(k)["KeyPolicy"].(map[string]any)["Statement"].([]any) {
			sm := s.(map[string]any)
			if js(sm["Principal"]) == `{"Service":"`+service+`"}` {
				out = append(out, sm)
			}
		}
	}
	return out
}

// TestEndedRule: the state machines' executions that timed out, were
// stopped or failed reach the ended function, retried, and what cannot be
// delivered is kept.
func TestEndedRule(t *testing.T) {
	tpl, _ := synth(t, nil)
	rules := resources(tpl, "AWS::Events::Rule")
	if len(rules) != 1 {
		t.Fatalf("%d rules, want the ended rule", len(rules))
	}
	var ruleID string
	for id := range rules {
		ruleID = id
	}
	p := props(rules[ruleID])
	var pattern struct {
		Source     []string `json:"source"`
		DetailType []string `json:"detail-type"`
		Detail     struct {
			Status          []string
			StateMachineArn []any
		} `json:"detail"`
	}
	json.Unmarshal([]byte(js(p["EventPattern"])), &pattern)
	slices.Sort(pattern.Detail.Status)
	if js(pattern.Source) != `["aws.states"]` || js(pattern.DetailType) != `["Step Functions Execution Status Change"]` ||
		js(pattern.Detail.Status) != `["ABORTED","FAILED","TIMED_OUT"]` {
		t.Errorf("event pattern %s", js(p["EventPattern"]))
	}
	var machines, matched []string
	for id := range resources(tpl, "AWS::StepFunctions::StateMachine") {
		machines = append(machines, ref(id))
	}
	for _, a := range pattern.Detail.StateMachineArn {
		matched = append(matched, js(a))
	}
	slices.Sort(machines)
	slices.Sort(matched)
	if len(machines) != len(asl.Machines) || !slices.Equal(matched, machines) {
		t.Errorf("the rule matches the state machines %v, want this stack's %v", matched, machines)
	}

	fns := functions(tpl)
	ended := idOf(tpl, "AWS::Lambda::Function", "FunctionName", "crmbackup-test-"+lambdas.Ended)
	dlq := queuesByName(tpl)["crmbackup-test-ended-dlq"]
	if _, ok := fns[ended]; !ok || dlq == "" {
		t.Fatalf("ended function %q, ended dead-letter queue %q", ended, dlq)
	}
	var targets []struct {
		Arn              any
		RetryPolicy      struct{ MaximumRetryAttempts, MaximumEventAgeInSeconds int }
		DeadLetterConfig struct{ Arn any }
	}
	json.Unmarshal([]byte(js(p["Targets"])), &targets)
	if len(targets) != 1 || js(targets[0].Arn) != getAtt(ended, "Arn") {
		t.Fatalf("targets %s, want the ended function only", js(p["Targets"]))
	}
	if tg := targets[0]; tg.RetryPolicy.MaximumRetryAttempts < 1 || tg.RetryPolicy.MaximumEventAgeInSeconds < 3600 ||
		js(tg.DeadLetterConfig.Arn) != getAtt(dlq, "Arn") {
		t.Errorf("target %s: want retries, and the ended dead-letter queue", js(p["Targets"]))
	}

	// EventBridge may invoke ended for this rule, and send to the queue for it.
	invokes := false
	for _, perm := range resources(tpl, "AWS::Lambda::Permission") {
		pp := props(perm)
		invokes = invokes || (pp["Principal"] == "events.amazonaws.com" && js(pp["FunctionName"]) == getAtt(ended, "Arn") &&
			js(pp["SourceArn"]) == getAtt(ruleID, "Arn"))
	}
	if !invokes {
		t.Error("no permission for events.amazonaws.com to invoke ended for the rule")
	}
	sends := false
	for _, qp := range resources(tpl, "AWS::SQS::QueuePolicy") {
		if js(props(qp)["Queues"]) != `[`+ref(dlq)+`]` {
			continue
		}
		for _, s := range props(qp)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			sm := s.(map[string]any)
			sends = sends || (sm["Effect"] == "Allow" && js(sm["Principal"]) == `{"Service":"events.amazonaws.com"}` &&
				sm["Action"] == "sqs:SendMessage" && js(sm["Condition"]) == `{"ArnEquals":{"aws:SourceArn":`+getAtt(ruleID, "Arn")+`}}`)
		}
	}
	if !sends {
		t.Error("the ended dead-letter queue does not let EventBridge send for the rule")
	}
	// The queue is encrypted: EventBridge needs the key, for that queue.
	want := "arn:@AWS::Partition:sqs:@AWS::Region:@AWS::AccountId:crmbackup-test-ended-dlq"
	stmts := keyStatements(tpl, "events.amazonaws.com")
	if len(stmts) != 1 || js(stmts[0]["Action"]) != `["kms:Decrypt","kms:GenerateDataKey"]` ||
		flat(stmts[0]["Condition"].(map[string]any)["StringEquals"].(map[string]any)["kms:EncryptionContext:aws:sqs:arn"]) != want {
		t.Errorf("key policy for EventBridge %s, want kms:Decrypt and kms:GenerateDataKey for %s only", js(stmts), want)
	}
}

// TestDeadLetters: three encrypted, TLS-only queues that keep their
// messages 14 days; create's and ended's asynchronous invocations are
// retried, then kept.
func TestDeadLetters(t *testing.T) {
	tpl, _ := synth(t, nil)
	queues := queuesByName(tpl)
	names := slices.Sorted(maps.Keys(queues))
	if want := []string{"crmbackup-test-create-dlq", "crmbackup-test-ended-dlq", "crmbackup-test-schedule-dlq"}; !slices.Equal(names, want) {
		t.Fatalf("queues %v, want %v", names, want)
	}
	key := keyID(tpl)
	for name, id := range queues {
		q := props(resources(tpl, "AWS::SQS::Queue")[id])
		if js(q["KmsMasterKeyId"]) != getAtt(key, "Arn") || q["MessageRetentionPeriod"] != float64(14*24*3600) {
			t.Errorf("%s: %s, want the stack's key and 14 days", name, js(q))
		}
		tls := false
		for _, qp := range resources(tpl, "AWS::SQS::QueuePolicy") {
			if s := js(props(qp)); strings.Contains(s, `"Queues":[`+ref(id)+`]`) && strings.Contains(s, `"Effect":"Deny"`) &&
				strings.Contains(s, `"aws:SecureTransport":"false"`) {
				tls = true
			}
		}
		if !tls {
			t.Errorf("%s does not deny plain HTTP", name)
		}
	}

	fns := functions(tpl)
	policies := policiesByFunction(t, tpl, fns)
	configs := resources(tpl, "AWS::Lambda::EventInvokeConfig")
	for _, tc := range []struct {
		fn, queue       string
		retries, maxAge int
	}{
		{lambdas.Create, "crmbackup-test-create-dlq", 2, 3600},
		{lambdas.Ended, "crmbackup-test-ended-dlq", 2, 6 * 3600},
	} {
		fn := idOf(tpl, "AWS::Lambda::Function", "FunctionName", "crmbackup-test-"+tc.fn)
		var got map[string]any
		var deps []any
		for _, c := range configs {
			if js(props(c)["FunctionName"]) == ref(fn) {
				got, deps = props(c), nil
				if d, ok := c["DependsOn"].([]any); ok {
					deps = d
				}
			}
		}
		want := `{"DestinationConfig":{"OnFailure":{"Destination":` + getAtt(queues[tc.queue], "Arn") + `}},"FunctionName":` + ref(fn) +
			`,"MaximumEventAgeInSeconds":` + strconv.Itoa(tc.maxAge) + `,"MaximumRetryAttempts":` + strconv.Itoa(tc.retries) + `,"Qualifier":"$LATEST"}`
		if js(got) != want {
			t.Errorf("%s: asynchronous invocations %s, want %s", tc.fn, js(got), want)
		}
		// Lambda sends with the function's role, and checks it can when
		// the configuration is created.
		role := props(fns[fn])["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		if !strings.Contains(js(deps), `"`+role+`"`) {
			t.Errorf("%s: the configuration does not wait for the role %s (depends on %v)", tc.fn, role, deps)
		}
		sends, kms := false, false
		for _, s := range policies[tc.fn] {
			sends = sends || (js(s.Actions) == `["sqs:SendMessage"]` && js(s.Resources) == js([]string{getAtt(queues[tc.queue], "Arn")}))
			kms = kms || (js(s.Actions) == `["kms:Decrypt","kms:GenerateDataKey"]` &&
				s.Condition == `{"StringEquals":{"kms:EncryptionContext:aws:sqs:arn":`+getAtt(queues[tc.queue], "Arn")+`}}`)
		}
		if !sends || !kms {
			t.Errorf("%s: may send to %s: %v, with the key: %v", tc.fn, tc.queue, sends, kms)
		}
	}
	if len(configs) != 2 {
		t.Errorf("%d asynchronous invocation configurations, want create's and ended's", len(configs))
	}
}

// alarmMetric is an alarm's metric: namespace, name, dimensions, period
// and statistic, whichever form the template uses.
type alarmMetric struct {
	Namespace, MetricName, Stat string
	Dimensions                  string
	Period                      float64
}

func metricOf(p map[string]any) alarmMetric {
	if ms, ok := p["Metrics"].([]any); ok && len(ms) == 1 {
		stat := ms[0].(map[string]any)["MetricStat"].(map[string]any)
		m := stat["Metric"].(map[string]any)
		return alarmMetric{Namespace: m["Namespace"].(string), MetricName: m["MetricName"].(string), Stat: stat["Stat"].(string),
			Dimensions: js(m["Dimensions"]), Period: stat["Period"].(float64)}
	}
	stat, _ := p["Statistic"].(string)
	period, _ := p["Period"].(float64)
	ns, _ := p["Namespace"].(string)
	name, _ := p["MetricName"].(string)
	return alarmMetric{Namespace: ns, MetricName: name, Stat: stat, Dimensions: js(p["Dimensions"]), Period: period}
}

// TestOperators: the operators' topic, its unfiltered subscriptions, and
// the alarms that publish to it.
func TestOperators(t *testing.T) {
	tpl, _ := synth(t, func(p *Props) { p.OperatorEmails = []string{"oncall@example.com", "ops@example.com"} })
	topic := idOf(tpl, "AWS::SNS::Topic", "TopicName", "crmbackup-test-operators")
	if topic == "" || props(resources(tpl, "AWS::SNS::Topic")[topic])["KmsMasterKeyId"] == nil {
		t.Fatalf("operators' topic %q: want one, encrypted", topic)
	}
	var ops []string
	for _, sub := range resources(tpl, "AWS::SNS::Subscription") {
		p := props(sub)
		if js(p["TopicArn"]) != ref(topic) {
			if p["FilterPolicy"] == nil {
				t.Errorf("an unfiltered subscription to the accounts' topic: %s", js(p))
			}
			continue
		}
		if p["Protocol"] != "email" || p["FilterPolicy"] != nil {
			t.Errorf("operators' subscription %s: want e-mail, unfiltered", js(p))
		}
		ops = append(ops, p["Endpoint"].(string))
	}
	slices.Sort(ops)
	if js(ops) != `["oncall@example.com","ops@example.com"]` {
		t.Errorf("operators subscribed %v", ops)
	}
	// CloudWatch may publish (the stack's alarms) and use the key for it.
	publishes := false
	for _, tp := range resources(tpl, "AWS::SNS::TopicPolicy") {
		if s := js(props(tp)); strings.Contains(s, `"Topics":[`+ref(topic)+`]`) &&
			strings.Contains(s, `"Action":"sns:Publish","Condition":{"ArnLike":{"aws:SourceArn"`) &&
			strings.Contains(s, `":alarm:crmbackup-test-*"`) && strings.Contains(s, `"Principal":{"Service":"cloudwatch.amazonaws.com"}`) {
			publishes = true
		}
	}
	if !publishes {
		t.Error("the operators' topic does not let the stack's CloudWatch alarms publish")
	}
	cw := keyStatements(tpl, "cloudwatch.amazonaws.com")
	if len(cw) != 1 || flat(cw[0]["Condition"].(map[string]any)["StringEquals"].(map[string]any)["kms:EncryptionContext:aws:sns:topicArn"]) !=
		"arn:@AWS::Partition:sns:@AWS::Region:@AWS::AccountId:crmbackup-test-operators" {
		t.Errorf("key policy for CloudWatch %s, want the key for the operators' topic only", js(cw))
	}

	// One alarm per metric below, each ≥ 1 in 5 minutes, to the topic.
	want := map[string]bool{}
	dim := func(name, value string) string { return `[{"Name":"` + name + `","Value":` + value + `}]` }
	for id := range resources(tpl, "AWS::StepFunctions::StateMachine") {
		for _, metric := range []string{"ExecutionsFailed", "ExecutionsTimedOut"} {
			want[js(alarmMetric{"AWS/States", metric, "Sum", dim("StateMachineArn", ref(id)), 300})] = true
		}
	}
	for id := range functions(tpl) {
		for _, metric := range []string{"Errors", "Throttles"} {
			want[js(alarmMetric{"AWS/Lambda", metric, "Sum", dim("FunctionName", ref(id)), 300})] = true
		}
	}
	for id := range resources(tpl, "AWS::ApiGatewayV2::Api") {
		want[js(alarmMetric{"AWS/ApiGateway", "5xx", "Sum", `[{"Name":"ApiId","Value":` + ref(id) + `},{"Name":"Stage","Value":"$default"}]`, 300})] = true
	}
	for _, id := range queuesByName(tpl) {
		want[js(alarmMetric{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", dim("QueueName", getAtt(id, "QueueName")), 300})] = true
	}
	if n := 2*len(asl.Machines) + 2*len(lambdas.All) + 1 + 3; len(want) != n {
		t.Fatalf("%d alarms expected, want %d: check the test", len(want), n)
	}
	got := map[string]bool{}
	for id, a := range resources(tpl, "AWS::CloudWatch::Alarm") {
		p := props(a)
		key := js(metricOf(p))
		if got[key] {
			t.Errorf("%s: a second alarm on %s", id, key)
		}
		got[key] = true
		if p["Threshold"] != float64(1) || p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || p["EvaluationPeriods"] != float64(1) ||
			p["TreatMissingData"] != "notBreaching" || js(p["AlarmActions"]) != `[`+ref(topic)+`]` {
			t.Errorf("alarm %s: %s, want ≥ 1 in one period, missing data not breaching, to the operators' topic", id, js(p))
		}
		if !strings.HasPrefix(p["AlarmName"].(string), "crmbackup-test-") {
			t.Errorf("alarm %s is named %v, outside the pattern CloudWatch may publish for", id, p["AlarmName"])
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("no alarm on %s", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("an alarm on %s, which the test does not expect", k)
		}
	}
}

// TestOperatorEmailsContext reads context "operatorEmails" and refuses bad
// input.
func TestOperatorEmailsContext(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value any
		want  []string
		err   string
	}{
		{name: "unset"},
		{name: "empty", value: ""},
		{name: "comma-separated", value: " ops@example.com, oncall@example.com ,", want: []string{"ops@example.com", "oncall@example.com"}},
		{name: "JSON list (cdk.json)", value: []any{"ops@example.com"}, want: []string{"ops@example.com"}},
		{name: "not an address", value: "ops.example.com", err: `"ops.example.com" is not an e-mail address`},
		{name: "space in address", value: []any{"ops @example.com"}, err: `"ops @example.com" is not an e-mail address`},
		{name: "twice", value: "ops@example.com,ops@example.com", err: "ops@example.com is listed twice"},
		{name: "a number", value: 7, err: "want comma-separated e-mail addresses"},
		{name: "a number in the list", value: []any{7}, err: "want e-mail addresses as strings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := map[string]any{}
			if tc.value != nil {
				ctx["operatorEmails"] = tc.value
			}
			p, err := PropsFromContext(awscdk.NewApp(&awscdk.AppProps{Context: &ctx}))
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), "operatorEmails: ") || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want operatorEmails: …%s…", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.OperatorEmails, tc.want) {
				t.Errorf("OperatorEmails %v, want %v", p.OperatorEmails, tc.want)
			}
		})
	}
}

// TestDashboard: executions per day and their durations, HubSpot's 429s
// and retries (metric filters on the log lines the HubSpot client writes),
// and the dead-letter queues' depth.
func TestDashboard(t *testing.T) {
	tpl, _ := synth(t, nil)
	boards := resources(tpl, "AWS::CloudWatch::Dashboard")
	if len(boards) != 1 {
		t.Fatalf("%d dashboards", len(boards))
	}
	var body struct {
		Widgets []struct {
			Properties struct {
				Title   string
				Metrics [][]any
			}
		}
	}
	raw := flat(props(first(boards))["DashboardBody"])
	if err := json.Unmarshal([]byte(raw), &body); err != nil {
		t.Fatalf("dashboard body: %v\n%s", err, raw)
	}
	// namespace metric [dimension value] period stat, for each metric shown.
	shown := map[string]bool{}
	for _, w := range body.Widgets {
		for _, m := range w.Properties.Metrics {
			var parts []string
			for _, x := range m {
				switch x := x.(type) {
				case string:
					parts = append(parts, x)
				case map[string]any:
					// Left out, they are the dashboard's defaults.
					stat, _ := x["stat"].(string)
					if stat == "" {
						stat = "Average"
					}
					period, ok := x["period"].(float64)
					if !ok {
						period = 300
					}
					parts = append(parts, strconv.Itoa(int(period)), stat)
				}
			}
			shown[strings.Join(parts, " ")] = true
		}
	}
	var want []string
	for id := range resources(tpl, "AWS::StepFunctions::StateMachine") {
		for _, m := range []string{"ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed"} {
			want = append(want, "AWS/States "+m+" StateMachineArn @"+id+" 86400 Sum")
		}
		want = append(want, "AWS/States ExecutionTime StateMachineArn @"+id+" 86400 Average")
	}
	want = append(want, "crmbackup/test HubSpotRateLimited 3600 Sum", "crmbackup/test HubSpotRetries 3600 Sum")
	for _, id := range queuesByName(tpl) {
		want = append(want, "AWS/SQS ApproximateNumberOfMessagesVisible QueueName @"+id+".QueueName 300 Maximum")
	}
	for _, w := range want {
		if !shown[w] {
			t.Errorf("the dashboard does not show %s; it shows %v", w, slices.Sorted(maps.Keys(shown)))
		}
	}

	// The filters match the HubSpot client's log lines, in the logs of
	// every function that calls HubSpot, and of no other.
	client, err := os.ReadFile("../internal/hubspot/client.go")
	if err != nil {
		t.Fatal(err)
	}
	msgs := map[string]string{"HubSpotRateLimited": hubspotRateLimitedMsg, "HubSpotRetries": hubspotRetryMsg}
	for metric, msg := range msgs {
		if !strings.Contains(string(client), `slog.LevelInfo, "`+msg+`"`) {
			t.Errorf("internal/hubspot/client.go no longer logs %q at Info: the %s filter counts nothing", msg, metric)
		}
	}
	logGroups := map[string]string{} // log group id → function
	for id, lg := range resources(tpl, "AWS::Logs::LogGroup") {
		name, _ := props(lg)["LogGroupName"].(string)
		if fn, ok := strings.CutPrefix(name, "/aws/lambda/crmbackup-test-"); ok {
			logGroups[id] = fn
		}
	}
	filtered := map[string][]string{} // function → metrics
	for _, f := range resources(tpl, "AWS::Logs::MetricFilter") {
		p := props(f)
		var mt []struct{ MetricName, MetricNamespace, MetricValue string }
		json.Unmarshal([]byte(js(p["MetricTransformations"])), &mt)
		if len(mt) != 1 || mt[0].MetricNamespace != "crmbackup/test" || mt[0].MetricValue != "1" {
			t.Errorf("metric filter %s", js(p))
			continue
		}
		if want := `{ $.msg = "` + msgs[mt[0].MetricName] + `" }`; p["FilterPattern"] != want {
			t.Errorf("%s filter pattern %v, want %s", mt[0].MetricName, p["FilterPattern"], want)
		}
		fn := logGroups[strings.TrimPrefix(flat(p["LogGroupName"]), "@")]
		filtered[fn] = append(filtered[fn], mt[0].MetricName)
	}
	for _, spec := range lambdas.All {
		got := filtered[spec.Name]
		slices.Sort(got)
		if spec.Access.Secrets != (js(got) == `["HubSpotRateLimited","HubSpotRetries"]`) || (!spec.Access.Secrets && len(got) > 0) {
			t.Errorf("%s (calls HubSpot: %v): metric filters %v", spec.Name, spec.Access.Secrets, got)
		}
	}
}

// TestStateMachineEncryption: both state machines are encrypted with the
// stack's key; their roles, the log delivery and whoever starts an
// execution may use it.
func TestStateMachineEncryption(t *testing.T) {
	tpl, _ := synth(t, nil)
	key := keyID(tpl)
	for id, m := range resources(tpl, "AWS::StepFunctions::StateMachine") {
		p := props(m)
		if want := `{"KmsDataKeyReusePeriodSeconds":300,"KmsKeyId":` + getAtt(key, "Arn") + `,"Type":"CUSTOMER_MANAGED_KMS_KEY"}`; js(p["EncryptionConfiguration"]) != want {
			t.Errorf("%v: encryption %s, want %s", p["StateMachineName"], js(p["EncryptionConfiguration"]), want)
		}
		role := p["RoleArn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		own, logs := false, false
		for _, s := range statementsOf(tpl, role) {
			if js(s.Resources) != js([]string{getAtt(key, "Arn")}) {
				continue
			}
			var c map[string]map[string]any
			json.Unmarshal([]byte(s.Condition), &c)
			own = own || (js(s.Actions) == `["kms:Decrypt","kms:GenerateDataKey"]` &&
				flat(c["StringEquals"]["kms:EncryptionContext:aws:states:stateMachineArn"]) ==
					"arn:@AWS::Partition:states:@AWS::Region:@AWS::AccountId:stateMachine:"+p["StateMachineName"].(string))
			logs = logs || (js(s.Actions) == `["kms:GenerateDataKey"]` && c["StringEquals"]["kms:EncryptionContext:SourceArn"] != nil)
		}
		if !own || !logs {
			t.Errorf("%s: its role may use the key for its executions: %v, for its logs: %v", id, own, logs)
		}
	}
	if stmts := keyStatements(tpl, "delivery.logs.amazonaws.com"); len(stmts) != 1 || !strings.Contains(js(stmts[0]["Action"]), "kms:Decrypt") {
		t.Errorf("the key does not let log delivery decrypt: %s", js(stmts))
	}
	policies := policiesByFunction(t, tpl, functions(tpl))
	starters := 0
	for _, spec := range lambdas.All {
		if len(spec.Access.Start) == 0 {
			continue
		}
		starters++
		generates := false
		for _, s := range policies[spec.Name] {
			generates = generates || (slices.Contains(s.Actions, "kms:GenerateDataKey") && js(s.Resources) == js([]string{getAtt(key, "Arn")}) && s.Condition == "")
		}
		if !generates {
			t.Errorf("%s starts %v, encrypted with the key, but may not generate data keys with it", spec.Name, spec.Access.Start)
		}
	}
	if starters < 2 {
		t.Errorf("%d functions start executions: the table changed, check this test", starters)
	}
}

// TestKeyActions: the key rights a function's access implies, starting an
// execution included (whatever else it does).
func TestKeyActions(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    lambdas.Access
		want []string
	}{
		{"nothing", lambdas.Access{}, nil},
		{"reads a file", lambdas.Access{Read: []blobkey.Kind{blobkey.KindZIP}}, []string{"kms:Decrypt"}},
		{"writes a file", lambdas.Access{Write: []blobkey.Kind{blobkey.KindZIP}}, []string{"kms:Decrypt", "kms:GenerateDataKey"}},
		{"deletes a file", lambdas.Access{Delete: []blobkey.Kind{blobkey.KindZIP}}, nil},
		{"the table", lambdas.Access{Table: []string{"dynamodb:GetItem"}}, []string{"kms:Decrypt", "kms:GenerateDataKey"}},
		{"starts an execution", lambdas.Access{Start: []string{lambdas.BackupMachine}}, []string{"kms:Decrypt", "kms:GenerateDataKey"}},
		{"publishes", lambdas.Access{Publish: true}, nil}, // GrantPublish adds the topic's
	} {
		if got := keyActions(tc.a); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// functionsByName are a template's functions by their name without the
// stack's prefix.
func functionsByName(tpl map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, f := range functions(tpl) {
		name := props(f)["FunctionName"].(string)
		out[name[strings.LastIndex(name, "-")+1:]] = f
	}
	return out
}

// TestOnlyEndedReadsExecutions: the ended function may read the input of
// this stack's executions (an event without it), and nothing else may.
func TestOnlyEndedReadsExecutions(t *testing.T) {
	tpl, _ := synth(t, nil)
	for name, stmts := range policiesByFunction(t, tpl, functions(tpl)) {
		var reads []string
		for _, s := range stmts {
			if slices.Contains(s.Actions, "states:DescribeExecution") {
				reads = append(reads, s.Resources...)
			}
		}
		switch {
		case name == "ended" && (len(reads) != 2 || !strings.Contains(strings.Join(reads, " "), ":execution:")):
			t.Errorf("ended reads executions %v, want the two machines' executions", reads)
		case name != "ended" && len(reads) > 0:
			t.Errorf("%s may read executions: %v", name, reads)
		}
	}
}

// TestOperatorPolicy: the operator's managed policy holds what the CLI's
// operator commands call, on this stack's resources only.
func TestOperatorPolicy(t *testing.T) {
	for _, external := range []bool{false, true} {
		tpl, _ := synth(t, func(p *Props) {
			if external {
				p.JWTIssuer, p.JWTAudience = "https://issuer.example.com", "crmbackup"
			}
		})
		pols := resources(tpl, "AWS::IAM::ManagedPolicy")
		var doc string
		for _, r := range pols {
			if props(r)["ManagedPolicyName"] == "crmbackup-test-operator" {
				doc = js(props(r)["PolicyDocument"])
			}
		}
		if doc == "" {
			t.Fatalf("no operator policy among %d managed policies", len(pols))
		}
		for _, want := range []string{`"cloudformation:DescribeStacks","Effect":"Allow","Resource":{"Ref":"AWS::StackId"}`,
			`"dynamodb:TransactWriteItems"`, `"dynamodb:ConditionCheckItem"`, `"kms:GenerateDataKey"`,
			`"secretsmanager:CreateSecret"`, `:secret:crmbackup/test/hubspot/*"`} {
			if !strings.Contains(doc, want) {
				t.Errorf("external=%v: the operator policy lacks %s: %s", external, want, doc)
			}
		}
		if strings.Contains(doc, `"Resource":"*"`) || strings.Contains(doc, "dynamodb:Scan") {
			t.Errorf("the operator policy is wider than the CLI needs: %s", doc)
		}
		if got := strings.Contains(doc, "cognito-idp:AdminCreateUser"); got == external {
			t.Errorf("external=%v: cognito statement present=%v", external, got)
		}
		if _, ok := tpl["Outputs"].(map[string]any)["OperatorPolicyArn"]; !ok {
			t.Error("no OperatorPolicyArn output")
		}
	}
}

// functions are the stack's own functions (named), not CDK's deploy-time
// handler of the console's BucketDeployment.
func functions(tpl map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, f := range resources(tpl, "AWS::Lambda::Function") {
		if _, ok := props(f)["FunctionName"].(string); ok {
			out[id] = f
		}
	}
	return out
}

// TestConsoleHosting: the console is a private bucket behind CloudFront
// with origin access control, HTTPS only, strict headers; the same
// distribution passes /v1/* to the HTTP API (nothing cached, every method,
// the viewer's headers but Host), so the API needs no CORS and the CSP
// names the console's own origin and the managed login's exact host only;
// config.json says where things are.
func TestConsoleHosting(t *testing.T) {
	tpl, stack := synth(t, nil)
	dists := resources(tpl, "AWS::CloudFront::Distribution")
	if len(dists) != 1 {
		t.Fatalf("%d distributions", len(dists))
	}
	d := js(props(first(dists)))
	for _, want := range []string{`"ViewerProtocolPolicy":"https-only"`, `"DefaultRootObject":"index.html"`, `"OriginAccessControlId"`, `"ResponseHeadersPolicyId"`} {
		if !strings.Contains(d, want) {
			t.Errorf("distribution lacks %s: %s", want, d)
		}
	}
	if len(resources(tpl, "AWS::CloudFront::OriginAccessControl")) != 1 {
		t.Error("no origin access control")
	}
	pol := js(props(first(resources(tpl, "AWS::CloudFront::ResponseHeadersPolicy"))))
	for _, want := range []string{`frame-ancestors 'none'`, `script-src 'self'`, `"FrameOption":"DENY"`, `"AccessControlMaxAgeSec":63072000`,
		`"IncludeSubdomains":true`, `"ReferrerPolicy":"no-referrer"`, `"ContentTypeOptions":{"Override":true}`, `"Header":"Cross-Origin-Opener-Policy"`} {
		if !strings.Contains(pol, want) {
			t.Errorf("response headers policy lacks %s: %s", want, pol)
		}
	}
	if strings.Contains(pol, "unsafe-inline") || strings.Contains(pol, "unsafe-eval") {
		t.Errorf("the CSP allows inline or eval: %s", pol)
	}
	// connect-src: the console's origin, and the managed login's host
	// (built from the pool domain's own prefix), no wildcard.
	domain := js(props(first(resources(tpl, "AWS::Cognito::UserPoolDomain")))["Domain"])
	for _, want := range []string{`connect-src 'self' https://`, `.auth.`, `.amazoncognito.com; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`} {
		if !strings.Contains(pol, want) {
			t.Errorf("the CSP lacks %s: %s", want, pol)
		}
	}
	if !strings.Contains(pol, domain) || strings.Contains(pol, "*") || strings.Contains(pol, "execute-api") {
		t.Errorf("the CSP %s: want the login domain %s by name, no wildcard, no API host", pol, domain)
	}
	// /v1/* goes to the HTTP API through the same distribution.
	cfg := props(first(dists))["DistributionConfig"].(map[string]any)
	behaviors, _ := cfg["CacheBehaviors"].([]any)
	if len(behaviors) != 1 || len(cfg["Origins"].([]any)) != 2 {
		t.Fatalf("want the files and the API as the distribution's two origins, /v1/* to the API: %s", js(cfg))
	}
	b := js(behaviors[0])
	for _, want := range []string{`"PathPattern":"/v1/*"`, `"ViewerProtocolPolicy":"https-only"`,
		`"CachePolicyId":"4135ea2d-6df8-44a3-9df3-4b5a84be39ad"`,         // Managed-CachingDisabled
		`"OriginRequestPolicyId":"b689b0a8-53d0-40ab-baf2-68738e2966ac"`, // Managed-AllViewerExceptHostHeader
		`"AllowedMethods":["GET","HEAD","OPTIONS","PUT","PATCH","POST","DELETE"]`, `"ResponseHeadersPolicyId"`} {
		if !strings.Contains(b, want) {
			t.Errorf("the API's behavior lacks %s: %s", want, b)
		}
	}
	apis := resources(tpl, "AWS::ApiGatewayV2::Api")
	var apiID string
	for id := range apis {
		apiID = id
	}
	var apiOrigin string
	for _, o := range cfg["Origins"].([]any) {
		if s := js(o); strings.Contains(s, apiID) {
			apiOrigin = s
		}
	}
	if !strings.Contains(apiOrigin, `.execute-api.`) || !strings.Contains(apiOrigin, `"OriginProtocolPolicy":"https-only"`) || !strings.Contains(apiOrigin, `"OriginSSLProtocols":["TLSv1.2"]`) {
		t.Errorf("the API's origin %s: want the HTTP API's host over HTTPS (TLS 1.2)", apiOrigin)
	}
	// The API's origin sends the secret that lets the API trust
	// CloudFront-Viewer-Address: a generated secret, resolved by
	// CloudFormation at deployment (a dynamic reference, no value in the
	// template).
	secrets := resources(tpl, "AWS::SecretsManager::Secret")
	secretID := idOf(tpl, "AWS::SecretsManager::Secret", "Description", "crmbackup: the value the console's CloudFront distribution sends the HTTP API in "+api.OriginHeader)
	gen := js(props(secrets[secretID])["GenerateSecretString"])
	if !strings.Contains(gen, `"PasswordLength":64`) || !strings.Contains(gen, `"ExcludePunctuation":true`) || props(secrets[secretID])["SecretString"] != nil {
		t.Errorf("the origin secret %s: want 64 generated characters, no value in the template", js(secrets[secretID]))
	}
	wantHeader := `"OriginCustomHeaders":[{"HeaderName":"` + api.OriginHeader + `","HeaderValue":{"Fn::Join":["",["{{resolve:secretsmanager:",` + ref(secretID) + `,":SecretString:::}}"]]}}]`
	if !strings.Contains(apiOrigin, wantHeader) {
		t.Errorf("the API's origin %s: want the header %s", apiOrigin, wantHeader)
	}
	for _, o := range cfg["Origins"].([]any) {
		if s := js(o); s != apiOrigin && strings.Contains(s, "OriginCustomHeaders") {
			t.Errorf("the files' origin sends custom headers: %s", s)
		}
	}
	// Only the api reads it, and only it, and is told where it is.
	fns := functions(tpl)
	apiReads := false
	for name, stmts := range policiesByFunction(t, tpl, fns) {
		for _, st := range stmts {
			reads := slices.Contains(st.Resources, ref(secretID))
			// (CDK merges it with the api's HubSpot secrets, the same action.)
			if reads && (name != "api" || !slices.Equal(st.Actions, []string{"secretsmanager:GetSecretValue"}) ||
				slices.ContainsFunc(st.Resources, func(r string) bool {
					return r != ref(secretID) && !strings.Contains(r, ":secret:crmbackup/test/hubspot/*")
				})) {
				t.Errorf("%s: %v on %v", name, st.Actions, st.Resources)
			}
			apiReads = apiReads || (name == "api" && reads)
		}
	}
	if !apiReads {
		t.Error("the api cannot read the origin secret")
	}
	for _, f := range fns {
		vars := js(props(f)["Environment"])
		if (props(f)["FunctionName"] == "crmbackup-test-api") != strings.Contains(vars, `"`+env.OriginSecret+`":`) {
			t.Errorf("%s's environment %s: only the api is given %s", props(f)["FunctionName"], vars, env.OriginSecret)
		}
	}
	// The console never calls the execute-api host: no CORS at all.
	if cors, ok := props(first(apis))["CorsConfiguration"]; ok {
		t.Errorf("the API has CORS %s: the console calls it at its own origin", js(cors))
	}
	// The files bucket is private and readable by this distribution only.
	found := false
	for _, bp := range resources(tpl, "AWS::S3::BucketPolicy") {
		if s := js(props(bp)); strings.Contains(s, `"Service":"cloudfront.amazonaws.com"`) {
			found = true
			if !strings.Contains(s, `"AWS:SourceArn"`) {
				t.Errorf("the console bucket's policy lets CloudFront read without naming the distribution: %s", s)
			}
		}
	}
	if !found {
		t.Error("no bucket policy for CloudFront's origin access control")
	}
	if _, ok := tpl["Outputs"].(map[string]any)["ConsoleUrl"]; !ok {
		t.Error("no ConsoleUrl output")
	}
	deploys := resources(tpl, "Custom::CDKBucketDeployment")
	if len(deploys) != 1 {
		t.Fatal("the console's files are not deployed")
	}
	if d := js(props(first(deploys))); !strings.Contains(d, `"RetainOnDelete":false`) || !strings.Contains(d, "no-cache") {
		t.Errorf("the console's deployment %s: want no-cache and its files deleted with the stack", d)
	}
	// config.json: the API at the page's own origin ("", whichever name
	// the distribution is reached by), not the HTTP API's endpoint nor the
	// distribution's cloudfront.net name; its tokens (the deployment's
	// markers) are the sign-in's only.
	files, err := filepath.Glob(filepath.Join(*awscdk.Stage_Of(stack).Outdir(), "asset.*", "config.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("config.json in the assembly: %v (%v)", files, err)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var config map[string]any
	if err := json.Unmarshal(raw, &config); err != nil {
		t.Fatalf("config.json %s: %v", raw, err)
	}
	if v, ok := config["api"]; !ok || v != "" || config["signIn"] != "cognito" {
		t.Errorf("config.json %s: want \"api\": \"\" (the console's own origin) and the pool's sign-in", raw)
	}
	markers := js(props(first(deploys))["SourceMarkers"])
	if strings.Contains(markers, "ApiEndpoint") {
		t.Errorf("config.json's markers %s: the API's endpoint", markers)
	}
	if redirect, _ := config["redirectUri"].(string); !strings.Contains(markers, `["https://",{"Fn::GetAtt":["ConsoleDistribution`) || !strings.Contains(redirect, "<<marker:") {
		t.Errorf("config.json %s, markers %s: want the redirect URI from the distribution's name", raw, markers)
	}
	// The CLI keeps the API's own URL.
	if out := js(tpl["Outputs"].(map[string]any)["ApiUrl"]); !strings.Contains(out, "ApiEndpoint") {
		t.Errorf("the ApiUrl output %s: want the HTTP API's own URL", out)
	}
}

// With an external OIDC issuer there is no pool: the CSP's connect-src is
// the console's own origin only.
func TestConsoleCSPWithExternalIssuer(t *testing.T) {
	tpl, _ := synth(t, func(p *Props) {
		p.JWTIssuer, p.JWTAudience = "https://login.example.com/", "crmbackup"
	})
	pol := js(props(first(resources(tpl, "AWS::CloudFront::ResponseHeadersPolicy"))))
	if !strings.Contains(pol, `connect-src 'self'; base-uri`) || strings.Contains(pol, "amazoncognito") {
		t.Errorf("the CSP with an external issuer: %s", pol)
	}
}
