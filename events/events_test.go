package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/crmbackup/crmbackup/internal/api"
	"github.com/crmbackup/crmbackup/internal/api/apitest"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/workflow"
	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

// strict decodes a sample event the way a handler would, but failing on any
// field the handler's type does not have, so samples and types stay in step.
func strict(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s does not decode into %T: %v", file, v, err)
	}
}

func TestStepEventsDecode(t *testing.T) {
	tests := []struct {
		file  string
		into  any
		check func(t *testing.T, v any)
	}{
		{"create-schedule.json", &workflow.ScheduleEvent{}, func(t *testing.T, v any) {
			ev := v.(*workflow.ScheduleEvent)
			if ev.AccountID == "" || ev.Trigger != string(backup.Scheduled) {
				t.Errorf("schedule event %+v: want an account and trigger %q", ev, backup.Scheduled)
			}
			// What EventBridge Scheduler puts for <aws.scheduler.scheduled-time>.
			if _, err := time.Parse(time.RFC3339, ev.ScheduledAt); err != nil {
				t.Errorf("schedule event %+v: scheduledAt %v", ev, err)
			}
		}},
		{"ended-timed-out.json", &workflow.ExecutionEnd{}, func(t *testing.T, v any) {
			ev := v.(*workflow.ExecutionEnd)
			if ev.Source != "aws.states" || ev.Detail.Status != "TIMED_OUT" || !strings.Contains(ev.Detail.Input, `"backupId"`) || ev.Detail.Error != nil {
				t.Errorf("execution status change %+v", ev)
			}
		}},
		{"discover.json", &backup.StepInput{}, func(t *testing.T, v any) {
			if in := v.(*backup.StepInput); in.AccountID == "" || in.BackupID == "" {
				t.Errorf("discover input %+v lacks ids", in)
			}
		}},
		{"export-first.json", &backup.ExportInput{}, func(t *testing.T, v any) {
			if in := v.(*backup.ExportInput); in.Object == "" || in.Checkpoint.Done || in.Checkpoint.Rows != 0 {
				t.Errorf("first export input %+v: want an object and an empty checkpoint", in)
			}
		}},
		{"export-resume.json", &backup.ExportInput{}, func(t *testing.T, v any) {
			if in := v.(*backup.ExportInput); in.Checkpoint.After == "" || in.Checkpoint.Chunks == 0 {
				t.Errorf("resumed export input %+v: want a cursor and chunks", in)
			}
		}},
		{"zip.json", &backup.ZipInput{}, func(t *testing.T, v any) {
			in := v.(*backup.ZipInput)
			if len(in.Exports) < 2 {
				t.Fatalf("zip input has %d exports, want an object with rows and one without", len(in.Exports))
			}
			for _, e := range in.Exports {
				if !e.Checkpoint.Done {
					t.Errorf("export of %s not done", e.Object)
				}
			}
		}},
		{"finalize.json", &backup.FinalizeInput{}, func(t *testing.T, v any) {
			if in := v.(*backup.FinalizeInput); in.Zip == nil || in.Error != nil {
				t.Errorf("finalize input %+v: want a zip result and no error", in)
			}
		}},
		{"finalize-failed.json", &backup.FinalizeInput{}, func(t *testing.T, v any) {
			in := v.(*backup.FinalizeInput)
			if in.Error == nil || in.Error.Error != asl.ErrorPermanent || in.Zip != nil {
				t.Fatalf("failed finalize input %+v: want Step Functions' error and no zip", in)
			}
			// The Cause is the function's Lambda error payload, whose
			// errorMessage is the admin's reason.
			if r := in.Error.Reason("the backup"); !strings.HasPrefix(r, "HubSpot rejected the account's credential") {
				t.Errorf("reason %q", r)
			}
		}},
		{"notify.json", &backup.NotifyInput{}, func(t *testing.T, v any) {
			if in := v.(*backup.NotifyInput); in.BackupID == "" {
				t.Errorf("notify input %+v lacks the backup", in)
			}
		}},
		{"restore-plan.json", &restore.StepInput{}, func(t *testing.T, v any) {
			if in := v.(*restore.StepInput); in.Action != restore.ActionPlan || in.PlanID == "" || in.Cursor.Row != 0 || in.Cursor.Done {
				t.Errorf("first plan step %+v: want a plan and an empty cursor", in)
			}
		}},
		{"restore-plan-done.json", &restore.StepInput{}, func(t *testing.T, v any) {
			if in := v.(*restore.StepInput); in.Action != restore.ActionPlanDone || !in.Cursor.Done || in.Cursor.Tally.Properties["dealname"].Set == 0 {
				t.Errorf("plan done step %+v: want a finished cursor with counts", in)
			}
		}},
		{"restore-execute-resume.json", &restore.StepInput{}, func(t *testing.T, v any) {
			if in := v.(*restore.StepInput); in.Action != restore.ActionExecute || in.ImportID == "" || in.Cursor.Row == 0 || in.Cursor.Done {
				t.Errorf("resumed execute step %+v: want an import and a cursor mid-way", in)
			}
		}},
		{"restore-finish.json", &restore.StepInput{}, func(t *testing.T, v any) {
			if in := v.(*restore.StepInput); in.Action != restore.ActionFinish || !in.Cursor.Done || in.Error != nil {
				t.Errorf("finish step %+v: want a finished cursor and no error", in)
			}
		}},
		{"restore-finish-failed.json", &restore.StepInput{}, func(t *testing.T, v any) {
			in := v.(*restore.StepInput)
			if in.Action != restore.ActionFinish || in.Error == nil || in.Error.Cause == "" {
				t.Fatalf("failed finish step %+v: want Step Functions' error", in)
			}
			if r := in.Error.Reason("the restore"); !strings.HasPrefix(r, "HubSpot rejected the account's credential") {
				t.Errorf("reason %q", r)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			strict(t, tt.file, tt.into)
			tt.check(t, tt.into)
		})
	}
}

// TestEveryEventIsTested keeps new samples from going unchecked.
func TestEveryEventIsTested(t *testing.T) {
	files, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, f := range []string{"create-schedule.json", "ended-timed-out.json", "discover.json", "export-first.json", "export-resume.json", "zip.json", "finalize.json", "finalize-failed.json", "notify.json",
		"restore-plan.json", "restore-plan-done.json", "restore-execute-resume.json", "restore-finish.json", "restore-finish-failed.json"} {
		known[f] = true
	}
	for f := range apiEvents {
		known[f] = true
	}
	for _, f := range files {
		if !known[f] {
			t.Errorf("%s has no test: add it to TestStepEventsDecode or apiEvents", f)
		}
	}
}

// apiEvents are API Gateway requests and the status the api function must
// answer them with.
var apiEvents = map[string]int{
	"api-create-backup.json":          http.StatusAccepted,
	"api-create-backup-viewer.json":   http.StatusForbidden,
	"api-create-backup-bad-body.json": http.StatusBadRequest,
	"api-list-backups.json":           http.StatusOK,
	"api-get-backup.json":             http.StatusOK,
	"api-download-backup.json":        http.StatusFound,
	"api-no-authorizer.json":          http.StatusUnauthorized,
}

// TestAPIEventsThroughTheLambdaAdapter replays each API Gateway sample the
// way the api function serves it: the proxy adapter, the gateway's verified
// claims, the real API handler, a fake backup service.
func TestAPIEventsThroughTheLambdaAdapter(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for file, want := range apiEvents {
		t.Run(file, func(t *testing.T) {
			fake := apitest.New(&backup.Backup{
				AccountID: "acme", ID: "01JD2Z6W6Q3V9K8M7N5P4R3S2T", Status: backup.Completed,
				CreatedAt: now.Add(-time.Hour), CompletedAt: now.Add(-50 * time.Minute), ExpiresAt: now.Add(14 * 24 * time.Hour),
				Key: "backups/acme/01JD2Z6W6Q3V9K8M7N5P4R3S2T.zip",
			})
			fake.Now = now
			srv := &api.Server{Auth: api.GatewayClaims{Names: auth.DefaultClaims}, Backups: fake, Now: func() time.Time { return now }}
			var req events.APIGatewayV2HTTPRequest
			strict(t, file, &req)

			resp, err := httpadapter.NewV2(srv.Handler()).ProxyWithContext(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != want {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, want, resp.Body)
			}
			if ct := resp.Headers["Content-Type"]; !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, resp.Body)
			}
			if want >= 400 {
				if e, _ := body["error"].(map[string]any); e["message"] == "" || e["message"] == nil {
					t.Errorf("error body %s lacks a message", resp.Body)
				}
			}
			wantCreated := 0
			if want == http.StatusAccepted {
				wantCreated = 1
			}
			if len(fake.Created) != wantCreated {
				t.Errorf("%d backups created, want %d", len(fake.Created), wantCreated)
			}
		})
	}
}
