package reliability

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/testenv"
)

var (
	clock = time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC)
	sizes = map[string]int{"contacts": 700, "companies": 120, "deals": 260, "tickets": 40, "products": 0, "calls": 30, "tasks": 30, "conversations": 12}
)

type run struct {
	st  *testenv.Stack
	c   *crasher
	svc *backup.Service
	rs  *restore.Service
}

func newRun(t *testing.T) *run {
	st := testenv.NewStack(t, emulator.Options{Seed: 42, Sizes: sizes}, backup.Enterprise)
	c := &crasher{n: -1}
	now := func() time.Time { return clock }
	r := &run{st: st, c: c}
	r.svc = &backup.Service{Store: store{st.Store, c}, Blobs: blobs{st.Blobs, c}, CRMs: backupConnector{backupCRM{st.CRM, c}},
		Runner: noRunner{}, Now: now, ChunkBytes: 16 << 10}
	r.rs = &restore.Service{Store: store{st.Store, c}, Blobs: blobs{st.Blobs, c}, CRMs: connector{crm{st.CRM, c}}, Runner: noRunner{}, Now: now}
	return r
}

type noRunner struct{}

func (noRunner) StartBackup(context.Context, string, string) error  { return nil }
func (noRunner) StartPlan(context.Context, string, string) error    { return nil }
func (noRunner) StartRestore(context.Context, string, string) error { return nil }

// backup runs a scheduled backup (its id derives from its time: the same
// in every trial) through its steps, crashing up to crashes times.
func (r *run) backup(t *testing.T, rng *rand.Rand, crashes int) (*backup.Backup, []byte) {
	ctx := context.Background()
	acct, _ := r.st.Store.Account(ctx, "acme")
	b, _, err := r.svc.CreateScheduled(ctx, acct, clock)
	if err != nil {
		t.Fatal(err)
	}
	if crashes > 0 {
		crashes--
		r.c.arm(rng.IntN(60), rng.IntN(2) == 0)
	}
	const span = 40 // operations until the next crash, at most
	in := backup.StepInput{AccountID: "acme", BackupID: b.ID}
	disc := retry(t, r.c, rng, &crashes, span, func() (*backup.DiscoverOutput, error) { return r.svc.Discover(ctx, in) })
	zin := backup.ZipInput{StepInput: in}
	for _, obj := range disc.Objects {
		ein := backup.ExportInput{StepInput: in, Object: obj}
		for !ein.Checkpoint.Done {
			ein = *retry(t, r.c, rng, &crashes, span, func() (*backup.ExportInput, error) { return r.svc.Export(ctx, ein, time.Now().Add(time.Minute)) })
		}
		zin.Exports = append(zin.Exports, backup.ExportResult{Object: obj, Checkpoint: ein.Checkpoint})
	}
	z := retry(t, r.c, rng, &crashes, span, func() (*backup.ZipOutput, error) { return r.svc.Zip(ctx, zin) })
	done := retry(t, r.c, rng, &crashes, span, func() (*backup.Backup, error) {
		return r.svc.Finalize(ctx, backup.FinalizeInput{StepInput: in, Zip: z})
	})
	retry(t, r.c, rng, &crashes, span, func() (struct{}, error) { return struct{}{}, r.svc.Notify(ctx, backup.NotifyInput{StepInput: in}) })
	r.c.arm(-1, false)
	rc, err := r.st.Blobs.Get(ctx, done.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, _ := io.ReadAll(rc)
	return done, data
}

// TestBackupSurvivesCrashes: whatever point the process dies at (a store
// or file write before or after it took effect, a page read), the step run
// again from its input ends in the same ZIP, byte for byte, with every
// record once, and one notice.
func TestBackupSurvivesCrashes(t *testing.T) {
	_, want := newRun(t).backup(t, nil, 0)
	report, err := backup.Verify(bytes.NewReader(want), int64(len(want)))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range report.Objects {
		if !o.OK || o.Rows != int64(sizes[o.Name]) {
			t.Fatalf("the clean run's %s: %+v, want %d rows", o.Name, o, sizes[o.Name])
		}
	}
	n := trials(t, 4)
	totalCrashes := 0
	for i := range n {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		r := newRun(t)
		b, got := r.backup(t, rng, 3)
		totalCrashes += r.c.hits
		if b.Status != backup.Completed || !bytes.Equal(got, want) {
			t.Fatalf("trial %d (%d crashes): %s, ZIP of %d bytes, want the clean run's %d", i, r.c.hits, b.Status, len(got), len(want))
		}
		notes := testenv.Notifications(t, r.st.Store, "acme")
		if len(notes) != 1 || notes[0].Kind != "backup.completed" {
			t.Fatalf("trial %d: notices %+v", i, notes)
		}
	}
	t.Logf("%d trials, %d crashes: every ZIP byte-identical to the clean run's (%d bytes)", n, totalCrashes, len(want))
}

// TestRestoreSurvivesCrashes: a restore whose steps die anywhere — HubSpot
// wrote but the answer was lost, a checkpoint not kept, a journal or an
// error chunk half written — ends with the portal as the backup was and
// the import counting exactly what the plan said.
func TestRestoreSurvivesCrashes(t *testing.T) {
	n := trials(t, 4)
	ctx := context.Background()
	totalCrashes := 0
	for i := range n {
		rng := rand.New(rand.NewPCG(uint64(i), 11))
		r := newRun(t)
		b, _ := r.backup(t, nil, 0)
		archive, err := backup.OpenArchive(ctx, r.st.Blobs, b.Key)
		if err != nil {
			t.Fatal(err)
		}
		// Change, empty and fill in values across every batch.
		ids := dealIDs(t, r, archive)
		for j, id := range ids {
			switch j % 9 {
			case 1:
				update(t, r, id, map[string]string{"dealname": "renamed"})
			case 4:
				update(t, r, id, map[string]string{"amount": ""})
			case 6:
				update(t, r, id, map[string]string{"amount": "99", "dealname": "both"})
			}
		}
		p, err := r.rs.CreatePlan(ctx, "acme", auditActor, b.ID, restore.PlanRequest{ObjectType: "deals", Properties: []string{"dealname", "amount"}})
		if err != nil {
			t.Fatal(err)
		}
		past := time.Now().Add(-time.Second) // one batch per chunk: many checkpoints
		pin := restore.StepInput{Action: restore.ActionPlan, AccountID: "acme", PlanID: p.ID}
		for !pin.Cursor.Done {
			cur, err := r.rs.PlanChunk(ctx, pin, past)
			if err != nil {
				t.Fatal(err)
			}
			pin.Cursor = *cur
		}
		if err := r.rs.PlanDone(ctx, pin); err != nil {
			t.Fatal(err)
		}
		p, _ = r.rs.Plan(ctx, "acme", p.ID)
		planned := restore.CountsOf(p.Tally)
		im, err := r.rs.Execute(ctx, freshAdmin(), p.ID, bothAcks)
		if err != nil {
			t.Fatal(err)
		}
		crashes, span := 4, 8 // an execute chunk makes about five operations
		r.c.arm(rng.IntN(span), rng.IntN(2) == 0)
		crashes--
		ex := restore.StepInput{Action: restore.ActionExecute, AccountID: "acme", ImportID: im.ID}
		for !ex.Cursor.Done {
			ex.Cursor = *retry(t, r.c, rng, &crashes, span, func() (*restore.Cursor, error) { return r.rs.ExecuteChunk(ctx, ex, past) })
		}
		retry(t, r.c, rng, &crashes, span, func() (struct{}, error) { return struct{}{}, r.rs.Finish(ctx, ex) })
		r.c.arm(-1, false)
		totalCrashes += r.c.hits
		got, _ := r.rs.Import(ctx, "acme", im.ID)
		if got.Status != restore.ImportCompleted || got.Counts != planned {
			t.Fatalf("trial %d (%d crashes): %s %+v, planned %+v", i, r.c.hits, got.Status, got.Counts, planned)
		}
		if diff := differences(t, r, archive, ids); diff != 0 {
			t.Fatalf("trial %d: %d values differ from the backup after the restore", i, diff)
		}
		if lock, _ := r.st.Store.RestoreLock(ctx, "acme"); lock != nil {
			t.Fatalf("trial %d: the lock is held", i)
		}
	}
	t.Logf("%d trials, %d crashes: the portal equals the backup, counts exactly as planned", n, totalCrashes)
}

func dealIDs(t *testing.T, r *run, a *backup.Archive) []string {
	o, err := a.Object("deals")
	if err != nil {
		t.Fatal(err)
	}
	rows, closer, err := a.Rows(o)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	rows.Read() // header
	var ids []string
	for {
		f, err := rows.Read()
		if err != nil {
			return ids
		}
		ids = append(ids, f[0])
	}
}

func update(t *testing.T, r *run, id string, props map[string]string) {
	res, err := r.st.CRM.BatchUpdate(context.Background(), "deals", []hubspot.UpdateInput{{ID: id, Properties: props}})
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("update %s: %v %+v", id, err, res)
	}
}

// differences counts the deals' values that differ from the backup's.
func differences(t *testing.T, r *run, a *backup.Archive, ids []string) int {
	o, _ := a.Object("deals")
	rows, closer, _ := a.Rows(o)
	defer closer.Close()
	header, _ := rows.Read()
	header = slices.Clone(header)
	backed := map[string]map[string]string{}
	for {
		f, err := rows.Read()
		if err != nil {
			break
		}
		m := map[string]string{}
		for i, h := range header {
			m[h] = f[i]
		}
		backed[f[0]] = m
	}
	diff := 0
	for chunk := range slices.Chunk(ids, 100) {
		res, err := r.st.CRM.BatchRead(context.Background(), "deals", chunk, []string{"dealname", "amount"}, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range res.Objects {
			for _, p := range []string{"dealname", "amount"} {
				if obj.Properties[p] != backed[obj.ID][p] {
					diff++
				}
			}
		}
	}
	return diff
}
