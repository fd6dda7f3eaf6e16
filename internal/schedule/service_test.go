package schedule_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/listing"
	"github.com/crmbackup/crmbackup/internal/memstore"
	"github.com/crmbackup/crmbackup/internal/schedule"
)

// triggers records what the service derived.
type triggers struct {
	mu    sync.Mutex
	calls []string
	now   map[string]schedule.Trigger
	err   error
}

func (f *triggers) Put(_ context.Context, t schedule.Trigger) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "put "+t.AccountID+" "+t.Expression+" "+t.Timezone)
	if f.err != nil {
		return f.err
	}
	f.now[t.AccountID] = t
	return nil
}

func (f *triggers) Delete(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "delete "+id)
	delete(f.now, id)
	return f.err
}

type zones struct{ tz string }

func (z zones) TimeZone(context.Context, *backup.Account) (string, error) {
	if z.tz == "" {
		return "", errors.New("HubSpot unreachable")
	}
	return z.tz, nil
}

type runner struct {
	mu      sync.Mutex
	started []string
	err     error
}

func (r *runner) StartBackup(_ context.Context, _, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.started = append(r.started, id)
	return nil
}

type published struct {
	mu    sync.Mutex
	kinds []string
}

func (p *published) Publish(_ context.Context, n *backup.Notification) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.kinds = append(p.kinds, n.Kind)
	return nil
}

type env struct {
	store *memstore.Store
	svc   *schedule.Service
	bk    *backup.Service
	trig  *triggers
	run   *runner
	pub   *published
	now   time.Time
}

var admin = audit.Actor{Subject: "admin@acme.example", IP: "192.0.2.7", UserAgent: "test"}

func newEnv(t *testing.T, tier backup.Tier) *env {
	t.Helper()
	e := &env{store: memstore.New(), trig: &triggers{now: map[string]schedule.Trigger{}}, run: &runner{}, pub: &published{},
		now: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)} // a Wednesday, 10:00 in Rome
	clock := func() time.Time { return e.now }
	if err := e.store.PutAccount(context.Background(), &backup.Account{ID: "acme", Name: "Acme", Tier: tier, TokenRef: "env:X"}); err != nil {
		t.Fatal(err)
	}
	e.bk = &backup.Service{Store: e.store, Runner: e.run, Now: clock}
	e.svc = &schedule.Service{Store: e.store, Backups: e.bk, Triggers: e.trig, Zones: zones{tz: "Europe/Rome"}, Publisher: e.pub, Now: clock,
		Link: func(_, id string) string { return "https://console.example/#/backups/" + id }}
	return e
}

func ptr[T any](v T) *T { return &v }

func (e *env) notifications(t *testing.T) []*backup.Notification {
	t.Helper()
	p, err := e.store.Notifications(context.Background(), "acme", listing.Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

func (e *env) audit(t *testing.T, action string) []*audit.Entry {
	t.Helper()
	p, err := e.store.AuditLog(context.Background(), "acme", audit.Query{Action: action, Query: listing.Query{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

func TestPut(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name     string
		tier     backup.Tier
		req      schedule.Request
		code     string // "" when it succeeds
		field    string
		want     schedule.Settings
		wantNext string // RFC 3339
	}{
		{"weekly, the defaults: 02:00 in the portal's zone, the first run's day", backup.Enterprise,
			schedule.Request{Enabled: ptr(true), Frequency: ptr("weekly")}, "", "",
			schedule.Settings{Enabled: true, Frequency: schedule.Weekly, TimeOfDay: "02:00", Timezone: "Europe/Rome", DayOfWeek: "thursday"},
			"2026-12-03T01:00:00Z"},
		{"every two weeks on Sunday at 23:30 in New York", backup.Enterprise,
			schedule.Request{Enabled: ptr(true), Frequency: ptr("biweekly"), TimeOfDay: ptr("23:30"), Timezone: ptr("America/New_York"), DayOfWeek: ptr("sunday")}, "", "",
			schedule.Settings{Enabled: true, Frequency: schedule.Biweekly, TimeOfDay: "23:30", Timezone: "America/New_York", DayOfWeek: "sunday"},
			"2026-12-07T04:30:00Z"},
		{"daily", backup.Enterprise, schedule.Request{Enabled: ptr(true), Frequency: ptr("daily"), TimeOfDay: ptr("12:00")}, "", "",
			schedule.Settings{Enabled: true, Frequency: schedule.Daily, TimeOfDay: "12:00", Timezone: "Europe/Rome"}, "2026-12-02T11:00:00Z"},
		{"professional", backup.Professional, schedule.Request{Enabled: ptr(true), Frequency: ptr("weekly")}, apperr.NeedsTier, "", schedule.Settings{}, ""},
		{"starter", backup.Starter, schedule.Request{Enabled: ptr(false)}, apperr.NeedsTier, "", schedule.Settings{}, ""},
		{"enabled left out", backup.Enterprise, schedule.Request{Frequency: ptr("weekly")}, apperr.Invalid, "enabled", schedule.Settings{}, ""},
		{"monthly", backup.Enterprise, schedule.Request{Enabled: ptr(true), Frequency: ptr("monthly")}, apperr.Invalid, "frequency", schedule.Settings{}, ""},
		{"25:00", backup.Enterprise, schedule.Request{Enabled: ptr(true), Frequency: ptr("daily"), TimeOfDay: ptr("25:00")}, apperr.Invalid, "timeOfDay", schedule.Settings{}, ""},
		{"a zone that is none", backup.Enterprise, schedule.Request{Enabled: ptr(true), Frequency: ptr("daily"), Timezone: ptr("Mars/Olympus")}, apperr.Invalid, "timezone", schedule.Settings{}, ""},
		{"daily on a Monday", backup.Enterprise, schedule.Request{Enabled: ptr(true), Frequency: ptr("daily"), DayOfWeek: ptr("monday")}, apperr.Invalid, "dayOfWeek", schedule.Settings{}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.tier)
			v, err := e.svc.Put(ctx, "acme", admin, tt.req)
			if tt.code != "" {
				var ae *apperr.Error
				if apperr.Code(err) != tt.code || !errors.As(err, &ae) || (tt.field != "" && ae.Details["field"] != tt.field) {
					t.Fatalf("%v: want %s naming %q", err, tt.code, tt.field)
				}
				if _, err := e.store.Schedule(ctx, "acme"); !apperr.Is(err, apperr.NotFound) || len(e.trig.calls) != 0 || len(e.audit(t, "")) != 0 {
					t.Fatalf("a refused PUT changed something: %v, triggers %v", err, e.trig.calls)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Settings != tt.want || v.NextRunAt.Format(time.RFC3339) != tt.wantNext {
				t.Fatalf("got %+v next %s, want %+v next %s", v.Settings, v.NextRunAt.Format(time.RFC3339), tt.want, tt.wantNext)
			}
			sch, _ := e.store.Schedule(ctx, "acme")
			tr := e.trig.now["acme"]
			if tr.Expression != sch.Expression() || tr.Timezone != tt.want.Timezone {
				t.Fatalf("trigger %+v for %+v", tr, sch)
			}
			log := e.audit(t, audit.ScheduleUpdated)
			if len(log) != 1 || log[0].IP != "192.0.2.7" || log[0].Actor != admin.Subject || log[0].Details["old"] != nil {
				t.Fatalf("audit %+v", log)
			}
		})
	}
}

func TestPutIsIdempotentAndRepairs(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, backup.Enterprise)
	req := schedule.Request{Enabled: ptr(true), Frequency: ptr("weekly"), DayOfWeek: ptr("monday")}
	first, err := e.svc.Put(ctx, "acme", admin, req)
	if err != nil {
		t.Fatal(err)
	}
	delete(e.trig.now, "acme") // someone deleted the schedule in the console
	again, err := e.svc.Put(ctx, "acme", admin, req)
	if err != nil {
		t.Fatal(err)
	}
	if again.Settings != first.Settings || !again.UpdatedAt.Equal(first.UpdatedAt) {
		t.Fatalf("the same PUT changed the schedule: %+v then %+v", first, again)
	}
	if _, ok := e.trig.now["acme"]; !ok {
		t.Fatal("the same PUT did not repair the missing trigger")
	}
	if n := len(e.audit(t, audit.ScheduleUpdated)); n != 1 {
		t.Fatalf("%d audit entries for one change", n)
	}

	// Off: the settings stay, the trigger goes, the change is audited old → new.
	e.now = e.now.Add(time.Minute)
	off, err := e.svc.Put(ctx, "acme", admin, schedule.Request{Enabled: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if off.Enabled || off.Frequency != schedule.Weekly || off.DayOfWeek != "monday" || !off.NextRunAt.IsZero() {
		t.Fatalf("off: %+v", off)
	}
	if _, ok := e.trig.now["acme"]; ok {
		t.Fatal("the trigger of a schedule turned off is still there")
	}
	log := e.audit(t, audit.ScheduleUpdated)
	if len(log) != 2 || log[0].Details["old"].(map[string]any)["enabled"] != true || log[0].Details["new"].(map[string]any)["enabled"] != false {
		t.Fatalf("audit %+v", log[0])
	}

	// A trigger that cannot be written: the schedule is saved, and the error says so.
	e.trig.err = errors.New("throttled")
	if _, err := e.svc.Put(ctx, "acme", admin, schedule.Request{Enabled: ptr(true)}); err == nil || !strings.Contains(err.Error(), "save it again") {
		t.Fatalf("%v", err)
	}
	e.trig.err = nil
	if v, err := e.svc.Put(ctx, "acme", admin, schedule.Request{Enabled: ptr(true)}); err != nil || e.trig.now["acme"].Expression != "cron(0 2 ? * MON *)" {
		t.Fatalf("repair: %+v %v %+v", v, err, e.trig.now)
	}
}

func TestGet(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, backup.Enterprise)
	v, err := e.svc.Get(ctx, "acme")
	if err != nil || v.Enabled || v.Frequency != schedule.Weekly || v.TimeOfDay != "02:00" || v.Timezone != "Europe/Rome" || !v.NextRunAt.IsZero() || v.QuotaNote == "" {
		t.Fatalf("the defaults: %+v %v", v, err)
	}
	if _, err := newEnv(t, backup.Starter).svc.Get(ctx, "acme"); !apperr.Is(err, apperr.NeedsTier) {
		t.Fatalf("starter: %v", err)
	}
}

// daily sets a daily 02:00 (Rome) schedule and returns its first run.
func (e *env) daily(t *testing.T) time.Time {
	t.Helper()
	v, err := e.svc.Put(context.Background(), "acme", admin, schedule.Request{Enabled: ptr(true), Frequency: ptr("daily")})
	if err != nil {
		t.Fatal(err)
	}
	return v.NextRunAt
}

func TestRunStartsOneBackupPerRun(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, backup.Enterprise)
	at := e.daily(t)
	e.now = at.Add(2 * time.Second)
	outcome, b, err := e.svc.Run(ctx, "acme", at)
	if err != nil || outcome != schedule.Started || b.Trigger != backup.Scheduled || b.RequestedBy != "schedule" {
		t.Fatalf("%s %+v %v", outcome, b, err)
	}
	for range 3 { // the same fire again: Scheduler's or Lambda's retries
		e.now = e.now.Add(time.Second)
		if outcome, _, err := e.svc.Run(ctx, "acme", at); err != nil || outcome != schedule.Duplicate {
			t.Fatalf("a duplicate: %s %v", outcome, err)
		}
	}
	if len(e.run.started) != 1 {
		t.Fatalf("%d backups started, want 1", len(e.run.started))
	}
	created := e.audit(t, audit.BackupCreated)
	if len(created) != 1 || created[0].Actor != "schedule" || created[0].Details["trigger"] != "scheduled" {
		t.Fatalf("audit %+v", created)
	}
	// The next day's run fits the quota of one per 24 hours, though the
	// first one was delivered 2 s late.
	next := at.Add(24 * time.Hour)
	e.now = next
	if outcome, _, err := e.svc.Run(ctx, "acme", next); err != nil || outcome != schedule.Started {
		t.Fatalf("the next day: %s %v", outcome, err)
	}
}

func TestRunAfterACrashStartsTheBackupItQueued(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, backup.Enterprise)
	at := e.daily(t)
	e.now = at
	e.run.err = errors.New("states unavailable")
	if _, _, err := e.svc.Run(ctx, "acme", at); err == nil {
		t.Fatal("a run whose backup could not start succeeded")
	}
	e.run.err = nil
	outcome, b, err := e.svc.Run(ctx, "acme", at) // the retry
	if err != nil || outcome != schedule.Started || len(e.run.started) != 1 || e.run.started[0] != b.ID {
		t.Fatalf("%s %v started %v", outcome, err, e.run.started)
	}
	page, _ := e.store.Backups(ctx, "acme", listing.Query{})
	if len(page.Items) != 1 {
		t.Fatalf("%d backups, want the one the first try queued", len(page.Items))
	}
}

func TestRunSkippedWhenTheQuotaIsUsed(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, backup.Enterprise)
	at := e.daily(t)
	e.now = at.Add(-3 * time.Hour) // a manual backup three hours before
	if _, err := e.bk.Create(ctx, "acme", admin); err != nil {
		t.Fatal(err)
	}
	e.now = at
	for range 2 { // delivered twice: one notice
		if outcome, b, err := e.svc.Run(ctx, "acme", at); err != nil || (outcome != schedule.Skipped && outcome != schedule.Duplicate) || b != nil {
			t.Fatalf("%s %+v %v", outcome, b, err)
		}
	}
	if len(e.run.started) != 1 {
		t.Fatalf("%d backups started: the skipped run was queued", len(e.run.started))
	}
	ns := e.notifications(t)
	if len(ns) != 1 || ns[0].Kind != "backup.skipped" || !strings.Contains(ns[0].Message, "Thu 3 Dec 2026 02:00 CET") || !strings.Contains(ns[0].Message, "runs Fri 4 Dec 2026 02:00 CET") ||
		!strings.Contains(ns[0].Message, "quota") || slices.Index(e.pub.kinds, "backup.skipped") < 0 || len(e.pub.kinds) != 1 {
		t.Fatalf("notifications %+v, published %v", ns, e.pub.kinds)
	}
	skipped := e.audit(t, audit.BackupSkipped)
	if len(skipped) != 1 || skipped[0].Outcome != audit.Refused || skipped[0].Details["nextRunAt"] != "2026-12-04T01:00:00Z" {
		t.Fatalf("audit %+v", skipped)
	}
}

func TestRunDisablesTheScheduleOfAnAccountNoLongerEnterprise(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, backup.Enterprise)
	at := e.daily(t)
	if err := e.store.PutAccount(ctx, &backup.Account{ID: "acme", Name: "Acme", Tier: backup.Professional, TokenRef: "env:X"}); err != nil {
		t.Fatal(err)
	}
	e.now = at
	if outcome, _, err := e.svc.Run(ctx, "acme", at); err != nil || outcome != schedule.Disabled {
		t.Fatalf("%s %v", outcome, err)
	}
	sch, _ := e.store.Schedule(ctx, "acme")
	if sch.Enabled || !strings.Contains(sch.DisabledReason, "Enterprise") || sch.Frequency != schedule.Daily {
		t.Fatalf("%+v", sch)
	}
	if _, ok := e.trig.now["acme"]; ok || len(e.run.started) != 0 {
		t.Fatalf("trigger left %v, backups started %v", e.trig.now, e.run.started)
	}
	if ns := e.notifications(t); len(ns) != 1 || ns[0].Kind != "schedule.disabled" || !strings.Contains(ns[0].Message, "professional") {
		t.Fatalf("%+v", ns)
	}
	if log := e.audit(t, audit.ScheduleDisabled); len(log) != 1 || log[0].Actor != "system" {
		t.Fatalf("%+v", log)
	}
	// A later fire (a trigger that outlived it) does nothing but remove it.
	e.trig.now["acme"] = schedule.Trigger{AccountID: "acme"}
	if outcome, _, err := e.svc.Run(ctx, "acme", at.Add(24*time.Hour)); err != nil || outcome != schedule.Ignored || e.trig.now["acme"].AccountID != "" {
		t.Fatalf("%s %v %v", outcome, err, e.trig.now)
	}
}

func TestRunEveryTwoWeeksLetsTheOffWeekPass(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, backup.Enterprise)
	v, err := e.svc.Put(ctx, "acme", admin, schedule.Request{Enabled: ptr(true), Frequency: ptr("biweekly"), DayOfWeek: ptr("friday")})
	if err != nil {
		t.Fatal(err)
	}
	first := v.NextRunAt
	for i, want := range []schedule.Outcome{schedule.Started, schedule.Ignored, schedule.Started} {
		at := first.Add(time.Duration(i) * 7 * 24 * time.Hour) // the weekly trigger's fires
		e.now = at
		if got, _, err := e.svc.Run(ctx, "acme", at); err != nil || got != want {
			t.Fatalf("week %d: %s %v, want %s", i, got, err, want)
		}
	}
}

func TestRunDueOnAMovingClock(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, backup.Enterprise)
	at := e.daily(t)
	e.now = at.Add(-time.Minute)
	if err := e.svc.RunDue(ctx, []string{"acme"}); err != nil || len(e.run.started) != 0 {
		t.Fatalf("before the time: %v %v", err, e.run.started)
	}
	e.now = at.Add(30 * time.Second)
	for range 3 { // every tick after: one backup
		if err := e.svc.RunDue(ctx, []string{"acme"}); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.run.started) != 1 {
		t.Fatalf("%d backups", len(e.run.started))
	}
	// The stack was down for two days: the missed runs are not made up.
	e.now = at.Add(48*time.Hour + 2*time.Hour)
	if err := e.svc.RunDue(ctx, []string{"acme"}); err != nil || len(e.run.started) != 1 {
		t.Fatalf("a run long past was made up: %v %v", err, e.run.started)
	}
	// A schedule saved after today's time does not run today.
	e2 := newEnv(t, backup.Enterprise)
	e2.now = time.Date(2026, 12, 2, 1, 30, 0, 0, time.UTC) // 02:30 in Rome, after 02:00
	e2.daily(t)
	if err := e2.svc.RunDue(ctx, []string{"acme"}); err != nil || len(e2.run.started) != 0 {
		t.Fatalf("ran retroactively: %v %v", err, e2.run.started)
	}
}
