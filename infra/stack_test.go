package main

import (
	"debug/elf"
	"encoding/json"
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
	p := &Props{Stage: "test", HubSpotSecretPrefix: "crmbackup/test/hubspot/", LogRetention: awslogs.RetentionDays_THREE_MONTHS,
		Retain: true, CodeDir: code, AccountEmails: map[string][]string{"acme": {"ops@example.com"}}}
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
			if props(b)["LoggingConfiguration"] != nil {
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
		if denies != 2 {
			t.Errorf("%d bucket policies deny plain HTTP, want 2 (backups and access logs)", denies)
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

	fns := resources(tpl, "AWS::Lambda::Function")
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
		for _, s := range policies["api"] {
			if slices.Contains(s.Actions, "secretsmanager:GetSecretValue") && !strings.Contains(js(s.Resources), "secret:crmbackup/test/hubspot/*") {
				t.Errorf("api reads secrets %v", s.Resources)
			}
		}
	})

	t.Run("grants and expiry follow the file layout and the function table", func(t *testing.T) {
		// Every kind of file lies under a lifecycle rule with its days.
		var backups map[string]any
		for _, b := range resources(tpl, "AWS::S3::Bucket") {
			if props(b)["LoggingConfiguration"] != nil {
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
		if len(clients) != 1 {
			t.Fatalf("%d user pool clients", len(clients))
		}
		c := props(first(clients))
		if c["AllowedOAuthFlows"] != nil || c["AllowedOAuthScopes"] != nil || c["CallbackURLs"] != nil || c["AllowedOAuthFlowsUserPoolClient"] == true ||
			js(c["ExplicitAuthFlows"]) != `["ALLOW_USER_SRP_AUTH","ALLOW_REFRESH_TOKEN_AUTH"]` {
			t.Errorf("user pool client %s: want SRP sign-in only, no OAuth flow (implicit least of all)", js(c))
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

	t.Run("scheduler: a group, and a role that may only invoke create", func(t *testing.T) {
		if len(resources(tpl, "AWS::Scheduler::ScheduleGroup")) != 1 {
			t.Error("no schedule group")
		}
		for id, r := range resources(tpl, "AWS::IAM::Role") {
			if !strings.Contains(js(props(r)["AssumeRolePolicyDocument"]), "scheduler.amazonaws.com") {
				continue
			}
			stmts := statementsOf(tpl, id)
			if len(stmts) != 1 || js(stmts[0].Actions) != `["lambda:InvokeFunction"]` || !strings.Contains(js(stmts[0].Resources), logicalID["create"]) {
				t.Errorf("scheduler role policy %+v", stmts)
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
				"SCHEDULER_ROLE_ARN": `{"Fn::GetAtt":["` + schedulerRole + `","Arn"]}`},
			"create": {"SCHEDULE_GROUP": `"crmbackup-test"`},
		}
		publishers := 0
		for _, spec := range lambdas.All {
			v := vars(spec.Name)
			for _, k := range []string{"SCHEDULE_GROUP", "SCHEDULE_TARGET_ARN", "SCHEDULER_ROLE_ARN"} {
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
