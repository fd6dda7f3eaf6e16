package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/localstack"
)

// runDemo is the main job on one machine: the local stack with a seeded
// emulator, a backup asked for through the HTTP API as a super admin,
// progress, the download through the presigned URL, verification of the
// ZIP against its manifest and the emulator's own counts, and then a
// restore of deal properties after the CRM changed (restoreDemo).
func runDemo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flags("demo")
	var (
		dir     = fs.String("dir", ".local/demo", "the stack's data (S3 files, DynamoDB); cleared at start so each demo starts fresh")
		out     = fs.String("out", "backups", "folder the downloaded ZIP is saved in")
		logFile = fs.String("log", "", "the stack's JSON logs (default DIR/stack.log; - for stderr)")
		stack   = addStackFlags(fs)
	)
	unlock, err := begin("demo", fs, args, stack, dir)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.RemoveAll(*dir); err != nil {
		return fmt.Errorf("clear %s: %w", *dir, err)
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	if *logFile == "" {
		*logFile = filepath.Join(*dir, "stack.log")
	}
	log, closeLog, err := logger(*logFile)
	if err != nil {
		return err
	}
	defer closeLog()

	cfg, real, err := stack.config(*dir, log)
	if err != nil {
		return err
	}
	step(stdout, "Starting the local stack (DynamoDB Local, S3 stand-in on disk, Step Functions runner, API)")
	fmt.Fprintf(stdout, "   HubSpot: %s\n", stack.describe(real))
	started := time.Now()
	st, err := localstack.Start(ctx, cfg)
	if err != nil {
		return fmt.Errorf("start the local stack: %w", err)
	}
	defer func() {
		st.Close()
		fmt.Fprintln(stdout, "Stopped everything the demo started.")
	}()
	fmt.Fprintf(stdout, "   up in %.1fs: API %s · logs %s\n", time.Since(started).Seconds(), st.APIURL, *logFile)

	token, err := st.Token("admin@acme.example", auth.SuperAdminRole, false)
	if err != nil {
		return err
	}
	c := newAPIClient(st.APIURL, token)

	step(stdout, "POST /v1/backups as a super admin of account acme")
	b, err := c.createBackup(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "   202 Accepted: backup %s is %s\n", b.ID, b.Status)

	step(stdout, "Waiting for it (GET /v1/backups/"+b.ID+")")
	var expected map[string]int
	if st.Emulator != nil {
		expected = st.Emulator.Counts()
	}
	b, err = waitForBackup(ctx, c, b.ID, expected, stdout)
	if err != nil {
		return err
	}
	if b.Status != backup.Completed {
		return fmt.Errorf("backup %s %s: %s", b.ID, b.Status, b.Failure)
	}
	fmt.Fprintf(stdout, "   COMPLETED in %s: %s, %s, link valid until %s\n",
		b.CompletedAt.Sub(b.CreatedAt).Round(100*time.Millisecond), b.FileName, size(b.Size), b.ExpiresAt.Local().Format("2006-01-02 15:04"))

	step(stdout, "Downloading it (GET "+b.DownloadURL+" → 302 to a presigned URL)")
	path, err := c.download(ctx, b, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "   saved %s\n", path)

	step(stdout, "Verifying the ZIP against its manifest and the CRM's own counts")
	rep, err := verifyFile(path)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if !printReport(stdout, rep, expected) {
		return errors.New("the backup does not verify")
	}
	fmt.Fprintf(stdout, "\nEvery file matches the manifest (size, SHA-256, rows)")
	if expected != nil {
		fmt.Fprintf(stdout, " and every object holds as many records as the CRM")
	}
	fmt.Fprintf(stdout, ".\nOpen it with any ZIP tool: unzip -l %s\n", path)
	if real {
		fmt.Fprintf(stdout, "\nThe restore part of the demo was skipped: it writes into the CRM, and runs against the emulator only (portal %d was only read).\n", rep.Manifest.PortalID)
		next(stdout)
		return nil
	}
	if err := restoreDemo(ctx, st, c, b, path, rep, stdout); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintln(stdout)
	next(stdout)
	return nil
}

// next says where to go from the demo.
func next(w io.Writer) {
	fmt.Fprintf(w, "Next: `make local` runs the stack until Ctrl-C and prints the admin console's link and the %s commands\n"+
		"that drive it; the README's \"Deploy to AWS\" goes from `make deploy` to a first backup and restore.\n", self())
}

// stallLimit is how long a wait goes on without progress before it gives
// up with an error.
const stallLimit = 10 * time.Minute

// waitForBackup polls until the backup ends, printing its progress.
func waitForBackup(ctx context.Context, c *apiClient, id string, expected map[string]int, w io.Writer) (*backupView, error) {
	var total int
	for _, n := range expected {
		total += n
	}
	last, moved := "", time.Now()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		b, err := c.backup(ctx, id)
		if err != nil {
			return nil, err
		}
		if b.Status == backup.Completed || b.Status == backup.Failed {
			return b, nil
		}
		if line := progressLine(b, total); line != last {
			fmt.Fprintln(w, "   "+line)
			last, moved = line, time.Now()
		}
		if time.Since(moved) > stallLimit {
			return nil, fmt.Errorf("backup %s made no progress for %s (%s): the stack's log says why", id, stallLimit, b.Status)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

func progressLine(b *backupView, total int) string {
	var done int64
	names := make([]string, 0, len(b.Progress))
	for name, n := range b.Progress {
		done += n
		names = append(names, name)
	}
	slices.Sort(names)
	parts := make([]string, 0, len(names))
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s %d", name, b.Progress[name]))
	}
	line := fmt.Sprintf("%-9s %d records exported", b.Status, done)
	if total > 0 {
		line += fmt.Sprintf(" of %d (%d%%)", total, min(100, int(done)*100/max(total, 1)))
	}
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	return line
}

func step(w io.Writer, s string) { fmt.Fprintln(w, "\n▸ "+s) }

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
