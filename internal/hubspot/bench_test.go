package hubspot_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// fiftyProps returns 50 contact property names from the emulator's catalog.
func fiftyProps(b *testing.B, c *hubspot.Client) []string {
	b.Helper()
	props, err := c.Properties(context.Background(), "contacts")
	if err != nil {
		b.Fatal(err)
	}
	if len(props) < 50 {
		b.Fatalf("only %d contact properties", len(props))
	}
	names := make([]string, 50)
	for i := range names {
		names[i] = props[i].Name
	}
	return names
}

// pageAll lists every record and returns how many there were.
func pageAll(b *testing.B, c *hubspot.Client, opts hubspot.ListOptions, maxPages int) int {
	n, pages := 0, 0
	for page, err := range c.Pages(context.Background(), "contacts", opts) {
		if err != nil {
			b.Fatal(err)
		}
		n += len(page.Objects)
		if pages++; pages == maxPages {
			break
		}
	}
	return n
}

// reportPerRecord adds records/s and allocs/record (whole process) metrics.
func reportPerRecord(b *testing.B, records int, before runtime.MemStats) {
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(records), "allocs/record")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(records), "B/record")
}

// BenchmarkListPaging50Props pages 10,000 contacts with 50 properties from
// an unthrottled emulator over loopback HTTP: client and emulator together,
// in one process on the same cores.
func BenchmarkListPaging50Props(b *testing.B) {
	const records = 10000
	srv, err := emulator.New(emulator.Options{Seed: 1, Sizes: map[string]int{"contacts": records}})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c, err := hubspot.New(hubspot.Config{BaseURL: ts.URL, Token: emulator.DefaultToken, Budget: hubspot.NewBudget(1e9, hubspot.Window)})
	if err != nil {
		b.Fatal(err)
	}
	opts := hubspot.ListOptions{Properties: fiftyProps(b, c)}
	total := 0
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		if n := pageAll(b, c, opts, 0); n != records {
			b.Fatalf("%d records", n)
		}
		total += records
	}
	reportPerRecord(b, total, before)
}

// BenchmarkClientDecode50Props isolates the client: the server replays one
// recorded page of 100 contacts × 50 properties, so allocations are the
// client's (plus net/http's) per record.
func BenchmarkClientDecode50Props(b *testing.B) {
	srv, err := emulator.New(emulator.Options{Seed: 1, Sizes: map[string]int{"contacts": 200}})
	if err != nil {
		b.Fatal(err)
	}
	emu := httptest.NewServer(srv)
	defer emu.Close()
	c, err := hubspot.New(hubspot.Config{BaseURL: emu.URL, Token: emulator.DefaultToken, Budget: hubspot.NewBudget(1e9, hubspot.Window)})
	if err != nil {
		b.Fatal(err)
	}
	props := fiftyProps(b, c)
	req, _ := http.NewRequest("GET", c.BaseURL()+"/crm/v3/objects/contacts?limit=100&properties="+join(props), nil)
	req.Header.Set("Authorization", "Bearer "+emulator.DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	replay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(page) // always has paging.next: the benchmark stops by itself
	}))
	defer replay.Close()
	rc, err := hubspot.New(hubspot.Config{BaseURL: replay.URL, Token: "t", Budget: hubspot.NewBudget(1e9, hubspot.Window)})
	if err != nil {
		b.Fatal(err)
	}
	opts := hubspot.ListOptions{Properties: props}
	const pages = 50
	total := 0
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		total += pageAll(b, rc, opts, pages)
	}
	reportPerRecord(b, total, before)
}

func join(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ","
		}
		s += n
	}
	return s
}
