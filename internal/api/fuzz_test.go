package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/listing"
)

// fuzzRoutes are the requests the fuzzer varies: every route that takes a
// body or a query, on the real services over the in-memory store.
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/v1/backups"},
	{"GET", "/v1/backups"},
	{"PUT", "/v1/backup-schedule"},
	{"GET", "/v1/notifications"},
	{"POST", "/v1/notifications/read-all"},
	{"GET", "/v1/audit-log"},
	{"GET", "/v1/backups/%s"},
	{"POST", "/v1/notifications/%s/read"},
}

// state is what a refused request must leave as it was (the audit
// entries of refusals that matter, a quota refusal say, are its record).
func state(t *testing.T, s *stored) (backups, audits int, schedule string) {
	ctx := context.Background()
	b, _ := s.store.Backups(ctx, "acme", listing.Query{Limit: listing.MaxLimit}) // one a day: a few
	q := audit.Query{Query: listing.Query{Limit: listing.MaxLimit}}
	for {
		a, _ := s.store.AuditLog(ctx, "acme", q)
		for _, e := range a.Items {
			if e.Outcome != audit.Refused {
				audits++
			}
		}
		if a.Next == "" {
			break
		}
		q.After = a.Next
	}
	if sch, err := s.store.Schedule(ctx, "acme"); err == nil {
		schedule = sch.Describe() + sch.UpdatedAt.String()
	}
	return len(b.Items), audits, schedule
}

// FuzzRequests: whatever a caller sends — a path segment, a query, a body —
// the API answers a JSON 2xx or 4xx, never a 5xx, and a refused request
// writes nothing. The seed corpus (run by every `go test`) is the
// hostile inputs the probes used; `make fuzz` explores further.
func FuzzRequests(f *testing.F) {
	for i := range fuzzRoutes {
		for _, seed := range []struct{ seg, query, body string }{
			{"01JD2Z6W6Q3V9K8M7N5P4R3S2A", "", "{}"},
			{"..", "limit=0", `{"enabled":true}`},
			{strings.Repeat("A", 1100), "cursor=bm90IGEgY3Vyc29y", `{"enabled":true,"frequency":"weekly"}`},
			{"%00", "order=oldest&from=2026-01-01T00:00:00Z", `{"Enabled":true}`},
			{"x", "action=backup.created&limit=100", `{"enabled":true,"enabled":false}`},
			{"", "limit=-1&limit=2", `[`},
			{"01JD2Z6W6Q3V9K8M7N5P4R3S2A", "to=2026-12-01T00:00:00Z&from=2027-01-01T00:00:00Z", `{"enabled":true,"frequency":"daily","timeOfDay":"+1:00"}`},
			{"é", "cursor=" + strings.Repeat("x", 600), "\xff\xfe"},
			{"01JD2Z6W6Q3V9K8M7N5P4R3S2A", "", `{"enabled":true,"frequency":"biweekly","timezone":"../../etc/passwd","dayOfWeek":"funday"}`},
		} {
			f.Add(uint8(i), seed.seg, seed.query, seed.body)
		}
	}
	s := newStored(f, backup.Enterprise)
	tok, err := s.tokens.Sign(auth.DevClaims{Subject: "admin@acme", AccountID: "acme", Role: auth.SuperAdminRole})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, route uint8, seg, query, body string) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := r.path
		if strings.Contains(path, "%s") {
			path = strings.Replace(path, "%s", seg, 1)
		}
		req, err := http.NewRequest(r.method, s.url+path, strings.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		if strings.IndexFunc(query, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '#' }) >= 0 {
			return // not a query on the wire: net/http refuses the request line itself
		}
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+tok)
		b0, a0, s0 := state(t, s)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return // refused by Go's client (an invalid URL)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s?%q %q: %d", r.method, path, query, body, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" && resp.StatusCode != http.StatusFound {
			t.Fatalf("%s %s: Content-Type %q", r.method, path, ct)
		}
		if resp.StatusCode >= 400 {
			if b1, a1, s1 := state(t, s); b1 != b0 || a1 != a0 || s1 != s0 {
				t.Fatalf("%s %s?%q %q: refused (%d) but wrote (backups %d→%d, audit %d→%d, schedule %q→%q)",
					r.method, path, query, body, resp.StatusCode, b0, b1, a0, a1, s0, s1)
			}
		}
	})
}
