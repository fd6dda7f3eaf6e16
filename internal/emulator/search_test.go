package emulator_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/emulator"
)

const searchURL = "/crm/objects/2026-09/contacts/search"

// idRange is a search body for ids in (after, below), sorted by id.
func idRange(after, below int64, limit int, props ...string) string {
	filters := fmt.Sprintf(`{"propertyName":"hs_object_id","operator":"GT","value":"%d"}`, after)
	if below > 0 {
		filters += fmt.Sprintf(`,{"propertyName":"hs_object_id","operator":"LT","value":"%d"}`, below)
	}
	p := ""
	if len(props) > 0 {
		p = `,"properties":["` + strings.Join(props, `","`) + `"]`
	}
	return fmt.Sprintf(`{"filterGroups":[{"filters":[%s]}],"sorts":[{"propertyName":"hs_object_id","direction":"ASCENDING"}],"limit":%d%s}`, filters, limit, p)
}

func ids(t *testing.T, a answer) []int64 {
	t.Helper()
	var out []int64
	for _, r := range a.body["results"].([]any) {
		id, err := strconv.ParseInt(r.(map[string]any)["id"].(string), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func TestSearchKeysetPagingReadsEveryRecordOnce(t *testing.T) {
	_, url := start(t, emulator.Options{Sizes: map[string]int{"contacts": 1234}, SearchRateLimit: -1})
	first := call(t, "POST", url+searchURL, idRange(0, 0, 1))
	if first.status != 200 {
		t.Fatalf("%d %s", first.status, first.raw)
	}
	if first.body["total"] != float64(1234) {
		t.Fatalf("total %v, want 1234", first.body["total"])
	}
	seen := map[int64]bool{}
	last := int64(0)
	for {
		a := call(t, "POST", url+searchURL, idRange(last, 0, 200))
		if a.status != 200 {
			t.Fatalf("%d %s", a.status, a.raw)
		}
		page := ids(t, a)
		if len(page) == 0 {
			break
		}
		if len(page) > 200 {
			t.Fatalf("%d results in a page of 200", len(page))
		}
		for _, id := range page {
			if seen[id] || id <= last {
				t.Fatalf("id %d twice or out of order (after %d)", id, last)
			}
			seen[id] = true
			last = id
		}
	}
	if len(seen) != 1234 {
		t.Fatalf("%d records, want 1234", len(seen))
	}
	// A range in the middle: its total and its ids.
	lo, hi := int64(10_000_000_100), int64(10_000_000_400)
	a := call(t, "POST", url+searchURL, idRange(lo, hi, 200))
	if a.body["total"] != float64(hi-lo-1) || len(ids(t, a)) != 200 || ids(t, a)[0] != lo+1 {
		t.Fatalf("range (%d, %d): total %v, %d ids from %d", lo, hi, a.body["total"], len(ids(t, a)), ids(t, a)[0])
	}
	if next := a.body["paging"].(map[string]any)["next"].(map[string]any)["after"]; next != "200" {
		t.Fatalf("next after %v, want the offset 200", next)
	}
}

func TestSearchLimits(t *testing.T) {
	_, url := start(t, emulator.Options{Sizes: map[string]int{"contacts": 20_000}, SearchRateLimit: -1})
	long := make([]string, 300)
	for i := range long {
		long[i] = "firstname"
	}
	group := `{"filters":[{"propertyName":"hs_object_id","operator":"GT","value":"0"}]}`
	tests := []struct {
		name, body string
	}{
		{"a page above 200", idRange(0, 0, 201)},
		{"paging past 10,000 results", `{"limit":100,"after":9950}`},
		{"a body above 3,000 characters", idRange(0, 0, 10, long...)},
		{"six filter groups", `{"filterGroups":[` + strings.Repeat(group+",", 5) + group + `]}`},
		{"seven filters in a group", `{"filterGroups":[{"filters":[` + strings.Repeat(`{"propertyName":"hs_object_id","operator":"GT","value":"0"},`, 6) + `{"propertyName":"hs_object_id","operator":"GT","value":"0"}]}]}`},
		{"nineteen filters", `{"filterGroups":[` + strings.Repeat(`{"filters":[`+strings.Repeat(`{"propertyName":"hs_object_id","operator":"GT","value":"0"},`, 5)+`{"propertyName":"hs_object_id","operator":"GT","value":"0"}]},`, 3) + `{"filters":[{"propertyName":"hs_object_id","operator":"GT","value":"0"}]}]}`},
		{"two sorts", `{"sorts":["hs_object_id","email"]}`},
		{"a filter on a Highly Sensitive property", `{"filterGroups":[{"filters":[{"propertyName":"national_id","operator":"HAS_PROPERTY"}]}]}`},
		{"an unknown property", `{"filterGroups":[{"filters":[{"propertyName":"nope","operator":"EQ","value":"1"}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hubspotError(t, call(t, "POST", url+searchURL, tt.body), 400, "VALIDATION_ERROR")
		})
	}
	t.Run("ten thousand results are served", func(t *testing.T) {
		if a := call(t, "POST", url+searchURL, `{"limit":100,"after":9900}`); a.status != 200 || len(ids(t, a)) != 100 {
			t.Fatalf("%d %s", a.status, a.raw)
		}
	})
	t.Run("ten by default", func(t *testing.T) {
		if a := call(t, "POST", url+searchURL, `{}`); len(ids(t, a)) != 10 {
			t.Fatalf("%d results", len(ids(t, a)))
		}
	})
}

func TestSearchLeavesOutHighlySensitiveValues(t *testing.T) {
	_, url := start(t, emulator.Options{Sizes: map[string]int{"contacts": 5}, SearchRateLimit: -1})
	a := call(t, "POST", url+searchURL, idRange(0, 0, 5, "email", "national_id"))
	props := a.body["results"].([]any)[0].(map[string]any)["properties"].(map[string]any)
	if _, ok := props["national_id"]; ok {
		t.Fatalf("search returned a Highly Sensitive value: %v", props)
	}
	if _, ok := props["email"]; !ok {
		t.Fatalf("no email: %v", props)
	}
	b := call(t, "POST", url+"/crm/objects/2026-09/contacts/batch/read", `{"inputs":[{"id":"`+a.body["results"].([]any)[0].(map[string]any)["id"].(string)+`"}],"properties":["national_id"]}`)
	if !strings.Contains(string(b.raw), "national_id") {
		t.Fatalf("batch read left it out too: %s", b.raw)
	}
}

func TestSearchHasItsOwnRateLimit(t *testing.T) {
	srv, url := start(t, emulator.Options{Sizes: map[string]int{"contacts": 5}, RateLimit: 3})
	var limited answer
	for range 8 {
		a := call(t, "POST", url+searchURL, `{}`)
		if a.status == 429 {
			limited = a
			break
		}
		if a.header.Get("X-HubSpot-RateLimit-Max") != "" {
			t.Fatal("a search answer carries the 10-second limit's headers")
		}
	}
	if limited.status != 429 || limited.body["policyName"] != "SECONDLY" {
		t.Fatalf("no SECONDLY 429 after 8 searches at once: %d %s", limited.status, limited.raw)
	}
	// The 10-second limit of 3 did not count the searches.
	if a := call(t, "GET", url+"/crm/objects/2026-09/contacts?limit=1", ""); a.status != 200 {
		t.Fatalf("a list after the searches: %d %s", a.status, a.raw)
	}
	if st := srv.Stats(); st.SearchMaxInSecond < 6 || st.MaxInWindow != 1 {
		t.Fatalf("stats: %d searches in a second, %d in the 10-second window", st.SearchMaxInSecond, st.MaxInWindow)
	}
}

func TestSearchIndexLags(t *testing.T) {
	const lag = 300 * time.Millisecond
	_, url := start(t, emulator.Options{Sizes: map[string]int{"contacts": 3}, SearchRateLimit: -1, SearchLag: lag})
	created := call(t, "POST", url+"/crm/objects/2026-09/contacts", `{"properties":{"email":"new@example.com"}}`)
	id := created.body["id"].(string)
	gone := ids(t, call(t, "POST", url+searchURL, idRange(0, 0, 10)))[0]
	if a := call(t, "DELETE", url+"/crm/objects/2026-09/contacts/"+strconv.FormatInt(gone, 10), ""); a.status != 204 {
		t.Fatalf("archive: %d %s", a.status, a.raw)
	}
	now := call(t, "POST", url+searchURL, idRange(0, 0, 10))
	if got := fmt.Sprint(ids(t, now)); strings.Contains(got, id) || !strings.Contains(got, strconv.FormatInt(gone, 10)) || now.body["total"] != float64(3) {
		t.Fatalf("at once: %s (total %v), want the three old ones, the archived one still in", got, now.body["total"])
	}
	time.Sleep(lag + 50*time.Millisecond)
	later := call(t, "POST", url+searchURL, idRange(0, 0, 10))
	if got := fmt.Sprint(ids(t, later)); !strings.Contains(got, id) || strings.Contains(got, strconv.FormatInt(gone, 10)) || later.body["total"] != float64(3) {
		t.Fatalf("after the lag: %s (total %v), want the new one in and the archived one out", got, later.body["total"])
	}
}

// TestSearchSortedByIDDescending: a query sorted by hs_object_id
// DESCENDING (how a backup asks for an object's top id and size) gives the
// highest ids first — records created since included once the index has
// them, an archived one still in until it has caught up — and the total of
// the whole query, whatever the page.
func TestSearchSortedByIDDescending(t *testing.T) {
	const lag = time.Second // the create, the archive and a search must fit in it
	_, url := start(t, emulator.Options{Sizes: map[string]int{"contacts": 500}, SearchRateLimit: -1, SearchLag: lag})
	desc := func(after, below int64, limit int) string {
		return strings.Replace(idRange(after, below, limit), "ASCENDING", "DESCENDING", 1)
	}
	top := ids(t, call(t, "POST", url+searchURL, desc(0, 0, 3)))
	if len(top) != 3 || top[0] != 10_000_000_500 || top[1] != 10_000_000_499 || top[2] != 10_000_000_498 {
		t.Fatalf("top three: %v", top)
	}
	created := call(t, "POST", url+"/crm/objects/2026-09/contacts", `{"properties":{"email":"new@example.com"}}`)
	newID, _ := strconv.ParseInt(created.body["id"].(string), 10, 64)
	if a := call(t, "DELETE", url+"/crm/objects/2026-09/contacts/10000000500", ""); a.status != 204 {
		t.Fatalf("archive: %d %s", a.status, a.raw)
	}
	if got := ids(t, call(t, "POST", url+searchURL, desc(0, 0, 2))); fmt.Sprint(got) != "[10000000500 10000000499]" {
		t.Fatalf("at once: %v, want the archived one still first, the new one not yet in", got)
	}
	time.Sleep(lag + 50*time.Millisecond)
	a := call(t, "POST", url+searchURL, desc(0, 0, 2))
	if got := ids(t, a); fmt.Sprint(got) != fmt.Sprint([]int64{newID, 10_000_000_499}) || a.body["total"] != float64(500) {
		t.Fatalf("after the lag: %v (total %v), want the new one first, the archived one out, total 500", got, a.body["total"])
	}
	// Bounds: the highest ids below one, above another.
	a = call(t, "POST", url+searchURL, desc(10_000_000_100, 10_000_000_200, 200))
	if got := ids(t, a); len(got) != 99 || got[0] != 10_000_000_199 || got[98] != 10_000_000_101 || a.body["total"] != float64(99) {
		t.Fatalf("(100, 200) descending: %d ids, from %d to %d, total %v", len(got), got[0], got[len(got)-1], a.body["total"])
	}
}
