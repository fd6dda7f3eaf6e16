package backup_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/dynamo"
	"github.com/crmbackup/crmbackup/internal/dynamo/dynamolocal"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/s3store"
	"github.com/crmbackup/crmbackup/internal/s3store/s3local"
	"github.com/crmbackup/crmbackup/internal/testenv"
	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

// BenchmarkDeployedTopology runs backups as they run on AWS: every object's
// export loop in a process of its own (as each export runs in its own
// Lambda container), at the backup state machine's Map concurrency,
// coordinating only through DynamoDB Local (the portal's shared request
// slots), against the emulator at HubSpot's Professional limit of 190
// requests per 10 s. Side by side in one run:
//   - before: the build before shared slots and ranges — each container
//     took a fixed 1/concurrency of the limit, each object one list chain;
//   - search-ranges: shared slots, and a large object's ranges read through
//     search only (no list chains from positions);
//   - after: this build.
//
// BENCH_SCALE scales the record counts (default 1; 0.1 for a quick look).
func BenchmarkDeployedTopology(b *testing.B) {
	const limit = 190
	scale := 1.0
	if v, err := strconv.ParseFloat(os.Getenv("BENCH_SCALE"), 64); err == nil && v > 0 {
		scale = v
	}
	n := func(x int) int { return max(int(float64(x)*scale), 1) }
	// BENCH_BUILDS picks the builds (default: before, previous, after):
	// before, the build before issue 17; search-ranges, this build with
	// ranges read through search only; previous, the exports run by another
	// build's test binary (BENCH_PREVIOUS_EXE, e.g. the last commit's,
	// `go test -c`); after, this build.
	builds := []string{"before", "previous", "after"}
	if v := os.Getenv("BENCH_BUILDS"); v != "" {
		builds = strings.Split(v, ",")
	}
	ddb, err := testenv.DynamoDBLocal(b)
	if err != nil {
		b.Skip(err)
	}
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	concurrency, err := asl.ExportConcurrency()
	if err != nil {
		b.Fatal(err)
	}
	scenarios := []struct {
		name    string
		sizes   map[string]int
		latency time.Duration
		extra   map[string]int
	}{
		{"a-100k-contacts-100ms", map[string]int{"contacts": n(100_000)}, 100 * time.Millisecond, nil},
		{"b-100k-contacts-400ms", map[string]int{"contacts": n(100_000)}, 400 * time.Millisecond, nil},
		{"c-default-mix-100ms", emulator.DefaultSizes(n(20_000)), 100 * time.Millisecond, nil},
		{"d-contacts-600-properties-100ms", map[string]int{"contacts": n(20_000)}, 100 * time.Millisecond, map[string]int{"contacts": 600 - 61}},
		// Past what a list URL holds (about 750 properties of HubSpot's
		// usual name lengths): lists by id and batch reads.
		{"e-contacts-900-properties-100ms", map[string]int{"contacts": n(20_000)}, 100 * time.Millisecond, map[string]int{"contacts": 900 - 61}},
	}
	for _, sc := range scenarios {
		for _, build := range builds {
			b.Run(sc.name+"/"+build, func(b *testing.B) {
				exe, build := exe, build
				if build == "previous" {
					if exe, build = os.Getenv("BENCH_PREVIOUS_EXE"), "after"; exe == "" {
						b.Skip("BENCH_PREVIOUS_EXE names no test binary of the previous build")
					}
				}
				var rows int64
				var exporting time.Duration
				var st emulator.Stats
				for b.Loop() {
					emu, err := emulator.New(emulator.Options{Seed: 11, Sizes: sc.sizes, ExtraProperties: sc.extra,
						RateLimit: limit, Latency: sc.latency})
					if err != nil {
						b.Fatal(err)
					}
					hs := httptest.NewServer(emu)
					s3srv, err := s3local.Start(s3local.Memory, "backups")
					if err != nil {
						b.Fatal(err)
					}
					store, table := testenv.Table(b, ddb.Client())
					if err := store.PutAccount(context.Background(), &backup.Account{ID: "acme", PortalID: emulator.DefaultPortalID,
						Name: "Acme", Tier: backup.Enterprise, TokenRef: "env:X", RequestsPer10s: limit}); err != nil {
						b.Fatal(err)
					}
					crm, err := hubspot.New(hubspot.Config{BaseURL: hs.URL, Token: emulator.DefaultToken, RequestsPer10s: limit,
						Slots: store.Slots("acme", "burst"), SearchSlots: store.Slots("acme", "search")})
					if err != nil {
						b.Fatal(err)
					}
					blobs := s3store.New(s3srv.Client(), "backups")
					svc := &backup.Service{Store: store, Blobs: blobs, CRMs: testenv.StaticCRM{C: crm}, Runner: &runner{}}
					bk, err := svc.Create(context.Background(), "acme", audit.Actor{Subject: "bench"})
					if err != nil {
						b.Fatal(err)
					}
					in := backup.StepInput{AccountID: "acme", BackupID: bk.ID}
					disc, err := svc.Discover(context.Background(), in)
					if err != nil {
						b.Fatal(err)
					}
					env := append(os.Environ(), "BENCH_EXPORT_CHILD=1", "BENCH_BUILD="+build, "BENCH_CRM="+hs.URL,
						"BENCH_S3="+s3srv.URL, "BENCH_S3_KEYS="+s3srv.Keys.String(), "BENCH_DDB="+ddb.Endpoint,
						"BENCH_DDB_KEY="+ddb.AccessKey, "BENCH_TABLE="+table, "BENCH_BACKUP="+bk.ID,
						"BENCH_LIMIT="+strconv.Itoa(limit), "BENCH_SHARES="+strconv.Itoa(concurrency))
					zin := backup.ZipInput{StepInput: in, Exports: make([]backup.ExportResult, len(disc.Objects))}
					sem := make(chan struct{}, concurrency)
					var wg sync.WaitGroup
					start := time.Now()
					var timeline []string
					stop := make(chan struct{})
					var sampled sync.WaitGroup
					if os.Getenv("BENCH_VERBOSE") != "" { // requests per tick: lists, batch reads, searches
						sampled.Go(func() {
							tick := time.NewTicker(benchTick)
							defer tick.Stop()
							last := emu.Stats()
							for {
								select {
								case <-stop:
									return
								case <-tick.C:
								}
								now := emu.Stats()
								r := func(route string) int64 { return now.Routes[route] - last.Routes[route] }
								timeline = append(timeline, fmt.Sprintf("%d+%d/%d", r("GET /crm/objects/{version}/{type}"),
									r("POST /crm/objects/{version}/{type}/batch/read"), r("POST /crm/objects/{version}/{type}/search")))
								last = now
							}
						})
					}
					for i, obj := range disc.Objects {
						sem <- struct{}{} // in discovery order, as the Map starts them
						wg.Go(func() {
							defer func() { <-sem }()
							cmd := exec.Command(exe, "-test.run=^TestExportChild$", "-test.count=1")
							cmd.Env = append(slices.Clip(env), "BENCH_OBJECT="+obj)
							out, err := cmd.CombinedOutput()
							if err != nil {
								b.Errorf("export of %s: %v\n%s", obj, err, out)
								return
							}
							m := regexp.MustCompile(`(?m)^checkpoint=(.*)$`).FindSubmatch(out)
							if m == nil {
								b.Errorf("export of %s printed no checkpoint:\n%s", obj, out)
								return
							}
							var cp backup.Checkpoint
							if err := json.Unmarshal(m[1], &cp); err != nil {
								b.Error(err)
							}
							zin.Exports[i] = backup.ExportResult{Object: obj, Checkpoint: cp}
						})
					}
					wg.Wait()
					exporting += time.Since(start)
					close(stop)
					sampled.Wait()
					if os.Getenv("BENCH_VERBOSE") != "" {
						fmt.Fprintf(os.Stderr, "%s: every %v, lists+batch reads/searches: %s\n", sc.name, benchTick, strings.Join(timeline, " ")) // b.Log cuts it short
						for _, x := range zin.Exports {
							cp := x.Checkpoint
							b.Logf("%-14s %7d rows, %2d ranges, from %5.1fs to %5.1fs", x.Object, cp.Rows, len(cp.Ranges),
								cp.SnapshotStart.Sub(start).Seconds(), cp.SnapshotEnd.Sub(start).Seconds())
						}
					}
					if b.Failed() {
						b.FailNow()
					}
					if _, err := svc.Zip(context.Background(), zin); err != nil {
						b.Fatalf("%v (checkpoints %+v)", err, zin.Exports)
					}
					want := 0
					for _, c := range emu.Counts() {
						want += c
					}
					var got int64
					for _, x := range zin.Exports {
						got += x.Checkpoint.Rows
					}
					if got != int64(want) {
						b.Fatalf("exported %d records, the portal has %d", got, want)
					}
					rows += got
					st = emu.Stats()
					hs.Close()
					s3srv.Close()
				}
				const bound = limit / 10 * 100 // records/s: a 100-record page per request
				perSec := float64(rows) / exporting.Seconds()
				b.ReportMetric(perSec, "records/s")
				b.ReportMetric(100*perSec/bound, "%-of-bound")
				b.ReportMetric(float64(st.RateLimited), "429s")
				b.ReportMetric(100*float64(st.RateLimited)/float64(max(st.Requests, 1)), "%-429")
				b.ReportMetric(float64(st.MaxInWindow), "max-in-10s")
				b.ReportMetric(float64(st.SearchMaxInSecond), "max-searches-in-1s")
				secs := exporting.Seconds() / float64(b.N)
				b.ReportMetric(float64(st.Routes["GET /crm/objects/{version}/{type}"])/secs, "lists/s")
				b.ReportMetric(float64(st.Routes["POST /crm/objects/{version}/{type}/batch/read"])/secs, "batch-reads/s")
				b.ReportMetric(float64(st.Routes["POST /crm/objects/{version}/{type}/search"])/secs, "searches/s")
			})
		}
	}
}

// TestExportChild is one export "container" of BenchmarkDeployedTopology.
func TestExportChild(t *testing.T) {
	if os.Getenv("BENCH_EXPORT_CHILD") != "1" {
		t.Skip("run by BenchmarkDeployedTopology")
	}
	limit, _ := strconv.Atoi(os.Getenv("BENCH_LIMIT"))
	shares, _ := strconv.Atoi(os.Getenv("BENCH_SHARES"))
	store := dynamo.New(dynamolocal.Client(os.Getenv("BENCH_DDB"), os.Getenv("BENCH_DDB_KEY")), os.Getenv("BENCH_TABLE"))
	cfg := hubspot.Config{BaseURL: os.Getenv("BENCH_CRM"), Token: emulator.DefaultToken, RequestsPer10s: limit,
		Slots: store.Slots("acme", "burst"), SearchSlots: store.Slots("acme", "search")}
	svc := &backup.Service{Store: store,
		Blobs: s3store.New(s3local.Client(os.Getenv("BENCH_S3"), s3local.ParseKeys(os.Getenv("BENCH_S3_KEYS"))), "backups")}
	switch os.Getenv("BENCH_BUILD") {
	case "before":
		// a fixed share of the limit per container, one chain per object
		cfg.RequestsPer10s, cfg.Slots, cfg.SearchSlots = max(limit/shares, 2), nil, nil
		svc.RangedMin = 1 << 40
	case "search-ranges":
		// ranges read through search only: no list chains from positions
		svc.ListReaders = -1
	}
	crm, err := hubspot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	svc.CRMs = testenv.StaticCRM{C: crm}
	in := backup.ExportInput{StepInput: backup.StepInput{AccountID: "acme", BackupID: os.Getenv("BENCH_BACKUP")}, Object: os.Getenv("BENCH_OBJECT")}
	for {
		out, err := svc.Export(context.Background(), in, time.Now().Add(14*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if out.Checkpoint.Done {
			raw, _ := json.Marshal(out.Checkpoint)
			fmt.Printf("\ncheckpoint=%s\n", raw)
			return
		}
		in = *out
	}
}

var benchTick = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("BENCH_TICK")); err == nil && d > 0 {
		return d
	}
	return time.Second
}()
