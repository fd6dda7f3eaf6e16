package restore_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/backup/backuptest"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/s3store"
	"github.com/crmbackup/crmbackup/internal/s3store/s3local"
)

// benchProperties are ten writable deal properties.
var benchProperties = []string{"dealname", "amount", "closedate", "pipeline", "dealstage", "dealtype",
	"description", "hs_priority", "hs_next_step", "deal_currency_code"}

// BenchmarkRestoreThrottled: 50,000 deals × 10 properties restored with
// the emulator at 190 requests/10 s and 100 ms latency, every batch
// needing a write. The bound is the portal's limit: a batch read and a
// batch update per 100 records, so 19 req/s are 950 records/s.
func BenchmarkRestoreThrottled(b *testing.B) {
	const limit, records = 190, 50000
	e := newEnv(b, map[string]int{"deals": records})
	ids, _ := e.backedUp(b, "deals")
	sel := e.selection(b, "deals", benchProperties...)
	var rows, requests int64
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		e.emu.SetRateLimit(0)
		e.emu.SetLatency(0)
		var inputs []hubspot.UpdateInput
		for i, id := range ids {
			inputs = append(inputs, hubspot.UpdateInput{ID: id, Properties: map[string]string{"dealname": fmt.Sprintf("changed %d", i)}})
		}
		for chunk := range slices.Chunk(inputs, hubspot.MaxBatchInputs) {
			if _, err := e.crm.BatchUpdate(context.Background(), "deals", chunk); err != nil {
				b.Fatal(err)
			}
		}
		// A fresh rolling window and a client with the portal's budget.
		time.Sleep(hubspot.Window)
		e.emu.SetRateLimit(limit)
		e.emu.SetLatency(100 * time.Millisecond)
		crm, err := hubspot.New(hubspot.Config{BaseURL: e.crm.BaseURL(), Token: emulator.DefaultToken, RequestsPer10s: limit})
		if err != nil {
			b.Fatal(err)
		}
		before := e.emu.Stats()
		b.StartTimer()
		start := time.Now()
		cur := run(b, &restore.Pass{CRM: crm, Archive: e.archive, Sel: sel, Write: true}, restore.Cursor{})
		elapsed += time.Since(start)
		b.StopTimer()
		after := e.emu.Stats()
		if cur.Tally.Records.Set != records || after.RateLimited > before.RateLimited {
			b.Fatalf("restored %+v with %d 429s", cur.Tally.Records, after.RateLimited-before.RateLimited)
		}
		rows += cur.Row
		requests += after.Requests - before.Requests
		b.StartTimer()
	}
	const bound = limit / 10.0 // requests/s
	b.ReportMetric(float64(rows)/elapsed.Seconds(), "records/s")
	b.ReportMetric(100*float64(requests)/elapsed.Seconds()/bound, "%-of-bound")
	b.ReportMetric(float64(requests)*100/float64(rows), "requests/100-records")
}

// BenchmarkPlan: a plan over 20,000 and 200,000 deals × 10 properties,
// unthrottled, computed in a child process of its own so that its peak
// RSS is the plan's alone (not the emulator's or the S3 stand-in's).
func BenchmarkPlan(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, n := range []int{20000, 200000} {
			e := newEnv(b, map[string]int{"deals": n})
			cmd := exec.Command(exe, "-test.run=^TestPlanChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "BENCH_CHILD=1", "BENCH_CRM="+e.crm.BaseURL(), "BENCH_S3="+e.s3URL, "BENCH_S3_KEYS="+e.s3Keys.String(),
				"BENCH_KEY="+e.backup.Key, "BENCH_ROWS="+strconv.Itoa(n))
			out, err := cmd.CombinedOutput()
			if err != nil {
				b.Fatalf("child: %v\n%s", err, out)
			}
			m := regexp.MustCompile(`peak-rss-kib=(\d+) seconds=([0-9.]+)`).FindSubmatch(out)
			if m == nil {
				b.Fatalf("child printed no figures:\n%s", out)
			}
			kib, _ := strconv.Atoi(string(m[1]))
			sec, _ := strconv.ParseFloat(string(m[2]), 64)
			b.ReportMetric(float64(kib)/1024, fmt.Sprintf("MiB-peak-RSS-%dk", n/1000))
			b.ReportMetric(sec, fmt.Sprintf("s-%dk", n/1000))
			b.ReportMetric(float64(n)/sec, fmt.Sprintf("records/s-%dk", n/1000))
		}
	}
}

// TestPlanChild is BenchmarkPlan's child process.
func TestPlanChild(t *testing.T) {
	if os.Getenv("BENCH_CHILD") != "1" {
		t.Skip("run by BenchmarkPlan")
	}
	ctx := context.Background()
	crm, err := hubspot.New(hubspot.Config{BaseURL: os.Getenv("BENCH_CRM"), Token: emulator.DefaultToken, Budget: hubspot.NewBudget(1e6, hubspot.Window)})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	archive, err := backup.OpenArchive(ctx, s3store.New(s3local.Client(os.Getenv("BENCH_S3"), s3local.ParseKeys(os.Getenv("BENCH_S3_KEYS"))), "backups"), os.Getenv("BENCH_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := archive.Object("deals")
	if err != nil {
		t.Fatal(err)
	}
	props, err := crm.Properties(ctx, o.ObjectTypeID)
	if err != nil {
		t.Fatal(err)
	}
	sel, err := restore.Select(o, benchProperties, props)
	if err != nil {
		t.Fatal(err)
	}
	cur := run(t, &restore.Pass{CRM: crm, Archive: archive, Sel: sel}, restore.Cursor{})
	want, _ := strconv.ParseInt(os.Getenv("BENCH_ROWS"), 10, 64)
	if cur.Row != want || cur.Tally.Records.Unchanged != want {
		t.Fatalf("planned %d rows %+v, want %d unchanged", cur.Row, cur.Tally.Records, want)
	}
	fmt.Printf("peak-rss-kib=%d seconds=%.2f\n", backuptest.PeakRSSKiB(t), time.Since(start).Seconds())
}
