package scheduler_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	awsscheduler "github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/crmbackup/crmbackup/internal/schedule"
	"github.com/crmbackup/crmbackup/internal/scheduler"
)

const (
	group     = "crmbackup-schedules"
	targetARN = "arn:aws:lambda:eu-west-1:123456789012:function:crmbackup-create"
	roleARN   = "arn:aws:iam::123456789012:role/crmbackup-scheduler"
)

// reply is one scripted answer of the fake: a status and, for an error, the
// error type the restJson1 protocol reads from the X-Amzn-ErrorType header.
type reply struct {
	status  int
	errType string
}

var (
	ok        = reply{status: http.StatusOK}
	notFound  = reply{status: http.StatusNotFound, errType: "ResourceNotFoundException"}
	conflict  = reply{status: http.StatusConflict, errType: "ConflictException"}
	invalid   = reply{status: http.StatusBadRequest, errType: "ValidationException"}
	internal  = reply{status: http.StatusInternalServerError, errType: "InternalServerException"}
	throttled = reply{status: http.StatusBadRequest, errType: "ThrottlingException"}
)

// request is what the fake recorded of one call.
type request struct {
	method string
	path   string
	query  url.Values
	header http.Header
	body   []byte
}

// call is a method and path, which is what identifies the operation.
func (r request) call() string { return r.method + " " + r.path }

// fake is an EventBridge Scheduler endpoint that records every request and
// answers with the next scripted reply.
type fake struct {
	t      *testing.T
	mu     sync.Mutex
	script []reply
	got    []request
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("read request body: %v", err)
	}
	f.mu.Lock()
	f.got = append(f.got, request{
		method: r.Method,
		path:   r.URL.Path,
		query:  r.URL.Query(),
		header: r.Header.Clone(),
		body:   body,
	})
	var rep reply
	if len(f.script) == 0 {
		f.t.Errorf("unexpected request %s %s: the script is used up", r.Method, r.URL.Path)
		rep = internal
	} else {
		rep, f.script = f.script[0], f.script[1:]
	}
	f.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	if rep.errType != "" {
		w.Header().Set("X-Amzn-ErrorType", rep.errType)
		w.WriteHeader(rep.status)
		_, _ = io.WriteString(w, `{"Message":"scripted `+rep.errType+`"}`)
		return
	}
	w.WriteHeader(rep.status)
	if r.Method == http.MethodDelete {
		_, _ = io.WriteString(w, `{}`)
		return
	}
	_, _ = io.WriteString(w, `{"ScheduleArn":"arn:aws:scheduler:eu-west-1:123456789012:schedule/`+group+`/x"}`)
}

// requests returns what the fake recorded.
func (f *fake) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

// setup starts a fake with a script and returns an EventBridge whose real
// SDK client talks to it, with retries off.
func setup(t *testing.T, script ...reply) (scheduler.EventBridge, *fake) {
	t.Helper()
	f := &fake{t: t, script: script}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := awsscheduler.New(awsscheduler.Options{
		BaseEndpoint:     &srv.URL,
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		HTTPClient:       srv.Client(),
		RetryMaxAttempts: 1,
	})
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.script) != 0 {
			t.Errorf("%d scripted replies were not used", len(f.script))
		}
	})
	return scheduler.EventBridge{Client: client, Group: group, TargetARN: targetARN, RoleARN: roleARN, DeadLetterARN: dlqARN}, f
}

const dlqARN = "arn:aws:sqs:eu-west-1:123456789012:crmbackup-test-schedule-dlq"

// body is the JSON document of a CreateSchedule or UpdateSchedule request.
type body struct {
	ClientToken                string
	Description                string
	GroupName                  string
	ScheduleExpression         string
	ScheduleExpressionTimezone string
	State                      string
	FlexibleTimeWindow         map[string]any
	Target                     struct {
		Arn              string
		RoleArn          string
		Input            string
		RetryPolicy      map[string]any
		DeadLetterConfig map[string]any
	}
}

// fullDefinitionKeys are the top-level keys every Put request must carry,
// and the only ones: UpdateSchedule resets whatever is left out.
var fullDefinitionKeys = []string{
	"ClientToken", "Description", "FlexibleTimeWindow", "GroupName",
	"ScheduleExpression", "ScheduleExpressionTimezone", "State", "Target",
}

// checkDefinition checks that a request carries the full definition of the
// trigger's schedule, and returns its client token.
func checkDefinition(t *testing.T, r request, tr schedule.Trigger) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type = %q, want application/json", r.call(), ct)
	}
	if !strings.HasPrefix(r.header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		t.Errorf("%s: request is not SigV4-signed", r.call())
	}
	if len(r.query) != 0 {
		t.Errorf("%s: query = %v, want none", r.call(), r.query)
	}

	var keys map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &keys); err != nil {
		t.Fatalf("%s: body is not a JSON object: %v\n%s", r.call(), err, r.body)
	}
	gotKeys := slices.Sorted(maps.Keys(keys))
	if !slices.Equal(gotKeys, fullDefinitionKeys) {
		t.Errorf("%s: body keys = %v, want %v", r.call(), gotKeys, fullDefinitionKeys)
	}

	var b body
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("%s: decode body: %v", r.call(), err)
	}
	check := func(field, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %s = %q, want %q", r.call(), field, got, want)
		}
	}
	check("GroupName", b.GroupName, group)
	check("ScheduleExpression", b.ScheduleExpression, tr.Expression)
	check("ScheduleExpressionTimezone", b.ScheduleExpressionTimezone, tr.Timezone)
	check("State", b.State, "ENABLED")
	check("Target.Arn", b.Target.Arn, targetARN)
	check("Target.RoleArn", b.Target.RoleArn, roleARN)
	if b.ClientToken == "" {
		t.Errorf("%s: no ClientToken", r.call())
	}
	if b.Description == "" || len(b.Description) > 512 || strings.Contains(b.Description, tr.AccountID) {
		t.Errorf("%s: Description = %q, want a short text without the account id", r.call(), b.Description)
	}
	if want := map[string]any{"Mode": "OFF"}; !reflect.DeepEqual(b.FlexibleTimeWindow, want) {
		t.Errorf("%s: FlexibleTimeWindow = %v, want %v", r.call(), b.FlexibleTimeWindow, want)
	}
	if want := map[string]any{"MaximumEventAgeInSeconds": 3600.0, "MaximumRetryAttempts": 3.0}; !reflect.DeepEqual(b.Target.RetryPolicy, want) {
		t.Errorf("%s: Target.RetryPolicy = %v, want %v", r.call(), b.Target.RetryPolicy, want)
	}
	if want := map[string]any{"Arn": dlqARN}; !reflect.DeepEqual(b.Target.DeadLetterConfig, want) {
		t.Errorf("%s: Target.DeadLetterConfig = %v, want %v (a run Scheduler cannot deliver is kept)", r.call(), b.Target.DeadLetterConfig, want)
	}

	var input map[string]any
	if err := json.Unmarshal([]byte(b.Target.Input), &input); err != nil {
		t.Fatalf("%s: Target.Input is not JSON: %v\n%s", r.call(), err, b.Target.Input)
	}
	wantInput := map[string]any{
		"accountId":   tr.AccountID,
		"trigger":     "scheduled",
		"scheduledAt": "<aws.scheduler.scheduled-time>",
	}
	if !reflect.DeepEqual(input, wantInput) {
		t.Errorf("%s: Target.Input = %v, want %v", r.call(), input, wantInput)
	}
	// Scheduler substitutes the keyword as written, so it must not reach
	// AWS escaped as \u003c…\u003e.
	if !strings.Contains(b.Target.Input, `"<aws.scheduler.scheduled-time>"`) {
		t.Errorf("%s: Target.Input %s does not hold the context attribute literally", r.call(), b.Target.Input)
	}
	return b.ClientToken
}

func TestPut(t *testing.T) {
	const path = "/schedules/account-acct-1"
	tests := []struct {
		name      string
		script    []reply
		wantCalls []string
		// wantErr is the error type Put must wrap, or nil for success.
		wantErr error
	}{
		{
			name:      "schedule exists",
			script:    []reply{ok},
			wantCalls: []string{"PUT " + path},
		},
		{
			name:      "schedule missing",
			script:    []reply{notFound, ok},
			wantCalls: []string{"PUT " + path, "POST " + path},
		},
		{
			name:      "schedule missing and a concurrent put creates it",
			script:    []reply{notFound, conflict, ok},
			wantCalls: []string{"PUT " + path, "POST " + path, "PUT " + path},
		},
		{
			name:      "update fails otherwise",
			script:    []reply{invalid},
			wantCalls: []string{"PUT " + path},
			wantErr:   &types.ValidationException{},
		},
		{
			name:      "update is throttled",
			script:    []reply{throttled},
			wantCalls: []string{"PUT " + path},
			wantErr:   &types.ThrottlingException{},
		},
		{
			name:      "create fails otherwise",
			script:    []reply{notFound, internal},
			wantCalls: []string{"PUT " + path, "POST " + path},
			wantErr:   &types.InternalServerException{},
		},
		{
			name:      "update after the race fails",
			script:    []reply{notFound, conflict, notFound},
			wantCalls: []string{"PUT " + path, "POST " + path, "PUT " + path},
			wantErr:   &types.ResourceNotFoundException{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eb, f := setup(t, tc.script...)
			tr := schedule.Trigger{AccountID: "acct-1", Expression: "cron(0 2 ? * MON *)", Timezone: "Europe/Paris"}

			err := eb.Put(context.Background(), tr)

			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Put: %v", err)
				}
			} else {
				if err == nil {
					t.Fatal("Put succeeded, want an error")
				}
				target := reflect.New(reflect.TypeOf(tc.wantErr)).Interface()
				if !errors.As(err, target) {
					t.Errorf("Put error %v does not wrap a %T", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), "account acct-1") {
					t.Errorf("Put error %q does not name the account", err)
				}
			}

			reqs := f.requests()
			var calls []string
			for _, r := range reqs {
				calls = append(calls, r.call())
			}
			if !slices.Equal(calls, tc.wantCalls) {
				t.Fatalf("calls = %v, want %v", calls, tc.wantCalls)
			}
			var tokens []string
			for _, r := range reqs {
				tokens = append(tokens, checkDefinition(t, r, tr))
			}
			// Each attempt is a new request with its own idempotency token,
			// never a replay of the one that failed.
			if unique := slices.Compact(slices.Sorted(slices.Values(tokens))); len(unique) != len(tokens) {
				t.Errorf("client tokens %v are reused", tokens)
			}
		})
	}
}

func TestPutKeepsOddAccountIDIntactInInput(t *testing.T) {
	for _, id := range []string{
		`a"b\c`,
		`quote" and \"escaped\" \\ backslashes`,
		`<script>&amp;</script>`,
		"tab\tnewline\nunicode é ✓",
	} {
		t.Run(id, func(t *testing.T) {
			eb, f := setup(t, ok)
			tr := schedule.Trigger{AccountID: id, Expression: "cron(30 4 * * ? *)", Timezone: "UTC"}
			if err := eb.Put(context.Background(), tr); err != nil {
				t.Fatalf("Put: %v", err)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			if want := "/schedules/" + scheduler.Name(id); reqs[0].path != want {
				t.Errorf("path = %q, want %q", reqs[0].path, want)
			}
			checkDefinition(t, reqs[0], tr)
		})
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name    string
		reply   reply
		wantErr bool
	}{
		{name: "schedule exists", reply: ok},
		{name: "schedule missing", reply: notFound},
		{name: "other error", reply: internal, wantErr: true},
		{name: "conflict", reply: conflict, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eb, f := setup(t, tc.reply)

			err := eb.Delete(context.Background(), "acct-1")

			if tc.wantErr {
				if err == nil {
					t.Fatal("Delete succeeded, want an error")
				}
				if !strings.Contains(err.Error(), "account acct-1") {
					t.Errorf("Delete error %q does not name the account", err)
				}
			} else if err != nil {
				t.Fatalf("Delete: %v", err)
			}

			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if want := "DELETE /schedules/account-acct-1"; r.call() != want {
				t.Errorf("call = %q, want %q", r.call(), want)
			}
			if got := r.query.Get("groupName"); got != group {
				t.Errorf("groupName = %q, want %q", got, group)
			}
			if len(r.body) != 0 {
				t.Errorf("body = %q, want none", r.body)
			}
		})
	}
}

func TestName(t *testing.T) {
	allowed := regexp.MustCompile(`^[0-9A-Za-z_.-]{1,64}$`)
	hashed := regexp.MustCompile(`^account-[0-9a-f]{32}$`)
	long56 := strings.Repeat("a", 56)
	long57 := strings.Repeat("a", 57)

	kept := []string{"1", "acct-1", "123456789", "A.b_c-D", long56}
	for _, id := range kept {
		if got, want := scheduler.Name(id), "account-"+id; got != want {
			t.Errorf("Name(%q) = %q, want %q", id, got, want)
		}
	}

	odd := []string{"", "with space", "a/b", "a\\b", `a"b`, "é", "a:b", long57, strings.Repeat("x/", 100)}
	seen := map[string]string{}
	for _, id := range append(kept, odd...) {
		got := scheduler.Name(id)
		if !allowed.MatchString(got) {
			t.Errorf("Name(%q) = %q, not a valid schedule name", id, got)
		}
		if again := scheduler.Name(id); again != got {
			t.Errorf("Name(%q) = %q then %q", id, got, again)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("Name(%q) = Name(%q) = %q", id, other, got)
		}
		seen[got] = id
	}
	for _, id := range odd {
		if got := scheduler.Name(id); !hashed.MatchString(got) {
			t.Errorf("Name(%q) = %q, want account- and 32 hex digits", id, got)
		}
	}
	// The hash is SHA-256, so the name does not change between releases.
	if got, want := scheduler.Name("a/b"), "account-c14cddc033f64b9dea80ea675cf280a0"; got != want {
		t.Errorf(`Name("a/b") = %q, want %q`, got, want)
	}
}
