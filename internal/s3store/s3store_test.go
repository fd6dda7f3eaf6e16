package s3store_test

import (
	"testing"

	"github.com/crmbackup/crmbackup/internal/backup/backuptest"
	"github.com/crmbackup/crmbackup/internal/s3store"
	"github.com/crmbackup/crmbackup/internal/s3store/s3local"
)

func TestConformance(t *testing.T) {
	for name, backend := range map[string]s3local.Backend{
		"memory": s3local.Memory,
		"disk":   s3local.Disk(t.TempDir()),
	} {
		t.Run(name, func(t *testing.T) {
			srv, err := s3local.Start(backend, "backups")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)
			backuptest.TestBlobs(t, s3store.New(srv.Client(), "backups"))
		})
	}
}
