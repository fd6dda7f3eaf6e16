// Package scheduletest has the schedule.Store conformance suite, run
// against every adapter of the port on its local stand-in.
package scheduletest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/schedule"
)

// Store is what the suite tests: the schedule store and the audit log's
// reader.
type Store interface {
	schedule.Store
	audit.Log
}

// TestStore runs the conformance suite; newStore returns an empty store.
func TestStore(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	put := func(s Store, sch *schedule.Schedule) error {
		e := audit.New(sch.AccountID, backup.NewID(sch.UpdatedAt), sch.UpdatedAt, audit.Actor{Subject: sch.UpdatedBy},
			audit.ScheduleUpdated, audit.Succeeded, map[string]any{"version": sch.Version})
		return s.PutSchedule(ctx, sch, e)
	}
	weekly := func(version int64) *schedule.Schedule {
		return &schedule.Schedule{AccountID: "acme", Settings: schedule.Settings{Enabled: true, Frequency: schedule.Weekly,
			TimeOfDay: "02:00", Timezone: "Europe/Rome", DayOfWeek: "sunday"}, Anchor: "2026-12-06",
			UpdatedAt: t0.Add(time.Duration(version) * time.Minute), UpdatedBy: "u1", Version: version}
	}

	t.Run("settings: versions, read back, audit", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Schedule(ctx, "acme"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("no schedule yet: %v", err)
		}
		if err := put(s, weekly(2)); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("version 2 over none: %v", err)
		}
		if err := put(s, weekly(1)); err != nil {
			t.Fatal(err)
		}
		if err := put(s, weekly(1)); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("version 1 again: %v", err)
		}
		got, err := s.Schedule(ctx, "acme")
		if err != nil || got.Settings != weekly(1).Settings || got.Anchor != "2026-12-06" || got.Version != 1 ||
			!got.UpdatedAt.Equal(t0.Add(time.Minute)) || got.UpdatedBy != "u1" || !got.LastRunAt.IsZero() {
			t.Fatalf("%+v %v", got, err)
		}
		v2 := weekly(2)
		v2.Enabled, v2.DisabledReason = false, "the account is no longer Enterprise"
		if err := put(s, v2); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Schedule(ctx, "acme"); got.Enabled || got.DisabledReason == "" || got.Version != 2 {
			t.Fatalf("%+v", got)
		}
		if _, err := s.Schedule(ctx, "globex"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another account's schedule: %v", err)
		}
		log, err := s.AuditLog(ctx, "acme", audit.Query{Action: audit.ScheduleUpdated})
		if err != nil || len(log.Items) != 2 {
			t.Fatalf("%d audit entries, %v: want one per write that succeeded", len(log.Items), err)
		}
	})

	t.Run("runs: claimed once, redone when unfinished, settings left alone", func(t *testing.T) {
		s := newStore(t)
		at := t0.Add(24 * time.Hour)
		if _, err := s.ClaimRun(ctx, "acme", at); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("a run without a schedule: %v", err)
		}
		if err := put(s, weekly(1)); err != nil {
			t.Fatal(err)
		}
		claim := func(at time.Time, want schedule.Claim) {
			t.Helper()
			got, err := s.ClaimRun(ctx, "acme", at)
			if err != nil || got != want {
				t.Fatalf("ClaimRun(%s) = %v, %v; want %v", at, got, err, want)
			}
		}
		claim(at, schedule.Claimed)
		claim(at, schedule.Unfinished) // the retry of a run that crashed
		if err := put(s, weekly(2)); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Schedule(ctx, "acme")
		if !got.LastRunAt.Equal(at) || got.LastRunDone {
			t.Fatalf("a settings write touched the last run: %+v", got)
		}
		if err := s.FinishRun(ctx, "acme", at.Add(-time.Hour)); err != nil { // not the last: nothing
			t.Fatal(err)
		}
		claim(at, schedule.Unfinished)
		if err := s.FinishRun(ctx, "acme", at); err != nil {
			t.Fatal(err)
		}
		claim(at, schedule.Handled)                      // a duplicate delivery
		claim(at.Add(-7*24*time.Hour), schedule.Handled) // a stale one
		if got, _ := s.Schedule(ctx, "acme"); !got.LastRunAt.Equal(at) || !got.LastRunDone || got.Version != 2 {
			t.Fatalf("%+v", got)
		}
		claim(at.Add(7*24*time.Hour), schedule.Claimed) // the next week's
	})

	t.Run("the same run delivered ten times at once is claimed once", func(t *testing.T) {
		s := newStore(t)
		if err := put(s, weekly(1)); err != nil {
			t.Fatal(err)
		}
		at := t0.Add(48 * time.Hour)
		var mu sync.Mutex
		counts := map[schedule.Claim]int{}
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := s.ClaimRun(ctx, "acme", at)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				counts[c]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if counts[schedule.Claimed] != 1 || counts[schedule.Unfinished] != 9 {
			t.Fatalf("claims %v: want one claimed, nine unfinished (none finished yet)", counts)
		}
	})
}
