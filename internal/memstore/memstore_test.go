package memstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/backup/backuptest"
	"github.com/crmbackup/crmbackup/internal/listing"
	"github.com/crmbackup/crmbackup/internal/memstore"
	"github.com/crmbackup/crmbackup/internal/operator/operatortest"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/restore/restoretest"
	"github.com/crmbackup/crmbackup/internal/schedule/scheduletest"
)

// The conformance suites the DynamoDB adapter passes (internal/dynamo).

func TestBackupStore(t *testing.T) {
	backuptest.TestStore(t, func(t *testing.T) backuptest.Store { return memstore.New() })
}

func TestRestoreStore(t *testing.T) {
	restoretest.TestStore(t, func(t *testing.T) restoretest.Store { return memstore.New() })
}

func TestScheduleStore(t *testing.T) {
	scheduletest.TestStore(t, func(t *testing.T) scheduletest.Store { return memstore.New() })
}

func entry(b *backup.Backup) *audit.Entry {
	return audit.New(b.AccountID, backup.NewID(b.CreatedAt), b.CreatedAt, audit.Actor{Subject: "u"}, audit.BackupCreated, audit.Succeeded, nil)
}

// TestIsolation: what a caller passed in or got back is its own copy;
// changing it, maps and slices included, changes nothing in the store.
func TestIsolation(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	now := time.Now().UTC()

	t.Run("backups", func(t *testing.T) {
		b := &backup.Backup{AccountID: "acme", ID: backup.NewID(now), Status: backup.Queued, CreatedAt: now,
			Progress: map[string]int64{"contacts": 1}, Objects: []backup.ObjectSummary{{Name: "contacts", Rows: 1}}, Key: "backups/acme/x.zip"}
		if err := s.CreateBackup(ctx, b, time.Hour, entry(b)); err != nil {
			t.Fatal(err)
		}
		b.Progress["contacts"], b.Objects[0].Rows, b.Status = 99, 99, backup.Failed
		check := func(what string) {
			t.Helper()
			got, err := s.Backup(ctx, "acme", b.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Progress["contacts"] != 1 || got.Objects[0].Rows != 1 || got.Status != backup.Queued || got.Key != "backups/acme/x.zip" {
				t.Fatalf("the stored backup changed with %s: %+v", what, got)
			}
		}
		check("the one created")
		got, _ := s.Backup(ctx, "acme", b.ID)
		got.Progress["contacts"], got.Objects[0].Rows = 7, 7
		check("one read back")
		page, _ := s.Backups(ctx, "acme", listing.Query{})
		list := page.Items
		list[0].Progress["contacts"], list[0].Objects[0].Rows = 7, 7
		check("one listed")

		u, _ := s.Backup(ctx, "acme", b.ID)
		if err := s.UpdateBackup(ctx, u, backup.Queued); err != nil {
			t.Fatal(err)
		}
		u.Progress["contacts"], u.Objects[0].Rows, u.Status = 7, 7, backup.Failed
		check("the one updated")
	})

	t.Run("accounts and notifications", func(t *testing.T) {
		a := &backup.Account{ID: "acme", Name: "Acme", Tier: backup.Enterprise}
		if err := s.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		a.Name = "changed"
		got, _ := s.Account(ctx, "acme")
		got.Tier = backup.Starter
		if again, _ := s.Account(ctx, "acme"); again.Name != "Acme" || again.Tier != backup.Enterprise {
			t.Fatalf("account %+v", again)
		}
		n := &backup.Notification{AccountID: "acme", ID: backup.NewID(now), CreatedAt: now, Subject: "s"}
		if _, err := s.AddNotification(ctx, n); err != nil {
			t.Fatal(err)
		}
		n.Subject = "changed"
		ns, _ := s.Notifications(ctx, "acme", listing.Query{})
		ns.Items[0].Subject = "changed"
		if again, _ := s.Notifications(ctx, "acme", listing.Query{}); again.Items[0].Subject != "s" {
			t.Fatalf("notification %+v", again.Items[0])
		}
	})

	t.Run("plans, imports, audit", func(t *testing.T) {
		p := &restore.Plan{AccountID: "acme", ID: backup.NewID(now), Properties: []string{"amount"},
			Excluded: []restore.Excluded{{Name: "x", Reason: "read-only"}}, Status: restore.Planning, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreatePlan(ctx, p, audit.New("acme", backup.NewID(now), now, audit.Actor{}, audit.RestorePlanned, audit.Succeeded, nil)); err != nil {
			t.Fatal(err)
		}
		p.Properties[0], p.Excluded[0].Name = "changed", "changed"
		p.Status = restore.Ready
		p.Tally = &restore.Tally{Properties: map[string]restore.Counts{"amount": {Set: 1}}, Samples: []restore.Sample{{RecordID: "1"}}}
		if err := s.UpdatePlan(ctx, p, restore.Planning); err != nil {
			t.Fatal(err)
		}
		p.Tally.Properties["amount"], p.Tally.Samples[0].RecordID, p.Tally.Values.Set = restore.Counts{Set: 9}, "9", 9
		got, _ := s.Plan(ctx, "acme", p.ID)
		got.Properties[0], got.Excluded[0].Name, got.Tally.Samples[0].RecordID = "mine", "mine", "mine"
		got.Tally.Properties["amount"] = restore.Counts{Set: 8}
		pl, _ := s.Plan(ctx, "acme", p.ID)
		if pl.Properties[0] != "changed" || pl.Excluded[0].Name != "changed" || pl.Tally.Properties["amount"].Set != 1 ||
			pl.Tally.Samples[0].RecordID != "1" || pl.Tally.Values.Set != 0 {
			t.Fatalf("plan %+v, tally %+v", pl, pl.Tally)
		}

		im := &restore.Import{AccountID: "acme", ID: backup.NewID(now), PlanID: p.ID, Properties: []string{"amount"},
			Status: restore.ImportRunning, StartedAt: now, Tally: &restore.Tally{Properties: map[string]restore.Counts{"amount": {Set: 1}}}}
		started := audit.New("acme", backup.NewID(now), now, audit.Actor{}, audit.RestoreStarted, audit.Succeeded,
			map[string]any{"importId": im.ID, "properties": []string{"amount"}, "nested": map[string]any{"k": "v"}})
		if err := s.StartImport(ctx, im, restore.Lock{ImportID: im.ID, Until: now.Add(time.Hour)}, started); err != nil {
			t.Fatal(err)
		}
		im.Properties[0], im.Tally.Properties["amount"] = "changed", restore.Counts{Set: 9}
		started.Details["importId"] = "changed"
		started.Details["properties"].([]string)[0] = "changed"
		started.Details["nested"].(map[string]any)["k"] = "changed"
		gi, _ := s.Import(ctx, "acme", im.ID)
		gi.Properties[0], gi.Tally.Properties["amount"] = "mine", restore.Counts{Set: 8}
		li, _ := s.Imports(ctx, "acme", listing.Query{})
		li.Items[0].Properties[0] = "mine"
		if again, _ := s.Import(ctx, "acme", im.ID); again.Properties[0] != "amount" || again.Tally.Properties["amount"].Set != 1 {
			t.Fatalf("import %+v", again)
		}
		entries, _ := s.AuditLog(ctx, "acme", audit.Query{Action: audit.RestoreStarted})
		entries.Items[0].Details["importId"] = "mine"
		entries.Items[0].Details["properties"].([]any)[0] = "mine"
		entries.Items[0].Details["nested"].(map[string]any)["k"] = "mine"
		entries, _ = s.AuditLog(ctx, "acme", audit.Query{Action: audit.RestoreStarted})
		d := entries.Items[0].Details
		if d["importId"] != im.ID || d["properties"].([]any)[0] != "amount" || d["nested"].(map[string]any)["k"] != "v" {
			t.Fatalf("audit details %v", d)
		}
		l, _ := s.RestoreLock(ctx, "acme")
		l.ImportID = "mine"
		if again, _ := s.RestoreLock(ctx, "acme"); again.ImportID != im.ID {
			t.Fatalf("lock %+v", again)
		}

		f, _ := s.Import(ctx, "acme", im.ID)
		f.Status = restore.ImportCompleted
		if err := s.FinishImport(ctx, f, audit.New("acme", backup.NewID(now.Add(time.Second)), now.Add(time.Second), audit.Actor{}, audit.RestoreCompleted, audit.Succeeded, nil)); err != nil {
			t.Fatal(err)
		}
		f.Properties[0], f.Tally.Properties["amount"] = "changed", restore.Counts{Set: 9}
		if again, _ := s.Import(ctx, "acme", im.ID); again.Properties[0] != "amount" || again.Tally.Properties["amount"].Set != 1 {
			t.Fatalf("finished import %+v", again)
		}
	})
}

// TestTimes: times come back in UTC, to the nanosecond, as from DynamoDB.
func TestTimes(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	at := time.Date(2026, 3, 1, 13, 0, 0, 123456789, time.FixedZone("CET", 3600))
	b := &backup.Backup{AccountID: "acme", ID: backup.NewID(at), Status: backup.Queued, CreatedAt: at}
	if err := s.CreateBackup(ctx, b, time.Hour, entry(b)); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Backup(ctx, "acme", b.ID)
	if got.CreatedAt != at.UTC() || !got.StartedAt.IsZero() || got.Progress == nil {
		t.Fatalf("created %v, started %v, progress %v", got.CreatedAt, got.StartedAt, got.Progress)
	}
}

// TestBeyondTheSuites pins two behaviours of the DynamoDB adapter that the
// conformance suites do not catch: a failure refunds the quota only if its
// backup still holds it, and a notification's second add changes nothing.
func TestBeyondTheSuites(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const week = 7 * 24 * time.Hour

	t.Run("no refund once another backup holds the quota", func(t *testing.T) {
		s := memstore.New()
		old := &backup.Backup{AccountID: "acme", ID: backup.NewID(t0), Status: backup.Queued, CreatedAt: t0}
		if err := s.CreateBackup(ctx, old, week, entry(old)); err != nil {
			t.Fatal(err)
		}
		cur := &backup.Backup{AccountID: "acme", ID: backup.NewID(t0.Add(week)), Status: backup.Queued, CreatedAt: t0.Add(week)}
		if err := s.CreateBackup(ctx, cur, week, entry(cur)); err != nil {
			t.Fatal(err)
		}
		if err := s.FailBackup(ctx, old); err != nil { // a stale QUEUED backup failing late
			t.Fatal(err)
		}
		next := &backup.Backup{AccountID: "acme", ID: backup.NewID(t0.Add(week + time.Hour)), Status: backup.Queued, CreatedAt: t0.Add(week + time.Hour)}
		if err := s.CreateBackup(ctx, next, week, entry(next)); !apperr.Is(err, apperr.QuotaUsed) {
			t.Fatalf("the old backup's failure refunded the current one's quota: %v", err)
		}
	})

	t.Run("a notification is added once", func(t *testing.T) {
		s := memstore.New()
		n := &backup.Notification{AccountID: "acme", ID: backup.NewID(t0), CreatedAt: t0, Subject: "first"}
		if _, err := s.AddNotification(ctx, n); err != nil {
			t.Fatal(err)
		}
		n.Subject = "second"
		if _, err := s.AddNotification(ctx, n); err != nil {
			t.Fatal(err)
		}
		if ns, _ := s.Notifications(ctx, "acme", listing.Query{}); len(ns.Items) != 1 || ns.Items[0].Subject != "first" {
			t.Fatalf("%+v", ns)
		}
	})
}

func TestAccountStore(t *testing.T) {
	operatortest.TestStore(t, func(t *testing.T) operatortest.Store { return memstore.New() })
}
