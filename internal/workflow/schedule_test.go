package workflow

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/memstore"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/schedule"
	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

type countRunner struct{ n int }

func (r *countRunner) StartBackup(context.Context, string, string) error { r.n++; return nil }

// TestCreateFunctionRunsTheScheduleOncePerTime feeds the create function's
// handler the sample event (as EventBridge Scheduler sends it) twice and a
// malformed one.
func TestCreateFunctionRunsTheScheduleOncePerTime(t *testing.T) {
	ctx := context.Background()
	raw, err := os.ReadFile("../../events/create-schedule.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev ScheduleEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	at, _ := time.Parse(time.RFC3339, ev.ScheduledAt)
	store := memstore.New()
	store.PutAccount(ctx, &backup.Account{ID: ev.AccountID, Tier: backup.Enterprise, TokenRef: "env:X"})
	now := at.Add(-time.Hour)
	clock := func() time.Time { return now }
	run := &countRunner{}
	svc := &backup.Service{Store: store, Runner: run, Now: clock}
	sched := &schedule.Service{Store: store, Backups: svc, Now: clock}
	// The schedule whose run the sample event is: weekly at its time (Sunday 02:00 in Rome).
	on := true
	if _, err := sched.Put(ctx, ev.AccountID, audit.Actor{Subject: "u"}, schedule.Request{Enabled: &on, Frequency: ptr("weekly"),
		TimeOfDay: ptr("02:00"), Timezone: ptr("Europe/Rome"), DayOfWeek: ptr("sunday")}); err != nil {
		t.Fatal(err)
	}
	now = at.Add(time.Second)
	h := Handlers(&Steps{Svc: svc, Schedules: sched}, &RestoreSteps{Svc: &restore.Service{}}) // the create handler only
	create := h["create"].(func(context.Context, ScheduleEvent) (*ScheduleResult, error))
	for i, want := range []schedule.Outcome{schedule.Started, schedule.Duplicate} {
		out, err := create(ctx, ev)
		if err != nil || out.Outcome != want {
			t.Fatalf("delivery %d: %+v %v, want %s", i, out, err, want)
		}
	}
	if run.n != 1 {
		t.Fatalf("%d backups started", run.n)
	}
	bad := ev
	bad.ScheduledAt = "<aws.scheduler.scheduled-time>" // not substituted
	_, err = create(ctx, bad)
	if ErrorName(err) != asl.ErrorPermanent || !strings.Contains(ErrorMessage(err), "needs scheduledAt") {
		t.Fatalf("an event without its time: %v (%s)", err, ErrorName(err))
	}
}

func ptr[T any](v T) *T { return &v }
