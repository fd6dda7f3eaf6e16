package backup_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/backup/backuptest"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/memstore"
	"github.com/crmbackup/crmbackup/internal/s3store"
	"github.com/crmbackup/crmbackup/internal/s3store/s3local"
	"github.com/crmbackup/crmbackup/internal/testenv"
)

// These tests run the backup flow on the real adapters and their local
// stand-ins — the CRM emulator over HTTP and the S3 stand-in — with the
// metadata store in memory (the DynamoDB adapter passes the same store
// suite in its own package): Go alone runs them.

// runner records started backups; the tests drive the steps themselves.
type runner struct{ started []string }

func (r *runner) StartBackup(_ context.Context, _, id string) error {
	r.started = append(r.started, id)
	return nil
}

type env struct {
	svc    *backup.Service
	emu    *emulator.Server
	crm    *hubspot.Client
	blobs  *s3store.Store
	runner *runner
	now    *time.Time
	s3URL  string
	s3Keys s3local.Keys
	store  testenv.Store
	table  string // DynamoDB's, when the store is
	// exportTime adds up the export phases run by steps (benchmarks).
	exportTime time.Duration
}

func newEnv(t testing.TB, opts emulator.Options, tier backup.Tier) *env {
	t.Helper()
	return newEnvOn(t, memstore.New(), opts, tier)
}

// newEnvOn is newEnv on a store of the caller's.
func newEnvOn(t testing.TB, store testenv.Store, opts emulator.Options, tier backup.Tier) *env {
	t.Helper()
	st := testenv.NewStackOn(t, store, opts, tier)
	emu, crm := st.Emulator, st.CRM
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	e := &env{emu: emu, crm: crm, blobs: st.Blobs, runner: &runner{}, now: &now, s3URL: st.S3URL, s3Keys: st.S3Keys, store: store}
	e.svc = &backup.Service{
		Store: store, Blobs: e.blobs, CRMs: testenv.StaticCRM{C: crm}, Runner: e.runner,
		Now: func() time.Time { return *e.now },
	}
	return e
}

func (e *env) run(t testing.TB, id string) *backup.Backup {
	t.Helper()
	return backuptest.Run(t, e.svc, "acme", id)
}

func (e *env) exportAll(t testing.TB, in backup.ExportInput) backup.Checkpoint {
	t.Helper()
	return backuptest.ExportAll(t, e.svc, in)
}

// discovered creates a backup and runs its discovery step; the tests run
// the other steps themselves.
func (e *env) discovered(t testing.TB) (backup.StepInput, []string) {
	t.Helper()
	b, err := e.svc.Create(context.Background(), "acme", audit.Actor{Subject: "u"})
	if err != nil {
		t.Fatal(err)
	}
	in := backup.StepInput{AccountID: "acme", BackupID: b.ID}
	disc, err := e.svc.Discover(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return in, disc.Objects
}

// download reads a completed backup's ZIP from the blob store.
func (e *env) download(t testing.TB, b *backup.Backup) []byte {
	t.Helper()
	rc, err := e.blobs.Get(context.Background(), b.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// backedUp runs a manual backup to its end and returns its ZIP.
func (e *env) backedUp(t testing.TB) []byte {
	t.Helper()
	b, err := e.svc.Create(context.Background(), "acme", audit.Actor{Subject: "u"})
	if err != nil {
		t.Fatal(err)
	}
	return e.download(t, e.run(t, b.ID))
}

// zipped runs the zip and finalize steps and returns the ZIP.
func (e *env) zipped(t testing.TB, zin backup.ZipInput) []byte {
	t.Helper()
	ctx := context.Background()
	z, err := e.svc.Zip(ctx, zin)
	if err != nil {
		t.Fatal(err)
	}
	done, err := e.svc.Finalize(ctx, backup.FinalizeInput{StepInput: zin.StepInput, Zip: z})
	if err != nil {
		t.Fatal(err)
	}
	return e.download(t, done)
}

// fileIn returns a file of a ZIP.
func fileIn(t testing.TB, data []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// csvIn returns the records of a file of a backup ZIP (nil if it has none).
func csvIn(t testing.TB, data []byte, name string) [][]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			rows, err := csv.NewReader(rc).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			return rows
		}
	}
	return nil
}

func TestBackupEndToEnd(t *testing.T) {
	sizes := map[string]int{"contacts": 450, "companies": 120, "deals": 0, "tickets": 37, "vehicles": 15, "conversations": 60}
	e := newEnv(t, emulator.Options{Seed: 5, Sizes: sizes}, backup.Professional)
	ctx := context.Background()
	b, err := e.svc.Create(ctx, "acme", audit.Actor{Subject: "admin@acme.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.runner.started) != 1 || e.runner.started[0] != b.ID || b.Status != backup.Queued {
		t.Fatalf("created %+v, started %v", b, e.runner.started)
	}
	done := e.run(t, b.ID)
	if done.Status != backup.Completed || done.FileName != fmt.Sprintf("crm-backup-%d-20261102T100000Z.zip", emulator.DefaultPortalID) ||
		!done.ExpiresAt.Equal(e.now.Add(backup.Retention)) {
		t.Fatalf("finalized %+v", done)
	}
	data := e.download(t, done)
	if int64(len(data)) != done.Size {
		t.Fatalf("zip is %d bytes, backup says %d", len(data), done.Size)
	}
	rep, err := backup.Verify(bytes.NewReader(data), int64(len(data)))
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}

	zr, _ := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	want := []string{"companies.csv", "contacts.csv", "conversations.csv", "manifest.json", "tickets.csv", "vehicles_2-3508482.csv"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("zip holds %v, want %v (no file for empty objects)", names, want)
	}
	counts := e.emu.Counts()
	for _, o := range rep.Manifest.Objects {
		if int(o.Rows) != counts[o.Name] {
			t.Errorf("%s: %d rows, emulator has %d", o.Name, o.Rows, counts[o.Name])
		}
	}
	// Work files are gone; the notification is there.
	if left, _ := e.blobs.List(ctx, "work/"); len(left) != 0 {
		t.Fatalf("%d work files left", len(left))
	}
	ns := testenv.Notifications(t, e.store, "acme")
	if len(ns) != 1 || ns[0].Kind != "backup.completed" || !strings.Contains(ns[0].Message, "may not be reflected") {
		t.Fatalf("notifications %+v", ns)
	}
}

// TestValuesByteIdentical reads the ZIP with Python's zipfile and csv — a
// standard tool that shares no code with ours — and compares every value
// with what the emulator serves.
func TestValuesByteIdentical(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed to check the ZIP with a standard tool")
	}
	e := newEnv(t, emulator.Options{Seed: 9, Sizes: map[string]int{"contacts": 300, "vehicles": 20, "conversations": 10}}, backup.Enterprise)
	b, err := e.svc.Create(context.Background(), "acme", audit.Actor{Subject: "u"})
	if err != nil {
		t.Fatal(err)
	}
	done := e.run(t, b.ID)
	path := filepath.Join(t.TempDir(), done.FileName)
	if err := os.WriteFile(path, e.download(t, done), 0o600); err != nil {
		t.Fatal(err)
	}
	script := `
import csv, io, json, sys, zipfile
out = {}
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in z.namelist():
        if name.endswith(".csv"):
            with z.open(name) as f:
                out[name] = list(csv.DictReader(io.TextIOWrapper(f, encoding="utf-8", newline="")))
json.dump(out, sys.stdout)
`
	raw, err := exec.Command(python, "-c", script, path).Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	// Info-ZIP's unzip too, where the machine has it: it checks every
	// entry's CRC-32 and sizes against its local header and data descriptor.
	if unzip, err := exec.LookPath("unzip"); err == nil {
		if out, err := exec.Command(unzip, "-t", path).CombinedOutput(); err != nil {
			t.Fatalf("unzip -t: %v\n%s", err, out)
		}
	} else {
		t.Log("no unzip on this machine: checked with Python only")
	}
	var files map[string][]map[string]string
	if err := json.Unmarshal(raw, &files); err != nil {
		t.Fatal(err)
	}
	for file, typ := range map[string]string{"contacts.csv": "contacts", "vehicles_2-3508482.csv": "2-3508482"} {
		rows := files[file]
		props, _ := e.crm.Properties(context.Background(), typ)
		var names []string
		for _, p := range props {
			names = append(names, p.Name)
		}
		i := 0
		for o, err := range e.crm.List(context.Background(), typ, hubspot.ListOptions{Properties: names}) {
			if err != nil {
				t.Fatal(err)
			}
			row := rows[i]
			if row["hs_object_id"] != o.ID {
				t.Fatalf("%s row %d is %s, want %s", file, i, row["hs_object_id"], o.ID)
			}
			for _, n := range names {
				if row[n] != o.Properties[n] {
					t.Fatalf("%s %s.%s: python read %q, emulator has %q", file, o.ID, n, row[n], o.Properties[n])
				}
			}
			i++
		}
		if i != len(rows) {
			t.Fatalf("%s: %d rows, emulator has %d", file, len(rows), i)
		}
	}
	if len(files["conversations.csv"]) != 10 || files["conversations.csv"][0]["id"] == "" {
		t.Fatalf("conversations: %v", files["conversations.csv"])
	}
}

// TestExportResumesAfterCrash kills the export mid-object (the invocation's
// result is lost after it wrote chunks) and redoes it from the last
// checkpoint the workflow saw: same CSV, no duplicate, no gap.
func TestExportResumesAfterCrash(t *testing.T) {
	e := newEnv(t, emulator.Options{Seed: 3, Sizes: map[string]int{"contacts": 1000}}, backup.Enterprise)
	e.svc.ChunkBytes = 20 << 10 // many chunks
	ctx := context.Background()
	csvOf := func(crash bool) []byte {
		*e.now = e.now.Add(25 * time.Hour) // a new quota window each time
		in, objects := e.discovered(t)
		zin := backup.ZipInput{StepInput: in}
		for _, obj := range objects {
			ein := backup.ExportInput{StepInput: in, Object: obj}
			if crash && obj == "contacts" {
				// Two invocations that each stop after their first chunk…
				past := time.Now().Add(-time.Second)
				first, err := e.svc.Export(ctx, ein, past)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.svc.Export(ctx, *first, past); err != nil {
					t.Fatal(err)
				}
				// …the second one's result is lost: the workflow retries
				// from the first's checkpoint. Then a cancelled invocation.
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				if _, err := e.svc.Export(cctx, *first, time.Now().Add(time.Minute)); err == nil {
					t.Fatal("a cancelled export succeeded")
				}
				ein = *first
			}
			cp := e.exportAll(t, ein)
			zin.Exports = append(zin.Exports, backup.ExportResult{Object: obj, Checkpoint: cp})
		}
		return fileIn(t, e.zipped(t, zin), "contacts.csv")
	}
	clean, crashed := csvOf(false), csvOf(true)
	if !bytes.Equal(clean, crashed) {
		t.Fatalf("resumed export differs: %d vs %d bytes", len(clean), len(crashed))
	}
	if n := bytes.Count(clean, []byte("\r\n1000000")); n != 1000 {
		t.Fatalf("%d contact rows, want 1000", n)
	}
}

// TestZipRefusesChangedChunks: the zip step copies the export's compressed
// chunks as they are, so it checks them against the checkpoint first; a
// chunk that is not what the export wrote fails the step, and no ZIP is
// left behind.
func TestZipRefusesChangedChunks(t *testing.T) {
	e := newEnv(t, emulator.Options{Seed: 3, Sizes: map[string]int{"contacts": 300}}, backup.Enterprise)
	ctx := context.Background()
	in, objects := e.discovered(t)
	zin := backup.ZipInput{StepInput: in}
	for _, obj := range objects {
		cp := e.exportAll(t, backup.ExportInput{StepInput: in, Object: obj})
		zin.Exports = append(zin.Exports, backup.ExportResult{Object: obj, Checkpoint: cp})
	}
	key := "work/acme/" + in.BackupID + "/chunks/contacts/000000.deflate"
	rc, err := e.blobs.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	chunk, _ := io.ReadAll(rc)
	rc.Close()
	if err := e.blobs.Put(ctx, key, append(chunk, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Zip(ctx, zin); err == nil || !strings.Contains(err.Error(), "chunks hold") {
		t.Fatalf("zip of a changed chunk: %v, want an error about the chunks", err)
	}
	if keys, _ := e.blobs.List(ctx, "backups/acme/"+in.BackupID+"/"); len(keys) != 0 {
		t.Fatalf("a failed zip left %v", keys)
	}
}

func TestQuota(t *testing.T) {
	e := newEnv(t, emulator.Options{Sizes: map[string]int{"contacts": 5}}, backup.Starter)
	ctx := context.Background()
	first := *e.now
	if _, err := e.svc.Create(ctx, "acme", audit.Actor{Subject: "u"}); err != nil {
		t.Fatal(err)
	}
	*e.now = e.now.Add(time.Minute)
	_, err := e.svc.Create(ctx, "acme", audit.Actor{Subject: "u"})
	var ae *apperr.Error
	if !apperr.Is(err, apperr.QuotaUsed) || !asAppErr(err, &ae) || ae.Details["nextAllowedAt"] != first.Add(7*24*time.Hour).Format(time.RFC3339) {
		t.Fatalf("second manual backup: %v", err)
	}
	log := testenv.AuditLog(t, e.store, "acme")
	if len(log) != 2 || log[0].Action != audit.BackupRefused || log[0].Outcome != audit.Refused || log[0].Details["nextAllowedAt"] != ae.Details["nextAllowedAt"] ||
		log[1].Action != audit.BackupCreated || log[1].Actor != "u" {
		t.Fatalf("audit log %+v: want the refusal, then the backup", log)
	}
	if len(e.runner.started) != 1 {
		t.Fatalf("%d workflows started, want 1", len(e.runner.started))
	}
}

func asAppErr(err error, target **apperr.Error) bool {
	e, ok := err.(*apperr.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestFailureRefundsAndNotifies(t *testing.T) {
	e := newEnv(t, emulator.Options{Sizes: map[string]int{"contacts": 5}}, backup.Professional)
	ctx := context.Background()
	b, _ := e.svc.Create(ctx, "acme", audit.Actor{Subject: "u"})
	in := backup.StepInput{AccountID: "acme", BackupID: b.ID}
	if _, err := e.svc.Discover(ctx, in); err != nil {
		t.Fatal(err)
	}
	failed, err := e.svc.Finalize(ctx, backup.FinalizeInput{StepInput: in, Error: &backup.StepError{Error: "Permanent",
		// What Step Functions hands the catching state when the export function failed on a 401.
		Cause: `{"errorMessage":"HubSpot rejected the account's credential (HTTP 401): the service key or private-app token is wrong, expired or revoked; store a valid one","errorType":"Permanent"}`}})
	if err != nil || failed.Status != backup.Failed || !strings.Contains(failed.Failure, "token") {
		t.Fatalf("%+v %v", failed, err)
	}
	pub := &countingPublisher{}
	e.svc.Publisher = pub
	for range 3 { // a retried notify step: one e-mail
		if err := e.svc.Notify(ctx, backup.NotifyInput{StepInput: in}); err != nil {
			t.Fatal(err)
		}
	}
	if pub.n != 1 {
		t.Fatalf("published %d times, want once", pub.n)
	}
	if _, err := e.svc.Create(ctx, "acme", audit.Actor{Subject: "u"}); err != nil {
		t.Fatalf("quota not refunded after failure: %v", err)
	}
	ns := testenv.Notifications(t, e.store, "acme")
	if len(ns) != 1 || ns[0].Kind != "backup.failed" {
		t.Fatalf("%+v", ns)
	}
}

func TestDownloadURL(t *testing.T) {
	e := newEnv(t, emulator.Options{Sizes: map[string]int{"contacts": 3}}, backup.Enterprise)
	ctx := context.Background()
	b, _ := e.svc.Create(ctx, "acme", audit.Actor{Subject: "u"})
	if _, err := e.svc.DownloadURL(ctx, "acme", b.ID, audit.Actor{Subject: "u"}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("before completion: %v, want conflict", err)
	}
	e.run(t, b.ID)
	who := audit.Actor{Subject: "admin@acme.example", IP: "198.51.100.4", UserAgent: "curl/8"}
	url, err := e.svc.DownloadURL(ctx, "acme", b.ID, who)
	if err != nil || !strings.Contains(url, "X-Amz-Signature") {
		t.Fatalf("%q %v", url, err)
	}
	// Only the download handed out is audited (not the refusals before and after).
	var downloads []*audit.Entry
	for _, en := range testenv.AuditLog(t, e.store, "acme") {
		if en.Action == audit.BackupDownloaded {
			downloads = append(downloads, en)
		}
	}
	if len(downloads) != 1 || downloads[0].Details["backupId"] != b.ID || downloads[0].IP != who.IP || downloads[0].UserAgent != who.UserAgent || downloads[0].Actor != who.Subject {
		t.Fatalf("download audit %+v", downloads)
	}
	if _, err := e.svc.DownloadURL(ctx, "globex", b.ID, audit.Actor{Subject: "u"}); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("another account: %v", err)
	}
	*e.now = e.now.Add(backup.Retention)
	if _, err := e.svc.DownloadURL(ctx, "acme", b.ID, audit.Actor{Subject: "u"}); !apperr.Is(err, apperr.Gone) {
		t.Fatalf("after 14 days: %v, want gone", err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	e := newEnv(t, emulator.Options{Sizes: map[string]int{"contacts": 50}}, backup.Enterprise)
	b, _ := e.svc.Create(context.Background(), "acme", audit.Actor{Subject: "u"})
	data := e.download(t, e.run(t, b.ID))

	// Rebuild the ZIP with one byte of contacts.csv changed.
	zr, _ := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		body, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == "contacts.csv" {
			body[len(body)/2] ^= 1
		}
		w, _ := zw.Create(f.Name)
		w.Write(body)
	}
	zw.Close()
	rep, err := backup.Verify(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatal("a changed byte went unnoticed")
	}
}

// TestCustomObjectsBelowEnterprise: a Starter or Professional portal has no
// custom objects and its schemas endpoint refuses; the backup completes
// without them and its manifest says so. On an Enterprise account the same
// refusal is the credential's missing scope: discovery fails with it.
func TestCustomObjectsBelowEnterprise(t *testing.T) {
	opts := emulator.Options{Seed: 5, Sizes: map[string]int{"contacts": 20, "vehicles": 5}, NotEnterprise: true}
	t.Run("professional: completed, omission recorded", func(t *testing.T) {
		e := newEnv(t, opts, backup.Professional)
		b, err := e.svc.Create(context.Background(), "acme", audit.Actor{Subject: "u"})
		if err != nil {
			t.Fatal(err)
		}
		done := e.run(t, b.ID)
		data := e.download(t, done)
		rep, err := backup.Verify(bytes.NewReader(data), int64(len(data)))
		if err != nil || !rep.OK() {
			t.Fatalf("verify: %v %+v", err, rep)
		}
		if len(rep.Manifest.Omitted) != 1 || rep.Manifest.Omitted[0] != backup.NoCustomObjects {
			t.Fatalf("omitted %+v", rep.Manifest.Omitted)
		}
		for _, o := range rep.Manifest.Objects {
			if o.Custom {
				t.Errorf("custom object %s in a Professional portal's backup", o.Name)
			}
		}
	})
	t.Run("enterprise: the refusal fails discovery", func(t *testing.T) {
		e := newEnv(t, opts, backup.Enterprise)
		b, err := e.svc.Create(context.Background(), "acme", audit.Actor{Subject: "u"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Discover(context.Background(), backup.StepInput{AccountID: "acme", BackupID: b.ID})
		if !errors.Is(err, hubspot.ErrUnauthorized) {
			t.Fatalf("discover: %v, want HubSpot's 403", err)
		}
	})
}

// TestSensitiveDataBackedUp: HubSpot lists Sensitive and Highly Sensitive
// properties only when asked for their level; the backup asks for each, so
// their columns are in the CSV and the manifest keeps each one's level.
func TestSensitiveDataBackedUp(t *testing.T) {
	e := newEnv(t, emulator.Options{Seed: 2, Sizes: map[string]int{"contacts": 30}}, backup.Enterprise)
	data := e.backedUp(t)
	rep, err := backup.Verify(bytes.NewReader(data), int64(len(data)))
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v", err)
	}
	header := csvIn(t, data, "contacts.csv")[0]
	levels := map[string]int{}
	for _, o := range rep.Manifest.Objects {
		if o.Name != "contacts" {
			continue
		}
		for _, p := range o.Properties {
			levels[p.Sensitivity]++
			if p.Sensitivity != hubspot.NonSensitive && !slices.Contains(header, p.Name) {
				t.Errorf("%s property %s is not a column of contacts.csv", p.Sensitivity, p.Name)
			}
		}
	}
	if levels[hubspot.Sensitive] == 0 || levels[hubspot.HighlySensitive] == 0 || levels[hubspot.NonSensitive] == 0 {
		t.Fatalf("contacts' properties by level: %v", levels)
	}
}

// TestEveryThreadFieldIsAColumn: threads carry fields only some of them
// have (latestMessageSentTimestamp; threadAssociations, a nested object),
// and HubSpot omits fields without a value. Every field any thread has is a
// column, nested ones as parent.child, with each thread's value.
func TestEveryThreadFieldIsAColumn(t *testing.T) {
	e := newEnv(t, emulator.Options{Seed: 3, Sizes: map[string]int{"conversations": 230}}, backup.Professional)
	data := e.backedUp(t)
	rows := csvIn(t, data, "conversations.csv")
	if len(rows) != 231 {
		t.Fatalf("%d rows, want a header and 230 threads", len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, want := range []string{"id", "latestMessageSentTimestamp", "threadAssociations.associatedTicketId", "closedAt"} {
		if _, ok := col[want]; !ok {
			t.Fatalf("no column %s in %v", want, rows[0])
		}
	}
	// Thread i (0-based) has an association when i%17 == 5: the last such
	// one is past the first two pages of 100.
	var tickets int
	for _, r := range rows[1:] {
		if v := r[col["threadAssociations.associatedTicketId"]]; v != "" {
			tickets++
		}
	}
	if want := (230 - 5 + 16) / 17; tickets != want {
		t.Errorf("%d threads with a ticket, want %d", tickets, want)
	}
}

// readScopes are a credential's scopes to read every object, sensitive
// values excepted.
var readScopes = []string{"crm.objects.contacts.read", "crm.objects.companies.read", "crm.objects.deals.read", "tickets",
	"e-commerce", "crm.objects.calls.read", "crm.objects.tasks.read", "conversations.read"}

// TestPreflight: a credential without the sensitive scopes fails the backup
// before any work, naming every missing scope in HubSpot's words; an account
// configured to leave sensitive data out is backed up without it, and the
// manifest and the notification say so.
func TestPreflight(t *testing.T) {
	// An Enterprise portal with Sensitive Data, whose key lacks the
	// sensitive scopes.
	opts := emulator.Options{Seed: 4, Sizes: map[string]int{"contacts": 20, "companies": 5, "deals": 5},
		Scopes: append(slices.Clone(readScopes), "crm.schemas.custom.read", "crm.objects.custom.read")}
	t.Run("missing sensitive scopes: refused, nothing written", func(t *testing.T) {
		e := newEnv(t, opts, backup.Enterprise)
		ctx := context.Background()
		b, err := e.svc.Create(ctx, "acme", audit.Actor{Subject: "u"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Discover(ctx, backup.StepInput{AccountID: "acme", BackupID: b.ID})
		var he *hubspot.Error
		if !errors.As(err, &he) || he.StatusCode != 403 {
			t.Fatalf("discover: %v, want HubSpot's 403", err)
		}
		for _, want := range []string{"crm.objects.contacts.sensitive.read", "crm.objects.contacts.highly_sensitive.read"} {
			if !slices.Contains(he.Scopes, want) {
				t.Errorf("missing scopes %v lack %s", he.Scopes, want)
			}
		}
		if keys, _ := e.blobs.List(ctx, "work/"); len(keys) != 0 {
			t.Errorf("the refused backup wrote %v", keys)
		}
		if got := e.emu.Stats(); got.Routes["GET /crm/objects/{version}/{type}"] > 20 {
			t.Errorf("%d list requests before refusing", got.Routes["GET /crm/objects/{version}/{type}"])
		}
	})
	t.Run("sensitive data left out by choice", func(t *testing.T) {
		e := newEnv(t, opts, backup.Enterprise)
		ctx := context.Background()
		acct, _ := e.svc.Store.Account(ctx, "acme")
		acct.LeaveOutSensitive = true
		if err := e.svc.Store.PutAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
		b, err := e.svc.Create(ctx, "acme", audit.Actor{Subject: "u"})
		if err != nil {
			t.Fatal(err)
		}
		done := e.run(t, b.ID)
		data := e.download(t, done)
		rep, err := backup.Verify(bytes.NewReader(data), int64(len(data)))
		if err != nil || !rep.OK() {
			t.Fatalf("verify: %v", err)
		}
		for _, o := range rep.Manifest.Objects {
			for _, p := range o.Properties {
				if p.Sensitivity != "" && p.Sensitivity != hubspot.NonSensitive {
					t.Errorf("%s.%s (%s) backed up", o.Name, p.Name, p.Sensitivity)
				}
			}
		}
		if len(rep.Manifest.Omitted) != 1 || rep.Manifest.Omitted[0] != backup.LeftOutSensitive {
			t.Errorf("manifest omits %v", rep.Manifest.Omitted)
		}
		ns := testenv.Notifications(t, e.store, "acme")
		if len(ns) != 1 || !strings.Contains(ns[0].Message, "Not included: Sensitive and Highly Sensitive properties") {
			t.Errorf("notification %+v", ns)
		}
	})
}

// TestFixtureThreadFields: a fixture's threads with fields of their own (a
// nested object two levels deep, an array, a field only the last thread
// has) become columns, nested ones as parent.child.
func TestFixtureThreadFields(t *testing.T) {
	var fx emulator.Fixture
	if err := json.Unmarshal([]byte(`{"objects":{},"conversations":[
		{"id":"1","status":"OPEN","threadAssociations":{"associatedTicketId":"77","links":{"crm":"x"}}},
		{"id":"2","status":"CLOSED","tags":["a","b"]},
		{"id":"3","status":"OPEN","latestMessageSentTimestamp":"2026-11-01T10:00:00.000Z"}]}`), &fx); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, emulator.Options{Fixture: &fx}, backup.Professional)
	data := e.backedUp(t)
	rows := csvIn(t, data, "conversations.csv")
	if len(rows) != 4 {
		t.Fatalf("rows %v", rows)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for name, want := range map[string][3]string{
		"threadAssociations.associatedTicketId": {"77", "", ""},
		"threadAssociations.links.crm":          {"x", "", ""},
		"tags":                                  {"", `["a","b"]`, ""},
		"latestMessageSentTimestamp":            {"", "", "2026-11-01T10:00:00.000Z"},
	} {
		i, ok := col[name]
		if !ok {
			t.Errorf("no column %s in %v", name, rows[0])
			continue
		}
		for r := range 3 {
			if rows[r+1][i] != want[r] {
				t.Errorf("thread %s %s = %q, want %q", rows[r+1][col["id"]], name, rows[r+1][i], want[r])
			}
		}
	}
}

// TestExportCallsEndAtTheStepsDeadline: a page still in flight when the
// step's deadline passes is abandoned (the invocation's remaining time is
// for saving the checkpoint), the pages read before it are kept, and the
// next invocation goes on from there: every record exactly once.
func TestExportCallsEndAtTheStepsDeadline(t *testing.T) {
	e := newEnv(t, emulator.Options{Seed: 8, Sizes: map[string]int{"contacts": 1000}}, backup.Enterprise)
	// The list alone: no search after the first page (whether the object
	// is large) to take the time the test counts in pages.
	e.svc.CRMs = connectorOf{listOnly{e.crm}}
	ctx := context.Background()
	in, _ := e.discovered(t)
	e.emu.SetLatency(500 * time.Millisecond)
	// Pages end at about 0.5 s and 1 s; the third is in flight at 1.4 s.
	cp, err := e.svc.Export(ctx, backup.ExportInput{StepInput: in, Object: "contacts"}, time.Now().Add(1400*time.Millisecond))
	if err != nil {
		t.Fatalf("a step whose time ran out mid-call failed: %v", err)
	}
	if cp.Checkpoint.Done || cp.Checkpoint.Rows != 200 || cp.Checkpoint.After == "" {
		t.Fatalf("checkpoint %+v: want the two pages read before the deadline, and their cursor", cp.Checkpoint)
	}
	e.emu.SetLatency(0)
	if got := e.exportAll(t, *cp); got.Rows != 1000 {
		t.Fatalf("%d rows in all, want 1000", got.Rows)
	}
}

// listOnly is a CRM without search: its objects are read as one chain.
type listOnly struct{ backup.CRM }

type countingPublisher struct{ n int }

func (p *countingPublisher) Publish(context.Context, *backup.Notification) error { p.n++; return nil }
