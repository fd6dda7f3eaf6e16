package memstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/backup/backuptest"
	"github.com/crmbackup/crmbackup/internal/memstore"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/restore/restoretest"
)

func TestBackupStore(t *testing.T) {
	backuptest.TestStore(t, func(t *testing.T) backup.Store { return memstore.New() })
}

func TestRestoreStore(t *testing.T) {
	restoretest.TestStore(t, func(t *testing.T) restore.Store { return memstore.New() })
}

// TestIsolation: what a caller stored or got back is its own copy.
func TestIsolation(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	if err := s.PutAccount(ctx, &backup.Account{ID: "acme", Tier: backup.Enterprise}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	b := &backup.Backup{AccountID: "acme", ID: backup.NewID(now), Status: backup.Running, CreatedAt: now,
		Progress: map[string]int64{"contacts": 1}, Objects: []backup.ObjectSummary{{Name: "contacts", Rows: 1}}, Key: "backups/acme/x.zip"}
	if err := s.CreateBackup(ctx, b, time.Hour); err != nil {
		t.Fatal(err)
	}
	b.Progress["contacts"], b.Objects[0].Rows, b.Status = 99, 99, backup.Failed
	got, err := s.Backup(ctx, "acme", b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Progress["contacts"] != 1 || got.Objects[0].Rows != 1 || got.Status != backup.Running || got.Key != "backups/acme/x.zip" {
		t.Fatalf("the stored backup changed with the caller's: %+v", got)
	}
	got.Progress["contacts"], got.Objects[0].Rows = 7, 7
	again, _ := s.Backup(ctx, "acme", b.ID)
	if again.Progress["contacts"] != 1 || again.Objects[0].Rows != 1 {
		t.Fatalf("the stored backup changed with a returned one: %+v", again)
	}
}
