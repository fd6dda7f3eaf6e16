// Package operatortest has the operator.AccountStore conformance suite,
// run against every adapter of the port on its local stand-in.
package operatortest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/operator"
	"github.com/crmbackup/crmbackup/internal/schedule"
)

// Store is what the suite tests: the account store, the writer the local
// stack and tests use, the ids ever held, the schedule's writer and the
// audit log's reader.
type Store interface {
	operator.AccountStore
	PutAccount(ctx context.Context, a *backup.Account) error
	AccountIDs(ctx context.Context) ([]string, error)
	PutSchedule(ctx context.Context, s *schedule.Schedule, e *audit.Entry) error
	audit.Log
}

// TestStore runs the conformance suite; newStore returns an empty store.
func TestStore(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	n := 0
	entry := func(account, action string) *audit.Entry {
		n++
		at := t0.Add(time.Duration(n) * time.Second)
		return audit.New(account, backup.NewID(at), at, audit.Actor{Subject: "operator:ops"}, action, audit.Succeeded, map[string]any{"n": n})
	}
	acme := func() *backup.Account {
		return &backup.Account{ID: "acme", Name: "Acme Inc.", Tier: backup.Enterprise, PortalID: 123, TokenRef: "file:/x", RequestsPer10s: 190}
	}
	actions := func(t *testing.T, s Store, account string) []string {
		t.Helper()
		page, err := s.AuditLog(ctx, account, audit.Query{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range page.Items {
			out = append(out, e.Action)
		}
		return out
	}
	ids := func(t *testing.T, s Store) []string {
		t.Helper()
		list, err := s.Accounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, a := range list {
			out = append(out, a.ID)
		}
		return out
	}

	t.Run("create, list, conflict", func(t *testing.T) {
		s := newStore(t)
		if got := ids(t, s); len(got) != 0 {
			t.Fatalf("an empty store lists %v", got)
		}
		if err := s.CreateAccount(ctx, acme(), entry("acme", audit.AccountAdded)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutAccount(ctx, &backup.Account{ID: "beta", Tier: backup.Starter}); err != nil {
			t.Fatal(err)
		}
		if got := ids(t, s); len(got) != 2 || got[0] != "acme" || got[1] != "beta" {
			t.Fatalf("accounts %v, want [acme beta]", got)
		}
		again := acme()
		again.Name = "Someone else"
		if err := s.CreateAccount(ctx, again, entry("acme", audit.AccountAdded)); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("a second create of acme: %v, want a conflict", err)
		}
		a, err := s.Account(ctx, "acme")
		if err != nil || a.Name != "Acme Inc." || a.PortalID != 123 || a.TokenRef != "file:/x" {
			t.Fatalf("after a refused create: %+v %v", a, err)
		}
		if got := actions(t, s, "acme"); len(got) != 1 || got[0] != audit.AccountAdded {
			t.Fatalf("audit %v: the refused create wrote an entry, or the first none", got)
		}
		if err := s.CreateAccount(ctx, &backup.Account{ID: "x", Tier: "gold"}, entry("x", audit.AccountAdded)); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("a bad tier: %v", err)
		}
	})

	t.Run("update", func(t *testing.T) {
		s := newStore(t)
		if err := s.UpdateAccount(ctx, acme(), entry("acme", audit.AccountTierChanged)); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("update of a missing account: %v", err)
		}
		if got := ids(t, s); len(got) != 0 {
			t.Fatalf("a refused update created %v", got)
		}
		if err := s.CreateAccount(ctx, acme(), entry("acme", audit.AccountAdded)); err != nil {
			t.Fatal(err)
		}
		a := acme()
		a.Tier = backup.Professional
		if err := s.UpdateAccount(ctx, a, entry("acme", audit.AccountTierChanged)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Account(ctx, "acme"); got.Tier != backup.Professional {
			t.Fatalf("tier %s after the update", got.Tier)
		}
		if got := actions(t, s, "acme"); len(got) != 2 || got[0] != audit.AccountTierChanged {
			t.Fatalf("audit %v", got)
		}
	})

	t.Run("delete keeps the audit log", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateAccount(ctx, acme(), entry("acme", audit.AccountAdded)); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAccount(ctx, acme(), entry("acme", audit.AccountRemoved)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Account(ctx, "acme"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("a removed account: %v", err)
		}
		if got := ids(t, s); len(got) != 0 {
			t.Fatalf("a removed account is listed: %v", got)
		}
		if err := s.DeleteAccount(ctx, acme(), entry("acme", audit.AccountRemoved)); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("a second delete: %v", err)
		}
		if got := actions(t, s, "acme"); len(got) != 2 || got[0] != audit.AccountRemoved {
			t.Fatalf("audit after removal %v", got)
		}
		if ids, err := s.AccountIDs(ctx); err != nil || len(ids) != 1 || ids[0] != "acme" {
			t.Fatalf("the ids ever held %v %v", ids, err)
		}
		// The id is its portal's: another portal may not have it (its
		// backups and audit log are under it); the same portal may.
		other := acme()
		other.PortalID = 999
		if err := s.CreateAccount(ctx, other, entry("acme", audit.AccountAdded)); !apperr.Is(err, apperr.Conflict) || !strings.Contains(err.Error(), "another portal") {
			t.Fatalf("the id of a removed account for another portal: %v", err)
		}
		if got := ids(t, s); len(got) != 0 {
			t.Fatalf("a refused create is listed: %v", got)
		}
		if err := s.CreateAccount(ctx, acme(), entry("acme", audit.AccountAdded)); err != nil {
			t.Fatalf("the same portal again: %v", err)
		}
		if got := ids(t, s); len(got) != 1 {
			t.Fatalf("accounts %v", got)
		}
	})

	t.Run("delete refused while the schedule is on", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateAccount(ctx, acme(), entry("acme", audit.AccountAdded)); err != nil {
			t.Fatal(err)
		}
		sch := &schedule.Schedule{AccountID: "acme", Settings: schedule.Settings{Enabled: true, Frequency: schedule.Weekly, TimeOfDay: "02:00", Timezone: "UTC", DayOfWeek: "sunday"},
			UpdatedAt: t0, UpdatedBy: "u", Version: 1}
		if err := s.PutSchedule(ctx, sch, entry("acme", audit.ScheduleUpdated)); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAccount(ctx, acme(), entry("acme", audit.AccountRemoved)); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("delete with the schedule on: %v", err)
		}
		if _, err := s.Account(ctx, "acme"); err != nil {
			t.Fatalf("a refused delete removed the account: %v", err)
		}
		sch.Enabled, sch.Version = false, 2
		if err := s.PutSchedule(ctx, sch, entry("acme", audit.ScheduleUpdated)); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAccount(ctx, acme(), entry("acme", audit.AccountRemoved)); err != nil {
			t.Fatalf("delete with the schedule off: %v", err)
		}
	})

	t.Run("racing creates: one wins", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			e := entry("acme", audit.AccountAdded)
			wg.Go(func() { errs[i] = s.CreateAccount(ctx, acme(), e) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !apperr.Is(err, apperr.Conflict):
				t.Errorf("a loser got %v, want a conflict", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d creates won", won)
		}
		if got := actions(t, s, "acme"); len(got) != 1 {
			t.Fatalf("audit %v, want one entry", got)
		}
	})
}
