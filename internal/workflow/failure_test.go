package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

// TestReason feeds Classify the errors the HubSpot client really returns
// (HubSpot's answers from httptest, through the real client) and checks
// what an admin reads, all the way through the Lambda error shape and
// Step Functions' Cause to the backup's failure.
func TestReason(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		errName string
		want    []string // substrings of the reason
		notWant []string
	}{
		{"401", 401, nil, `{"status":"error","message":"Authentication credentials not found.","correlationId":"c-401","category":"INVALID_AUTHENTICATION"}`,
			asl.ErrorPermanent, []string{"HubSpot rejected the account's credential", "401", "token", "c-401"}, nil},
		{"403 missing scopes", 403, nil, `{"status":"error","message":"This app hasn't been granted all required scopes to make this call.","correlationId":"c-403","category":"MISSING_SCOPES",` +
			`"errors":[{"message":"One or more of the following scopes are required.","context":{"requiredGranularScopes":["crm.objects.contacts.read","crm.objects.contacts.sensitive.read.v2"]}}]}`,
			asl.ErrorPermanent, []string{"lacks the scopes crm.objects.contacts.read, crm.objects.contacts.sensitive.read.v2"}, nil},
		{"429 daily", 429, nil, `{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","policyName":"DAILY"}`,
			asl.ErrorPermanent, []string{"daily API limit", "midnight in the portal's time zone"}, nil},
		{"400 validation quoting a value", 400, nil, `{"status":"error","message":"Property values were not valid: secret@example.com","correlationId":"c-400","category":"VALIDATION_ERROR"}`,
			asl.ErrorPermanent, []string{"HubSpot refused a request (HTTP 400, VALIDATION_ERROR)", "c-400"}, []string{"secret@example.com"}},
		{"477 after retries", 477, map[string]string{"Retry-After": "0"}, `{"status":"error","message":"migration"}`,
			asl.ErrorTransient, []string{"being migrated (HTTP 477), 2 attempts"}, nil},
		{"503 after retries", 503, nil, `{"status":"error","message":"down"}`,
			asl.ErrorTransient, []string{"HubSpot kept failing (HTTP 503, 2 attempts)"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			err := call(t, srv.URL)
			checkReason(t, err, tt.errName, tt.want, tt.notWant)
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		err = call(t, "http://"+addr)
		checkReason(t, err, asl.ErrorTransient, []string{"HubSpot unreachable: ", "connection refused"}, nil)
	})
	t.Run("application errors keep their message", func(t *testing.T) {
		checkReason(t, apperr.New(apperr.Invalid, "the token reaches portal 2, not the account's portal 1"), asl.ErrorPermanent,
			[]string{"the token reaches portal 2"}, nil)
	})
	t.Run("internal errors say nothing of internals", func(t *testing.T) {
		checkReason(t, errors.New("dynamodb: ProvisionedThroughputExceeded at table xyz"), asl.ErrorTransient,
			[]string{"internal error"}, []string{"dynamodb", "xyz"})
	})
}

func call(t *testing.T, url string) error {
	t.Helper()
	c, err := hubspot.New(hubspot.Config{BaseURL: url, Token: "pat-secret", RequestsPer10s: 1000,
		Retry: hubspot.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Properties(context.Background(), "0-1")
	if err == nil {
		t.Fatal("no error")
	}
	return fmt.Errorf("discover: %w", err) // as the domain wraps it
}

// checkReason follows err the way it travels: classified, returned to the
// Lambda runtime by a handler, caught by Step Functions as {Error, Cause},
// and read back by the backup's Finalize.
func checkReason(t *testing.T, err error, name string, want, notWant []string) {
	t.Helper()
	h := lambdaFunc(nil, "discover", func(context.Context, struct{}) (struct{}, error) { return struct{}{}, err })
	_, lerr := h(context.Background(), struct{}{})
	if got := ErrorName(lerr); got != name {
		t.Errorf("errorType %s, want %s (%v)", got, name, err)
	}
	cause := fmt.Sprintf(`{"errorMessage":%q,"errorType":%q}`, ErrorMessage(lerr), ErrorName(lerr))
	reason := (&backup.StepError{Error: ErrorName(lerr), Cause: cause}).Reason("the backup")
	if reason != Reason(err) {
		t.Errorf("the backup reads %q, the step said %q", reason, Reason(err))
	}
	for _, w := range want {
		if !strings.Contains(reason, w) {
			t.Errorf("reason %q lacks %q", reason, w)
		}
	}
	for _, w := range append(notWant, "pat-secret") {
		if strings.Contains(reason, w) {
			t.Errorf("reason %q shows %q", reason, w)
		}
	}
}

func TestStepErrorReason(t *testing.T) {
	for _, tt := range []struct {
		e    *backup.StepError
		want string
	}{
		{nil, "the backup failed"},
		{&backup.StepError{Error: "States.Timeout", Cause: "x"}, "the backup timed out"},
		{&backup.StepError{Error: "Runtime.ExitError", Cause: "signal: killed"}, "the backup stopped: one of its functions failed (Runtime.ExitError); the functions' logs have the details"},
		{&backup.StepError{Error: "Permanent", Cause: "not JSON"}, "the backup failed"},
		{&backup.StepError{Error: "Permanent", Cause: `{"errorMessage":"HubSpot said no","errorType":"Permanent"}`}, "HubSpot said no"},
		{&backup.StepError{Error: "States.Permissions", Cause: "x"}, "the backup failed (States.Permissions)"},
	} {
		if got := tt.e.Reason("the backup"); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.e, got, tt.want)
		}
	}
}

// TestLogKeepsNoHubSpotMessage: the function's log names a HubSpot answer
// by status, category and correlation id, not by its message.
func TestLogKeepsNoHubSpotMessage(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	err := fmt.Errorf("restore deals: %w", &hubspot.Error{StatusCode: 400, Method: "POST", Path: "/crm/objects/2026-09/0-3/batch/update",
		Category: "VALIDATION_ERROR", Message: "Property values were not valid: secret@example.com", CorrelationID: "c-9"})
	lambdaError(context.Background(), log, "restore", err)
	if strings.Contains(buf.String(), "secret@example.com") || !strings.Contains(buf.String(), "c-9") {
		t.Fatalf("log %s", buf.String())
	}
}
