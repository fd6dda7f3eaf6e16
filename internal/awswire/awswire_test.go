package awswire

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/crmbackup/crmbackup/internal/awswire/env"
	"github.com/crmbackup/crmbackup/internal/lambdas"
)

// complete is the environment the stack gives fn: its settings with
// well-formed values.
func complete(fn lambdas.Function) map[string]string {
	vals := map[string]string{
		env.Table: "crmbackup-test-table", env.Bucket: "crmbackup-test-backups",
		env.StateMachine:       "arn:aws:states:eu-west-1:123456789012:stateMachine:crmbackup-test-backup",
		env.RestoreMachine:     "arn:aws:states:eu-west-1:123456789012:stateMachine:crmbackup-test-restore",
		env.Topic:              "arn:aws:sns:eu-west-1:123456789012:crmbackup-test",
		env.ScheduleGroup:      "crmbackup-test",
		env.SecretPrefix:       "crmbackup/test/hubspot/",
		env.ScheduleTarget:     "arn:aws:lambda:eu-west-1:123456789012:function:crmbackup-test-create",
		env.SchedulerRole:      "arn:aws:iam::123456789012:role/crmbackup-test-scheduler",
		env.ScheduleDeadLetter: "arn:aws:sqs:eu-west-1:123456789012:crmbackup-test-schedule-dlq",
	}
	out := map[string]string{}
	for _, name := range fn.Settings() {
		out[name] = vals[name]
	}
	return out
}

func loadWith(t *testing.T, fn lambdas.Function, vars map[string]string) (*Wiring, error) {
	t.Helper()
	return load(fn, aws.Config{Region: "eu-west-1"}, func(k string) string { return vars[k] })
}

func TestEveryFunctionLoads(t *testing.T) {
	for _, fn := range lambdas.All {
		t.Run(fn.Name, func(t *testing.T) {
			w, err := loadWith(t, fn, complete(fn))
			if err != nil {
				t.Fatal(err)
			}
			a := fn.Access
			// What the table grants is wired; what it does not stays a nil
			// interface (not a nil pointer in one).
			if (w.Service.Store != nil) != (len(a.Table) > 0) || (w.Restore.Store != nil) != (len(a.Table) > 0) {
				t.Errorf("store wired: %v, table access: %v", w.Service.Store != nil, a.Table)
			}
			if (w.Service.Blobs != nil) != a.Files() {
				t.Errorf("blobs wired: %v", w.Service.Blobs != nil)
			}
			if (w.Service.Runner != nil) != (len(a.Start) > 0) || (w.Service.Publisher != nil) != a.Publish || (w.Service.CRMs != nil) != a.Secrets {
				t.Errorf("runner %v, publisher %v, CRMs %v", w.Service.Runner != nil, w.Service.Publisher != nil, w.Service.CRMs != nil)
			}
			if (w.Steps.DescribeExecution != nil) != (len(a.Describe) > 0) {
				t.Errorf("execution reader wired: %v, describe access %v", w.Steps.DescribeExecution != nil, a.Describe)
			}
			if (w.Schedules.Triggers != nil) != (a.Schedules != "") {
				t.Errorf("triggers wired: %v, schedule access %q", w.Schedules.Triggers != nil, a.Schedules)
			}
			if fn.Name == lambdas.API {
				if w.API() == nil {
					t.Error("no API")
				}
				return
			}
			if w.Handler() == nil {
				t.Error("no handler")
			}
		})
	}
}

func TestMissingOrBadSettingsFailAtColdStart(t *testing.T) {
	export, _ := lambdas.Get(lambdas.Export)
	api, _ := lambdas.Get(lambdas.API)
	tests := []struct {
		name string
		fn   lambdas.Function
		edit func(map[string]string)
		want string // the message names the setting
	}{
		{"no table", export, func(m map[string]string) { delete(m, env.Table) }, env.Table + " is not set"},
		{"no bucket", export, func(m map[string]string) { delete(m, env.Bucket) }, env.Bucket + " is not set"},
		{"bad export margin", export, func(m map[string]string) { m[env.ExportMarginSec] = "30s" }, env.ExportMarginSec + `="30s"`},
		{"export margin past the timeout", export, func(m map[string]string) { m[env.ExportMarginSec] = "900" }, env.ExportMarginSec + `="900"`},
		{"export margin below the writes' grace", export, func(m map[string]string) { m[env.ExportMarginSec] = "5" }, env.ExportMarginSec + `="5"`},
		{"bad HubSpot URL", export, func(m map[string]string) { m[env.HubSpotBaseURL] = "api.hubapi.com" }, env.HubSpotBaseURL + `="api.hubapi.com"`},
		{"no backup machine", api, func(m map[string]string) { delete(m, env.StateMachine) }, env.StateMachine + " is not set"},
		{"restore machine not an ARN", api, func(m map[string]string) { m[env.RestoreMachine] = "crmbackup-restore" }, env.RestoreMachine + `="crmbackup-restore": want an ARN`},
		{"bad MFA window", api, func(m map[string]string) { m[env.MFAWindowSec] = "5m" }, env.MFAWindowSec + `="5m"`},
		{"bad MFA_ALWAYS", api, func(m map[string]string) { m[env.MFAAlways] = "yes" }, env.MFAAlways + `="yes"`},
		{"bad app URL", api, func(m map[string]string) { m[env.AppURL] = "/console" }, env.AppURL + `="/console"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := complete(tt.fn)
			tt.edit(vars)
			_, err := loadWith(t, tt.fn, vars)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "function "+tt.fn.Name) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
	t.Run("every problem at once", func(t *testing.T) {
		_, err := loadWith(t, export, map[string]string{env.ExportMarginSec: "x"})
		for _, want := range []string{env.Table, env.Bucket, env.ExportMarginSec} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v does not name %s", err, want)
			}
		}
	})
	t.Run("unknown function", func(t *testing.T) {
		if _, err := Load(t.Context(), "nope", func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), `"nope"`) {
			t.Fatalf("%v", err)
		}
	})
}

// The console distribution's origin secret: its ARN from the environment,
// its value read once at cold start and given to the API, which trusts
// CloudFront's viewer address only with it.
func TestOriginSecret(t *testing.T) {
	api, _ := lambdas.Get(lambdas.API)
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ConsoleOriginSecret-AbCdEf"
	vars := complete(api)
	vars[env.OriginSecret] = "crmbackup-origin"
	if _, err := loadWith(t, api, vars); err == nil || !strings.Contains(err.Error(), env.OriginSecret+`="crmbackup-origin": want an ARN`) {
		t.Fatalf("a secret that is no ARN: %v", err)
	}

	w, err := loadWith(t, api, complete(api))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	w.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	w.readOriginSecret(t.Context(), fakeSecrets{})
	if w.API().OriginSecret != "" || logs.Len() != 0 {
		t.Fatalf("without the setting: the API's secret %q, logs %s", w.API().OriginSecret, logs.String())
	}

	vars[env.OriginSecret] = arn
	w, err = loadWith(t, api, vars)
	if err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	w.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	w.readOriginSecret(t.Context(), fakeSecrets{arn: "v4lue"})
	if w.API().OriginSecret != "v4lue" || logs.Len() != 0 {
		t.Fatalf("read: the API's secret %q, logs %s", w.API().OriginSecret, logs.String())
	}
}

// A secret the function cannot read (or that is empty) does not fail its
// cold start, so that the CLI's calls keep working: the function logs a
// warning that names the secret and never a value, and its API trusts no
// viewer address (the audit log records the connection's).
func TestOriginSecretUnreadableStartsAnyway(t *testing.T) {
	api, _ := lambdas.Get(lambdas.API)
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ConsoleOriginSecret-AbCdEf"
	vars := complete(api)
	vars[env.OriginSecret] = arn
	for _, tc := range []struct {
		name    string
		secrets fakeSecrets
		want    string // in the warning
	}{
		{"unreadable", fakeSecrets{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:other": "v4lue"}, "AccessDeniedException"},
		{"empty", fakeSecrets{arn: ""}, "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := loadWith(t, api, vars)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			w.Log = slog.New(slog.NewJSONHandler(&logs, nil))
			w.readOriginSecret(t.Context(), tc.secrets)
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("want one warning, logged %q: %v", logs.String(), err)
			}
			if line["level"] != "WARN" || line["secret"] != arn || line["setting"] != env.OriginSecret || !strings.Contains(logs.String(), tc.want) ||
				strings.Contains(logs.String(), "v4lue") {
				t.Errorf("the warning %s: want the secret's ARN and setting, %q, and no value", logs.String(), tc.want)
			}
			// No secret: the API trusts no viewer address and records the
			// connection's (TestClientIP's cases without one).
			if got := w.API().OriginSecret; got != "" {
				t.Fatalf("the API's secret %q: want none, so that no viewer address is trusted", got)
			}
		})
	}
}

// fakeSecrets holds secret values by ARN.
type fakeSecrets map[string]string

func (f fakeSecrets) SecretString(_ context.Context, arn string) (string, error) {
	v, ok := f[arn]
	if !ok {
		return "", fmt.Errorf("secret %s: AccessDeniedException", arn)
	}
	return v, nil
}
