package backup_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/backup/backuptest"
	"github.com/crmbackup/crmbackup/internal/dynamo"
	"github.com/crmbackup/crmbackup/internal/dynamo/dynamolocal"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/s3store"
	"github.com/crmbackup/crmbackup/internal/s3store/s3local"
	"github.com/crmbackup/crmbackup/internal/testenv"
	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

// The backup benchmarks of the backup pipeline issue. Each iteration is a
// whole backup on the real adapters (emulator over HTTP, DynamoDB Local, the
// S3 stand-in): discover, every object's export loop, zip.

// backupAll creates a backup and runs its steps.
func (e *env) backupAll(tb testing.TB, concurrency int) int64 {
	tb.Helper()
	b, err := e.svc.Create(context.Background(), "acme", audit.Actor{Subject: "bench"})
	if err != nil {
		tb.Fatal(err)
	}
	return e.steps(tb, b.ID, concurrency)
}

// steps runs a queued backup's discover, exports and zip, exporting up to
// concurrency objects at once as the state machine's Map does, and returns
// the records exported.
func (e *env) steps(tb testing.TB, id string, concurrency int) int64 {
	tb.Helper()
	ctx := context.Background()
	in := backup.StepInput{AccountID: "acme", BackupID: id}
	disc, err := e.svc.Discover(ctx, in)
	if err != nil {
		tb.Fatal(err)
	}
	zin := backup.ZipInput{StepInput: in, Exports: make([]backup.ExportResult, len(disc.Objects))}
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	exportStart := time.Now()
	for i, obj := range disc.Objects {
		sem <- struct{}{} // in discovery order, as the Map starts them
		wg.Go(func() {
			defer func() { <-sem }()
			cp := e.exportAll(tb, backup.ExportInput{StepInput: in, Object: obj})
			zin.Exports[i] = backup.ExportResult{Object: obj, Checkpoint: cp}
		})
	}
	wg.Wait()
	e.exportTime += time.Since(exportStart)
	if _, err := e.svc.Zip(ctx, zin); err != nil {
		tb.Fatal(err)
	}
	var rows int64
	for _, x := range zin.Exports {
		rows += x.Checkpoint.Rows
	}
	return rows
}

// BenchmarkExportThrottled: a portal of 20,000 records over every object
// kind behind HubSpot's Professional limit (190 requests/10 s) and 100 ms
// latency, every object exporting at the state machine's Map concurrency
// under one shared budget. %-of-bound is the export phase's records/s (the
// Map over objects) over the physical bound of 19 requests/s × 100 records;
// %-of-bound-backup counts the whole backup (discovery and zip too).
func BenchmarkExportThrottled(b *testing.B) {
	const limit, records = 190, 20000
	concurrency, err := asl.ExportConcurrency()
	if err != nil {
		b.Fatal(err)
	}
	var rows int64
	var elapsed, exporting time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// A fresh portal each time: its rolling window starts empty.
		e := newEnv(b, emulator.Options{Seed: 3, Sizes: emulator.DefaultSizes(records), RateLimit: limit, Latency: 100 * time.Millisecond}, backup.Enterprise)
		crm, err := hubspot.New(hubspot.Config{BaseURL: e.crm.BaseURL(), Token: emulator.DefaultToken, RequestsPer10s: limit})
		if err != nil {
			b.Fatal(err)
		}
		e.svc.CRMs = testenv.StaticCRM{C: crm}
		e.svc.Now = time.Now // export start times rank the objects in the budget
		b.StartTimer()
		start := time.Now()
		rows += e.backupAll(b, concurrency)
		elapsed += time.Since(start)
		exporting += e.exportTime
		if st := e.emu.Stats(); st.MaxInWindow > limit || st.RateLimited > 0 {
			b.Fatalf("the portal saw %d requests in a window (limit %d) and answered %d 429s", st.MaxInWindow, limit, st.RateLimited)
		}
	}
	const bound = limit / 10 * 100 // records/s
	perSec := float64(rows) / exporting.Seconds()
	b.ReportMetric(perSec, "records/s")
	b.ReportMetric(100*perSec/bound, "%-of-bound")
	b.ReportMetric(100*float64(rows)/elapsed.Seconds()/bound, "%-of-bound-backup")
	b.ReportMetric(float64(concurrency), "concurrent-objects")
}

// BenchmarkBackupUnthrottled: records/s end to end (emulator → CSV chunks →
// ZIP in the S3 stand-in) for 20,000 contacts with every contact property
// (dozens, some with commas, quotes, newlines and unicode), unthrottled.
func BenchmarkBackupUnthrottled(b *testing.B) {
	const records = 20000
	e := newEnv(b, emulator.Options{Seed: 4, Sizes: map[string]int{"contacts": records}}, backup.Enterprise)
	props, err := e.crm.Properties(context.Background(), "contacts")
	if err != nil {
		b.Fatal(err)
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	rows := e.backupLoop(b, 1)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(len(props)), "properties/record")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rows), "allocs/record")
}

func (e *env) advance(d time.Duration) { *e.now = e.now.Add(d) }

// backupLoop runs one backup per benchmark iteration, exporting up to
// concurrency objects at once, and reports records/s end to end and per
// phase. It returns the records exported.
func (e *env) backupLoop(b *testing.B, concurrency int) int64 {
	var rows int64
	for b.Loop() {
		e.advance(25 * time.Hour) // past the Enterprise quota window
		rows += e.backupAll(b, concurrency)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(rows)/e.exportTime.Seconds(), "export-records/s")
	b.ReportMetric(float64(rows)/(b.Elapsed()-e.exportTime).Seconds(), "discover+zip-records/s")
	return rows
}

// BenchmarkStepPeakRSS measures the peak RSS of a process that runs the
// discover, export and zip steps of a backup of 10,000, 100,000 and
// 1,000,000 contacts, unthrottled (the emulator, DynamoDB Local and the S3
// stand-in run in this process, not in the measured one). One process runs
// every step, so its peak bounds each step's. The target is flat memory:
// the figures should not grow with the number of records (and stay under
// 100 MiB). BENCH_RSS_SIZES (comma-separated) chooses other sizes.
func BenchmarkStepPeakRSS(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	// The measured process shares the store with this one: DynamoDB Local.
	ddb, err := testenv.DynamoDBLocal(b)
	if errors.Is(err, testenv.ErrNoJava) {
		b.Skip("the measured process shares its store through DynamoDB Local:", err)
	}
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, n := range rssSizes(b) {
			store, table := testenv.Table(b, ddb.Client())
			e := newEnvOn(b, store, emulator.Options{Seed: 6, Sizes: map[string]int{"contacts": n}}, backup.Enterprise)
			e.table = table
			bk, err := e.svc.Create(context.Background(), "acme", audit.Actor{Subject: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			cmd := exec.Command(exe, "-test.run=^TestStepsChild$", "-test.count=1")
			cmd.Env = append(os.Environ(),
				"BENCH_CHILD=1", "BENCH_CRM="+e.crm.BaseURL(), "BENCH_S3="+e.s3URL, "BENCH_S3_KEYS="+e.s3Keys.String(), "BENCH_DDB="+ddb.Endpoint, "BENCH_DDB_KEY="+ddb.AccessKey,
				"BENCH_TABLE="+e.table, "BENCH_BACKUP="+bk.ID, "BENCH_ROWS="+strconv.Itoa(n))
			out, err := cmd.CombinedOutput()
			if err != nil {
				b.Fatalf("child: %v\n%s", err, out)
			}
			// The child's own high-water mark: rusage's maxrss would report
			// this (large) process's RSS at the fork.
			m := regexp.MustCompile(`peak-rss-kib=(\d+)`).FindSubmatch(out)
			if m == nil {
				b.Fatalf("child printed no peak RSS:\n%s", out)
			}
			kib, _ := strconv.Atoi(string(m[1]))
			b.ReportMetric(float64(kib)/1024, fmt.Sprintf("MiB-peak-RSS-%dk", n/1000))
			if kib > 100<<10 {
				b.Errorf("%d contacts: a step process peaked at %d MiB, above 100", n, kib>>10)
			}
		}
	}
}

func rssSizes(b *testing.B) []int {
	v := os.Getenv("BENCH_RSS_SIZES")
	if v == "" {
		return []int{10_000, 100_000, 1_000_000}
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("BENCH_RSS_SIZES=%q: want record counts", v)
		}
		out = append(out, n)
	}
	return out
}

// TestStepsChild is BenchmarkStepPeakRSS's measured process: it runs the
// discover, export and zip steps of a queued backup against the parent's
// services.
func TestStepsChild(t *testing.T) {
	if os.Getenv("BENCH_CHILD") != "1" {
		t.Skip("run by BenchmarkStepPeakRSS")
	}
	crm, err := hubspot.New(hubspot.Config{BaseURL: os.Getenv("BENCH_CRM"), Token: emulator.DefaultToken, Budget: hubspot.NewBudget(1e6, hubspot.Window)})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{crm: crm, blobs: s3store.New(s3local.Client(os.Getenv("BENCH_S3"), s3local.ParseKeys(os.Getenv("BENCH_S3_KEYS"))), "backups")}
	e.svc = &backup.Service{Store: dynamo.New(dynamolocal.Client(os.Getenv("BENCH_DDB"), os.Getenv("BENCH_DDB_KEY")), os.Getenv("BENCH_TABLE")),
		Blobs: e.blobs, CRMs: testenv.StaticCRM{C: crm}}
	want, _ := strconv.ParseInt(os.Getenv("BENCH_ROWS"), 10, 64)
	if rows := e.steps(t, os.Getenv("BENCH_BACKUP"), 1); rows != want {
		t.Fatalf("exported %d rows, want %d", rows, want)
	}
	fmt.Printf("peak-rss-kib=%d\n", backuptest.PeakRSSKiB(t))
}

// BenchmarkBackupUnthrottledAllObjects: as BenchmarkBackupUnthrottled, on a
// portal of 20,000 records over every object kind (the demo's mix), the
// objects exporting at the state machine's Map concurrency.
func BenchmarkBackupUnthrottledAllObjects(b *testing.B) {
	const records = 20000
	concurrency, err := asl.ExportConcurrency()
	if err != nil {
		b.Fatal(err)
	}
	sizes := emulator.DefaultSizes(records)
	e := newEnv(b, emulator.Options{Seed: 4, Sizes: sizes}, backup.Enterprise)
	// Properties per record, weighted by records (conversations, whose
	// threads have a fixed set of columns, left out).
	var values, weighted int
	for name, n := range sizes {
		if name == backup.Conversations {
			continue
		}
		props, err := e.crm.Properties(context.Background(), name)
		if err != nil {
			b.Fatal(err)
		}
		values += n * len(props)
		weighted += n
	}
	e.backupLoop(b, concurrency)
	b.ReportMetric(float64(values)/float64(weighted), "properties/record")
}

// BenchmarkBackupUnthrottled50Props is the unthrottled target as it
// stands: 50 properties per record. 10,000 contacts (61 properties) and
// 11,000 companies (40) average exactly 50; they export side by side at the
// Map's concurrency, as a backup runs.
func BenchmarkBackupUnthrottled50Props(b *testing.B) {
	concurrency, err := asl.ExportConcurrency()
	if err != nil {
		b.Fatal(err)
	}
	sizes := map[string]int{"contacts": 10000, "companies": 11000}
	e := newEnv(b, emulator.Options{Seed: 4, Sizes: sizes}, backup.Enterprise)
	values := 0
	for name, n := range sizes {
		props, err := e.crm.Properties(context.Background(), name)
		if err != nil {
			b.Fatal(err)
		}
		values += n * len(props)
	}
	if values != 50*(10000+11000) {
		b.Fatalf("%d values for 21,000 records: the catalog changed, change the mix", values)
	}
	e.backupLoop(b, concurrency)
	b.ReportMetric(50, "properties/record")
}
