package backuptest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/listing"
)

// Store is what the suite tests: the backup domain's store, the inbox of
// notifications and the audit log's reader (one adapter implements all).
type Store interface {
	backup.Store
	backup.Inbox
	audit.Log
}

// TestStore runs the Store conformance suite; newStore returns an empty store.
func TestStore(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const week = 7 * 24 * time.Hour
	created := func(b *backup.Backup) *audit.Entry {
		return audit.New(b.AccountID, backup.NewID(b.CreatedAt), b.CreatedAt, audit.Actor{Subject: b.RequestedBy, IP: "192.0.2.1", UserAgent: "suite"},
			audit.BackupCreated, audit.Succeeded, map[string]any{"backupId": b.ID})
	}
	create := func(s Store, b *backup.Backup, window time.Duration) error {
		return s.CreateBackup(ctx, b, window, created(b))
	}
	setup := func(t *testing.T) Store {
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
		if err := create(s, b, week); err != nil {
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
		if err := create(s, newBackup("acme", t0), week); err != nil {
			t.Fatal(err)
		}
		err := create(s, newBackup("acme", t0.Add(week-time.Second)), week)
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
		if err := create(s, newBackup("globex", t0), 24*time.Hour); err != nil {
			t.Fatalf("another account's quota: %v", err)
		}
		if err := create(s, newBackup("acme", t0.Add(week)), week); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})

	t.Run("duplicate id", func(t *testing.T) {
		s := setup(t)
		b := newBackup("acme", t0)
		if err := create(s, b, time.Nanosecond); err != nil {
			t.Fatal(err)
		}
		c := *b
		c.CreatedAt = t0.Add(time.Hour)
		if err := create(s, &c, time.Nanosecond); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("same id again: %v, want conflict", err)
		}
	})

	t.Run("concurrent creates consume one quota", func(t *testing.T) {
		s := setup(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, quota := 0, 0
		for i := range 50 { // the reliability report's race: 50 creates, one wins
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := create(s, newBackup("acme", t0.Add(time.Duration(i)*time.Millisecond)), week)
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
		list, _ := s.Backups(ctx, "acme", listing.Query{})
		if len(list.Items) != 1 {
			t.Fatalf("%d backups stored", len(list.Items))
		}
	})

	t.Run("failure refunds the quota", func(t *testing.T) {
		s := setup(t)
		first := newBackup("acme", t0.Add(-2*week))
		if err := create(s, first, week); err != nil {
			t.Fatal(err)
		}
		b := newBackup("acme", t0)
		if err := create(s, b, week); err != nil {
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
		if err := create(s, newBackup("acme", t0.Add(time.Hour)), week); err != nil {
			t.Fatalf("after a refunded failure: %v", err)
		}
		if err := create(s, newBackup("acme", t0.Add(2*time.Hour)), week); !apperr.Is(err, apperr.QuotaUsed) {
			t.Fatalf("the refund gave back more than one backup: %v", err)
		}
	})

	t.Run("a refund restores the previous consumption", func(t *testing.T) {
		// Visible when the window grows (enterprise → professional): the
		// backup before the failed one counts again.
		s := setup(t)
		day := 24 * time.Hour
		if err := create(s, newBackup("acme", t0), day); err != nil {
			t.Fatal(err)
		}
		b := newBackup("acme", t0.Add(25*time.Hour))
		if err := create(s, b, day); err != nil {
			t.Fatal(err)
		}
		if err := s.FailBackup(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := create(s, newBackup("acme", t0.Add(26*time.Hour)), week); !apperr.Is(err, apperr.QuotaUsed) {
			t.Fatalf("a week after the first backup: %v, want quota exceeded", err)
		}
	})

	t.Run("a completed backup cannot fail", func(t *testing.T) {
		s := setup(t)
		b := newBackup("acme", t0)
		create(s, b, week)
		b.Status = backup.Running
		s.UpdateBackup(ctx, b, backup.Queued)
		b.Status = backup.Completed
		if err := s.UpdateBackup(ctx, b, backup.Running); err != nil {
			t.Fatal(err)
		}
		if err := s.FailBackup(ctx, b); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("failing a completed backup: %v", err)
		}
		if err := create(s, newBackup("acme", t0.Add(time.Hour)), week); !apperr.Is(err, apperr.QuotaUsed) {
			t.Fatalf("quota refunded for a completed backup: %v", err)
		}
	})

	t.Run("conditional updates", func(t *testing.T) {
		s := setup(t)
		b := newBackup("acme", t0)
		create(s, b, week)
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
			if err := create(s, b, week); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, b.ID)
		}
		got, err := s.Backups(ctx, "acme", listing.Query{Limit: 3})
		if err != nil || len(got.Items) != 3 || got.Items[0].ID != ids[4] || got.Items[2].ID != ids[2] || got.Next != ids[2] {
			t.Fatalf("%d backups, next %q, %v", len(got.Items), got.Next, err)
		}
		rest, err := s.Backups(ctx, "acme", listing.Query{Limit: 3, After: got.Next})
		if err != nil || len(rest.Items) != 2 || rest.Items[0].ID != ids[1] || rest.Next != "" {
			t.Fatalf("second page: %d backups, next %q, %v", len(rest.Items), rest.Next, err)
		}
		if other, _ := s.Backups(ctx, "globex", listing.Query{}); len(other.Items) != 0 {
			t.Fatal("accounts are not isolated")
		}
	})

	t.Run("a duplicate id is a conflict even when the quota is used", func(t *testing.T) {
		s := setup(t)
		b := newBackup("acme", t0)
		if err := create(s, b, week); err != nil {
			t.Fatal(err)
		}
		again := *b
		again.CreatedAt = t0.Add(time.Minute)
		if err := create(s, &again, week); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("the same backup again: %v, want a conflict (a scheduled run delivered twice is not a quota refusal)", err)
		}
	})

	t.Run("the audit entry is written with the backup, not without it", func(t *testing.T) {
		s := setup(t)
		b := newBackup("acme", t0)
		if err := create(s, b, week); err != nil {
			t.Fatal(err)
		}
		refused := newBackup("acme", t0.Add(time.Hour))
		if err := create(s, refused, week); !apperr.Is(err, apperr.QuotaUsed) {
			t.Fatal(err)
		}
		log, err := s.AuditLog(ctx, "acme", audit.Query{})
		if err != nil || len(log.Items) != 1 {
			t.Fatalf("%d entries, %v: want the created backup's only", len(log.Items), err)
		}
		e := log.Items[0]
		if e.Action != audit.BackupCreated || e.Details["backupId"] != b.ID || e.IP != "192.0.2.1" || e.UserAgent != "suite" || e.Actor != "u1" || !e.At.Equal(t0) {
			t.Fatalf("%+v", e)
		}
	})

	t.Run("audit entries: once per id, by action, by time", func(t *testing.T) {
		s := setup(t)
		actions := []string{audit.BackupCreated, audit.BackupDownloaded, audit.ScheduleUpdated}
		for i := range 30 {
			at := t0.Add(time.Duration(i) * time.Hour)
			e := audit.New("acme", backup.NewID(at), at, audit.Actor{Subject: "u1"}, actions[i%3], audit.Succeeded, map[string]any{"i": i})
			for range 2 { // a retried write adds nothing
				if err := s.AddAudit(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
		}
		all, err := s.AuditLog(ctx, "acme", audit.Query{Query: listing.Query{Limit: 100}})
		if err != nil || len(all.Items) != 30 || all.Next != "" {
			t.Fatalf("%d entries, next %q, %v", len(all.Items), all.Next, err)
		}
		downloads, err := s.AuditLog(ctx, "acme", audit.Query{Action: audit.BackupDownloaded, Query: listing.Query{Limit: 4}})
		if err != nil || len(downloads.Items) != 4 || downloads.Next == "" {
			t.Fatalf("%d downloads, next %q, %v", len(downloads.Items), downloads.Next, err)
		}
		for _, e := range downloads.Items {
			if e.Action != audit.BackupDownloaded {
				t.Fatalf("filter let %s through", e.Action)
			}
		}
		more, err := s.AuditLog(ctx, "acme", audit.Query{Action: audit.BackupDownloaded, Query: listing.Query{Limit: 100, After: downloads.Next}})
		if err != nil || len(more.Items) != 6 {
			t.Fatalf("the rest of the downloads: %d, %v", len(more.Items), err)
		}
		// Hours 10 to 19 inclusive.
		window, err := s.AuditLog(ctx, "acme", audit.Query{Query: listing.Query{Limit: 100, Oldest: true,
			From: t0.Add(10 * time.Hour), To: t0.Add(20 * time.Hour)}})
		if err != nil || len(window.Items) != 10 || !window.Items[0].At.Equal(t0.Add(10*time.Hour)) || !window.Items[9].At.Equal(t0.Add(19*time.Hour)) {
			t.Fatalf("%d entries in the window, %v", len(window.Items), err)
		}
		if got := window.Items[0].Details["i"]; got != float64(10) {
			t.Fatalf("details come back as JSON values: %#v", got)
		}
		if _, err := s.AuditLog(ctx, "acme", audit.Query{Query: listing.Query{After: "not-a-ulid"}}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("a position that is not a key: %v", err)
		}
	})

	t.Run("paging 250 items both ways: no gaps, no repeats", func(t *testing.T) {
		s := setup(t)
		var want []string
		recent := time.Now().UTC().Add(-time.Hour)
		for i := range 250 {
			at := recent.Add(time.Duration(i) * time.Second)
			id := backup.NewID(at)
			if _, err := s.AddNotification(ctx, &backup.Notification{AccountID: "acme", ID: id, CreatedAt: at, Kind: "backup.completed"}); err != nil {
				t.Fatal(err)
			}
			want = append(want, id)
		}
		for _, oldest := range []bool{true, false} {
			var got []string
			q := listing.Query{Limit: 37, Oldest: oldest}
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("paging does not end")
				}
				p, err := s.Notifications(ctx, "acme", q)
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range p.Items {
					got = append(got, n.ID)
				}
				if p.Next == "" {
					break
				}
				q.After = p.Next
			}
			exp := slices.Clone(want)
			if !oldest {
				slices.Reverse(exp)
			}
			if !slices.Equal(got, exp) {
				t.Fatalf("oldest=%v: %d ids, want the 250 in order", oldest, len(got))
			}
		}
	})

	t.Run("notifications: read, unread, all read", func(t *testing.T) {
		s := setup(t)
		// Recent times: notifications carry a TTL, and DynamoDB deletes
		// expired items at any moment.
		recent := time.Now().UTC().Truncate(time.Second)
		var ids []string
		for i := range 3 {
			at := recent.Add(time.Duration(i) * time.Minute)
			n := &backup.Notification{AccountID: "acme", ID: backup.NewID(at), CreatedAt: at, Kind: "backup.completed", Subject: fmt.Sprint(i)}
			if published, err := s.AddNotification(ctx, n); err != nil || published {
				t.Fatal(published, err)
			}
			if i == 0 { // sent
				if err := s.MarkPublished(ctx, "acme", n.ID, at); err != nil {
					t.Fatal(err)
				}
			}
			// A retried notify: the first is not sent again, the others are.
			if published, err := s.AddNotification(ctx, n); err != nil || published != (i == 0) {
				t.Fatal(published, err)
			}
			ids = append(ids, n.ID)
		}
		got, err := s.Notifications(ctx, "acme", listing.Query{})
		if err != nil || len(got.Items) != 3 || got.Items[0].Subject != "2" || !got.Items[0].ReadAt.IsZero() {
			t.Fatalf("%d notifications, %v", len(got.Items), err)
		}
		if n, err := s.UnreadCount(ctx, "acme"); err != nil || n != 3 {
			t.Fatalf("unread %d, %v", n, err)
		}
		readAt := recent.Add(time.Hour)
		if err := s.MarkRead(ctx, "acme", ids[0], readAt); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRead(ctx, "acme", ids[0], readAt.Add(time.Hour)); err != nil {
			t.Fatal(err) // again: keeps the first time
		}
		if err := s.MarkRead(ctx, "globex", ids[0], readAt); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another account's notification: %v", err)
		}
		if err := s.MarkRead(ctx, "acme", backup.NewID(recent), readAt); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("an unknown notification: %v", err)
		}
		if n, _ := s.UnreadCount(ctx, "acme"); n != 2 {
			t.Fatalf("unread %d after one read", n)
		}
		got, _ = s.Notifications(ctx, "acme", listing.Query{Oldest: true})
		if !got.Items[0].ReadAt.Equal(readAt) || !got.Items[1].ReadAt.IsZero() {
			t.Fatalf("read times %v %v", got.Items[0].ReadAt, got.Items[1].ReadAt)
		}
		if n, err := s.MarkAllRead(ctx, "acme", readAt); err != nil || n != 2 {
			t.Fatalf("marked %d, %v", n, err)
		}
		if n, _ := s.UnreadCount(ctx, "acme"); n != 0 {
			t.Fatalf("unread %d after all read", n)
		}
		if n, _ := s.MarkAllRead(ctx, "acme", readAt); n != 0 {
			t.Fatalf("marked %d again", n)
		}
	})
}
