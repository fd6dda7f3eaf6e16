// Package functions_test runs the built Lambda functions under the AWS
// Lambda Runtime Interface Emulator: a real bootstrap behind Lambda's
// invoke API, fed the sample events of events/. It proves the contract the
// state machines rely on — the event decoded by the real runtime, the
// output, and the errorType (Transient, Permanent) that their Retry and
// Catch match — not only the Go handlers.
package functions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/awswire/env"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/dynamo"
	"github.com/crmbackup/crmbackup/internal/dynamo/dynamolocal"
	"github.com/crmbackup/crmbackup/internal/lambdas"
	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

// build compiles the emulator and the functions for this machine.
func build(t *testing.T, names ...string) (rie string, bins map[string]string) {
	t.Helper()
	dir := t.TempDir()
	rie = filepath.Join(dir, "aws-lambda-rie")
	run := func(args ...string) {
		cmd := exec.Command("go", args...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}
	run("build", "-o", rie, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
	bins = map[string]string{}
	for _, n := range names {
		bins[n] = filepath.Join(dir, n, "bootstrap")
		run("build", "-tags", "lambda.norpc", "-o", bins[n], "./"+n)
	}
	return rie, bins
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// function is one function running under the emulator.
type function struct{ url string }

// start runs bootstrap under the emulator with the function's settings.
func start(t *testing.T, rie, bootstrap string, fn lambdas.Function, environ []string) function {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the Runtime Interface Emulator runs on Linux")
	}
	addr := freePort(t)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", freePort(t), "--log-level", "error", bootstrap)
	cmd.Env = append(os.Environ(), environ...)
	for _, name := range fn.Settings() {
		cmd.Env = append(cmd.Env, name+"="+setting(name))
	}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s's logs:\n%s", fn.Name, logs.String())
		}
	})
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return function{url: "http://" + addr + "/2015-03-31/functions/function/invocations"}
		}
	}
	t.Fatalf("the emulator did not listen: %s", logs.String())
	return function{}
}

// setting is a value of the kind each setting wants.
func setting(name string) string {
	switch name {
	case env.Table:
		return "crmbackup"
	case env.Bucket:
		return "crmbackup-backups"
	case env.ScheduleGroup:
		return "crmbackup-test"
	case env.SecretPrefix:
		return "crmbackup/test/hubspot/"
	}
	return "arn:aws:states:eu-west-1:123456789012:stateMachine:" + strings.ToLower(name)
}

// invoke sends an event and returns the output, or the error's type and message.
func (f function) invoke(t *testing.T, event []byte) (out map[string]any, errType, errMsg string) {
	t.Helper()
	resp, err := http.Post(f.url, "application/json", bytes.NewReader(event))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	if et, ok := body["errorType"].(string); ok {
		msg, _ := body["errorMessage"].(string)
		return nil, et, msg
	}
	return body, "", ""
}

func sample(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFunctionsUnderTheRuntimeEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the functions and starts DynamoDB Local")
	}
	ctx := context.Background()
	ddb, err := dynamolocal.Start(ctx, dynamolocal.Options{})
	if err != nil {
		t.Skip(err)
	}
	defer ddb.Close()
	if err := dynamo.CreateTable(ctx, ddb.Client(), "crmbackup"); err != nil {
		t.Fatal(err)
	}
	if err := dynamo.New(ddb.Client(), "crmbackup").PutAccount(ctx, &backup.Account{ID: "acme", Tier: backup.Enterprise,
		TokenRef: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:crmbackup/test/hubspot/acme-x"}); err != nil {
		t.Fatal(err)
	}
	// EventBridge Scheduler: no schedule to delete.
	scheduler := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"Message":"no such schedule"}`)
	}))
	defer scheduler.Close()
	aws := []string{"AWS_REGION=us-east-1", // DynamoDB Local keeps a database per key and region
		"AWS_ACCESS_KEY_ID=" + ddb.AccessKey, "AWS_SECRET_ACCESS_KEY=local",
		"AWS_ENDPOINT_URL_DYNAMODB=" + ddb.Endpoint, "AWS_ENDPOINT_URL_SCHEDULER=" + scheduler.URL,
		"AWS_EC2_METADATA_DISABLED=true"}
	closed := "http://" + freePort(t) // nothing listens there
	rie, bins := build(t, lambdas.Create, lambdas.Discover, lambdas.Ended)
	get := func(name string) lambdas.Function { f, _ := lambdas.Get(name); return f }

	create := start(t, rie, bins[lambdas.Create], get(lambdas.Create), aws)
	discover := start(t, rie, bins[lambdas.Discover], get(lambdas.Discover), aws)
	ended := start(t, rie, bins[lambdas.Ended], get(lambdas.Ended), aws)
	unreachable := start(t, rie, bins[lambdas.Discover], get(lambdas.Discover),
		append(aws[:len(aws):len(aws)], "AWS_ENDPOINT_URL_DYNAMODB="+closed, "AWS_MAX_ATTEMPTS=1"))

	for _, tt := range []struct {
		name    string
		fn      function
		event   []byte
		errType string // "" for an output
		check   func(out map[string]any, msg string) bool
	}{
		{"create, a scheduled run of an account without a schedule", create, sample(t, "create-schedule.json"), "",
			func(out map[string]any, _ string) bool { return out["outcome"] == "ignored" }},
		{"create, an event without its scheduled time", create, []byte(`{"accountId":"acme","trigger":"scheduled"}`), asl.ErrorPermanent,
			func(_ map[string]any, msg string) bool { return strings.Contains(msg, "scheduledAt") }},
		{"create, not JSON of the event's shape", create, []byte(`[1,2]`), "", nil},
		{"discover, a backup that does not exist", discover, sample(t, "discover.json"), asl.ErrorPermanent,
			func(_ map[string]any, msg string) bool { return strings.Contains(msg, "no backup") }},
		{"discover, DynamoDB unreachable", unreachable, sample(t, "discover.json"), asl.ErrorTransient, nil},
		{"ended, a backup that does not exist", ended, sample(t, "ended-timed-out.json"), asl.ErrorPermanent, nil},
		{"ended, a succeeded execution", ended, bytes.Replace(sample(t, "ended-timed-out.json"), []byte(`"TIMED_OUT"`), []byte(`"SUCCEEDED"`), 1), "",
			func(out map[string]any, _ string) bool { return out["ended"] == nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errType, msg := tt.fn.invoke(t, tt.event)
			if tt.check == nil && tt.errType == "" {
				// Not an event of the handler's shape: the runtime's own error.
				if errType == "" {
					t.Fatalf("output %v, want the runtime's decoding error", out)
				}
				return
			}
			if errType != tt.errType || (tt.check != nil && !tt.check(out, msg)) {
				t.Fatalf("output %v, error %q %q; want error type %q", out, errType, msg, tt.errType)
			}
		})
	}
}
