// Package restoretest has the restore.Store conformance suite, run against
// every adapter of the port on its local stand-in.
package restoretest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/listing"
	"github.com/crmbackup/crmbackup/internal/restore"
)

// Store is what the suite tests: the restore domain's store and the audit
// log's reader.
type Store interface {
	restore.Store
	audit.Log
}

// TestStore runs the conformance suite; newStore returns an empty store.
func TestStore(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	// runs is the audit log of starts and ends (plans write entries too).
	runs := func(t *testing.T, s Store, account string) []*audit.Entry {
		t.Helper()
		page, err := s.AuditLog(ctx, account, audit.Query{Query: listing.Query{Limit: listing.MaxLimit}})
		if err != nil {
			t.Fatal(err)
		}
		var out []*audit.Entry
		for _, e := range page.Items {
			if e.Action != audit.RestorePlanned {
				out = append(out, e)
			}
		}
		return out
	}
	// Now, not a fixed date: items carry a TTL relative to these times, and
	// DynamoDB (Local too) deletes expired items at any moment.
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	var n atomic.Int64 // ids stay in order within one instant; starts run concurrently
	id := func(at time.Time) string { return backup.NewID(at.Add(time.Duration(n.Add(1)) * time.Millisecond)) }
	planned := func(p *restore.Plan) *audit.Entry {
		return audit.New(p.AccountID, id(p.CreatedAt), p.CreatedAt, audit.Actor{Subject: p.CreatedBy}, audit.RestorePlanned, audit.Succeeded,
			map[string]any{"planId": p.ID})
	}
	newPlan := func(t *testing.T, s Store, account string, status restore.PlanStatus) *restore.Plan {
		t.Helper()
		p := &restore.Plan{AccountID: account, ID: id(t0), BackupID: "B1", Object: "deals", ObjectTypeID: "0-3", Label: "Deal",
			Properties: []string{"amount", "dealname"}, Excluded: []restore.Excluded{{Name: "hs_lastmodifieddate", Reason: "read-only"}},
			Status: restore.Planning, CreatedBy: "u1", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour), Rows: 3}
		if err := s.CreatePlan(ctx, p, planned(p)); err != nil {
			t.Fatal(err)
		}
		if status != restore.Planning {
			p.Status = status
			p.Tally = &restore.Tally{Records: restore.Counts{Set: 2, Missing: 1}, Values: restore.Counts{Set: 3, Cleared: 1, Missing: 2},
				Properties: map[string]restore.Counts{"amount": {Set: 2}, "dealname": {Set: 1, Cleared: 1}},
				Samples:    []restore.Sample{{RecordID: "1", Property: "amount", Now: "5", After: "10"}}}
			if err := s.UpdatePlan(ctx, p, restore.Planning); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	start := func(s Store, p *restore.Plan, at time.Time, until time.Duration) (*restore.Import, error) {
		im := &restore.Import{AccountID: p.AccountID, ID: id(at), Name: restore.ImportName(p.Label), PlanID: p.ID, BackupID: p.BackupID,
			Object: p.Object, ObjectTypeID: p.ObjectTypeID, Properties: p.Properties, Status: restore.ImportRunning, StartedBy: "u1", StartedAt: at, Rows: p.Rows}
		entry := audit.New(p.AccountID, id(at), at, audit.Actor{Subject: "u1"}, audit.RestoreStarted, audit.Succeeded,
			map[string]any{"importId": im.ID, "properties": p.Properties})
		return im, s.StartImport(ctx, im, restore.Lock{ImportID: im.ID, Until: at.Add(until)}, entry)
	}
	finish := func(t *testing.T, s Store, im *restore.Import, status restore.ImportStatus, at time.Time) error {
		t.Helper()
		f := *im
		f.Status, f.CompletedAt, f.Counts, f.ErrorRows, f.ErrorKey = status, at, restore.ImportCounts{Updated: 3, Missing: 1, Failed: 1}, 1, "backups/acme/imports/x/errors.csv"
		return s.FinishImport(ctx, &f, audit.New(im.AccountID, id(at), at, audit.Actor{Subject: "u1"}, audit.RestoreCompleted, audit.Succeeded,
			map[string]any{"importId": im.ID, "counts": f.Counts}))
	}

	t.Run("plans", func(t *testing.T) {
		s := newStore(t)
		p := newPlan(t, s, "acme", restore.Planning)
		if err := s.CreatePlan(ctx, p, planned(p)); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("creating a plan twice: %v, want conflict", err)
		}
		got, err := s.Plan(ctx, "acme", p.ID)
		if err != nil || got.Status != restore.Planning || got.Label != "Deal" || len(got.Properties) != 2 || len(got.Excluded) != 1 ||
			!got.CreatedAt.Equal(t0) || !got.ExpiresAt.Equal(p.ExpiresAt) || got.Tally != nil {
			t.Fatalf("%+v %v", got, err)
		}
		if _, err := s.Plan(ctx, "globex", p.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another account's plan: %v, want not found", err)
		}
		p.Status, p.RowsPlanned = restore.Ready, 3
		p.Tally = &restore.Tally{Values: restore.Counts{Set: 4}, Properties: map[string]restore.Counts{"amount": {Set: 4}},
			Samples: []restore.Sample{{RecordID: "7", Property: "amount", Now: "", After: "1,5\r\n\"x\""}}}
		if err := s.UpdatePlan(ctx, p, restore.Planning); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdatePlan(ctx, p, restore.Planning); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("updating from a status it no longer has: %v, want conflict", err)
		}
		got, err = s.Plan(ctx, "acme", p.ID)
		if err != nil || got.Status != restore.Ready || got.Tally == nil || got.Tally.Values.Set != 4 ||
			got.Tally.Properties["amount"].Set != 4 || got.Tally.Samples[0].After != "1,5\r\n\"x\"" || got.RowsPlanned != 3 {
			t.Fatalf("%+v %v", got, err)
		}
	})

	t.Run("start import takes the lock and uses the plan", func(t *testing.T) {
		s := newStore(t)
		p := newPlan(t, s, "acme", restore.Ready)
		im, err := start(s, p, t0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Import(ctx, "acme", im.ID)
		if err != nil || got.Status != restore.ImportRunning || got.Name != "Data restore - Deal" || got.PlanID != p.ID {
			t.Fatalf("%+v %v", got, err)
		}
		if pl, err := s.Plan(ctx, "acme", p.ID); err != nil || pl.Status != restore.Executed || pl.ImportID != im.ID {
			t.Fatalf("plan after start: %+v %v", pl, err)
		}
		if l, err := s.RestoreLock(ctx, "acme"); err != nil || l == nil || l.ImportID != im.ID || !l.Until.Equal(t0.Add(time.Hour)) {
			t.Fatalf("lock: %+v %v", l, err)
		}
		if l, err := s.RestoreLock(ctx, "globex"); err != nil || l != nil {
			t.Fatalf("another account's lock: %+v %v", l, err)
		}
		if _, err := start(s, p, t0.Add(time.Minute), time.Hour); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("executing a plan twice: %v, want conflict", err)
		}
		p2 := newPlan(t, s, "acme", restore.Ready)
		_, err = start(s, p2, t0.Add(time.Minute), time.Hour)
		var ae *apperr.Error
		if !apperr.Is(err, apperr.Conflict) || !errors.As(err, &ae) || ae.Details["importId"] != im.ID {
			t.Fatalf("second restore while one runs: %v, want conflict naming %s", err, im.ID)
		}
		if pl, _ := s.Plan(ctx, "acme", p2.ID); pl.Status != restore.Ready {
			t.Fatalf("a refused start changed the plan: %s", pl.Status)
		}
		if list, _ := s.Imports(ctx, "acme", listing.Query{}); len(list.Items) != 1 {
			t.Fatalf("a refused start wrote an import: %d imports", len(list.Items))
		}
		if entries := runs(t, s, "acme"); len(entries) != 1 || entries[0].Action != audit.RestoreStarted || entries[0].Details["importId"] != im.ID {
			t.Fatalf("audit: %+v", entries)
		}
		// Another account has a lock of its own.
		g := newPlan(t, s, "globex", restore.Ready)
		if _, err := start(s, g, t0.Add(time.Minute), time.Hour); err != nil {
			t.Fatalf("another account's restore: %v", err)
		}
		if err := finish(t, s, im, restore.ImportCompleted, t0.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.ReleaseLock(ctx, "acme", im.ID); err != nil {
			t.Fatal(err)
		}
		// A plan still PLANNING cannot be started.
		planning := newPlan(t, s, "acme", restore.Planning)
		if _, err := start(s, planning, t0.Add(3*time.Minute), time.Hour); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("starting a plan being computed: %v, want conflict", err)
		}
		if l, _ := s.RestoreLock(ctx, "acme"); l != nil {
			t.Fatalf("a refused start took the lock: %+v", l)
		}
	})

	t.Run("concurrent starts: one wins", func(t *testing.T) {
		s := newStore(t)
		plans := make([]*restore.Plan, 10) // the reliability report's race: 10 executes, one wins
		for i := range plans {
			plans[i] = newPlan(t, s, "acme", restore.Ready)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(plans))
		for i, p := range plans {
			wg.Go(func() { _, errs[i] = start(s, p, t0, time.Hour) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !apperr.Is(err, apperr.Conflict):
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d restores started at once, want 1", won)
		}
	})

	t.Run("an expired lock is taken over", func(t *testing.T) {
		s := newStore(t)
		old, err := start(s, newPlan(t, s, "acme", restore.Ready), t0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := start(s, newPlan(t, s, "acme", restore.Ready), t0.Add(59*time.Minute), time.Hour); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("before expiry: %v, want conflict", err)
		}
		im, err := start(s, newPlan(t, s, "acme", restore.Ready), t0.Add(61*time.Minute), time.Hour)
		if err != nil {
			t.Fatalf("after expiry: %v", err)
		}
		// The stale holder's release leaves the new lock alone.
		if err := s.ReleaseLock(ctx, "acme", old.ID); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.RestoreLock(ctx, "acme"); l == nil || l.ImportID != im.ID {
			t.Fatalf("lock after a stale release: %+v", l)
		}
	})

	t.Run("progress, finish, release", func(t *testing.T) {
		s := newStore(t)
		im, err := start(s, newPlan(t, s, "acme", restore.Ready), t0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetImportProgress(ctx, "acme", im.ID, 2, &restore.Tally{Values: restore.Counts{Set: 2}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Import(ctx, "acme", im.ID); got.RowsDone != 2 || got.Tally == nil || got.Tally.Values.Set != 2 {
			t.Fatalf("progress: %d %+v", got.RowsDone, got.Tally)
		}
		end := t0.Add(10 * time.Minute)
		if err := finish(t, s, im, restore.ImportCompleted, end); err != nil {
			t.Fatal(err)
		}
		if err := finish(t, s, im, restore.ImportFailed, end.Add(time.Minute)); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("finishing twice: %v, want conflict", err)
		}
		if err := s.SetImportProgress(ctx, "acme", im.ID, 3, nil); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("progress after the end: %v, want conflict", err)
		}
		got, err := s.Import(ctx, "acme", im.ID)
		if err != nil || got.Status != restore.ImportCompleted || !got.CompletedAt.Equal(end) || got.Counts.Updated != 3 ||
			got.Counts.Failed != 1 || got.ErrorRows != 1 || got.ErrorKey != "backups/acme/imports/x/errors.csv" {
			t.Fatalf("%+v %v", got, err)
		}
		entries := runs(t, s, "acme")
		if len(entries) != 2 || entries[0].Action != audit.RestoreCompleted || entries[1].Action != audit.RestoreStarted {
			t.Fatalf("audit (newest first): %+v", entries)
		}
		if err := s.ReleaseLock(ctx, "acme", "someone-else"); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.RestoreLock(ctx, "acme"); l == nil {
			t.Fatal("another import released the lock")
		}
		for range 2 { // idempotent
			if err := s.ReleaseLock(ctx, "acme", im.ID); err != nil {
				t.Fatal(err)
			}
		}
		if l, _ := s.RestoreLock(ctx, "acme"); l != nil {
			t.Fatalf("lock after release: %+v", l)
		}
		if _, err := s.Import(ctx, "globex", im.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another account's import: %v, want not found", err)
		}
	})

	t.Run("imports newest first", func(t *testing.T) {
		s := newStore(t)
		var ids []string
		for i := range 3 {
			at := t0.Add(time.Duration(i) * time.Hour)
			im, err := start(s, newPlan(t, s, "acme", restore.Ready), at, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if err := finish(t, s, im, restore.ImportCompleted, at.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			if err := s.ReleaseLock(ctx, "acme", im.ID); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, im.ID)
		}
		list, err := s.Imports(ctx, "acme", listing.Query{Limit: 2})
		if err != nil || len(list.Items) != 2 || list.Items[0].ID != ids[2] || list.Items[1].ID != ids[1] || list.Next != ids[1] {
			t.Fatalf("%v %v", list, err)
		}
		rest, err := s.Imports(ctx, "acme", listing.Query{Limit: 2, After: list.Next})
		if err != nil || len(rest.Items) != 1 || rest.Items[0].ID != ids[0] || rest.Next != "" {
			t.Fatalf("the second page: %v %v", rest, err)
		}
		if list, _ := s.Imports(ctx, "globex", listing.Query{}); len(list.Items) != 0 {
			t.Fatalf("another account's imports: %d", len(list.Items))
		}
	})
}
