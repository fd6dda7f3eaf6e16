package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/cognito/cognitofake"
	"github.com/crmbackup/crmbackup/internal/dynamo"
	"github.com/crmbackup/crmbackup/internal/dynamo/dynamolocal"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/localhttp"
)

// awsFakes are the AWS services a deployed stack's operator commands
// call, faked (CloudFormation, STS, Secrets Manager) or stood in for
// (DynamoDB Local, the fake Cognito), each recording what it was sent.
type awsFakes struct {
	mu       sync.Mutex
	calls    []string          // "Service.Action"
	secrets  map[string]string // name → value
	requests []map[string]any  // Secrets Manager's decoded bodies
}

func (f *awsFakes) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

// query serves CloudFormation's and STS's query protocol.
func (f *awsFakes) query(t *testing.T, outputs map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		action := r.Form.Get("Action")
		f.record(action)
		if r.Header.Get("Authorization") == "" {
			t.Errorf("%s unsigned", action)
		}
		w.Header().Set("Content-Type", "text/xml")
		switch action {
		case "DescribeStacks":
			if r.Form.Get("StackName") != "crmbackup-prod" {
				w.WriteHeader(400)
				fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id %s does not exist</Message></Error></ErrorResponse>`, r.Form.Get("StackName"))
				return
			}
			var b strings.Builder
			for k, v := range outputs {
				fmt.Fprintf(&b, "<member><OutputKey>%s</OutputKey><OutputValue>%s</OutputValue></member>", k, v)
			}
			fmt.Fprintf(w, `<DescribeStacksResponse><DescribeStacksResult><Stacks><member><StackName>crmbackup-prod</StackName><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>%s</Outputs></member></Stacks></DescribeStacksResult></DescribeStacksResponse>`, b.String())
		case "GetCallerIdentity":
			fmt.Fprint(w, `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ops</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`)
		default:
			t.Errorf("unexpected query action %s", action)
			w.WriteHeader(400)
		}
	})
}

// secretsManager serves the Secrets Manager calls the operator makes.
func (f *awsFakes) secretsManager(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
		f.record("SecretsManager." + op)
		var in map[string]any
		json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests = append(f.requests, in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		arn := func(name string) string {
			return "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + name + "-AbCdEf"
		}
		name := func(id any) string {
			s := fmt.Sprint(id)
			if i := strings.LastIndex(s, ":secret:"); i >= 0 {
				s = strings.TrimSuffix(s[i+len(":secret:"):], "-AbCdEf")
			}
			return s
		}
		switch op {
		case "CreateSecret":
			n := in["Name"].(string)
			if _, ok := f.secrets[n]; ok {
				w.WriteHeader(400)
				fmt.Fprint(w, `{"__type":"ResourceExistsException","message":"exists"}`)
				return
			}
			f.secrets[n] = in["SecretString"].(string)
			json.NewEncoder(w).Encode(map[string]any{"ARN": arn(n), "Name": n})
		case "GetSecretValue", "PutSecretValue", "DeleteSecret":
			n := name(in["SecretId"])
			v, ok := f.secrets[n]
			if !ok {
				w.WriteHeader(400)
				fmt.Fprint(w, `{"__type":"ResourceNotFoundException","message":"no such secret"}`)
				return
			}
			switch op {
			case "PutSecretValue":
				f.secrets[n] = in["SecretString"].(string)
			case "DeleteSecret":
				delete(f.secrets, n)
			}
			json.NewEncoder(w).Encode(map[string]any{"ARN": arn(n), "Name": n, "SecretString": v})
		default:
			t.Errorf("unexpected Secrets Manager call %s", op)
			w.WriteHeader(400)
		}
	})
}

// scripted is a person answering prompts: each Read is the next line.
type scripted struct{ lines []func() string }

func (s *scripted) Read(p []byte) (int, error) {
	if len(s.lines) == 0 {
		return 0, io.EOF
	}
	line := s.lines[0]() + "\n"
	s.lines = s.lines[1:]
	return copy(p, line), nil
}

// TestCLIAgainstADeployedStack runs the operator's and an admin's commands
// with --stack, the way they reach a deployed stack: its outputs from
// CloudFormation, the operator's identity from STS, the account in
// DynamoDB (Local), its credential in Secrets Manager, the admin in the
// user pool (the fake Cognito, SRP and TOTP for real), the API with the
// pool's ID token.
func TestCLIAgainstADeployedStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local")
	}
	ctx := context.Background()
	ddb, err := dynamolocal.Start(ctx, dynamolocal.Options{})
	if err != nil {
		t.Skip(err)
	}
	defer ddb.Close()
	if err := dynamo.CreateTable(ctx, ddb.Client(), "crmbackup-prod"); err != nil {
		t.Fatal(err)
	}
	em, _ := emulator.New(emulator.Options{Sizes: emulator.DefaultSizes(50)})
	portal := httptest.NewServer(em)
	defer portal.Close()
	pool := cognitofake.New(t)

	// The API: it takes only the pool's ID token of the signed-in admin.
	var apiCalls []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		claims, err := pool.Claims(tok)
		if err != nil || claims["token_use"] != "id" || claims["email"] != "admin@acme.example" {
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"error":{"code":"unauthorized","message":"not the pool's ID token (%v)"}}`, err)
			return
		}
		apiCalls = append(apiCalls, r.Method+" "+r.URL.Path)
		fmt.Fprint(w, `{"backups":[]}`)
	}))
	defer api.Close()

	fakes := &awsFakes{secrets: map[string]string{}}
	outputs := map[string]string{"ApiUrl": api.URL + "/", "TableName": "crmbackup-prod", "HubSpotSecretPrefix": "crmbackup/prod/hubspot/",
		"UserPoolId": pool.PoolID, "UserPoolClientId": pool.ClientID, "BucketName": "b"}
	cf := httptest.NewServer(fakes.query(t, outputs))
	defer cf.Close()
	sm := httptest.NewServer(fakes.secretsManager(t))
	defer sm.Close()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_CLOUDFORMATION":            cf.URL,
		"AWS_ENDPOINT_URL_STS":                       cf.URL,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER":           sm.URL,
		"AWS_ENDPOINT_URL_DYNAMODB":                  ddb.Endpoint,
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": pool.URL,
		"AWS_ACCESS_KEY_ID":                          ddb.AccessKey, // DynamoDB Local's database of this key
		"AWS_SECRET_ACCESS_KEY":                      "local",
		"AWS_REGION":                                 "us-east-1", // DynamoDB Local keeps a database per key and region
		"AWS_CONFIG_FILE":                            "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE":                "/dev/null",
		"AWS_EC2_METADATA_DISABLED":                  "true",
		"AWS_CA_BUNDLE":                              "", // the fakes are plain HTTP
		"HUBSPOT_BASE_URL":                           portal.URL,
		"XDG_CONFIG_HOME":                            t.TempDir(),
		"CRMBACKUP_STACK":                            "crmbackup-prod",
	} {
		t.Setenv(k, v)
	}
	awsHTTPClient = localhttp.Client()
	defer func() { awsHTTPClient = nil }()
	run := func(stdin string, args ...string) (string, int) {
		var out, errb bytes.Buffer
		err := runWith(ctx, args, stdio{in: strings.NewReader(stdin), out: &out, err: &errb})
		if err != nil {
			errb.WriteString(err.Error())
		}
		return out.String() + errb.String(), exitCode(err)
	}

	// accounts add: the credential from stdin into Secrets Manager under
	// the prefix, the account into the table with the secret's ARN.
	out, code := run(emulator.DefaultToken+"\n", "accounts", "add", "--id", "acme", "--name", "Acme Inc.", "--tier", "enterprise", "--requests-per-10s", "1000")
	if code != 0 || !strings.Contains(out, "Added account acme") {
		t.Fatalf("accounts add: %d\n%s", code, out)
	}
	if fakes.secrets["crmbackup/prod/hubspot/acme"] != emulator.DefaultToken {
		t.Fatalf("secrets %v", fakes.secrets)
	}
	create := fakes.requests[0]
	if create["Name"] != "crmbackup/prod/hubspot/acme" || create["SecretString"] != emulator.DefaultToken ||
		!strings.Contains(fmt.Sprint(create["Tags"]), "crmbackup:account") {
		t.Fatalf("CreateSecret %v", create)
	}
	if strings.Contains(out, emulator.DefaultToken) {
		t.Fatalf("the credential was printed:\n%s", out)
	}
	a, err := dynamo.New(ddb.Client(), "crmbackup-prod").Account(ctx, "acme")
	if err != nil || a.TokenRef != "arn:aws:secretsmanager:us-east-1:123456789012:secret:crmbackup/prod/hubspot/acme-AbCdEf" || a.Tier != backup.Enterprise || a.PortalID != emulator.DefaultPortalID {
		t.Fatalf("the account item %+v %v", a, err)
	}
	if out, code := run("", "accounts", "check", "acme"); code != 0 || !strings.Contains(out, "every scope it needs") {
		t.Fatalf("accounts check (reads the secret back): %d\n%s", code, out)
	}
	// The operator is in the audit log by their AWS identity.
	page, _ := dynamo.New(ddb.Client(), "crmbackup-prod").AuditLog(ctx, "acme", audit.Query{})
	if len(page.Items) == 0 || page.Items[0].Actor != "operator:arn:aws:iam::123456789012:user/ops" {
		t.Fatalf("audit %+v", page.Items)
	}

	// admins add: a Super Admin of the portal becomes a user of the pool
	// with the account and role attributes; a viewer does not.
	if out, code := run("", "admins", "add", "--account", "acme", "--email", "admin@acme.example"); code != 0 {
		t.Fatalf("admins add: %d\n%s", code, out)
	}
	if out, code := run("", "admins", "add", "--account", "acme", "--email", emulator.ViewerEmail); code != exitRefused {
		t.Fatalf("admins add of a viewer: %d\n%s", code, out)
	}
	var created map[string]any
	for _, r := range pool.Requests() {
		if r.Op == "AdminCreateUser" {
			if created != nil {
				t.Fatalf("a second AdminCreateUser: %v", r.Body)
			}
			created = r.Body
		}
	}
	attrs := fmt.Sprint(created["UserAttributes"])
	if created["Username"] != "admin@acme.example" || created["UserPoolId"] != pool.PoolID ||
		!strings.Contains(attrs, "map[Name:custom:account_id Value:acme]") || !strings.Contains(attrs, "map[Name:custom:role Value:super_admin]") {
		t.Fatalf("AdminCreateUser %v", created)
	}

	// login: the first sign-in sets a password and the authenticator, then
	// the API gets the pool's ID token.
	temp := pool.TemporaryPassword("admin@acme.example")
	// The prompts come one after the other: the password (the temporary
	// one), a new password, then the authenticator's first code, which is
	// computed from the key the CLI shows (on stderr) once Cognito gave it.
	var errb bytes.Buffer
	stdin := &scripted{lines: []func() string{
		func() string { return temp },
		func() string { return "N3w-Passw0rd-Long!" },
		func() string {
			_, key, _ := strings.Cut(errb.String(), "key  ")
			key, _, _ = strings.Cut(key, "\n")
			return pool.Code(key)
		},
	}}
	var lout bytes.Buffer
	err = runWith(ctx, []string{"login", "--email", "admin@acme.example"}, stdio{in: stdin, out: &lout, err: &errb})
	loginOut := lout.String() + errb.String()
	if err != nil {
		t.Fatalf("login: %v\n%s", err, loginOut)
	}
	if !strings.Contains(loginOut, "Signed in to stack crmbackup-prod (us-east-1) as admin@acme.example, an admin of account acme") {
		t.Fatalf("login:\n%s", loginOut)
	}
	if strings.Contains(loginOut, "N3w-Passw0rd-Long!") || strings.Contains(loginOut, temp) {
		t.Fatalf("a password was printed:\n%s", loginOut)
	}
	if out, code := run("", "backups", "list"); code != 0 || len(apiCalls) != 1 || apiCalls[0] != "GET /v1/backups" {
		t.Fatalf("backups list: %d %v\n%s", code, apiCalls, out)
	}

	// An admin without AWS credentials: the API and pool from the outputs.
	pool.Advance(time.Minute) // a new TOTP code
	bare := []string{"--stack", "", "--api-url", api.URL, "--user-pool-id", pool.PoolID, "--user-pool-client-id", pool.ClientID}
	secret := pool.TOTPSecret("admin@acme.example")
	errb.Reset()
	stdin = &scripted{lines: []func() string{
		func() string { return "N3w-Passw0rd-Long!" },
		func() string { return pool.Code(secret) },
	}}
	if err := runWith(ctx, append([]string{"login", "--email", "admin@acme.example"}, bare...), stdio{in: stdin, out: &lout, err: &errb}); err != nil {
		t.Fatalf("login with --api-url: %v\n%s", err, errb.String())
	}
	if out, code := run("", append([]string{"backups", "list"}, bare...)...); code != 0 || len(apiCalls) != 2 {
		t.Fatalf("backups list with --api-url: %d %v\n%s", code, apiCalls, out)
	}
	if out, code := run("", append([]string{"accounts", "list"}, bare...)...); code != exitFailed || !strings.Contains(out, "need --stack") {
		t.Fatalf("an operator command with --api-url: %d\n%s", code, out)
	}

	// remove: the account's item and its secret (with a recovery window).
	if out, code := run("", "accounts", "remove", "acme", "--yes"); code != 0 {
		t.Fatalf("accounts remove: %d\n%s", code, out)
	}
	last := fakes.requests[len(fakes.requests)-1]
	if last["RecoveryWindowInDays"] != float64(7) || len(fakes.secrets) != 0 {
		t.Fatalf("DeleteSecret %v, secrets %v", last, fakes.secrets)
	}
	if out, code := run("", "accounts", "list", "--stack", "nope"); code != exitFailed || !strings.Contains(out, "does not exist") {
		t.Fatalf("an unknown stack: %d\n%s", code, out)
	}
}
