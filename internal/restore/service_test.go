package restore_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/listing"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/testenv"
)

// startRecorder is a restore.Runner that records what it was asked to
// start; the tests drive the steps themselves.
type startRecorder struct {
	plans, restores []string
	err             error
}

func (r *startRecorder) StartPlan(_ context.Context, _, id string) error {
	r.plans = append(r.plans, id)
	return r.err
}

func (r *startRecorder) StartRestore(_ context.Context, _, id string) error {
	r.restores = append(r.restores, id)
	return r.err
}

func (e *env) service(runner restore.Runner) *restore.Service {
	return &restore.Service{Store: e.store, Blobs: e.blobs, CRMs: testenv.StaticCRM{C: e.crm}, Runner: runner}
}

func admin(amr ...string) *auth.Caller {
	return &auth.Caller{Subject: "admin@acme.example", AccountID: "acme", Role: auth.SuperAdminRole, AMR: amr, AuthTime: time.Now(),
		SSOSignIn: slices.Contains(amr, auth.SSOMethod)}
}

var bothAcks = restore.Acknowledgements{DataChange: true, Irreversible: true}

// steps drives a plan or an import's chunks to the end, each chunk
// stopping after one batch, and redoing one chunk as after a crash.
func steps(t *testing.T, chunk func(restore.StepInput, time.Time) (*restore.Cursor, error), in restore.StepInput) restore.Cursor {
	t.Helper()
	past := time.Now().Add(-time.Second)
	for n := 0; !in.Cursor.Done; n++ {
		cur, err := chunk(in, past)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 { // the checkpoint of this chunk was lost: it runs again
			if cur, err = chunk(in, past); err != nil {
				t.Fatal(err)
			}
		}
		in.Cursor = *cur
		if n > 100 {
			t.Fatal("the loop does not end")
		}
	}
	return in.Cursor
}

// TestServiceFlow: a plan computed by its steps, reviewed, executed as an
// import with a crash mid-way; the portal ends as the backup was, the
// refused values are in the error CSV once, the import is counted and
// audited, the admin is notified and the lock is free again.
func TestServiceFlow(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, map[string]int{"contacts": 230, "companies": 5})
	ids, before := e.backedUp(t, "contacts")
	var withEmail, withTitle, noTitle []string
	for _, id := range ids[:len(ids)-1] {
		switch {
		case before[id]["email"] != "" && len(withEmail) < 2:
			withEmail = append(withEmail, id)
		case before[id]["jobtitle"] != "":
			withTitle = append(withTitle, id)
		default:
			noTitle = append(noTitle, id)
		}
	}
	if len(withEmail) < 2 || len(withTitle) < 1 || len(noTitle) < 1 {
		t.Fatal("fixture assumptions")
	}
	x, y, renamed, cleared, deleted := withEmail[0], withEmail[1], withTitle[0], noTitle[0], ids[len(ids)-1]
	taken := before[x]["email"]
	e.update(t, "contacts", x, map[string]string{"email": "moved@example.com"})
	e.update(t, "contacts", y, map[string]string{"email": taken}) // x's email back would now collide
	e.update(t, "contacts", renamed, map[string]string{"jobtitle": "Chief Renamer"})
	e.update(t, "contacts", cleared, map[string]string{"jobtitle": "Filled In Later"})
	archive(t, e.crm.BaseURL(), "contacts", deleted)

	runner := &startRecorder{}
	svc := e.service(runner)
	p, err := svc.CreatePlan(ctx, "acme", audit.Actor{Subject: "admin@acme.example"}, e.backup.ID, restore.PlanRequest{
		ObjectType: "0-1", Properties: []string{"email", "jobtitle", "hs_analytics_num_visits"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != restore.Planning || p.Object != "contacts" || p.Label != "Contact" || !slices.Equal(p.Properties, []string{"email", "jobtitle"}) ||
		len(p.Excluded) != 1 || !slices.Equal(runner.plans, []string{p.ID}) || p.Rows != 230 {
		t.Fatalf("plan %+v, started %v", p, runner.plans)
	}
	if _, err := svc.Execute(ctx, admin("mfa"), p.ID, bothAcks); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("executing a plan being computed: %v, want conflict", err)
	}
	in := restore.StepInput{Action: restore.ActionPlan, AccountID: "acme", PlanID: p.ID}
	in.Cursor = steps(t, func(in restore.StepInput, d time.Time) (*restore.Cursor, error) { return svc.PlanChunk(ctx, in, d) }, in)
	if err := svc.PlanDone(ctx, in); err != nil {
		t.Fatal(err)
	}
	if p, err = svc.Plan(ctx, "acme", p.ID); err != nil || p.Status != restore.Ready || p.Tally == nil {
		t.Fatalf("plan after its steps: %+v %v", p, err)
	}
	planned := restore.CountsOf(p.Tally)
	// x and y: email set; renamed: jobtitle set; cleared: jobtitle cleared.
	if want := (restore.ImportCounts{Updated: 3, Cleared: 1, Unchanged: 229*2 - 4, Missing: 1}); planned != want {
		t.Fatalf("planned %+v, want %+v", planned, want)
	}

	im, err := svc.Execute(ctx, admin("mfa"), p.ID, bothAcks)
	if err != nil {
		t.Fatal(err)
	}
	if im.Name != "Data restore - Contact" || im.Status != restore.ImportRunning || !slices.Equal(runner.restores, []string{im.ID}) {
		t.Fatalf("import %+v", im)
	}
	in = restore.StepInput{Action: restore.ActionExecute, AccountID: "acme", ImportID: im.ID}
	in.Cursor = steps(t, func(in restore.StepInput, d time.Time) (*restore.Cursor, error) { return svc.ExecuteChunk(ctx, in, d) }, in)
	in.Action = restore.ActionFinish
	for range 2 { // a retried finish changes nothing
		if err := svc.Finish(ctx, in); err != nil {
			t.Fatal(err)
		}
	}

	now := e.current(t, "contacts", ids, []string{"email", "jobtitle"})
	for _, id := range ids {
		switch id {
		case deleted:
			if _, ok := now[id]; ok {
				t.Errorf("deleted contact %s came back", id)
			}
		case x: // refused: y held the email when x's turn came
		default:
			for _, prop := range []string{"email", "jobtitle"} {
				if now[id][prop] != before[id][prop] {
					t.Errorf("contact %s %s = %q, backup had %q", id, prop, now[id][prop], before[id][prop])
				}
			}
		}
	}
	im, err = svc.Import(ctx, "acme", im.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := (restore.ImportCounts{Updated: 2, Cleared: 1, Unchanged: 229*2 - 4, Missing: 1, Failed: 1}); im.Status != restore.ImportCompleted || im.Counts != want || im.RowsDone != 230 {
		t.Fatalf("import %s %+v rows %d, want %+v", im.Status, im.Counts, im.RowsDone, want)
	}
	rows := errorCSV(t, svc, im.ID)
	if len(rows) != 2 || !slices.Equal(rows[0], restore.ErrorHeader) || rows[1][0] != x || rows[1][1] != "email" || rows[1][2] != taken || rows[1][3] == "" {
		t.Fatalf("error CSV %q", rows)
	}
	if keys, _ := e.blobs.List(ctx, "work/acme/imports/"); len(keys) != 0 {
		t.Errorf("error chunks left behind: %v", keys)
	}
	if l, err := e.store.RestoreLock(ctx, "acme"); err != nil || l != nil {
		t.Fatalf("lock after the end: %+v %v", l, err)
	}
	entries := testenv.AuditLog(t, e.store, "acme")
	if len(entries) != 5 || entries[0].Action != audit.ImportErrorsDownloaded || entries[0].Details["importId"] != im.ID ||
		entries[1].Action != audit.RestoreCompleted || entries[2].Action != audit.RestoreStarted ||
		entries[3].Action != audit.RestorePlanned || entries[4].Action != audit.BackupCreated ||
		entries[1].Actor != "admin@acme.example" || entries[1].Details["objectType"] != "contacts" || entries[1].Outcome != audit.Succeeded {
		for _, en := range entries {
			t.Logf("%s %s %v", en.Action, en.Actor, en.Details)
		}
		t.Fatal("audit log")
	}
	notes := testenv.Notifications(t, e.store, "acme")
	var imports []*backup.Notification
	for _, n := range notes {
		if n.ImportID == im.ID {
			imports = append(imports, n)
		}
	}
	if len(imports) != 1 || imports[0].Kind != "import.completed" {
		t.Fatalf("notifications %+v", imports)
	}
	if _, err := svc.Execute(ctx, admin("mfa"), p.ID, bothAcks); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("executing a plan twice: %v, want conflict", err)
	}
}

func errorCSV(t *testing.T, svc *restore.Service, importID string) [][]string {
	t.Helper()
	url, err := svc.ErrorsURL(context.Background(), "acme", importID, audit.Actor{Subject: "admin@acme.example"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatalf("error CSV %q: %v", raw, err)
	}
	return rows
}

// TestExecuteGuards: each refused execution is the right error and writes
// nothing — no import, no lock, no audit entry, the plan still READY.
func TestExecuteGuards(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, map[string]int{"deals": 30})
	svc := e.service(&startRecorder{})
	ready := func(t *testing.T) *restore.Plan {
		t.Helper()
		p, err := svc.CreatePlan(ctx, "acme", audit.Actor{Subject: "admin@acme.example"}, e.backup.ID, restore.PlanRequest{ObjectType: "deals", Properties: []string{"dealname"}})
		if err != nil {
			t.Fatal(err)
		}
		in := restore.StepInput{Action: restore.ActionPlan, AccountID: "acme", PlanID: p.ID}
		in.Cursor = steps(t, func(in restore.StepInput, d time.Time) (*restore.Cursor, error) { return svc.PlanChunk(ctx, in, d) }, in)
		if err := svc.PlanDone(ctx, in); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := admin("mfa")
	stale.AuthTime = time.Now().Add(-6 * time.Minute)
	other := admin("mfa")
	other.AccountID = "globex"
	later := admin("mfa") // signed in again, 15 days on
	later.AuthTime = time.Now().Add(15 * 24 * time.Hour)
	for _, tc := range []struct {
		name   string
		caller *auth.Caller
		ack    restore.Acknowledgements
		svc    func(*restore.Service)
		want   string
	}{
		{"no acknowledgements", admin("mfa"), restore.Acknowledgements{}, nil, apperr.Invalid},
		{"one acknowledgement", admin("mfa"), restore.Acknowledgements{DataChange: true}, nil, apperr.Invalid},
		{"no two-factor", admin("pwd"), bothAcks, nil, apperr.Reauth},
		{"stale two-factor", stale, bothAcks, nil, apperr.Reauth},
		{"another account's plan", other, bothAcks, nil, apperr.NotFound},
		{"expired backup", later, bothAcks, func(s *restore.Service) { s.Now = func() time.Time { return time.Now().Add(15 * 24 * time.Hour) } }, apperr.Gone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ready(t)
			s := *svc
			if tc.svc != nil {
				tc.svc(&s)
			}
			_, err := s.Execute(ctx, tc.caller, p.ID, tc.ack)
			if apperr.Code(err) != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
			if got, _ := svc.Plan(ctx, "acme", p.ID); got.Status != restore.Ready {
				t.Fatalf("the plan became %s", got.Status)
			}
			if l, _ := e.store.RestoreLock(ctx, "acme"); l != nil {
				t.Fatalf("the lock was taken: %+v", l)
			}
			if list, _ := svc.Imports(ctx, "acme", listing.Query{}); len(list.Items) != 0 {
				t.Fatalf("an import was written: %+v", list.Items[0])
			}
			for _, en := range testenv.AuditLog(t, e.store, "acme") {
				switch {
				case en.Action == audit.RestoreStarted:
					t.Fatalf("a start was audited: %+v", en)
				case en.Action == audit.RestoreRefused && en.Details["planId"] == p.ID && tc.want != apperr.Reauth:
					t.Fatalf("a %s refusal was audited as one that matters: %+v", tc.want, en)
				}
			}
			if tc.want == apperr.Reauth {
				log := testenv.AuditLog(t, e.store, "acme")
				if log[0].Action != audit.RestoreRefused || log[0].Details["planId"] != p.ID || log[0].Details["reason"] != "two-factor sign-in too old" {
					t.Fatalf("the refusal for two-factor is not audited: %+v", log[0])
				}
			}
		})
	}

	t.Run("an SSO session older than its bound", func(t *testing.T) {
		old := admin(auth.SSOMethod)
		old.AuthTime = time.Now().Add(-restore.DefaultSSOMaxAge - time.Minute) // a 30-day-old one did, once
		if _, err := svc.Execute(ctx, old, ready(t).ID, bothAcks); !apperr.Is(err, apperr.Reauth) || !strings.Contains(err.Error(), "single sign-on") {
			t.Fatalf("%v, want reauthentication_required", err)
		}
	})

	t.Run("SSO needs no fresh two-factor", func(t *testing.T) {
		sso := admin(auth.SSOMethod)
		sso.AuthTime = time.Now().Add(-3 * time.Hour)
		im, err := svc.Execute(ctx, sso, ready(t).ID, bothAcks)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("a second restore while it runs", func(t *testing.T) {
			p := ready(t)
			_, err := svc.Execute(ctx, admin("mfa"), p.ID, bothAcks)
			if !apperr.Is(err, apperr.Conflict) {
				t.Fatalf("got %v, want conflict", err)
			}
			if got, _ := svc.Plan(ctx, "acme", p.ID); got.Status != restore.Ready {
				t.Fatalf("the refused plan became %s", got.Status)
			}
			if list, _ := svc.Imports(ctx, "acme", listing.Query{}); len(list.Items) != 1 {
				t.Fatalf("%d imports", len(list.Items))
			}
			if log := testenv.AuditLog(t, e.store, "acme"); log[0].Action != audit.RestoreRefused || log[0].Details["runningImportId"] != im.ID {
				t.Fatalf("the refusal while a restore runs is not audited: %+v", log[0])
			}
		})
		// Its end frees the lock for the next one.
		in := restore.StepInput{Action: restore.ActionExecute, AccountID: "acme", ImportID: im.ID}
		in.Cursor = steps(t, func(in restore.StepInput, d time.Time) (*restore.Cursor, error) { return svc.ExecuteChunk(ctx, in, d) }, in)
		if err := svc.Finish(ctx, in); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Execute(ctx, admin("mfa"), ready(t).ID, bothAcks); err != nil {
			t.Fatalf("after the first ended: %v", err)
		}
	})

	t.Run("a failed start releases the lock", func(t *testing.T) {
		s := *svc
		s.Runner = &startRecorder{err: io.ErrUnexpectedEOF}
		l, _ := e.store.RestoreLock(ctx, "acme")
		if l != nil { // the previous subtest's last restore
			e.store.ReleaseLock(ctx, "acme", l.ImportID)
		}
		if _, err := s.Execute(ctx, admin("mfa"), ready(t).ID, bothAcks); err == nil {
			t.Fatal("no error")
		}
		if l, _ := e.store.RestoreLock(ctx, "acme"); l != nil {
			t.Fatalf("lock held after a failed start: %+v", l)
		}
		var failed []*audit.Entry
		for _, en := range testenv.AuditLog(t, e.store, "acme") {
			if en.Action == audit.RestoreFailed {
				failed = append(failed, en)
			}
		}
		if len(failed) != 1 || failed[0].Outcome != audit.Failed || failed[0].Details["failure"] != "the restore could not be started" {
			t.Fatalf("the failed restore is not audited: %+v", failed)
		}
	})
}

// TestPlanRequestErrors: bad plan requests are 4xx and write nothing.
func TestPlanRequestErrors(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, map[string]int{"deals": 10, "conversations": 3})
	runner := &startRecorder{}
	svc := e.service(runner)
	for _, tc := range []struct {
		name     string
		backupID string
		req      restore.PlanRequest
		want     string
	}{
		{"no object", e.backup.ID, restore.PlanRequest{Properties: []string{"dealname"}}, apperr.Invalid},
		{"unknown object", e.backup.ID, restore.PlanRequest{ObjectType: "unicorns", Properties: []string{"x"}}, apperr.Invalid},
		{"conversations", e.backup.ID, restore.PlanRequest{ObjectType: "conversations", Properties: []string{"status"}}, apperr.Invalid},
		{"property not in the backup", e.backup.ID, restore.PlanRequest{ObjectType: "deals", Properties: []string{"nope"}}, apperr.Invalid},
		{"only calculated properties", e.backup.ID, restore.PlanRequest{ObjectType: "deals", Properties: []string{"days_to_close"}}, apperr.Invalid},
		{"no properties", e.backup.ID, restore.PlanRequest{ObjectType: "deals"}, apperr.Invalid},
		{"unknown backup", "01NOPE", restore.PlanRequest{ObjectType: "deals", Properties: []string{"dealname"}}, apperr.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.CreatePlan(ctx, "acme", audit.Actor{Subject: "admin"}, tc.backupID, tc.req)
			if apperr.Code(err) != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
	if _, err := svc.CreatePlan(ctx, "globex", audit.Actor{Subject: "admin"}, e.backup.ID, restore.PlanRequest{ObjectType: "deals", Properties: []string{"dealname"}}); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("another account's backup: %v, want not found", err)
	}
	if len(runner.plans) != 0 {
		t.Fatalf("refused requests started plans: %v", runner.plans)
	}
}

// TestPlanPreflight: a plan needs the credential to read and write the
// chosen properties (sensitive scopes included); without, it is refused
// before anything is computed, naming the missing scopes, and nothing is
// written.
func TestPlanPreflight(t *testing.T) {
	e := newEnv(t, map[string]int{"contacts": 20})
	var sensitive string
	for _, p := range e.archive.Manifest.Objects[0].Properties {
		if p.Sensitivity == "sensitive" && !p.ReadOnly {
			sensitive = p.Name
		}
	}
	if e.archive.Manifest.Objects[0].Name != "contacts" || sensitive == "" {
		t.Fatal("fixture: no writable sensitive contact property")
	}
	e.emu.SetScopes([]string{"crm.objects.contacts.read"})
	svc := e.service(&startRecorder{})
	_, err := svc.CreatePlan(context.Background(), "acme", audit.Actor{Subject: "admin@acme.example"}, e.backup.ID,
		restore.PlanRequest{ObjectType: "contacts", Properties: []string{"email", sensitive}})
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.Conflict {
		t.Fatalf("plan: %v, want a refusal", err)
	}
	for _, want := range []string{"crm.objects.contacts.write", "crm.objects.contacts.sensitive.read", "crm.objects.contacts.sensitive.write"} {
		if !strings.Contains(ae.Message, want) {
			t.Errorf("refusal %q does not name %s", ae.Message, want)
		}
	}
	if ae.Details["missingScopes"] == nil {
		t.Errorf("refusal details %v", ae.Details)
	}
	e.emu.SetScopes(nil)
	if _, err := svc.CreatePlan(context.Background(), "acme", audit.Actor{Subject: "admin@acme.example"}, e.backup.ID,
		restore.PlanRequest{ObjectType: "contacts", Properties: []string{"email", sensitive}}); err != nil {
		t.Fatalf("with every scope: %v", err)
	}
}

// TestExpiry: a restore starts only while its backup's files outlive the
// longest restore; once started, it finishes even past the backup's expiry.
func TestExpiry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, map[string]int{"deals": 20})
	svc := e.service(&startRecorder{})
	plan := func(t *testing.T, s *restore.Service) (*restore.Plan, error) {
		t.Helper()
		p, err := s.CreatePlan(ctx, "acme", audit.Actor{Subject: "admin@acme.example"}, e.backup.ID,
			restore.PlanRequest{ObjectType: "deals", Properties: []string{"dealname"}})
		if err != nil {
			return nil, err
		}
		in := restore.StepInput{Action: restore.ActionPlan, AccountID: "acme", PlanID: p.ID}
		in.Cursor = steps(t, func(in restore.StepInput, d time.Time) (*restore.Cursor, error) { return s.PlanChunk(ctx, in, d) }, in)
		if err := s.PlanDone(ctx, in); err != nil {
			t.Fatal(err)
		}
		return p, nil
	}
	p, err := plan(t, svc)
	if err != nil {
		t.Fatal(err)
	}
	if want := e.backup.ExpiresAt.Add(-restore.MaxRun); p.ExpiresAt.After(want) {
		t.Fatalf("a plan of a backup 14 days from its end expires at %s, after %s", p.ExpiresAt, want)
	}

	// Less than a day before the backup's end: no new plan, no execute.
	late := *svc
	at := e.backup.ExpiresAt.Add(-restore.MaxRun + time.Minute)
	late.Now = func() time.Time { return at }
	if _, err := plan(t, &late); !apperr.Is(err, apperr.Gone) || !strings.Contains(err.Error(), "sooner than the 24h0m0s a restore may take") {
		t.Fatalf("a plan a day before expiry: %v", err)
	}
	caller := admin("mfa")
	caller.AuthTime = at
	if _, err := late.Execute(ctx, caller, p.ID, bothAcks); !apperr.Is(err, apperr.Gone) {
		t.Fatalf("an execute a day before expiry: %v", err)
	}

	// Started in time, it runs to its end past the backup's expiry.
	im, err := svc.Execute(ctx, admin("mfa"), p.ID, bothAcks)
	if err != nil {
		t.Fatal(err)
	}
	after := *svc
	after.Now = func() time.Time { return e.backup.ExpiresAt.Add(time.Hour) }
	in := restore.StepInput{Action: restore.ActionExecute, AccountID: "acme", ImportID: im.ID}
	in.Cursor = steps(t, func(in restore.StepInput, d time.Time) (*restore.Cursor, error) {
		return after.ExecuteChunk(ctx, in, d)
	}, in)
	if err := after.Finish(ctx, in); err != nil {
		t.Fatal(err)
	}
	if got, _ := svc.Import(ctx, "acme", im.ID); got.Status != restore.ImportCompleted {
		t.Fatalf("the restore ended %s: %s", got.Status, got.Failure)
	}
}

// TestPlanStateHoldsNoCRMValues: the cursor each plan chunk hands Step
// Functions (kept in the execution's history) carries counts only; the
// samples of values before → after reach the plan's item, and the plan.
func TestPlanStateHoldsNoCRMValues(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, map[string]int{"deals": 250})
	svc := e.service(&startRecorder{})
	// Values in the portal differ from the backup's: there is something to sample.
	ids, _ := e.backedUp(t, "deals")
	for _, id := range ids[:40] {
		e.update(t, "deals", id, map[string]string{"dealname": "changed since the backup"})
	}
	p, err := svc.CreatePlan(ctx, "acme", audit.Actor{Subject: "admin@acme.example"}, e.backup.ID, restore.PlanRequest{ObjectType: "deals", Properties: []string{"dealname"}})
	if err != nil {
		t.Fatal(err)
	}
	in := restore.StepInput{Action: restore.ActionPlan, AccountID: "acme", PlanID: p.ID}
	in.Cursor = steps(t, func(in restore.StepInput, d time.Time) (*restore.Cursor, error) {
		cur, err := svc.PlanChunk(ctx, in, d)
		if err == nil {
			if raw, _ := json.Marshal(cur); strings.Contains(string(raw), "changed since the backup") || len(cur.Tally.Samples) > 0 {
				t.Fatalf("a plan chunk's cursor carries CRM values: %s", raw)
			}
		}
		return cur, err
	}, in)
	if err := svc.PlanDone(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, _ := svc.Plan(ctx, "acme", p.ID)
	if got.Status != restore.Ready || len(got.Tally.Samples) == 0 || len(got.Tally.Samples) > restore.MaxSamples || got.Tally.Values.Set == 0 {
		t.Fatalf("plan %s, %d samples, tally %+v", got.Status, len(got.Tally.Samples), got.Tally.Values)
	}
	seen := map[string]bool{}
	for _, s := range got.Tally.Samples {
		if seen[s.RecordID+"/"+s.Property] {
			t.Fatalf("sample %s/%s twice (a redone chunk)", s.RecordID, s.Property)
		}
		seen[s.RecordID+"/"+s.Property] = true
	}
}

// TestCountsAreExactWhateverWasRetried: every execute chunk is lost after
// it wrote (its step crashed before its checkpoint was kept) and runs
// again; the import still counts what was written, exactly as planned.
func TestCountsAreExactWhateverWasRetried(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, map[string]int{"deals": 530})
	ids, before := e.backedUp(t, "deals")
	for i, id := range ids {
		switch i % 50 { // a few in every batch of 100
		case 3:
			e.update(t, "deals", id, map[string]string{"dealname": "renamed since the backup"})
		case 7:
			if before[id]["amount"] != "" {
				e.update(t, "deals", id, map[string]string{"amount": ""})
			} else {
				e.update(t, "deals", id, map[string]string{"amount": "12345"})
			}
		}
	}
	svc := e.service(&startRecorder{})
	p := computedPlan(t, svc, e, "deals", "dealname", "amount")
	planned := restore.CountsOf(p.Tally)
	if planned.Updated+planned.Cleared < 20 {
		t.Fatalf("fixture: %+v", planned)
	}
	im, err := svc.Execute(ctx, admin("mfa"), p.ID, bothAcks)
	if err != nil {
		t.Fatal(err)
	}
	ex := restore.StepInput{Action: restore.ActionExecute, AccountID: "acme", ImportID: im.ID}
	past := time.Now().Add(-time.Second) // one batch per chunk
	for n := 0; !ex.Cursor.Done; n++ {
		if _, err := svc.ExecuteChunk(ctx, ex, past); err != nil { // wrote, then lost
			t.Fatal(err)
		}
		cur, err := svc.ExecuteChunk(ctx, ex, past) // the retry
		if err != nil {
			t.Fatal(err)
		}
		ex.Cursor = *cur
		if n > 20 {
			t.Fatal("no end")
		}
	}
	if err := svc.Finish(ctx, ex); err != nil {
		t.Fatal(err)
	}
	got, _ := svc.Import(ctx, "acme", im.ID)
	if got.Counts != planned {
		t.Fatalf("counts %+v after retries, planned %+v", got.Counts, planned)
	}
	if keys, _ := e.blobs.List(ctx, "work/acme/imports/"); len(keys) != 0 {
		t.Fatalf("work files left: %v", keys)
	}
}

// TestWritesEndShortlyAfterTheDeadline: a batch update still in flight
// past the deadline (and its grace) is abandoned, the run ends with the
// cursor before that batch and no error, and the next run finishes it:
// counts exact.
func TestWritesEndShortlyAfterTheDeadline(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, map[string]int{"deals": 80})
	ids, _ := e.backedUp(t, "deals")
	for _, id := range ids[:10] {
		e.update(t, "deals", id, map[string]string{"dealname": "renamed"})
	}
	svc := e.service(&startRecorder{})
	p := computedPlan(t, svc, e, "deals", "dealname")
	im, err := svc.Execute(ctx, admin("mfa"), p.ID, bothAcks)
	if err != nil {
		t.Fatal(err)
	}
	grace := restore.WriteGrace
	restore.WriteGrace = 100 * time.Millisecond
	defer func() { restore.WriteGrace = grace }()
	e.emu.SetLatency(600 * time.Millisecond) // the read ends at 0.6 s, the write would at 1.2 s
	in := restore.StepInput{Action: restore.ActionExecute, AccountID: "acme", ImportID: im.ID}
	cur, err := svc.ExecuteChunk(ctx, in, time.Now().Add(700*time.Millisecond))
	if err != nil || cur.Row != 0 || cur.Done {
		t.Fatalf("%+v %v: want the cursor before the batch whose write was cut short, and no error", cur, err)
	}
	e.emu.SetLatency(0)
	in.Cursor = *cur
	in.Cursor = steps(t, func(in restore.StepInput, d time.Time) (*restore.Cursor, error) { return svc.ExecuteChunk(ctx, in, d) }, in)
	if err := svc.Finish(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, _ := svc.Import(ctx, "acme", im.ID)
	if want := restore.CountsOf(p.Tally); got.Counts != want {
		t.Fatalf("counts %+v, planned %+v", got.Counts, want)
	}
}

// computedPlan is a READY plan of object's props, computed by its steps.
func computedPlan(t *testing.T, svc *restore.Service, e *env, object string, props ...string) *restore.Plan {
	t.Helper()
	ctx := context.Background()
	p, err := svc.CreatePlan(ctx, "acme", audit.Actor{Subject: "admin@acme.example"}, e.backup.ID, restore.PlanRequest{ObjectType: object, Properties: props})
	if err != nil {
		t.Fatal(err)
	}
	in := restore.StepInput{Action: restore.ActionPlan, AccountID: "acme", PlanID: p.ID}
	in.Cursor = steps(t, func(in restore.StepInput, d time.Time) (*restore.Cursor, error) { return svc.PlanChunk(ctx, in, d) }, in)
	if err := svc.PlanDone(ctx, in); err != nil {
		t.Fatal(err)
	}
	p, err = svc.Plan(ctx, "acme", p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAnEndedImportWritesNothingMore: an import ended while one of its
// invocations still runs (its execution timed out or was stopped: Step
// Functions does not stop the Lambda) stops that invocation at its next
// batch.
func TestAnEndedImportWritesNothingMore(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, map[string]int{"deals": 350})
	ids, _ := e.backedUp(t, "deals")
	for _, id := range ids {
		e.update(t, "deals", id, map[string]string{"dealname": "renamed"})
	}
	svc := e.service(&startRecorder{})
	p := computedPlan(t, svc, e, "deals", "dealname")
	im, err := svc.Execute(ctx, admin("mfa"), p.ID, bothAcks)
	if err != nil {
		t.Fatal(err)
	}
	// After the first batch is written, the ended function finishes the import.
	stopped := restore.StepInput{Action: restore.ActionFinish, AccountID: "acme", ImportID: im.ID, Error: &backup.StepError{Error: backup.ExecutionAborted}}
	svc.CRMs = connectorFunc(func() restore.CRM {
		return &endingCRM{CRM: e.crm, after: func() {
			if err := svc.Finish(ctx, stopped); err != nil {
				t.Error(err)
			}
		}}
	})
	in := restore.StepInput{Action: restore.ActionExecute, AccountID: "acme", ImportID: im.ID}
	if _, err := svc.ExecuteChunk(ctx, in, time.Now().Add(time.Minute)); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("the invocation went on: %v, want a conflict at its next batch", err)
	}
	now := e.current(t, "deals", ids, []string{"dealname"})
	writes := 0
	for _, id := range ids {
		if now[id]["dealname"] != "renamed" {
			writes++
		}
	}
	if writes != 100 {
		t.Fatalf("%d values restored, want the first batch's 100 only", writes)
	}
}

type connectorFunc func() restore.CRM

func (f connectorFunc) RestoreCRM(context.Context, *backup.Account) (restore.CRM, error) {
	return f(), nil
}

// endingCRM runs after once its first batch update is written.
type endingCRM struct {
	restore.CRM
	after func()
	done  bool
}

func (c *endingCRM) BatchUpdate(ctx context.Context, t string, in []hubspot.UpdateInput) (*hubspot.BatchResult, error) {
	res, err := c.CRM.BatchUpdate(ctx, t, in)
	if !c.done {
		c.done = true
		c.after()
	}
	return res, err
}

// TestPicker: what a restore picker shows — each object of the backup,
// restorable or not and why; each property of one, restorable now or not
// and why.
func TestPicker(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, map[string]int{"deals": 20, "conversations": 3, "products": 0})
	svc := e.service(&startRecorder{})
	objs, err := svc.Objects(ctx, "acme", e.backup.ID)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]restore.ObjectChoice{}
	for _, o := range objs {
		by[o.Name] = o
	}
	if d := by["deals"]; !d.Restorable || d.Rows != 20 || d.ObjectTypeID != "0-3" || d.Singular != "Deal" || d.Reason != "" || d.ReasonCode != "" {
		t.Errorf("deals: %+v", d)
	}
	if c := by["conversations"]; c.Restorable || !strings.Contains(c.Reason, "conversations") || c.ReasonCode != restore.ReasonConversations {
		t.Errorf("conversations: %+v", c)
	}
	if p := by["products"]; p.Restorable || p.Reason == "" || p.ReasonCode != restore.ReasonNoRecords {
		t.Errorf("products (no records): %+v", p)
	}
	props, err := svc.Properties(ctx, "acme", e.backup.ID, "0-3")
	if err != nil {
		t.Fatal(err)
	}
	var name, modified *restore.PropertyChoice
	for i := range props {
		switch props[i].Name {
		case "dealname":
			name = &props[i]
		case "hs_lastmodifieddate":
			modified = &props[i]
		}
	}
	if name == nil || !name.Restorable || name.Label == "" || name.Type == "" {
		t.Errorf("dealname: %+v", name)
	}
	if modified == nil || modified.Restorable || !strings.Contains(modified.Reason, "read-only") || modified.ReasonCode != restore.ReasonReadOnly {
		t.Errorf("hs_lastmodifieddate: %+v", modified)
	}
	for _, tt := range []struct {
		object, code string
	}{{"conversations", apperr.Invalid}, {"unicorns", apperr.NotFound}} {
		if _, err := svc.Properties(ctx, "acme", e.backup.ID, tt.object); apperr.Code(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.object, err, tt.code)
		}
	}
	if _, err := svc.Objects(ctx, "globex", e.backup.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("another account's backup: %v", err)
	}
	late := *svc
	late.Now = func() time.Time { return e.backup.ExpiresAt.Add(-time.Hour) }
	objs, _ = late.Objects(ctx, "acme", e.backup.ID)
	for _, o := range objs {
		if o.Restorable {
			t.Errorf("%s restorable an hour before the backup expires", o.Name)
		}
		if o.Name == "deals" && o.ReasonCode != restore.ReasonExpiresSoon {
			t.Errorf("deals an hour before the backup expires: %+v", o)
		}
	}
	late.Now = func() time.Time { return e.backup.ExpiresAt.Add(time.Hour) }
	if _, err := late.Objects(ctx, "acme", e.backup.ID); !apperr.Is(err, apperr.Gone) {
		t.Errorf("after expiry: %v", err)
	}
}
