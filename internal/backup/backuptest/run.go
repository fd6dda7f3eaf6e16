package backuptest

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/backup"
)

// Run drives a queued backup through the workflow's steps as the state
// machine does — discover, each object's export loop to its end, zip,
// finalize, notify — and returns the finalized backup.
func Run(tb testing.TB, svc *backup.Service, accountID, id string) *backup.Backup {
	tb.Helper()
	ctx := context.Background()
	in := backup.StepInput{AccountID: accountID, BackupID: id}
	disc, err := svc.Discover(ctx, in)
	if err != nil {
		tb.Fatal(err)
	}
	zin := backup.ZipInput{StepInput: in}
	for _, obj := range disc.Objects {
		cp := ExportAll(tb, svc, backup.ExportInput{StepInput: in, Object: obj})
		zin.Exports = append(zin.Exports, backup.ExportResult{Object: obj, Checkpoint: cp})
	}
	z, err := svc.Zip(ctx, zin)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := svc.Finalize(ctx, backup.FinalizeInput{StepInput: in, Zip: z})
	if err != nil {
		tb.Fatal(err)
	}
	if err := svc.Notify(ctx, backup.NotifyInput{StepInput: in}); err != nil {
		tb.Fatal(err)
	}
	return b
}

// ExportAll runs an object's export loop to its end.
func ExportAll(tb testing.TB, svc *backup.Service, in backup.ExportInput) backup.Checkpoint {
	tb.Helper()
	for range 100000 {
		out, err := svc.Export(context.Background(), in, time.Now().Add(time.Minute))
		if err != nil {
			tb.Fatal(err)
		}
		if out.Checkpoint.Done {
			return out.Checkpoint
		}
		in = *out
	}
	tb.Fatal("export loop does not end")
	return backup.Checkpoint{}
}

// PeakRSSKiB is this process's peak resident set (VmHWM), in KiB: for
// benchmarks that run a step in a child process of their own.
func PeakRSSKiB(tb testing.TB) int {
	tb.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status)
	if m == nil {
		tb.Fatal("no VmHWM in /proc/self/status")
	}
	kib, _ := strconv.Atoi(string(m[1]))
	return kib
}
