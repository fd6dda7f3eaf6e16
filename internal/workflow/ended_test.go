package workflow

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/testenv"
	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

func endEvent(t *testing.T, status string, input any) ExecutionEnd {
	t.Helper()
	raw, _ := json.Marshal(input)
	var ev ExecutionEnd
	ev.Source, ev.DetailType = "aws.states", "Step Functions Execution Status Change"
	ev.Detail.Status, ev.Detail.Input, ev.Detail.Name = status, string(raw), "x"
	return ev
}

// TestEndedFinishesWhatTheCatchWouldHave: an execution that timed out or
// was stopped ran no Catch; the ended function fails its backup (quota
// back, admins told) or its import (lock released), once.
func TestEndedFinishesWhatTheCatchWouldHave(t *testing.T) {
	ctx := context.Background()
	st := testenv.NewStack(t, emulator.Options{Sizes: map[string]int{"contacts": 5}}, backup.Enterprise)
	run := &countRunner{}
	svc := &backup.Service{Store: st.Store, Blobs: st.Blobs, CRMs: testenv.StaticCRM{C: st.CRM}, Runner: run}
	rs := &restore.Service{Store: st.Store, Blobs: st.Blobs, CRMs: testenv.StaticCRM{C: st.CRM}}
	ended := (&Ends{Backups: svc, Restores: rs}).Ended

	t.Run("a backup whose execution timed out", func(t *testing.T) {
		b, err := svc.Create(ctx, "acme", audit.Actor{Subject: "u"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Discover(ctx, backup.StepInput{AccountID: "acme", BackupID: b.ID}); err != nil {
			t.Fatal(err)
		}
		ev := endEvent(t, "TIMED_OUT", map[string]string{"accountId": "acme", "backupId": b.ID})
		for range 2 { // EventBridge delivers at least once
			if out, err := ended(ctx, ev); err != nil || out.Ended != "backup "+b.ID {
				t.Fatalf("%+v %v", out, err)
			}
		}
		got, _ := svc.Get(ctx, "acme", b.ID)
		if got.Status != backup.Failed || !strings.Contains(got.Failure, "24 hours") {
			t.Fatalf("%s: %s", got.Status, got.Failure)
		}
		var notes int
		for _, n := range testenv.Notifications(t, st.Store, "acme") {
			if n.BackupID == b.ID && n.Kind == "backup.failed" {
				notes++
			}
		}
		if notes != 1 {
			t.Fatalf("%d failure notices", notes)
		}
		if _, err := svc.Create(ctx, "acme", audit.Actor{Subject: "u"}); err != nil {
			t.Fatalf("the quota was not given back: %v", err)
		}
	})

	t.Run("an import whose execution was stopped", func(t *testing.T) {
		now := time.Now().UTC()
		p := &restore.Plan{AccountID: "acme", ID: backup.NewID(now), BackupID: backup.NewID(now), Object: "deals", ObjectTypeID: "0-3",
			Label: "Deal", Properties: []string{"dealname"}, Status: restore.Planning, CreatedAt: now, ExpiresAt: now.Add(time.Hour), Rows: 500}
		if err := st.Store.CreatePlan(ctx, p, audit.New("acme", backup.NewID(now), now, audit.Actor{}, audit.RestorePlanned, audit.Succeeded, nil)); err != nil {
			t.Fatal(err)
		}
		p.Status, p.Tally = restore.Ready, &restore.Tally{}
		if err := st.Store.UpdatePlan(ctx, p, restore.Planning); err != nil {
			t.Fatal(err)
		}
		im := &restore.Import{AccountID: "acme", ID: backup.NewID(now), Name: "Data restore - Deal", PlanID: p.ID, BackupID: p.BackupID,
			Object: "deals", ObjectTypeID: "0-3", Properties: p.Properties, Status: restore.ImportRunning, StartedBy: "u", StartedAt: now, Rows: 500}
		if err := st.Store.StartImport(ctx, im, restore.Lock{ImportID: im.ID, Until: now.Add(25 * time.Hour)},
			audit.New("acme", backup.NewID(now), now, audit.Actor{}, audit.RestoreStarted, audit.Succeeded, nil)); err != nil {
			t.Fatal(err)
		}
		st.Store.SetImportProgress(ctx, "acme", im.ID, 200, &restore.Tally{Records: restore.Counts{Set: 7}, Values: restore.Counts{Set: 7}})
		ev := endEvent(t, "ABORTED", map[string]any{"mode": "execute", "accountId": "acme", "importId": im.ID, "cursor": map[string]any{}})
		for range 2 {
			if out, err := ended(ctx, ev); err != nil || out.Ended != "import "+im.ID {
				t.Fatalf("%+v %v", out, err)
			}
		}
		got, _ := rs.Import(ctx, "acme", im.ID)
		if got.Status != restore.ImportFailed || !strings.Contains(got.Failure, "aborted") || !strings.Contains(got.Failure, "200 of 500 rows") || got.RowsDone != 200 ||
			got.Counts.Updated != 7 {
			t.Fatalf("%s %d: %s", got.Status, got.RowsDone, got.Failure)
		}
		if l, _ := st.Store.RestoreLock(ctx, "acme"); l != nil {
			t.Fatalf("the lock is still held: %+v", l)
		}
	})

	t.Run("nothing to do, or nothing it can read", func(t *testing.T) {
		if out, err := ended(ctx, endEvent(t, "SUCCEEDED", map[string]string{"accountId": "acme", "backupId": "x"})); err != nil || out.Ended != "" {
			t.Fatalf("%+v %v", out, err)
		}
		_, err := ended(ctx, endEvent(t, "FAILED", map[string]string{"something": "else"}))
		if ErrorName(lambdaError(ctx, nil, "ended", err)) != asl.ErrorPermanent {
			t.Fatalf("%v", err)
		}
		if _, err := ended(ctx, endEvent(t, "FAILED", map[string]string{"accountId": "acme", "backupId": backup.NewID(time.Now())})); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("an unknown backup: %v", err)
		}
	})
}

// TestEndedReadsTheInputOffTheExecution: an event without the input (left
// out, as EventBridge may) is ended from the execution's own input.
func TestEndedReadsTheInputOffTheExecution(t *testing.T) {
	ctx := context.Background()
	st := testenv.NewStack(t, emulator.Options{Sizes: map[string]int{"contacts": 5}}, backup.Enterprise)
	svc := &backup.Service{Store: st.Store, Blobs: st.Blobs, CRMs: testenv.StaticCRM{C: st.CRM}, Runner: &countRunner{}}
	b, err := svc.Create(ctx, "acme", audit.Actor{Subject: "u"})
	if err != nil {
		t.Fatal(err)
	}
	var asked string
	ends := &Ends{Backups: svc, Restores: &restore.Service{Store: st.Store, Blobs: st.Blobs},
		Describe: func(_ context.Context, arn string) (string, error) {
			asked = arn
			return `{"accountId":"acme","backupId":"` + b.ID + `"}`, nil
		}}
	ev := endEvent(t, "ABORTED", nil)
	ev.Detail.Input, ev.Detail.ExecutionArn = "", "arn:aws:states:eu-west-1:123456789012:execution:crmbackup-test-backup:"+b.ID
	if out, err := ends.Ended(ctx, ev); err != nil || out.Ended != "backup "+b.ID || asked != ev.Detail.ExecutionArn {
		t.Fatalf("%+v %v (asked %q)", out, err, asked)
	}
	if got, _ := svc.Get(ctx, "acme", b.ID); got.Status != backup.Failed {
		t.Fatalf("%s", got.Status)
	}
}
