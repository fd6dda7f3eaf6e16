package emulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/emulator"
)

// These tests speak raw HTTP, so the emulator is pinned to HubSpot's wire
// behaviour independently of crmbackup's own client.

func start(t *testing.T, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	srv, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts.URL
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func call(t *testing.T, method, url, body string) answer {
	t.Helper()
	return callAs(t, method, url, body, emulator.DefaultToken)
}

func callAs(t *testing.T, method, url, body, token string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	a.raw, _ = io.ReadAll(resp.Body)
	if len(a.raw) > 0 {
		if err := json.Unmarshal(a.raw, &a.body); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %v\n%s", method, url, err, a.raw)
		}
	}
	return a
}

// hubspotError checks HubSpot's standard error body.
func hubspotError(t *testing.T, a answer, status int, category string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.raw)
	}
	if a.body["status"] != "error" || a.body["category"] != category || a.body["message"] == "" || a.body["correlationId"] == "" {
		t.Fatalf("error body %s, want status=error category=%s with message and correlationId", a.raw, category)
	}
}

func TestValidationErrors(t *testing.T) {
	_, base := start(t, emulator.Options{Sizes: map[string]int{"contacts": 3}})
	inputs := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"inputs":[`)
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"id":"%d","properties":{"firstname":"x"}}`, 10000000001+i)
		}
		b.WriteString(`]}`)
		return b.String()
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		category                 string
	}{
		{"page over 100", "GET", "/crm/v3/objects/contacts?limit=101", "", 400, "VALIDATION_ERROR"},
		{"page of 0", "GET", "/crm/v3/objects/contacts?limit=0", "", 400, "VALIDATION_ERROR"},
		{"bad cursor", "GET", "/crm/v3/objects/contacts?after=abc", "", 400, "VALIDATION_ERROR"},
		{"unknown type", "GET", "/crm/v3/objects/unicorns", "", 400, "VALIDATION_ERROR"},
		{"batch read of 101", "POST", "/crm/v3/objects/contacts/batch/read", inputs(101), 400, "VALIDATION_ERROR"},
		{"batch update of 101", "POST", "/crm/v3/objects/contacts/batch/update", inputs(101), 400, "VALIDATION_ERROR"},
		{"empty batch", "POST", "/crm/v3/objects/contacts/batch/update", `{"inputs":[]}`, 400, "VALIDATION_ERROR"},
		{"malformed JSON", "POST", "/crm/v3/objects/contacts/batch/update", `{"inputs":[`, 400, "VALIDATION_ERROR"},
		{"duplicate ids", "POST", "/crm/v3/objects/contacts/batch/update",
			`{"inputs":[{"id":"10000000001","properties":{}},{"id":"10000000001","properties":{}}]}`, 400, "VALIDATION_ERROR"},
		{"threads page over 500", "GET", "/conversations/v3/conversations/threads?limit=501", "", 400, "VALIDATION_ERROR"},
		{"unknown record", "GET", "/crm/v3/objects/contacts/42", "", 404, "OBJECT_NOT_FOUND"},
		{"unknown path", "GET", "/crm/v4/nothing", "", 404, "OBJECT_NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hubspotError(t, call(t, tt.method, base+tt.path, tt.body), tt.status, tt.category)
		})
	}
	t.Run("a rejected batch changes nothing", func(t *testing.T) {
		a := call(t, "GET", base+"/crm/v3/objects/contacts/10000000001?properties=firstname", "")
		if got := a.body["properties"].(map[string]any)["firstname"]; got == "x" {
			t.Fatal("a 400 batch was applied")
		}
	})
}

func TestAuth(t *testing.T) {
	srv, base := start(t, emulator.Options{Token: "secret", Sizes: map[string]int{"contacts": 1}})
	for _, token := range []string{"", "wrong"} {
		hubspotError(t, callAs(t, "GET", base+"/crm/v3/objects/contacts", "", token), 401, "INVALID_AUTHENTICATION")
	}
	if a := callAs(t, "GET", base+"/crm/v3/objects/contacts", "", "secret"); a.status != 200 {
		t.Fatalf("right token: %d", a.status)
	}
	if st := srv.Stats(); st.Unauthorized != 2 || st.Served != 1 {
		t.Fatalf("stats %+v, want 2 unauthorized and 1 served", st)
	}
}

// listAll pages through a list endpoint and returns every result.
func listAll(t *testing.T, url string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	after := ""
	for pages := 0; ; pages++ {
		u := url
		if after != "" {
			u += sep + "after=" + after
		}
		a := call(t, "GET", u, "")
		if a.status != 200 {
			t.Fatalf("GET %s: %d %s", u, a.status, a.raw)
		}
		for _, r := range a.body["results"].([]any) {
			out = append(out, r.(map[string]any))
		}
		paging, ok := a.body["paging"].(map[string]any)
		if !ok {
			return out
		}
		after = paging["next"].(map[string]any)["after"].(string)
		if pages > 10000 {
			t.Fatal("paging does not end")
		}
	}
}

func TestPagingToTheEnd(t *testing.T) {
	for _, n := range []int{0, 1, 99, 100, 101, 250} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			_, base := start(t, emulator.Options{Seed: 7, Sizes: map[string]int{"deals": n}})
			got := listAll(t, base+"/crm/v3/objects/deals?limit=100")
			if len(got) != n {
				t.Fatalf("%d records, want %d", len(got), n)
			}
			seen := map[string]bool{}
			prev := int64(0)
			for _, r := range got {
				id := r["id"].(string)
				n, _ := strconv.ParseInt(id, 10, 64)
				if seen[id] || n <= prev {
					t.Fatalf("id %s out of order or repeated", id)
				}
				seen[id], prev = true, n
			}
		})
	}
}

func TestDefaultPageAndProperties(t *testing.T) {
	_, base := start(t, emulator.Options{Sizes: map[string]int{"contacts": 30}})
	a := call(t, "GET", base+"/crm/v3/objects/contacts", "")
	results := a.body["results"].([]any)
	if len(results) != 10 {
		t.Fatalf("default page has %d records, want HubSpot's 10", len(results))
	}
	props := results[0].(map[string]any)["properties"].(map[string]any)
	for _, p := range []string{"hs_object_id", "createdate", "lastmodifieddate", "email", "firstname", "lastname"} {
		if _, ok := props[p]; !ok {
			t.Errorf("default property %s missing", p)
		}
	}
	a = call(t, "GET", base+"/crm/v3/objects/contacts?limit=1&properties=fax,no_such_property&properties=city", "")
	props = a.body["results"].([]any)[0].(map[string]any)["properties"].(map[string]any)
	if v, ok := props["fax"]; !ok || v != nil {
		t.Errorf("empty requested property: %v, %v; want present and null", v, ok)
	}
	if _, ok := props["no_such_property"]; ok {
		t.Error("unknown property returned; HubSpot ignores it")
	}
	if _, ok := props["city"]; !ok {
		t.Error("repeated properties parameter ignored")
	}
	if _, ok := props["email"]; ok {
		t.Error("email returned though not requested")
	}
}

func TestDeterministic(t *testing.T) {
	const q = "/crm/v3/objects/contacts?limit=100&properties=email,message,favorite_quote,national_id,date_of_birth"
	_, a := start(t, emulator.Options{Seed: 42, Sizes: map[string]int{"contacts": 100}})
	_, b := start(t, emulator.Options{Seed: 42, Sizes: map[string]int{"contacts": 100}})
	_, c := start(t, emulator.Options{Seed: 43, Sizes: map[string]int{"contacts": 100}})
	ra, rb, rc := call(t, "GET", a+q, "").raw, call(t, "GET", b+q, "").raw, call(t, "GET", c+q, "").raw
	if !bytes.Equal(ra, rb) {
		t.Fatal("same seed, different data")
	}
	if bytes.Equal(ra, rc) {
		t.Fatal("different seeds, same data")
	}
}

func TestGeneratedDataIsRealistic(t *testing.T) {
	_, base := start(t, emulator.Options{Seed: 1, Sizes: map[string]int{"contacts": 400}})
	var props []any
	for _, level := range []string{"", "?dataSensitivity=sensitive", "?dataSensitivity=highly_sensitive"} {
		props = append(props, call(t, "GET", base+"/crm/v3/properties/contacts"+level, "").body["results"].([]any)...)
	}
	if len(props) < 40 {
		t.Fatalf("%d contact properties, want dozens", len(props))
	}
	var names []string
	kinds := map[string]int{}
	for _, p := range props {
		p := p.(map[string]any)
		names = append(names, p["name"].(string))
		kinds[p["dataSensitivity"].(string)]++
		if p["modificationMetadata"].(map[string]any)["readOnlyValue"] == true {
			kinds["readOnly"]++
		}
		if p["calculated"] == true {
			kinds["calculated"]++
		}
	}
	for _, k := range []string{"sensitive", "highly_sensitive", "readOnly", "calculated"} {
		if kinds[k] == 0 {
			t.Errorf("no %s contact property", k)
		}
	}
	all := listAll(t, base+"/crm/v3/objects/contacts?limit=100&properties="+strings.Join(names, ","))
	var empty, comma, quote, newline, nonASCII int
	for _, r := range all {
		for _, v := range r["properties"].(map[string]any) {
			s, _ := v.(string)
			switch {
			case v == nil:
				empty++
			case strings.Contains(s, "\n"):
				newline++
			case strings.Contains(s, `"`):
				quote++
			case strings.Contains(s, ","):
				comma++
			}
			if strings.ContainsFunc(s, func(r rune) bool { return r > 127 }) {
				nonASCII++
			}
		}
	}
	for what, n := range map[string]int{"empty": empty, "comma": comma, "quote": quote, "newline": newline, "non-ASCII": nonASCII} {
		if n == 0 {
			t.Errorf("no %s values in 400 contacts", what)
		}
	}
}

func TestBatchReadMultiStatus(t *testing.T) {
	_, base := start(t, emulator.Options{Sizes: map[string]int{"tickets": 5}})
	a := call(t, "POST", base+"/crm/v3/objects/tickets/batch/read",
		`{"inputs":[{"id":"40000000001"},{"id":"123"},{"id":"40000000005"}],"properties":["subject"]}`)
	if a.status != 207 {
		t.Fatalf("status %d, want 207: %s", a.status, a.raw)
	}
	if n := len(a.body["results"].([]any)); n != 2 {
		t.Fatalf("%d results, want 2", n)
	}
	e := a.body["errors"].([]any)[0].(map[string]any)
	if e["category"] != "OBJECT_NOT_FOUND" || fmt.Sprint(e["context"].(map[string]any)["ids"]) != "[123]" {
		t.Fatalf("error %v, want OBJECT_NOT_FOUND for id 123", e)
	}
	if a := call(t, "POST", base+"/crm/v3/objects/tickets/batch/read", `{"inputs":[{"id":"40000000001"}],"properties":["subject"]}`); a.status != 200 {
		t.Fatalf("all found: status %d, want 200", a.status)
	}
}

func TestBatchUpdate(t *testing.T) {
	_, base := start(t, emulator.Options{Sizes: map[string]int{"contacts": 5}})
	const c1, c2, c3 = "10000000001", "10000000002", "10000000003"
	email2 := call(t, "GET", base+"/crm/v3/objects/contacts/"+c2+"?properties=email", "").body["properties"].(map[string]any)["email"].(string)
	tests := []struct {
		name       string
		inputs     string
		status     int
		categories []string
		// want is id → property → value after the call ("" = cleared, null).
		want map[string]map[string]any
	}{
		{"all applied", `[{"id":"` + c1 + `","properties":{"firstname":"Zoë \"Z\", Jr.\nline 2","fax":""}}]`, 200, nil,
			map[string]map[string]any{c1: {"firstname": "Zoë \"Z\", Jr.\nline 2", "fax": nil}}},
		{"clearing a value", `[{"id":"` + c1 + `","properties":{"firstname":""}}]`, 200, nil,
			map[string]map[string]any{c1: {"firstname": nil}}},
		{"unknown id", `[{"id":"999","properties":{"firstname":"x"}},{"id":"` + c3 + `","properties":{"city":"Oslo"}}]`, 207,
			[]string{"OBJECT_NOT_FOUND"}, map[string]map[string]any{c3: {"city": "Oslo"}}},
		{"read-only property fails the whole input", `[{"id":"` + c1 + `","properties":{"lastname":"Keep?","hs_analytics_num_visits":"3"}}]`, 207,
			[]string{"VALIDATION_ERROR"}, map[string]map[string]any{c1: {"lastname": "__unchanged__"}}},
		{"unique value conflict", `[{"id":"` + c1 + `","properties":{"email":"` + email2 + `"}}]`, 207,
			[]string{"CONFLICT"}, map[string]map[string]any{c1: {"email": "__unchanged__"}}},
		{"invalid option", `[{"id":"` + c1 + `","properties":{"lifecyclestage":"wizard"}}]`, 207,
			[]string{"VALIDATION_ERROR"}, nil},
		{"not a number", `[{"id":"` + c1 + `","properties":{"nps_score":"ten"}}]`, 207, []string{"VALIDATION_ERROR"}, nil},
		{"unknown property", `[{"id":"` + c1 + `","properties":{"nope":"x"}}]`, 207, []string{"VALIDATION_ERROR"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := map[string]map[string]any{}
			for id, props := range tt.want {
				before[id] = call(t, "GET", base+"/crm/v3/objects/contacts/"+id+"?properties="+keys(props), "").body["properties"].(map[string]any)
			}
			a := call(t, "POST", base+"/crm/v3/objects/contacts/batch/update", `{"inputs":`+tt.inputs+`}`)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.raw)
			}
			var cats []string
			if errs, ok := a.body["errors"].([]any); ok {
				for _, e := range errs {
					cats = append(cats, e.(map[string]any)["category"].(string))
				}
			}
			if fmt.Sprint(cats) != fmt.Sprint(tt.categories) {
				t.Fatalf("error categories %v, want %v: %s", cats, tt.categories, a.raw)
			}
			for id, props := range tt.want {
				got := call(t, "GET", base+"/crm/v3/objects/contacts/"+id+"?properties="+keys(props), "").body["properties"].(map[string]any)
				for p, want := range props {
					if want == "__unchanged__" {
						want = before[id][p]
					}
					if got[p] != want {
						t.Errorf("%s.%s = %#v, want %#v", id, p, got[p], want)
					}
				}
			}
		})
	}
}

func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return strings.Join(ks, ",")
}

func TestArchiveAndCreate(t *testing.T) {
	srv, base := start(t, emulator.Options{Sizes: map[string]int{"deals": 3}})
	if a := call(t, "DELETE", base+"/crm/v3/objects/deals/30000000002", ""); a.status != 204 {
		t.Fatalf("archive: %d", a.status)
	}
	live := listAll(t, base+"/crm/v3/objects/deals?limit=100")
	archived := listAll(t, base+"/crm/v3/objects/deals?limit=100&archived=true")
	if len(live) != 2 || len(archived) != 1 || archived[0]["id"] != "30000000002" || archived[0]["archived"] != true {
		t.Fatalf("live %d, archived %v", len(live), archived)
	}
	a := call(t, "POST", base+"/crm/v3/objects/deals/batch/update", `{"inputs":[{"id":"30000000002","properties":{"dealname":"x"}}]}`)
	if a.status != 207 {
		t.Fatalf("update of an archived record: %d, want 207", a.status)
	}
	a = call(t, "POST", base+"/crm/v3/objects/deals", `{"properties":{"dealname":"New, \"big\" deal","pipeline":"default","dealstage":"closedwon"}}`)
	if a.status != 201 {
		t.Fatalf("create: %d %s", a.status, a.raw)
	}
	id := a.body["id"].(string)
	if n, _ := strconv.ParseInt(id, 10, 64); n <= 30000000003 {
		t.Fatalf("created id %s is not after the existing ones", id)
	}
	live = listAll(t, base+"/crm/v3/objects/deals?limit=2&properties=dealname")
	if len(live) != 3 || live[2]["id"] != id || live[2]["properties"].(map[string]any)["dealname"] != `New, "big" deal` {
		t.Fatalf("after create: %v", live)
	}
	if got := srv.Counts()["deals"]; got != 3 {
		t.Fatalf("Counts()[deals] = %d, want 3", got)
	}
}

func TestRateLimit(t *testing.T) {
	srv, base := start(t, emulator.Options{RateLimit: 3, RateWindow: time.Minute})
	for i := range 3 {
		a := call(t, "GET", base+"/crm/v3/objects/contacts", "")
		if a.status != 200 || a.header.Get("X-HubSpot-RateLimit-Remaining") != strconv.Itoa(2-i) {
			t.Fatalf("request %d: %d, remaining %q", i, a.status, a.header.Get("X-HubSpot-RateLimit-Remaining"))
		}
	}
	a := call(t, "GET", base+"/crm/v3/objects/contacts", "")
	if a.status != 429 || a.body["policyName"] != "TEN_SECONDLY_ROLLING" || a.body["errorType"] != "RATE_LIMIT" {
		t.Fatalf("4th request: %d %s", a.status, a.raw)
	}
	if ra, _ := strconv.Atoi(a.header.Get("Retry-After")); ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q", a.header.Get("Retry-After"))
	}
	if a.header.Get("X-HubSpot-RateLimit-Max") != "3" || a.header.Get("X-HubSpot-RateLimit-Interval-Milliseconds") != "60000" {
		t.Fatalf("headers %v", a.header)
	}
	if st := srv.Stats(); st.RateLimited != 1 || st.MaxInWindow != 4 || st.Served != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDailyLimit(t *testing.T) {
	_, base := start(t, emulator.Options{DailyLimit: 1})
	call(t, "GET", base+"/crm/v3/objects/contacts", "")
	a := call(t, "GET", base+"/crm/v3/objects/contacts", "")
	if a.status != 429 || a.body["policyName"] != "DAILY" || a.header.Get("X-HubSpot-RateLimit-Daily-Remaining") != "0" {
		t.Fatalf("%d %s %v", a.status, a.raw, a.header)
	}
}

func TestFaults(t *testing.T) {
	t.Run("5xx", func(t *testing.T) {
		srv, base := start(t, emulator.Options{ErrorRate: 1})
		a := call(t, "GET", base+"/crm/v3/objects/contacts", "")
		if a.status < 500 || a.body["status"] != "error" {
			t.Fatalf("%d %s", a.status, a.raw)
		}
		if srv.Stats().InjectedErrors != 1 {
			t.Fatal("injected error not counted")
		}
	})
	t.Run("dropped connection", func(t *testing.T) {
		srv, base := start(t, emulator.Options{DropRate: 1})
		req, _ := http.NewRequest("GET", base+"/crm/v3/objects/contacts", nil)
		req.Header.Set("Authorization", "Bearer "+emulator.DefaultToken)
		_, err := http.DefaultClient.Do(req)
		if err == nil {
			t.Fatal("request succeeded on a dropped connection")
		}
		if srv.Stats().Dropped != 1 {
			t.Fatal("drop not counted")
		}
	})
	t.Run("share", func(t *testing.T) {
		srv, base := start(t, emulator.Options{ErrorRate: 0.2, Seed: 3})
		for range 500 {
			call(t, "GET", base+"/crm/v3/objects/contacts", "")
		}
		if n := srv.Stats().InjectedErrors; n < 60 || n > 140 {
			t.Fatalf("%d of 500 injected, want about 100", n)
		}
	})
}

func TestURITooLong(t *testing.T) {
	_, base := start(t, emulator.Options{MaxURLLength: 200})
	a := call(t, "GET", base+"/crm/v3/objects/contacts?properties="+strings.Repeat("firstname,", 30), "")
	if a.status != 414 {
		t.Fatalf("%d, want 414", a.status)
	}
}

func TestSchemasAndCustomObjects(t *testing.T) {
	_, base := start(t, emulator.Options{Sizes: map[string]int{"vehicles": 3}})
	a := call(t, "GET", base+"/crm/v3/schemas", "")
	results := a.body["results"].([]any)
	if len(results) != 1 {
		t.Fatalf("%d schemas", len(results))
	}
	s := results[0].(map[string]any)
	id, fqn := s["objectTypeId"].(string), s["fullyQualifiedName"].(string)
	if !strings.HasPrefix(id, "2-") || s["labels"].(map[string]any)["singular"] != "Vehicle" || fqn != "p12345678_vehicles" {
		t.Fatalf("schema %v", s)
	}
	for _, key := range []string{id, "vehicles", fqn} {
		if got := listAll(t, base+"/crm/v3/objects/"+key+"?limit=2"); len(got) != 3 {
			t.Fatalf("via %s: %d records", key, len(got))
		}
	}
}

func TestConversationThreads(t *testing.T) {
	_, base := start(t, emulator.Options{Sizes: map[string]int{"conversations": 230}})
	got := listAll(t, base+"/conversations/v3/conversations/threads?limit=100")
	if len(got) != 230 {
		t.Fatalf("%d threads", len(got))
	}
	th := got[0]
	if _, ok := th["spam"].(bool); !ok {
		t.Errorf("spam is %T, want a JSON boolean as HubSpot sends", th["spam"])
	}
	for _, f := range []string{"id", "createdAt", "status", "inboxId", "latestMessageTimestamp"} {
		if _, ok := th[f]; !ok {
			t.Errorf("thread field %s missing", f)
		}
	}
}

func TestFixture(t *testing.T) {
	fx, err := emulator.LoadFixture("testdata/portal.json")
	if err != nil {
		t.Fatal(err)
	}
	srv, base := start(t, emulator.Options{Fixture: fx})
	a := call(t, "GET", base+"/crm/v3/objects/contacts?limit=100&properties=email,notes,custom_score", "")
	results := a.body["results"].([]any)
	if len(results) != 2 {
		t.Fatalf("%d live contacts, want 2 (one is archived)", len(results))
	}
	p := results[0].(map[string]any)["properties"].(map[string]any)
	if p["notes"] != "multi\nline, \"quoted\" 🚀" || p["custom_score"] != nil {
		t.Fatalf("fixture values changed: %#v", p)
	}
	if got := listAll(t, base+"/crm/v3/objects/2-999?limit=10"); len(got) != 1 || got[0]["properties"].(map[string]any)["hs_object_id"] != "7" {
		t.Fatalf("custom records: %v", got)
	}
	if c := srv.Counts(); c["contacts"] != 2 || c["conversations"] != 1 || c["deals"] != 0 {
		t.Fatalf("counts %v", c)
	}
	props := call(t, "GET", base+"/crm/v3/properties/contacts/custom_score", "").body
	if props["dataSensitivity"] != "highly_sensitive" || props["modificationMetadata"].(map[string]any)["readOnlyValue"] != true {
		t.Fatalf("fixture property definition: %v", props)
	}
	th := listAll(t, base+"/conversations/v3/conversations/threads")
	if th[0]["spam"] != true || th[0]["id"] != "501" {
		t.Fatalf("thread %v", th[0])
	}
}

func TestFixtureRejectsBadInput(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":       `{"objects":{},"extra":1}`,
		"unknown object type": `{"objects":{"unicorns":{"records":[]}}}`,
		"non-numeric id":      `{"objects":{"contacts":{"records":[{"id":"abc","properties":{}}]}}}`,
		"duplicate id":        `{"objects":{"contacts":{"records":[{"id":"1","properties":{}},{"id":"1","properties":{}}]}}}`,
		"bad schema id":       `{"objects":{},"schemas":[{"objectTypeId":"0-9","name":"x","labels":{"singular":"X","plural":"Xs"}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			fx, err := emulator.ReadFixture(strings.NewReader(doc))
			if err == nil {
				_, err = emulator.New(emulator.Options{Fixture: fx})
			}
			if err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestDocumentedFixtureLoads keeps docs/emulator.md's example honest.
func TestDocumentedFixtureLoads(t *testing.T) {
	doc, err := os.ReadFile("../../docs/emulator.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no JSON example in docs/emulator.md")
	}
	fx, err := emulator.ReadFixture(strings.NewReader(example))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.New(emulator.Options{Fixture: fx})
	if err != nil {
		t.Fatal(err)
	}
	if c := srv.Counts(); c["contacts"] != 1 || c["cars"] != 1 || c["conversations"] != 1 {
		t.Fatalf("counts %v", c)
	}
}

// TestNotEnterprise: below Enterprise a portal has no custom objects and its
// schemas endpoint refuses, as HubSpot's does.
func TestNotEnterprise(t *testing.T) {
	_, url := start(t, emulator.Options{Sizes: map[string]int{"contacts": 3, "vehicles": 4}, NotEnterprise: true})
	hubspotError(t, call(t, "GET", url+"/crm/v3/schemas", ""), 403, "MISSING_SCOPES")
	for _, level := range []string{"sensitive", "highly_sensitive"} {
		if got := call(t, "GET", url+"/crm/v3/properties/contacts?dataSensitivity="+level, "").body["results"].([]any); len(got) != 0 {
			t.Errorf("%d %s contact properties below Enterprise", len(got), level)
		}
	}
	if a := call(t, "GET", url+"/crm/v3/objects/vehicles", ""); a.status != 400 { // HubSpot: unable to infer object type
		t.Fatalf("custom object list: %d, want 400", a.status)
	}
	if a := call(t, "GET", url+"/crm/v3/objects/contacts", ""); a.status != 200 {
		t.Fatalf("contacts: %d", a.status)
	}
	if _, err := emulator.New(emulator.Options{NotEnterprise: true, Fixture: &emulator.Fixture{Schemas: []emulator.FixtureSchema{{ObjectTypeID: "2-1", Name: "x"}}}}); err == nil {
		t.Fatal("a fixture with custom objects on a non-Enterprise portal was accepted")
	}
}

// TestPropertiesBySensitivity: HubSpot lists only the sensitivity level
// asked for (dataSensitivity), non-sensitive by default.
func TestPropertiesBySensitivity(t *testing.T) {
	_, base := start(t, emulator.Options{Seed: 1})
	seen := map[string]string{}
	for _, level := range []string{"non_sensitive", "sensitive", "highly_sensitive"} {
		for _, query := range []string{"?dataSensitivity=" + level, ""} {
			if query == "" && level != "non_sensitive" {
				continue
			}
			a := call(t, "GET", base+"/crm/v3/properties/contacts"+query, "")
			if a.status != 200 {
				t.Fatalf("%s: %d", query, a.status)
			}
			for _, p := range a.body["results"].([]any) {
				p := p.(map[string]any)
				if p["dataSensitivity"] != level {
					t.Errorf("%q lists %s, which is %s", query, p["name"], p["dataSensitivity"])
				}
				if prev, ok := seen[p["name"].(string)]; ok && prev != level {
					t.Errorf("%s listed at two levels", p["name"])
				}
				seen[p["name"].(string)] = level
			}
		}
	}
	for _, level := range []string{"sensitive", "highly_sensitive"} {
		n := 0
		for _, l := range seen {
			if l == level {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no %s contact property", level)
		}
	}
	hubspotError(t, call(t, "GET", base+"/crm/v3/properties/contacts?dataSensitivity=secret", ""), 400, "VALIDATION_ERROR")
}

// TestValidationRules: the portal's rules on property values; a value that
// breaks one is refused per input (207) or, for a rule that refuses whole
// batches, the batch fails (400) and nothing is written.
func TestValidationRules(t *testing.T) {
	max := 100.0
	srv, url := start(t, emulator.Options{Sizes: map[string]int{"deals": 3}, ValidationRules: []emulator.ValidationRule{
		{Object: "deals", Property: "dealname", Pattern: `[A-Z][a-z]+`},
	}})
	ids := []string{}
	for _, r := range listAll(t, url+"/crm/v3/objects/deals") {
		ids = append(ids, r["id"].(string))
	}
	body := fmt.Sprintf(`{"inputs":[{"id":%q,"properties":{"dealname":"Good"}},{"id":%q,"properties":{"dealname":"bad name"}}]}`, ids[0], ids[1])
	a := call(t, "POST", url+"/crm/v3/objects/deals/batch/update", body)
	if a.status != 207 || len(a.body["results"].([]any)) != 1 || len(a.body["errors"].([]any)) != 1 {
		t.Fatalf("207 expected: %d %s", a.status, a.raw)
	}
	if err := srv.SetValidationRules([]emulator.ValidationRule{{Object: "deals", Property: "amount", Max: &max, RefuseBatch: true}}); err != nil {
		t.Fatal(err)
	}
	body = fmt.Sprintf(`{"inputs":[{"id":%q,"properties":{"amount":"5"}},{"id":%q,"properties":{"amount":"500"}}]}`, ids[0], ids[1])
	hubspotError(t, call(t, "POST", url+"/crm/v3/objects/deals/batch/update", body), 400, "VALIDATION_ERROR")
	got := call(t, "GET", url+"/crm/v3/objects/deals/"+ids[0]+"?properties=amount", "").body["properties"].(map[string]any)
	if got["amount"] == "5" {
		t.Fatal("a refused batch wrote a value")
	}
	if err := srv.SetValidationRules([]emulator.ValidationRule{{Object: "deals", Property: "nope", Pattern: "x"}}); err == nil {
		t.Fatal("a rule on an unknown property was accepted")
	}
}

// TestThreadsAsHubSpotSendsThem: opaque cursors, and no field without a
// value (HubSpot omits them rather than sending null).
func TestThreadsAsHubSpotSendsThem(t *testing.T) {
	_, url := start(t, emulator.Options{Seed: 2, Sizes: map[string]int{"conversations": 40}})
	a := call(t, "GET", url+"/conversations/v3/conversations/threads?limit=10", "")
	after := a.body["paging"].(map[string]any)["next"].(map[string]any)["after"].(string)
	if _, err := strconv.ParseInt(after, 10, 64); err == nil {
		t.Fatalf("cursor %q is a number: HubSpot's are opaque", after)
	}
	if !strings.Contains(string(a.raw), `"id"`) || strings.Contains(string(a.raw), "null") {
		t.Fatalf("threads page sends null: %s", a.raw)
	}
	if b := call(t, "GET", url+"/conversations/v3/conversations/threads?limit=10&after="+after, ""); b.status != 200 ||
		b.body["results"].([]any)[0].(map[string]any)["id"] == a.body["results"].([]any)[0].(map[string]any)["id"] {
		t.Fatalf("second page: %d %s", b.status, b.raw)
	}
	hubspotError(t, call(t, "GET", url+"/conversations/v3/conversations/threads?after=12", ""), 400, "VALIDATION_ERROR")
	if got := len(listAll(t, url+"/conversations/v3/conversations/threads?limit=7")); got != 40 {
		t.Fatalf("%d threads paged, want 40", got)
	}
}

// TestScopes: a credential reads what its scopes allow; a sensitive value
// needs the object's sensitive scope, and a refusal names the scopes.
func TestScopes(t *testing.T) {
	srv, url := start(t, emulator.Options{Seed: 1, Sizes: map[string]int{"contacts": 3, "deals": 2}, Scopes: []string{"crm.objects.contacts.read"}})
	var sensitive string
	for _, p := range call(t, "GET", url+"/crm/v3/properties/contacts?dataSensitivity=sensitive", "").body["results"].([]any) {
		sensitive = p.(map[string]any)["name"].(string)
	}
	if a := call(t, "GET", url+"/crm/v3/objects/contacts?properties=email", ""); a.status != 200 {
		t.Fatalf("non-sensitive values: %d %s", a.status, a.raw)
	}
	for path, want := range map[string]string{
		"/crm/v3/objects/contacts?properties=email," + sensitive: "crm.objects.contacts.sensitive.read",
		"/crm/v3/objects/deals":                                  "crm.objects.deals.read",
		"/conversations/v3/conversations/threads":                "conversations.read",
	} {
		a := call(t, "GET", url+path, "")
		hubspotError(t, a, 403, "MISSING_SCOPES")
		errs, _ := a.body["errors"].([]any)
		if len(errs) != 1 || fmt.Sprint(errs[0].(map[string]any)["context"].(map[string]any)["requiredGranularScopes"]) != "["+want+"]" {
			t.Errorf("%s: %s, want the scope %s named", path, a.raw, want)
		}
	}
	if got := srv.Stats().MissingScopes; got != 3 {
		t.Errorf("%d refusals counted, want 3", got)
	}
}

// TestDatedPaths: HubSpot's dated versions and v3 serve the same data; a
// version HubSpot has not released is a 404.
func TestDatedPaths(t *testing.T) {
	_, url := start(t, emulator.Options{Seed: 1, Sizes: map[string]int{"contacts": 12}})
	v3 := listAll(t, url+"/crm/v3/objects/contacts?limit=5&properties=email")
	dated := listAll(t, url+"/crm/objects/2026-09/contacts?limit=5&properties=email")
	if len(v3) != 12 || fmt.Sprint(v3) != fmt.Sprint(dated) {
		t.Fatalf("v3 %d records, dated %d, or they differ", len(v3), len(dated))
	}
	for _, path := range []string{"/crm/properties/2026-09/contacts", "/crm-object-schemas/2026-09/schemas", "/account-info/2026-03/details"} {
		if a := call(t, "GET", url+path, ""); a.status != 200 {
			t.Errorf("%s: %d", path, a.status)
		}
	}
	hubspotError(t, call(t, "GET", url+"/crm/objects/2031-01/contacts", ""), 404, "OBJECT_NOT_FOUND")
}
