package backuptest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
)

// TestStore runs the Store conformance suite; newStore returns an empty store.
func TestStore(t *testing.T, newStore func(t *testing.T) backup.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const week = 7 * 24 * time.Hour
	setup := func(t *testing.T) backup.Store {
		s := newStore(t)
		for _, a := range []backup.Account{
			{ID: "acme", PortalID: 1, Name: "Acme", Tier: backup.Professional, TokenRef: "env:ACME_TOKEN"},
			{ID: "globex", PortalID: 2, Name: "Globex", Tier: backup.Enterprise, TokenRef: "env:GLOBEX_TOKEN"},
		} {
			if err := s.PutAccount(ctx, &a); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	newBackup := func(account string, at time.Time) *backup.Backup {
		return &backup.Backup{AccountID: account, ID: backup.NewID(at), Status: backup.Queued, Trigger: backup.Manual, RequestedBy: "u1", CreatedAt: at}
	}

	t.Run("accounts", func(t *testing.T) {
		s := setup(t)
		a, err := s.Account(ctx, "acme")
		if err != nil || a.PortalID != 1 || a.Tier != backup.Professional || a.TokenRef != "env:ACME_TOKEN" {
			t.Fatalf("%+v %v", a, err)
		}
		if _, err := s.Account(ctx, "nobody"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("unknown account: %v", err)
		}
		if err := s.PutAccount(ctx, &backup.Account{ID: "x", Tier: "gold"}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("bad tier: %v", err)
		}
	})

	t.Run("create and read back", func(t *testing.T) {
		s := setup(t)
		b := newBackup("acme", t0)
		if err := s.CreateBackup(ctx, b, week); err != nil {
			t.Fatal(err)
		}
		got, err := s.Backup(ctx, "acme", b.ID)
		if err != nil || got.Status != backup.Queued || !got.CreatedAt.Equal(t0) || got.RequestedBy != "u1" || got.Trigger != backup.Manual {
			t.Fatalf("%+v %v", got, err)
		}
		if _, err := s.Backup(ctx, "globex", b.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another account's backup: %v", err)
		}
	})

	t.Run("quota is consumed in the window", func(t *testing.T) {
		s := setup(t)
		if err := s.CreateBackup(ctx, newBackup("acme", t0), week); err != nil {
			t.Fatal(err)
		}
		err := s.CreateBackup(ctx, newBackup("acme", t0.Add(week-time.Second)), week)
		if !apperr.Is(err, apperr.QuotaUsed) {
			t.Fatalf("second backup in the week: %v, want quota exceeded", err)
		}
		var ae *apperr.Error
		if e, ok := err.(*apperr.Error); ok {
			ae = e
		}
		if ae == nil || ae.Details["nextAllowedAt"] != t0.Add(week).Format(time.RFC3339) {
			t.Fatalf("details %+v, want nextAllowedAt %s", ae, t0.Add(week).Format(time.RFC3339))
		}
		if err := s.CreateBackup(ctx, newBackup("globex", t0), 24*time.Hour); err != nil {
			t.Fatalf("another account's quota: %v", err)
		}
		if err := s.CreateBackup(ctx, newBackup("acme", t0.Add(week)), week); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})

	t.Run("duplicate id", func(t *testing.T) {
		s := setup(t)
		b := newBackup("acme", t0)
		if err := s.CreateBackup(ctx, b, time.Nanosecond); err != nil {
			t.Fatal(err)
		}
		c := *b
		c.CreatedAt = t0.Add(time.Hour)
		if err := s.CreateBackup(ctx, &c, time.Nanosecond); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("same id again: %v, want conflict", err)
		}
	})

	t.Run("concurrent creates consume one quota", func(t *testing.T) {
		s := setup(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, quota := 0, 0
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.CreateBackup(ctx, newBackup("acme", t0.Add(time.Duration(i)*time.Millisecond)), week)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case apperr.Is(err, apperr.QuotaUsed):
					quota++
				default:
					// Transaction conflicts are DynamoDB's answer to a race: also a refusal.
					quota++
				}
			}()
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("%d creates succeeded, %d refused; want exactly one", ok, quota)
		}
		list, _ := s.Backups(ctx, "acme", 10)
		if len(list) != 1 {
			t.Fatalf("%d backups stored", len(list))
		}
	})

	t.Run("failure refunds the quota", func(t *testing.T) {
		s := setup(t)
		first := newBackup("acme", t0.Add(-2*week))
		if err := s.CreateBackup(ctx, first, week); err != nil {
			t.Fatal(err)
		}
		b := newBackup("acme", t0)
		if err := s.CreateBackup(ctx, b, week); err != nil {
			t.Fatal(err)
		}
		b.Status, b.StartedAt = backup.Running, t0.Add(time.Minute)
		if err := s.UpdateBackup(ctx, b, backup.Queued); err != nil {
			t.Fatal(err)
		}
		b.Failure = "boom"
		for range 2 { // idempotent
			if err := s.FailBackup(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := s.Backup(ctx, "acme", b.ID)
		if got.Status != backup.Failed || got.Failure != "boom" {
			t.Fatalf("%+v", got)
		}
		if err := s.CreateBackup(ctx, newBackup("acme", t0.Add(time.Hour)), week); err != nil {
			t.Fatalf("after a refunded failure: %v", err)
		}
		if err := s.CreateBackup(ctx, newBackup("acme", t0.Add(2*time.Hour)), week); !apperr.Is(err, apperr.QuotaUsed) {
			t.Fatalf("the refund gave back more than one backup: %v", err)
		}
	})

	t.Run("a refund restores the previous consumption", func(t *testing.T) {
		// Visible when the window grows (enterprise → professional): the
		// backup before the failed one counts again.
		s := setup(t)
		day := 24 * time.Hour
		if err := s.CreateBackup(ctx, newBackup("acme", t0), day); err != nil {
			t.Fatal(err)
		}
		b := newBackup("acme", t0.Add(25*time.Hour))
		if err := s.CreateBackup(ctx, b, day); err != nil {
			t.Fatal(err)
		}
		if err := s.FailBackup(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateBackup(ctx, newBackup("acme", t0.Add(26*time.Hour)), week); !apperr.Is(err, apperr.QuotaUsed) {
			t.Fatalf("a week after the first backup: %v, want quota exceeded", err)
		}
	})

	t.Run("a completed backup cannot fail", func(t *testing.T) {
		s := setup(t)
		b := newBackup("acme", t0)
		s.CreateBackup(ctx, b, week)
		b.Status = backup.Running
		s.UpdateBackup(ctx, b, backup.Queued)
		b.Status = backup.Completed
		if err := s.UpdateBackup(ctx, b, backup.Running); err != nil {
			t.Fatal(err)
		}
		if err := s.FailBackup(ctx, b); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("failing a completed backup: %v", err)
		}
		if err := s.CreateBackup(ctx, newBackup("acme", t0.Add(time.Hour)), week); !apperr.Is(err, apperr.QuotaUsed) {
			t.Fatalf("quota refunded for a completed backup: %v", err)
		}
	})

	t.Run("conditional updates", func(t *testing.T) {
		s := setup(t)
		b := newBackup("acme", t0)
		s.CreateBackup(ctx, b, week)
		b.Status = backup.Completed
		if err := s.UpdateBackup(ctx, b, backup.Running); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("QUEUED → COMPLETED from RUNNING: %v", err)
		}
		b.Status = backup.Running
		if err := s.UpdateBackup(ctx, b, backup.Queued); err != nil {
			t.Fatal(err)
		}
		if err := s.SetProgress(ctx, "acme", b.ID, "contacts", 1234); err != nil {
			t.Fatal(err)
		}
		if err := s.SetProgress(ctx, "acme", b.ID, "deals", 5); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Backup(ctx, "acme", b.ID)
		if got.Progress["contacts"] != 1234 || got.Progress["deals"] != 5 {
			t.Fatalf("progress %v", got.Progress)
		}
		got.Status, got.CompletedAt, got.ExpiresAt = backup.Completed, t0.Add(time.Hour), t0.Add(time.Hour+backup.Retention)
		got.Key, got.FileName, got.Size, got.SHA256 = "backups/acme/x.zip", "x.zip", 42, "abc"
		got.Objects = []backup.ObjectSummary{{Name: "contacts", File: "contacts.csv", Rows: 1234}, {Name: "deals", Rows: 0}}
		if err := s.UpdateBackup(ctx, got, backup.Running); err != nil {
			t.Fatal(err)
		}
		final, _ := s.Backup(ctx, "acme", b.ID)
		if final.Key != "backups/acme/x.zip" || final.Size != 42 || len(final.Objects) != 2 || final.Objects[0].Rows != 1234 ||
			!final.ExpiresAt.Equal(t0.Add(time.Hour+backup.Retention)) {
			t.Fatalf("%+v", final)
		}
		if err := s.SetProgress(ctx, "acme", b.ID, "contacts", 1); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("progress on a completed backup: %v", err)
		}
	})

	t.Run("list newest first", func(t *testing.T) {
		s := setup(t)
		var ids []string
		for i := range 5 {
			b := newBackup("acme", t0.Add(time.Duration(i)*week))
			if err := s.CreateBackup(ctx, b, week); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, b.ID)
		}
		got, err := s.Backups(ctx, "acme", 3)
		if err != nil || len(got) != 3 || got[0].ID != ids[4] || got[2].ID != ids[2] {
			t.Fatalf("%d backups, %v", len(got), err)
		}
		if other, _ := s.Backups(ctx, "globex", 10); len(other) != 0 {
			t.Fatal("accounts are not isolated")
		}
	})

	t.Run("notifications", func(t *testing.T) {
		s := setup(t)
		// Recent times: notifications carry a TTL, and DynamoDB deletes
		// expired items at any moment.
		recent := time.Now().UTC().Truncate(time.Second)
		for i := range 3 {
			at := recent.Add(time.Duration(i) * time.Minute)
			n := &backup.Notification{AccountID: "acme", ID: backup.NewID(at), CreatedAt: at, Kind: "backup.completed", Subject: fmt.Sprint(i)}
			if err := s.AddNotification(ctx, n); err != nil {
				t.Fatal(err)
			}
			if err := s.AddNotification(ctx, n); err != nil { // a retried notify
				t.Fatal(err)
			}
		}
		got, err := s.Notifications(ctx, "acme", 10)
		if err != nil || len(got) != 3 || got[0].Subject != "2" {
			t.Fatalf("%d notifications, first %+v, %v", len(got), got, err)
		}
	})
}
