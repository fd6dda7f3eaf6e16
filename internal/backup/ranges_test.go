package backup_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// contactsCSV runs a backup step by step and returns contacts.csv and its
// checkpoint. crash makes every invocation of the contacts export stop at
// once and loses every other result (the workflow redoes it from the last
// checkpoint it saw).
func (e *env) contactsCSV(t *testing.T, crash bool) ([]byte, backup.Checkpoint) {
	t.Helper()
	ctx := context.Background()
	*e.now = e.now.Add(25 * time.Hour) // a new quota window each time
	in, objects := e.discovered(t)
	zin := backup.ZipInput{StepInput: in}
	var contacts backup.Checkpoint
	for _, obj := range objects {
		ein := backup.ExportInput{StepInput: in, Object: obj}
		var cp backup.Checkpoint
		if crash && obj == "contacts" {
			for i := 0; ; i++ {
				out, err := e.svc.Export(ctx, ein, time.Now().Add(-time.Second)) // one page per reader
				if err != nil {
					t.Fatal(err)
				}
				if out.Checkpoint.Done {
					cp = out.Checkpoint
					break
				}
				if i%2 == 0 {
					ein = *out // every other result is lost
				}
				if i > 5000 {
					t.Fatal("the export does not end")
				}
			}
		} else {
			cp = e.exportAll(t, ein)
		}
		if obj == "contacts" {
			contacts = cp
		}
		zin.Exports = append(zin.Exports, backup.ExportResult{Object: obj, Checkpoint: cp})
	}
	data := e.zipped(t, zin)
	if _, err := backup.Verify(bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("the ZIP does not verify against its manifest: %v", err)
	}
	out := fileIn(t, data, "contacts.csv")
	return out, contacts
}

// TestLargeObjectReadAsRanges: a large object read as ranges (the list chain
// and search ranges side by side) gives the same CSV, byte for byte, as one
// list chain — also under injected errors and dropped connections, with
// invocations stopped at every turn and half their results lost.
func TestLargeObjectReadAsRanges(t *testing.T) {
	narrow := emulator.Options{Seed: 5, Sizes: map[string]int{"contacts": 4000, "deals": 50}, SearchRateLimit: -1}
	// A portal whose API refuses list URLs past 3,000 characters (HubSpot's
	// takes about 16,200): a 414, which the client learns from, and the
	// chains list ids and batch-read them.
	wide := emulator.Options{Seed: 7, Sizes: map[string]int{"contacts": 2500}, SearchRateLimit: -1,
		ExtraProperties: map[string]int{"contacts": 150}, MaxURLLength: 3000}
	faulty := func(o emulator.Options) emulator.Options { o.ErrorRate, o.DropRate = 0.05, 0.02; return o }
	baseline := map[int64][]byte{}
	plainOf := func(t *testing.T, o emulator.Options) []byte {
		if b, ok := baseline[o.Seed]; ok {
			return b
		}
		o.ErrorRate, o.DropRate = 0, 0
		e := newEnv(t, o, backup.Enterprise)
		e.svc.RangedMin = 1 << 30
		csv, cp := e.contactsCSV(t, false)
		if len(cp.Ranges) != 0 {
			t.Fatalf("the plain export used ranges: %+v", cp)
		}
		baseline[o.Seed] = csv
		return csv
	}
	// Both read paths of a range: search (ids) with batch reads, and list
	// chains of their own from proven positions; searchOnly reads through
	// search alone.
	for _, tt := range []struct {
		name       string
		opts       emulator.Options
		crash      bool
		searchOnly bool
	}{
		{"clean", narrow, false, false},
		{"faults and crashes", faulty(narrow), true, false},
		{"search only, faults and crashes", faulty(narrow), true, true},
		{"wide, faults and crashes", faulty(wide), true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			plain := plainOf(t, tt.opts)
			e := newEnv(t, tt.opts, backup.Enterprise)
			e.svc.RangedMin, e.svc.SearchCatchUp, e.svc.ChunkBytes = 1000, 50*time.Millisecond, 16<<10
			if tt.searchOnly {
				e.svc.ListReaders = -1
			}
			got, cp := e.contactsCSV(t, tt.crash)
			if len(cp.Ranges) < 3 {
				t.Fatalf("contacts were not read as ranges: %d", len(cp.Ranges))
			}
			if lists := listRanges(cp); tt.searchOnly != (lists == 0) || !cp.ListFrom {
				t.Fatalf("%d ranges read by list chains from positions (listFrom %v), search only %v: %+v", lists, cp.ListFrom, tt.searchOnly, cp.Ranges)
			}
			if !bytes.Equal(got, plain) {
				g, p := strings.Split(string(got), "\n"), strings.Split(string(plain), "\n")
				t.Fatalf("the CSVs differ: %d rows read as ranges, %d as one chain (first difference at row %d)", len(g), len(p), firstDiff(g, p))
			}
			st := e.emu.Stats()
			if st.Routes["POST /crm/objects/{version}/{type}/search"] == 0 {
				t.Fatalf("no search: %v", st.Routes)
			}
			// Too wide for HubSpot's list URLs, every record is batch-read,
			// whichever way its id came.
			if reads := st.Routes["POST /crm/objects/{version}/{type}/batch/read"]; tt.opts.MaxURLLength > 0 && reads*hubspot.MaxBatchInputs < cp.Rows {
				t.Fatalf("%d batch reads for %d records: the list pages of an object too wide for HubSpot's list URLs were not batch-read", reads, cp.Rows)
			}
			// The client learns from the first 414: the chains that start
			// together may each get one, no more.
			if most := int64(1 + 4); tt.opts.MaxURLLength > 0 && (st.URITooLong == 0 || st.URITooLong > most) {
				t.Fatalf("%d answers 414; want 1 to %d (the chains that start before the client knows)", st.URITooLong, most)
			}
			t.Logf("%d ranges, %d rows; requests %v", len(cp.Ranges), cp.Rows, st.Routes)
		})
	}
}

// listRanges counts the ranges, besides range 0, read by list chains of
// their own.
func listRanges(cp backup.Checkpoint) (n int) {
	for _, r := range cp.Ranges {
		if r.ID != 0 && r.List {
			n++
		}
	}
	return n
}

// cursors is a CRM whose list cursors read as ids, as HubSpot's do, but
// mean something else when they are not its own: a cursor it did not hand
// out goes to the list as foreign says (a position further on or back, or
// one HubSpot refuses).
type cursors struct {
	*hubspot.Client
	foreign func(after int64) string
	mu      sync.Mutex
	issued  map[string]bool
}

func (c *cursors) Pages(ctx context.Context, objectType string, opts hubspot.ListOptions) iter.Seq2[*hubspot.Page, error] {
	c.mu.Lock()
	if n, err := strconv.ParseInt(opts.After, 10, 64); err == nil && !c.issued[opts.After] {
		opts.After = c.foreign(n)
	}
	c.mu.Unlock()
	return func(yield func(*hubspot.Page, error) bool) {
		for p, err := range c.Client.Pages(ctx, objectType, opts) {
			if err == nil && p.Next != "" {
				c.mu.Lock()
				c.issued[p.Next] = true
				c.mu.Unlock()
			}
			if !yield(p, err) {
				return
			}
		}
	}
}

// TestListChainsFromPositionsAreProven: a range is read by a list chain
// from its position only while the list's cursor proves to work as one;
// when a chain started at a position does not begin at the first record
// search has there (it skipped some, or went back), or HubSpot refuses the
// cursor, the range and every later one are read through search — and each
// record is still in the CSV once, under faults and crashes too.
func TestListChainsFromPositionsAreProven(t *testing.T) {
	opts := emulator.Options{Seed: 5, Sizes: map[string]int{"contacts": 4000, "deals": 50}, SearchRateLimit: -1}
	base := newEnv(t, opts, backup.Enterprise)
	base.svc.RangedMin = 1 << 30
	plain, _ := base.contactsCSV(t, false)
	for _, tt := range []struct {
		name    string
		foreign func(int64) string
		crash   bool
	}{
		{"a position further on", func(n int64) string { return strconv.FormatInt(n+40, 10) }, false},
		{"a position further back", func(n int64) string { return strconv.FormatInt(n-40, 10) }, true},
		{"a refused cursor", func(int64) string { return "not-a-cursor" }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := opts
			if tt.crash {
				o.ErrorRate, o.DropRate = 0.05, 0.02
			}
			e := newEnv(t, o, backup.Enterprise)
			e.svc.CRMs = connectorOf{&cursors{Client: e.crm, foreign: tt.foreign, issued: map[string]bool{}}}
			e.svc.RangedMin, e.svc.SearchCatchUp, e.svc.ChunkBytes = 1000, 50*time.Millisecond, 16<<10
			got, cp := e.contactsCSV(t, tt.crash)
			if len(cp.Ranges) < 3 || cp.ListFrom || listRanges(cp) != 0 {
				t.Fatalf("%d ranges, listFrom %v, %d read by list chains from positions", len(cp.Ranges), cp.ListFrom, listRanges(cp))
			}
			if !bytes.Equal(got, plain) {
				g, p := strings.Split(string(got), "\n"), strings.Split(string(plain), "\n")
				t.Fatalf("the CSVs differ: %d rows read as ranges, %d as one chain (first difference at row %d)", len(g), len(p), firstDiff(g, p))
			}
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// unordered is a CRM whose list swaps the first two records of each page.
type unordered struct{ *hubspot.Client }

func (u unordered) Pages(ctx context.Context, objectType string, opts hubspot.ListOptions) iter.Seq2[*hubspot.Page, error] {
	return func(yield func(*hubspot.Page, error) bool) {
		for p, err := range u.Client.Pages(ctx, objectType, opts) {
			if err == nil && len(p.Objects) > 1 {
				p.Objects[0], p.Objects[1] = p.Objects[1], p.Objects[0]
			}
			if !yield(p, err) {
				return
			}
		}
	}
}

type connectorOf struct{ c backup.CRM }

func (k connectorOf) CRM(context.Context, *backup.Account) (backup.CRM, error) { return k.c, nil }

// TestRangesFallBackWhenTheListIsOutOfOrder: range 0 ends where the next
// range begins only if the list comes in id order; when it does not, the
// object is read again as one chain, and every record is in the CSV once.
func TestRangesFallBackWhenTheListIsOutOfOrder(t *testing.T) {
	e := newEnv(t, emulator.Options{Seed: 6, Sizes: map[string]int{"contacts": 3000}, SearchRateLimit: -1}, backup.Enterprise)
	e.svc.CRMs = connectorOf{unordered{e.crm}}
	e.svc.RangedMin, e.svc.SearchCatchUp = 1000, 50*time.Millisecond
	got, cp := e.contactsCSV(t, false)
	if !cp.Plain || len(cp.Ranges) != 0 {
		t.Fatalf("no fallback: %+v", cp.Ranges)
	}
	recs, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := recs[1:]
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r[0]
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != 3000 || len(rows) != 3000 {
		t.Fatalf("%d rows, %d ids, want 3000", len(rows), len(slices.Compact(ids)))
	}
}

// TestBackupRefusedBeforeExhaustingTheDailyLimit: a backup that would use
// more requests than the portal has left today fails at its start, saying
// the numbers, and gives the quota back; one that fits runs. An object too
// wide for a list URL counts two requests per 100 records.
func TestBackupRefusedBeforeExhaustingTheDailyLimit(t *testing.T) {
	for _, tt := range []struct {
		daily   int
		extra   int // contact properties besides the built-in ones
		refused bool
	}{{daily: 250, refused: true}, {daily: 3000, refused: false}, {daily: 450, refused: false}, {daily: 450, extra: 900, refused: true}} {
		e := newEnv(t, emulator.Options{Seed: 2, Sizes: map[string]int{"contacts": 20000, "deals": 300}, DailyLimit: tt.daily, SearchRateLimit: -1,
			ExtraProperties: map[string]int{"contacts": tt.extra}}, backup.Enterprise)
		in, _ := func() (backup.StepInput, error) {
			b, err := e.svc.Create(context.Background(), "acme", audit.Actor{Subject: "u"})
			if err != nil {
				t.Fatal(err)
			}
			return backup.StepInput{AccountID: "acme", BackupID: b.ID}, nil
		}()
		_, err := e.svc.Discover(context.Background(), in)
		if !tt.refused {
			if err != nil {
				t.Fatalf("daily limit %d: %v", tt.daily, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "daily API limit would run out") || !strings.Contains(err.Error(), "of its "+strconv.Itoa(tt.daily)+" left today") {
			t.Fatalf("daily limit %d: %v", tt.daily, err)
		}
		t.Log(err)
	}
}

// TestListChainProofPassesOverDeletedRecords: search's index trails
// deletions, so the first id it has above a position may be a record that
// is gone, which a list chain from there rightly passes over; the proof
// accepts that start (the record is gone, and nothing else lies before the
// chain's first) and the list chains go on — every live record once.
func TestListChainProofPassesOverDeletedRecords(t *testing.T) {
	now := time.Now()
	fx := emulator.Fixture{Objects: map[string]emulator.FixtureObject{"contacts": {
		Properties: []emulator.FixtureProperty{{Name: "email"}},
	}}}
	obj := fx.Objects["contacts"]
	for i := 1; i <= 6000; i++ {
		email := "c" + strconv.Itoa(i) + "@example.com"
		// every other record deleted moments ago: search still has it
		obj.Records = append(obj.Records, emulator.FixtureRecord{ID: strconv.Itoa(i), Properties: map[string]*string{"email": &email},
			Archived: i%2 == 0, CreatedAt: now.Add(-time.Hour), UpdatedAt: now})
	}
	fx.Objects["contacts"] = obj
	opts := emulator.Options{Fixture: &fx, SearchRateLimit: -1, SearchLag: time.Hour}
	base := newEnv(t, opts, backup.Enterprise)
	base.svc.RangedMin = 1 << 30
	plain, _ := base.contactsCSV(t, false)
	e := newEnv(t, opts, backup.Enterprise)
	e.svc.RangedMin, e.svc.SearchCatchUp, e.svc.ChunkBytes = 1000, 50*time.Millisecond, 16<<10
	got, cp := e.contactsCSV(t, false)
	if !cp.ListFrom || listRanges(cp) == 0 {
		t.Fatalf("listFrom %v, %d ranges read by list chains from positions: %+v", cp.ListFrom, listRanges(cp), cp.Ranges)
	}
	if !bytes.Equal(got, plain) {
		g, p := strings.Split(string(got), "\n"), strings.Split(string(plain), "\n")
		t.Fatalf("the CSVs differ: %d rows read as ranges, %d as one chain (first difference at row %d)", len(g), len(p), firstDiff(g, p))
	}
	if n := strings.Count(string(plain), "\n"); n != 3001 {
		t.Fatalf("%d lines, want the header and 3,000 live records", n)
	}
}
