package hubspot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/hubspot/slotstest"
)

// fastRetry keeps tests quick without changing what is retried.
var fastRetry = hubspot.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond}

// setup starts an emulator and a client with its own budget (so tests do not
// share the process-wide one).
func setup(t *testing.T, opts emulator.Options, cfg hubspot.Config) (*hubspot.Client, *emulator.Server) {
	t.Helper()
	srv, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return client(t, ts.URL, cfg), srv
}

// collect pages through objectType and fails on an error or a repeated id.
func collect(t *testing.T, c *hubspot.Client, objectType string, opts hubspot.ListOptions) []hubspot.Object {
	t.Helper()
	var out []hubspot.Object
	seen := map[string]bool{}
	for o, err := range c.List(context.Background(), objectType, opts) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[o.ID] {
			t.Fatalf("record %s returned twice", o.ID)
		}
		seen[o.ID] = true
		out = append(out, o)
	}
	return out
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]hubspot.Config{
		"no token":     {BaseURL: "http://x"},
		"relative URL": {Token: "t", BaseURL: "api.hubapi.com"},
	} {
		if _, err := hubspot.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPagingToTheEnd(t *testing.T) {
	for _, tt := range []struct {
		records, limit int
	}{{0, 100}, {1, 100}, {100, 100}, {101, 100}, {1000, 100}, {37, 10}} {
		t.Run(fmt.Sprintf("%d by %d", tt.records, tt.limit), func(t *testing.T) {
			c, srv := setup(t, emulator.Options{Sizes: map[string]int{"tickets": tt.records}}, hubspot.Config{})
			got := collect(t, c, "tickets", hubspot.ListOptions{Limit: tt.limit, Properties: []string{"subject"}})
			if len(got) != tt.records {
				t.Fatalf("%d records, want %d", len(got), tt.records)
			}
			wantRequests := max(1, (tt.records+tt.limit-1)/tt.limit)
			if tt.records%tt.limit == 0 && tt.records > 0 {
				// The last full page has no paging.next: no empty extra page.
				wantRequests = tt.records / tt.limit
			}
			if n := srv.Stats().Requests; n != int64(wantRequests) {
				t.Fatalf("%d requests, want %d", n, wantRequests)
			}
		})
	}
}

func TestResumeFromCursor(t *testing.T) {
	c, _ := setup(t, emulator.Options{Sizes: map[string]int{"deals": 250}}, hubspot.Config{})
	ctx := context.Background()
	var first []hubspot.Object
	var cursor string
	for page, err := range c.Pages(ctx, "deals", hubspot.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		first, cursor = page.Objects, page.Next
		break // a crash after the first page
	}
	rest := collect(t, c, "deals", hubspot.ListOptions{After: cursor})
	all := collect(t, c, "deals", hubspot.ListOptions{})
	if len(first)+len(rest) != len(all) || rest[0].ID != all[100].ID {
		t.Fatalf("resumed list: %d + %d records, want %d", len(first), len(rest), len(all))
	}
}

// A fixture of values that break naive CSV and JSON handling.
func trickyFixture() (*emulator.Fixture, []string) {
	values := []string{
		`comma, inside`, `"quoted"`, `say "hi", then leave`, "new\nline", "crlf\r\nline", "trailing newline\n",
		"emoji 🚀 and ZWJ 👩‍💻", "日本語", "שלום", "=1+2", "+33 1 23", "-minus", "@at", "\ttab", "  spaces  ",
		`back\slash`, "null", "NULL", "\u00a0nbsp", "zero\u200bwidth", "</script>", "a;b;c", `\u0041 literal`,
		"\u2028line separator", strings.Repeat("long ", 2000),
	}
	fx := &emulator.Fixture{Objects: map[string]emulator.FixtureObject{"contacts": {
		Properties: []emulator.FixtureProperty{{Name: "tricky"}},
	}}}
	obj := fx.Objects["contacts"]
	for i, v := range values {
		v := v
		obj.Records = append(obj.Records, emulator.FixtureRecord{ID: strconv.Itoa(i + 1), Properties: map[string]*string{"tricky": &v}})
	}
	fx.Objects["contacts"] = obj
	return fx, values
}

func TestTrickyValuesRoundTripByteForByte(t *testing.T) {
	fx, values := trickyFixture()
	c, _ := setup(t, emulator.Options{Fixture: fx}, hubspot.Config{})
	ctx := context.Background()

	got := collect(t, c, "contacts", hubspot.ListOptions{Properties: []string{"tricky"}})
	for i, o := range got {
		if o.Properties["tricky"] != values[i] {
			t.Errorf("list: record %s = %q, want %q", o.ID, o.Properties["tricky"], values[i])
		}
	}
	// Write each value to another record and read it back: the write path too.
	var inputs []hubspot.UpdateInput
	for i := range values {
		inputs = append(inputs, hubspot.UpdateInput{ID: strconv.Itoa(len(values) - i), Properties: map[string]string{"tricky": values[i]}})
	}
	res, err := c.BatchUpdate(ctx, "contacts", inputs)
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("batch update: %v %+v", err, res)
	}
	var ids []string
	for i := range values {
		ids = append(ids, strconv.Itoa(i+1))
	}
	read, err := c.BatchRead(ctx, "contacts", ids, []string{"tricky"}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range read.Objects {
		n, _ := strconv.Atoi(o.ID)
		if want := values[len(values)-n]; o.Properties["tricky"] != want {
			t.Errorf("after write: record %s = %q, want %q", o.ID, o.Properties["tricky"], want)
		}
	}
}

func TestEmptyValuesAreEmptyStrings(t *testing.T) {
	c, _ := setup(t, emulator.Options{Sizes: map[string]int{"contacts": 5}}, hubspot.Config{})
	for _, o := range collect(t, c, "contacts", hubspot.ListOptions{Properties: []string{"fax"}}) {
		if v, ok := o.Properties["fax"]; !ok || v != "" {
			t.Fatalf("fax = %q, %v; want present and empty", v, ok)
		}
	}
}

func TestLongPropertyListFallsBackToBatchRead(t *testing.T) {
	props := make([]string, 0, 80)
	for i := range 80 {
		props = append(props, fmt.Sprintf("property_with_a_long_name_%03d", i))
	}
	props = append(props, "email", "firstname")
	for _, tt := range []struct {
		name              string
		clientMax, srvMax int
	}{
		{"client sees the URL is too long", 1000, 0},
		{"server answers 414", 100000, 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := setup(t, emulator.Options{Sizes: map[string]int{"contacts": 250}, MaxURLLength: tt.srvMax},
				hubspot.Config{MaxURLLength: tt.clientMax})
			got := collect(t, c, "contacts", hubspot.ListOptions{Properties: props})
			want := collect(t, c, "contacts", hubspot.ListOptions{Properties: []string{"email", "firstname"}})
			if len(got) != 250 {
				t.Fatalf("%d records", len(got))
			}
			for i := range got {
				if got[i].ID != want[i].ID || got[i].Properties["email"] != want[i].Properties["email"] {
					t.Fatalf("record %d: %v, want %v", i, got[i], want[i])
				}
			}
			if reads := srv.Stats().Routes["POST /crm/objects/{version}/{type}/batch/read"]; reads != 3 {
				t.Fatalf("%d batch reads, want 3 (one per page)", reads)
			}
			// The client knows now: the next list goes by id from its
			// first page, without another 414.
			if !c.ListsByID("contacts", props) || c.ListsByID("contacts", props[80:]) {
				t.Fatalf("ListsByID: %v for the long list, %v for the short one; want true, false",
					c.ListsByID("contacts", props), c.ListsByID("contacts", props[80:]))
			}
			before := srv.Stats()
			collect(t, c, "contacts", hubspot.ListOptions{Properties: props})
			if after := srv.Stats(); after.Requests-before.Requests != 6 || after.Served-before.Served != 6 {
				t.Fatalf("%d requests, %d served for a second list of 3 pages; want 6 and 6 (3 lists by id, 3 batch reads)",
					after.Requests-before.Requests, after.Served-before.Served)
			}
		})
	}
}

// TestListURLHoldsHundredsOfProperties: a list URL carries a portal's
// hundreds of property names, their commas as they are (not %2C), up to
// DefaultMaxURLLength; past it the list goes by id.
func TestListURLHoldsHundredsOfProperties(t *testing.T) {
	names := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("custom_extra_field_%03d", i) // 22 characters, as HubSpot's own run
		}
		return out
	}
	c, srv := setup(t, emulator.Options{Sizes: map[string]int{"contacts": 150}}, hubspot.Config{})
	for _, tt := range []struct {
		n    int
		byID bool
	}{{600, false}, {690, false}, {700, true}, {900, true}} {
		if got := c.ListsByID("contacts", names(tt.n)); got != tt.byID {
			t.Errorf("%d properties of 22 characters: ListsByID %v, want %v", tt.n, got, tt.byID)
		}
	}
	// 680 names in one URL (escaped commas would take it past the limit):
	// HubSpot (and the emulator) take it, and every page costs one request.
	props := append(names(678), "email", "firstname")
	before := srv.Stats()
	got := collect(t, c, "contacts", hubspot.ListOptions{Properties: props})
	st := srv.Stats()
	emails := 0
	for _, o := range got {
		if o.Properties["email"] != "" {
			emails++
		}
	}
	if len(got) != 150 || emails == 0 || st.Requests-before.Requests != 2 || st.Routes["POST /crm/objects/{version}/{type}/batch/read"] != 0 {
		t.Fatalf("%d records (%d with an email), %d requests, routes %v; want 150 in 2 list pages",
			len(got), emails, st.Requests-before.Requests, st.Routes)
	}
}

func TestBatchRead(t *testing.T) {
	c, _ := setup(t, emulator.Options{Sizes: map[string]int{"contacts": 3}}, hubspot.Config{})
	ctx := context.Background()
	res, err := c.BatchRead(ctx, "contacts", []string{"10000000001", "404", "10000000003"}, []string{"email"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 207 || len(res.Objects) != 2 || len(res.Errors) != 1 ||
		res.Errors[0].Category != "OBJECT_NOT_FOUND" || !slices.Equal(res.Errors[0].IDs, []string{"404"}) {
		t.Fatalf("%+v", res)
	}
	if _, err := c.BatchRead(ctx, "contacts", make([]string, 101), nil, false); !errors.Is(err, hubspot.ErrValidation) {
		t.Fatalf("101 inputs: %v, want ErrValidation before any request", err)
	}
}

func TestBatchUpdateMultiStatus(t *testing.T) {
	c, _ := setup(t, emulator.Options{Sizes: map[string]int{"deals": 3}}, hubspot.Config{})
	ctx := context.Background()
	res, err := c.BatchUpdate(ctx, "deals", []hubspot.UpdateInput{
		{ID: "30000000001", Properties: map[string]string{"dealname": "Renamed", "amount": ""}},
		{ID: "30000000002", Properties: map[string]string{"hs_acv": "5"}}, // calculated
		{ID: "999", Properties: map[string]string{"dealname": "x"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 207 || len(res.Objects) != 1 || len(res.Errors) != 2 {
		t.Fatalf("%+v", res)
	}
	byCat := map[string]hubspot.BatchError{}
	for _, e := range res.Errors {
		byCat[e.Category] = e
	}
	if e := byCat["VALIDATION_ERROR"]; !slices.Equal(e.IDs, []string{"30000000002"}) || !slices.Equal(e.Properties, []string{"hs_acv"}) {
		t.Fatalf("read-only error %+v", e)
	}
	if e := byCat["OBJECT_NOT_FOUND"]; !slices.Equal(e.IDs, []string{"999"}) {
		t.Fatalf("not-found error %+v", e)
	}
	got, err := c.BatchRead(ctx, "deals", []string{"30000000001"}, []string{"dealname", "amount"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Objects[0].Properties; p["dealname"] != "Renamed" || p["amount"] != "" {
		t.Fatalf("after update: %v", p)
	}
}

func TestPropertiesSchemasThreadsAccount(t *testing.T) {
	c, _ := setup(t, emulator.Options{Sizes: map[string]int{"conversations": 130, "vehicles": 2}}, hubspot.Config{})
	ctx := context.Background()
	props, err := c.Properties(ctx, "contacts")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]hubspot.Property{}
	for _, p := range props {
		byName[p.Name] = p
	}
	if byName["email"].Writable() != true || byName["hs_object_id"].Writable() || byName["hubspotscore"].Writable() {
		t.Fatal("Writable() wrong for email, hs_object_id or hubspotscore")
	}
	if byName["national_id"].DataSensitivity != hubspot.HighlySensitive || len(byName["lifecyclestage"].Options) == 0 {
		t.Fatalf("sensitivity/options not decoded: %+v", byName["national_id"])
	}
	schemas, err := c.Schemas(ctx)
	if err != nil || len(schemas) != 1 || !strings.HasPrefix(schemas[0].ObjectTypeID, "2-") || schemas[0].Labels.Singular != "Vehicle" {
		t.Fatalf("schemas %+v %v", schemas, err)
	}
	if got := collect(t, c, schemas[0].ObjectTypeID, hubspot.ListOptions{}); len(got) != 2 {
		t.Fatalf("%d custom records", len(got))
	}
	var threads []hubspot.Object
	var spam []string // the "spam" column, asked for second
	for page, err := range c.ThreadPages(ctx, hubspot.ListOptions{Properties: []string{"status", "spam"}}) {
		if err != nil {
			t.Fatal(err)
		}
		if page.Columns[0] != "status" || page.Columns[1] != "spam" || slices.Contains(page.Columns, "id") {
			t.Fatalf("thread columns %q", page.Columns)
		}
		for _, o := range page.Objects {
			if len(o.Values) != len(page.Columns) {
				t.Fatalf("thread %s has %d values for %d columns", o.ID, len(o.Values), len(page.Columns))
			}
			spam = append(spam, o.Values[1])
		}
		threads = append(threads, page.Objects...)
	}
	if len(threads) != 130 || threads[0].ID == "" || threads[0].CreatedAt.IsZero() {
		t.Fatalf("%d threads, first %+v", len(threads), threads[0])
	}
	if s := spam[0]; s != "true" && s != "false" {
		t.Fatalf("spam flattened to %q", s)
	}
	acct, err := c.AccountDetails(ctx)
	if err != nil || acct.PortalID != emulator.DefaultPortalID {
		t.Fatalf("account %+v %v", acct, err)
	}
}

// statusServer answers each request with the next scripted status (the last
// one repeats), counting requests.
func statusServer(t *testing.T, script ...func(w http.ResponseWriter)) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		script[min(i, len(script)-1)](w)
	}))
	t.Cleanup(ts.Close)
	return ts, &n
}

func reply(status int, body string, headers ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

// client returns a client of url with its own budget and fast retries,
// unless cfg says otherwise.
func client(t *testing.T, url string, cfg hubspot.Config) *hubspot.Client {
	t.Helper()
	cfg.BaseURL = url
	if cfg.Token == "" {
		cfg.Token = emulator.DefaultToken
	}
	if cfg.Budget == nil {
		cfg.Budget = hubspot.NewBudget(1_000_000, hubspot.Window)
	}
	if cfg.Retry == (hubspot.RetryPolicy{}) {
		cfg.Retry = fastRetry
	}
	c, err := hubspot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestErrorsAndRetries(t *testing.T) {
	const ok = `{"results":[]}`
	errBody := func(cat string) string {
		return `{"status":"error","message":"m","correlationId":"c-1","category":"` + cat + `"}`
	}
	tests := []struct {
		name     string
		script   []func(http.ResponseWriter)
		want     error // nil: success
		requests int64
	}{
		{"200", []func(http.ResponseWriter){reply(200, ok)}, nil, 1},
		{"5xx then success", []func(http.ResponseWriter){reply(502, "<html>bad gateway</html>"), reply(503, errBody("INTERNAL_ERROR")), reply(200, ok)}, nil, 3},
		{"5xx until attempts run out", []func(http.ResponseWriter){reply(500, errBody("INTERNAL_ERROR"))}, hubspot.ErrServer, 6},
		{"400 is not retried", []func(http.ResponseWriter){reply(400, errBody("VALIDATION_ERROR"))}, hubspot.ErrValidation, 1},
		{"401 is not retried", []func(http.ResponseWriter){reply(401, errBody("INVALID_AUTHENTICATION"))}, hubspot.ErrUnauthorized, 1},
		{"403 is not retried", []func(http.ResponseWriter){reply(403, errBody("MISSING_SCOPES"))}, hubspot.ErrUnauthorized, 1},
		{"404 is not retried", []func(http.ResponseWriter){reply(404, errBody("OBJECT_NOT_FOUND"))}, hubspot.ErrNotFound, 1},
		{"429 then success", []func(http.ResponseWriter){reply(429, `{"status":"error","policyName":"TEN_SECONDLY_ROLLING"}`, "Retry-After", "0"), reply(200, ok)}, nil, 2},
		{"429 daily is final", []func(http.ResponseWriter){reply(429, `{"status":"error","errorType":"RATE_LIMIT","policyName":"DAILY"}`)}, hubspot.ErrRateLimited, 1},
		{"truncated body is retried", []func(http.ResponseWriter){reply(200, `{"results":[{"id":"1"`), reply(200, ok)}, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, n := statusServer(t, tt.script...)
			c := client(t, ts.URL, hubspot.Config{})
			_, err := c.PropertiesAt(context.Background(), "contacts", hubspot.NonSensitive)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if n.Load() != tt.requests {
				t.Fatalf("%d requests, want %d", n.Load(), tt.requests)
			}
			var apiErr *hubspot.Error
			if tt.want != nil && errors.As(err, &apiErr) && apiErr.Path != "/crm/properties/"+hubspot.DefaultAPIVersion+"/contacts" {
				t.Fatalf("error lacks context: %+v", apiErr)
			}
		})
	}
}

func TestDailyLimitIsReported(t *testing.T) {
	c, _ := setup(t, emulator.Options{DailyLimit: 1}, hubspot.Config{})
	ctx := context.Background()
	if _, err := c.PropertiesAt(ctx, "contacts", hubspot.NonSensitive); err != nil {
		t.Fatal(err)
	}
	_, err := c.PropertiesAt(ctx, "contacts", hubspot.NonSensitive)
	var apiErr *hubspot.Error
	if !errors.As(err, &apiErr) || !apiErr.Daily() || !errors.Is(err, hubspot.ErrRateLimited) {
		t.Fatalf("%v, want a daily rate-limit error", err)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		first := len(times) == 1
		mu.Unlock()
		if first {
			reply(429, `{"status":"error","policyName":"TEN_SECONDLY_ROLLING"}`, "Retry-After", "1")(w)
			return
		}
		reply(200, `{"results":[]}`)(w)
	}))
	defer ts.Close()
	c := client(t, ts.URL, hubspot.Config{})
	if _, err := c.PropertiesAt(context.Background(), "contacts", hubspot.NonSensitive); err != nil {
		t.Fatal(err)
	}
	if gap := times[1].Sub(times[0]); gap < 900*time.Millisecond {
		t.Fatalf("retried after %v, before Retry-After's 1 s", gap)
	}
}

func TestCancellation(t *testing.T) {
	t.Run("during a slow request", func(t *testing.T) {
		c, _ := setup(t, emulator.Options{Latency: time.Minute}, hubspot.Config{})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.PropertiesAt(ctx, "contacts", hubspot.NonSensitive)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v, want deadline exceeded", err)
		}
	})
	t.Run("while waiting for the budget", func(t *testing.T) {
		c, _ := setup(t, emulator.Options{}, hubspot.Config{Budget: hubspot.NewBudget(2, time.Hour)})
		ctx, cancel := context.WithCancel(context.Background())
		if _, err := c.PropertiesAt(ctx, "contacts", hubspot.NonSensitive); err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(50*time.Millisecond, cancel)
		if _, err := c.PropertiesAt(ctx, "contacts", hubspot.NonSensitive); !errors.Is(err, context.Canceled) {
			t.Fatalf("%v, want canceled", err)
		}
	})
	t.Run("stops paging", func(t *testing.T) {
		c, srv := setup(t, emulator.Options{Sizes: map[string]int{"contacts": 1000}}, hubspot.Config{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		pages := 0
		var last error
		for _, err := range c.Pages(ctx, "contacts", hubspot.ListOptions{}) {
			if err != nil {
				last = err
				break
			}
			if pages++; pages == 2 {
				cancel()
			}
		}
		// The third page is prefetched while the second is handled, so its
		// request may reach HubSpot before the cancel does; nothing after it.
		if n := srv.Stats().Requests; !errors.Is(last, context.Canceled) || pages != 2 || n < 2 || n > 3 {
			t.Fatalf("after cancel: %v, %d pages, %d requests", last, pages, n)
		}
	})
}

func TestTokenNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const token = "pat-na1-11111111-2222-3333-4444-555555555555"
	c, _ := setup(t, emulator.Options{Token: token, ErrorRate: 0.5, Sizes: map[string]int{"contacts": 300}},
		hubspot.Config{Token: token, Logger: logger})
	collect(t, c, "contacts", hubspot.ListOptions{})
	if logs.Len() == 0 {
		t.Fatal("nothing logged at debug level")
	}
	if strings.Contains(logs.String(), token) || strings.Contains(logs.String(), "11111111") {
		t.Fatal("the token appears in the logs")
	}
}

func TestBudgetIsSharedPerPortal(t *testing.T) {
	a := hubspot.BudgetFor("https://api.hubapi.com", "token-a", 100)
	if b := hubspot.BudgetFor("https://api.hubapi.com", "token-a", 190); a != b {
		t.Fatal("two budgets for one portal")
	}
	if c := hubspot.BudgetFor("https://api.hubapi.com", "token-b", 100); a == c {
		t.Fatal("two portals share a budget")
	}
	c1, _ := hubspot.New(hubspot.Config{Token: "token-a"})
	c2, _ := hubspot.New(hubspot.Config{Token: "token-a", BaseURL: hubspot.DefaultBaseURL + "/"})
	if c1.Budget() != a || c2.Budget() != a {
		t.Fatal("clients of one portal do not share its budget")
	}
}

// TestAnnouncedLimitLowersBudget configures the client for twice what the
// portal allows: HubSpot's rate-limit headers bring it down before 429s.
func TestAnnouncedLimitLowersBudget(t *testing.T) {
	c, srv := setup(t,
		emulator.Options{Sizes: map[string]int{"contacts": 1500}, RateLimit: 10, RateWindow: time.Second},
		hubspot.Config{Budget: hubspot.NewBudget(20, time.Second)})
	got := collectConcurrently(t, c, 1500)
	if st := srv.Stats(); got != 1500 || st.RateLimited > 1 || st.MaxInWindow > 11 {
		t.Fatalf("%d records, %d 429s, %d in a window; want 1500, at most one 429 and 10 a window", got, st.RateLimited, st.MaxInWindow)
	}
}

// TestBackOffOn429 shares the portal with another integration that uses
// part of its budget, so the client's own budget is too high: it must get
// 429s, back off, and still return every record exactly once.
func TestBackOffOn429(t *testing.T) {
	c, srv := setup(t,
		emulator.Options{Sizes: map[string]int{"contacts": 3000}, RateLimit: 10, RateWindow: time.Second, OmitRetryAfter: true},
		hubspot.Config{})
	neighbour := client(t, c.BaseURL(), hubspot.Config{Retry: hubspot.RetryPolicy{MaxAttempts: 1, MaxRateLimited: 1}})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(200 * time.Millisecond) // half the portal's 10/s
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				neighbour.PropertiesAt(context.Background(), "contacts", hubspot.NonSensitive)
			}
		}
	}()
	got := collectConcurrently(t, c, 3000)
	close(stop)
	<-done
	st := srv.Stats()
	t.Logf("served %d, 429s %d", st.Served, st.RateLimited)
	if got != 3000 || st.RateLimited == 0 {
		t.Fatalf("%d records, %d 429s; want 3000 and some 429s", got, st.RateLimited)
	}
	// Adaptive: the client settles near what is left instead of hammering.
	if st.RateLimited > st.Served/3 {
		t.Fatalf("%d 429s for %d served requests: the client hammers", st.RateLimited, st.Served)
	}
}

// collectConcurrently pages the contacts in 3 goroutines over disjoint
// ranges sharing one client, as concurrent exports share a portal.
func collectConcurrently(t *testing.T, c *hubspot.Client, n int) int {
	t.Helper()
	var wg sync.WaitGroup
	var total atomic.Int64
	per := n / 3
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			after := strconv.Itoa(10000000001 + w*per)
			for page, err := range c.Pages(context.Background(), "contacts", hubspot.ListOptions{After: after}) {
				if err != nil {
					t.Error(err)
					return
				}
				for _, o := range page.Objects {
					id, _ := strconv.Atoi(o.ID)
					if id >= 10000000001+(w+1)*per {
						return
					}
					total.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return int(total.Load())
}

// TestFullPagingUnderLimitsAndFaults is the connector's acceptance test: with
// the emulator at 100 requests/10 s and 20% injected 5xx, a full paging of
// 20,000 contacts returns every record exactly once, and the emulator never
// sees more requests in a 10 s window than the budget.
func TestFullPagingUnderLimitsAndFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 25 s: the rate limit is the point")
	}
	c, srv := setup(t,
		emulator.Options{Seed: 20, Sizes: map[string]int{"contacts": 20000}, RateLimit: 100, ErrorRate: 0.2},
		hubspot.Config{Budget: hubspot.NewBudget(100, hubspot.Window),
			Retry: hubspot.RetryPolicy{MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second}})
	got := collect(t, c, "contacts", hubspot.ListOptions{Properties: []string{"email", "firstname", "lastname", "message"}})
	st := srv.Stats()
	t.Logf("requests %d, injected 5xx %d, 429 %d, max in any 10 s window %d", st.Requests, st.InjectedErrors, st.RateLimited, st.MaxInWindow)
	if len(got) != 20000 {
		t.Fatalf("%d records, want 20000", len(got))
	}
	for i, o := range got {
		if want := strconv.Itoa(10000000001 + i); o.ID != want {
			t.Fatalf("record %d is %s, want %s (gap or reorder)", i, o.ID, want)
		}
	}
	if st.MaxInWindow > 100 || st.RateLimited != 0 {
		t.Fatalf("emulator saw %d requests in a window (budget 100), %d 429s", st.MaxInWindow, st.RateLimited)
	}
	if st.InjectedErrors == 0 {
		t.Fatal("no faults were injected: the test proves nothing")
	}
}

// TestBudgetServesOldestStreamFirst: requests queued behind a busy slot are
// served by priority (a stream's start time), not by arrival.
func TestBudgetServesOldestStreamFirst(t *testing.T) {
	b := hubspot.NewBudget(101, hubspot.Window) // a slot every ~100 ms
	ctx := context.Background()
	if err := b.Wait(ctx); err != nil { // takes the first slot
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []int64
	var wg sync.WaitGroup
	for _, p := range []int64{30, 10, 20} {
		wg.Go(func() {
			if err := b.Wait(hubspot.WithPriority(ctx, p)); err != nil {
				t.Error(err)
			}
			mu.Lock()
			order = append(order, p)
			mu.Unlock()
		})
		time.Sleep(5 * time.Millisecond) // arrive in this order, well within one slot
	}
	wg.Wait()
	if !slices.Equal(order, []int64{10, 20, 30}) {
		t.Fatalf("served %v, want oldest first", order)
	}
}

// TestEveryAttemptWaitsOnTheBudget: when the emulator drops connections,
// Go's transport resends some requests by itself (a reused connection that
// died before answering). Each of those reaches HubSpot too, so each must
// have waited on the portal's budget: HubSpot counts every request it
// received, the budget must have granted as many.
func TestEveryAttemptWaitsOnTheBudget(t *testing.T) {
	budget := hubspot.NewBudget(1e6, hubspot.Window)
	c, srv := setup(t, emulator.Options{Seed: 3, DropRate: 0.3}, hubspot.Config{Budget: budget, Retry: hubspot.RetryPolicy{MaxAttempts: 50, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}})
	for range 60 {
		if _, err := c.PropertiesAt(context.Background(), "contacts", hubspot.NonSensitive); err != nil {
			t.Fatal(err)
		}
	}
	st := srv.Stats()
	if st.Dropped == 0 {
		t.Fatal("no connection was dropped: the test proves nothing")
	}
	if got := budget.Granted(); got != st.Requests {
		t.Fatalf("HubSpot received %d requests, the budget granted %d", st.Requests, got)
	}
}

// TestRetryLater: 423 Locked and 477 Migration in progress are answers to
// wait on and retry (HubSpot documents both), each after at least its wait:
// Retry-After, and 2 s (LockedWait) for a 423.
func TestRetryLater(t *testing.T) {
	for _, tt := range []struct {
		name       string
		status     int
		retryAfter string
		minWait    time.Duration
	}{
		{"477 with Retry-After", 477, "0.3", 300 * time.Millisecond},
		{"423 waits LockedWait", 423, "", 200 * time.Millisecond},
		{"423 with a longer Retry-After", 423, "0.4", 400 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			var first time.Time
			var gap time.Duration
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					first = time.Now()
					if tt.retryAfter != "" {
						w.Header().Set("Retry-After", tt.retryAfter)
					}
					w.WriteHeader(tt.status)
					fmt.Fprint(w, `{"status":"error","message":"try later","category":"LOCKED"}`)
					return
				}
				gap = time.Since(first)
				fmt.Fprint(w, `{"results":[]}`)
			}))
			defer ts.Close()
			c := client(t, ts.URL, hubspot.Config{Retry: hubspot.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, LockedWait: 200 * time.Millisecond}})
			if _, err := c.PropertiesAt(context.Background(), "contacts", hubspot.NonSensitive); err != nil {
				t.Fatal(err)
			}
			if calls.Load() != 2 || gap < tt.minWait {
				t.Fatalf("%d calls, retried after %s, want 2 calls and at least %s", calls.Load(), gap, tt.minWait)
			}
		})
	}
	t.Run("a wait past the caller's deadline: answered at once, marked out of time", func(t *testing.T) {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(477)
			fmt.Fprint(w, `{"status":"error","message":"migration in progress"}`)
		}))
		defer ts.Close()
		c := client(t, ts.URL, hubspot.Config{})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.PropertiesAt(ctx, "contacts", hubspot.NonSensitive)
		if !hubspot.OutOfTime(err) || ctx.Err() != nil || time.Since(start) > 4*time.Second {
			t.Fatalf("%v after %s: want HubSpot's answer at once, out of time", err, time.Since(start))
		}
	})
	t.Run("still not ready after every attempt: a typed error", func(t *testing.T) {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(477)
			fmt.Fprint(w, `{"status":"error","message":"migration in progress"}`)
		}))
		defer ts.Close()
		c := client(t, ts.URL, hubspot.Config{Retry: hubspot.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}})
		_, err := c.PropertiesAt(context.Background(), "contacts", hubspot.NonSensitive)
		var he *hubspot.Error
		if !errors.Is(err, hubspot.ErrRetryLater) || !errors.As(err, &he) || he.Attempts != 3 || he.StatusCode != 477 {
			t.Fatalf("%v", err)
		}
	})
}

// TestAnnouncedLimitUpAndDown: the budget follows HubSpot's announced limit
// down and back up, never above the configured one.
func TestAnnouncedLimitUpAndDown(t *testing.T) {
	rate := func(n int) float64 { return hubspot.NewBudget(n, hubspot.Window).Limit() }
	b := hubspot.NewBudget(190, hubspot.Window)
	settle := func() {
		for range 100 {
			b.Succeeded()
		}
	}
	for _, tt := range []struct {
		announced, want int
	}{{100, 100}, {150, 150}, {500, 190}, {190, 190}, {20, 20}} {
		b.Announced(tt.announced, hubspot.Window)
		settle()
		if got := b.Limit(); got != rate(tt.want) {
			t.Errorf("announced %d: %.2f requests/s, want %.2f (%d per 10 s)", tt.announced, got, rate(tt.want), tt.want)
		}
	}
}

// TestAPIVersions: the client speaks HubSpot's latest dated version unless
// told; v3 is an explicit choice; threads stay on v3 (dated only in beta).
func TestAPIVersions(t *testing.T) {
	for _, tt := range []struct {
		version                  string
		list, props, schemas, me string
	}{
		{"", "GET /crm/objects/{version}/{type}", "GET /crm/properties/{version}/{type}", "GET /crm-object-schemas/{version}/schemas", "GET /account-info/{version}/details"},
		{"2026-03", "GET /crm/objects/{version}/{type}", "GET /crm/properties/{version}/{type}", "GET /crm-object-schemas/{version}/schemas", "GET /account-info/{version}/details"},
		{"v3", "GET /crm/v3/objects/{type}", "GET /crm/v3/properties/{type}", "GET /crm/v3/schemas", "GET /account-info/v3/details"},
	} {
		t.Run(tt.version, func(t *testing.T) {
			c, srv := setup(t, emulator.Options{Sizes: map[string]int{"contacts": 3, "conversations": 2}}, hubspot.Config{APIVersion: tt.version})
			ctx := context.Background()
			collect(t, c, "contacts", hubspot.ListOptions{})
			if _, err := c.PropertiesAt(ctx, "contacts", hubspot.NonSensitive); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Schemas(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := c.AccountDetails(ctx); err != nil {
				t.Fatal(err)
			}
			for _, err := range c.ThreadPages(ctx, hubspot.ListOptions{}) {
				if err != nil {
					t.Fatal(err)
				}
			}
			routes := srv.Stats().Routes
			for _, r := range []string{tt.list, tt.props, tt.schemas, tt.me, "GET /conversations/v3/conversations/threads"} {
				if routes[r] == 0 {
					t.Errorf("no request to %s: %v", r, routes)
				}
			}
		})
	}
	if _, err := hubspot.New(hubspot.Config{Token: "t", APIVersion: "latest"}); err == nil {
		t.Fatal("an unknown API version was accepted")
	}
}

// TestSharedSlots: budgets that stand for separate processes (each its own
// pacer at the portal's whole rate) share one portal's slots: together they
// stay within its limit, and one left alone gets every slot.
func TestSharedSlots(t *testing.T) {
	slots := &hubspot.MemorySlots{}
	const perSecond = 40 // 400 per 10 s
	a, b := hubspot.NewBudget(perSecond*10, hubspot.Window), hubspot.NewBudget(perSecond*10, hubspot.Window)
	a.Share(slots)
	b.Share(slots)
	rate := a.Limit()
	ctx := context.Background()
	run := func(bs []*hubspot.Budget, d time.Duration) (int, []time.Time) {
		var (
			mu    sync.Mutex
			times []time.Time
			wg    sync.WaitGroup
		)
		end := time.Now().Add(d)
		for _, bu := range bs {
			for range 3 { // three streams each
				wg.Go(func() {
					for time.Now().Before(end) {
						if err := bu.Wait(ctx); err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						times = append(times, time.Now())
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		return len(times), times
	}
	both, times := run([]*hubspot.Budget{a, b}, 2*time.Second)
	slices.SortFunc(times, time.Time.Compare)
	for i := range times {
		j := sort.Search(len(times), func(j int) bool { return times[j].Sub(times[i]) >= time.Second })
		if n := j - i; float64(n) > 1+rate+1 {
			t.Fatalf("%d requests within a second, above %.1f", n, 1+rate)
		}
	}
	alone, _ := run([]*hubspot.Budget{a}, time.Second)
	if float64(alone) < 0.85*rate {
		t.Fatalf("one process alone sent %d in 1 s, want about %.0f (every slot)", alone, rate)
	}
	if float64(both) < 0.85*rate*2 {
		t.Fatalf("two processes sent %d in 2 s, want about %.0f", both, 2*rate)
	}
}

// TestRetryAfterPastTheDeadline: a Retry-After longer than the caller has
// left is not slept through: HubSpot's answer comes back at once.
func TestRetryAfterPastTheDeadline(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(477)
		fmt.Fprint(w, `{"status":"error","message":"migration in progress"}`)
	}))
	defer ts.Close()
	c := client(t, ts.URL, hubspot.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.PropertiesAt(ctx, "contacts", hubspot.NonSensitive)
	if !errors.Is(err, hubspot.ErrRetryLater) || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("%v after %s, want HubSpot's 477 at once", err, time.Since(start))
	}
}

func TestMemorySlots(t *testing.T) {
	slotstest.Run(t, func(t *testing.T) hubspot.Slots { return &hubspot.MemorySlots{} })
}
