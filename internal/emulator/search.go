package emulator

import (
	"cmp"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The CRM search endpoint, POST …/objects/{type}/search, with the limits
// HubSpot documents for it (the search guide's "Limits"): at most 200
// results per page (10 by default), 10,000 results per query (paging past
// them is a 400), a body of at most 3,000 characters, 5 filter groups of
// at most 6 filters and 18 in all, one sort, 5 requests per second per
// account (its own limit, not the 10-second one; the daily one counts it),
// archived records never, Highly Sensitive values never (the sensitive-data
// guide: search serves Sensitive Data only), and an index that lags writes
// by a few moments (Options.SearchLag).

// Search limits.
const (
	maxSearchPage    = 200
	maxSearchResults = 10_000
	maxSearchBody    = 3000
	maxFilterGroups  = 5
	maxGroupFilters  = 6
	maxFilters       = 18
	// DefaultSearchLag is how far the emulator's search index trails
	// writes unless Options.SearchLag says otherwise.
	DefaultSearchLag = time.Second
	// DefaultSearchRate is search's own limit, requests per second.
	DefaultSearchRate = 5
)

type searchBody struct {
	FilterGroups []struct {
		Filters []searchFilter `json:"filters"`
	} `json:"filterGroups"`
	Sorts      []any    `json:"sorts"` // {propertyName, direction} or a bare property name
	Properties []string `json:"properties"`
	Limit      *int     `json:"limit"`
	After      any      `json:"after"` // HubSpot takes a number (an offset); a numeric string works too
	Query      string   `json:"query"`
}

type searchFilter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        any    `json:"value"`
	HighValue    any    `json:"highValue"`
	Values       []any  `json:"values"`
	prop         *property
	num, high    float64
	isNum        bool
	str, highStr string
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		s.badRequest(w, "Invalid input: %v", err)
		return
	}
	if len(body) > maxSearchBody {
		s.badRequest(w, "The request body is %d characters long; a search request may have at most %d.", len(body), maxSearchBody)
		return
	}
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	var b searchBody
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.decodeRequest(w, r, &b)
	if t == nil {
		return
	}
	limit := defaultPage
	if b.Limit != nil {
		limit = *b.Limit
	}
	if limit < 1 || limit > maxSearchPage {
		s.badRequest(w, "limit must be between 1 and %d, not %d", maxSearchPage, limit)
		return
	}
	offset, ok := searchOffset(b.After)
	if !ok {
		s.badRequest(w, "after must be a non-negative integer")
		return
	}
	if offset+limit > maxSearchResults {
		s.badRequest(w, "There are more than %d results for this query; a search returns at most %d.", maxSearchResults, maxSearchResults)
		return
	}
	if b.Query != "" {
		s.badRequest(w, "the emulator does not model full-text search queries")
		return
	}
	groups, ok := s.searchFilters(w, t, &b)
	if !ok {
		return
	}
	sortBy, desc, ok := s.searchSort(w, t, b.Sorts)
	if !ok {
		return
	}
	props := t.defaults
	if len(b.Properties) > 0 {
		props = selectProps(t, b.Properties)
	}
	props = slices.DeleteFunc(slices.Clone(props), func(p *property) bool { return p.spec.sensitivity == "highly_sensitive" })
	if !s.grantedValues(w, t, props, false) {
		return
	}

	// The index as it was SearchLag ago: records created since are not in
	// it yet, records archived since still are.
	asOf := time.Now().Add(-s.searchLag)
	visible := func(rec *record) bool {
		// (generated records were created long ago, whatever their
		// createdate says)
		if g := rec.id - t.genBase; (t.gen == nil || g < 1 || g > int64(t.genN)) && rec.created.After(asOf) {
			return false
		}
		return !rec.archived || rec.archivedAt.After(asOf)
	}
	match := func(rec *record) bool {
		if !visible(rec) {
			return false
		}
		if len(groups) == 0 {
			return true
		}
		for _, g := range groups {
			if all(g, func(f *searchFilter) bool { return f.matches(rec) }) {
				return true
			}
		}
		return false
	}
	lo, hi := idBounds(groups)
	var hits []*record
	total := 0
	collect := func(rec *record) bool {
		if rec.id > hi {
			return false
		}
		if match(rec) {
			total++
			if sortBy == nil {
				if total > offset && len(hits) < limit {
					hits = append(hits, rec)
				}
			} else {
				hits = append(hits, rec)
			}
		}
		return true
	}
	byID := sortBy == nil || sortBy.spec.name == "hs_object_id"
	if byID && offset == 0 && s.exactRange(t, groups) {
		// The common case of a backup's reads: only bounds on the id, in
		// id order either way. The total is counted, not walked, so a
		// query's cost is its page.
		total = t.countRange(lo, hi, visible)
		take := func(rec *record) bool {
			if rec.id < lo || rec.id > hi || len(hits) == limit {
				return false
			}
			if match(rec) {
				hits = append(hits, rec)
			}
			return true
		}
		if desc {
			t.scanDown(hi, take)
		} else {
			t.scan(lo, false, take)
		}
		t.scanArchivedSince(lo, hi, asOf, func(rec *record) { // still in the index
			if match(rec) {
				hits = append(hits, rec)
			}
		})
		slices.SortFunc(hits, func(a, b *record) int {
			if desc {
				a, b = b, a
			}
			return cmp.Compare(a.id, b.id)
		})
		hits = hits[:min(len(hits), limit)]
	} else {
		t.scan(max(lo, 1), false, collect)
		t.scanArchivedSince(max(lo, 1), hi, asOf, func(rec *record) { collect(rec) })
		if sortBy != nil {
			slices.SortStableFunc(hits, func(a, b *record) int {
				c := compareValues(a.value(sortBy), b.value(sortBy))
				if desc {
					c = -c
				}
				return cmp.Or(c, cmp.Compare(a.id, b.id))
			})
			hits = hits[min(offset, len(hits)):]
			hits = hits[:min(len(hits), limit)]
		}
	}

	writeJSONHeader(w, http.StatusOK)
	out := append(make([]byte, 0, 32<<10), `{"total":`...)
	out = strconv.AppendInt(out, int64(total), 10)
	out = append(out, `,"results":[`...)
	for i, rec := range hits {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendObject(out, rec, props)
	}
	out = append(out, ']')
	if next := offset + len(hits); len(hits) == limit && next < total {
		out = append(out, `,"paging":{"next":{"after":"`...)
		out = strconv.AppendInt(out, int64(next), 10)
		out = append(out, `"}}`...)
	}
	w.Write(append(out, '}'))
}

func all[T any](xs []T, f func(*T) bool) bool {
	for i := range xs {
		if !f(&xs[i]) {
			return false
		}
	}
	return true
}

func searchOffset(v any) (int, bool) {
	switch a := v.(type) {
	case nil:
		return 0, true
	case float64:
		if a < 0 || a != float64(int(a)) {
			return 0, false
		}
		return int(a), true
	case string:
		n, err := strconv.Atoi(a)
		return n, err == nil && n >= 0
	}
	return 0, false
}

// searchFilters checks the body's filters against HubSpot's limits and the
// operators the emulator models.
func (s *Server) searchFilters(w http.ResponseWriter, t *objectType, b *searchBody) ([][]searchFilter, bool) {
	if len(b.FilterGroups) > maxFilterGroups {
		s.badRequest(w, "A search may have at most %d filter groups, not %d.", maxFilterGroups, len(b.FilterGroups))
		return nil, false
	}
	n := 0
	var groups [][]searchFilter
	for _, g := range b.FilterGroups {
		if len(g.Filters) > maxGroupFilters {
			s.badRequest(w, "A filter group may have at most %d filters, not %d.", maxGroupFilters, len(g.Filters))
			return nil, false
		}
		n += len(g.Filters)
		for i := range g.Filters {
			f := &g.Filters[i]
			f.prop = t.byName[f.PropertyName]
			if f.prop == nil {
				s.badRequest(w, "There was a problem with the request: property %q does not exist on %s.", f.PropertyName, t.name)
				return nil, false
			}
			if f.prop.spec.sensitivity == "highly_sensitive" {
				s.badRequest(w, "Property %q holds Highly Sensitive Data, which search does not support.", f.PropertyName)
				return nil, false
			}
			switch f.Operator {
			case "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "HAS_PROPERTY", "NOT_HAS_PROPERTY":
			default:
				s.badRequest(w, "the emulator does not model the search operator %q", f.Operator)
				return nil, false
			}
			f.str, f.highStr = scalar(f.Value), scalar(f.HighValue)
			v, err1 := strconv.ParseFloat(f.str, 64)
			h, err2 := strconv.ParseFloat(f.highStr, 64)
			f.num, f.high, f.isNum = v, h, err1 == nil && (f.Operator != "BETWEEN" || err2 == nil)
		}
		groups = append(groups, g.Filters)
	}
	if n > maxFilters {
		s.badRequest(w, "A search may have at most %d filters in all, not %d.", maxFilters, n)
		return nil, false
	}
	return groups, true
}

func scalar(v any) string {
	switch a := v.(type) {
	case nil:
		return ""
	case string:
		return a
	case float64:
		return strconv.FormatFloat(a, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(a)
	}
	return ""
}

func (s *Server) searchSort(w http.ResponseWriter, t *objectType, sorts []any) (*property, bool, bool) {
	if len(sorts) == 0 {
		return nil, false, true
	}
	if len(sorts) > 1 {
		s.badRequest(w, "A search may have one sort, not %d.", len(sorts))
		return nil, false, false
	}
	var name, dir string
	switch v := sorts[0].(type) {
	case string:
		name = v
	case map[string]any:
		name, _ = v["propertyName"].(string)
		dir, _ = v["direction"].(string)
	}
	p := t.byName[name]
	if p == nil {
		s.badRequest(w, "There was a problem with the request: cannot sort by %q.", name)
		return nil, false, false
	}
	if dir != "" && dir != "ASCENDING" && dir != "DESCENDING" {
		s.badRequest(w, "sort direction must be ASCENDING or DESCENDING, not %q", dir)
		return nil, false, false
	}
	if p.spec.name == "hs_object_id" && dir != "DESCENDING" {
		return nil, false, true // the id order the scan walks in
	}
	return p, dir == "DESCENDING", true
}

func (f *searchFilter) matches(rec *record) bool {
	v := rec.value(f.prop)
	if f.prop.spec.name == "hs_object_id" {
		v = strconv.FormatInt(rec.id, 10)
	}
	switch f.Operator {
	case "HAS_PROPERTY":
		return v != ""
	case "NOT_HAS_PROPERTY":
		return v == ""
	}
	if v == "" {
		return f.Operator == "NEQ"
	}
	var c int
	if x, err := strconv.ParseFloat(v, 64); err == nil && f.isNum {
		c = cmp.Compare(x, f.num)
		if f.Operator == "BETWEEN" {
			return c >= 0 && x <= f.high
		}
	} else {
		c = strings.Compare(strings.ToLower(v), strings.ToLower(f.str))
		if f.Operator == "BETWEEN" {
			return c >= 0 && strings.ToLower(v) <= strings.ToLower(f.highStr)
		}
	}
	switch f.Operator {
	case "EQ":
		return c == 0
	case "NEQ":
		return c != 0
	case "LT":
		return c < 0
	case "LTE":
		return c <= 0
	case "GT":
		return c > 0
	}
	return c >= 0 // GTE
}

func compareValues(a, b string) int {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 == nil && err2 == nil {
		return cmp.Compare(x, y)
	}
	return strings.Compare(a, b)
}

// idBounds is the id range every group's bounds on hs_object_id allow
// (1 … max when they say nothing).
func idBounds(groups [][]searchFilter) (lo, hi int64) {
	lo, hi = int64(1<<62), 0
	if len(groups) == 0 {
		return 1, 1 << 62
	}
	for _, g := range groups {
		glo, ghi := int64(1), int64(1<<62)
		for _, f := range g {
			if f.prop.spec.name != "hs_object_id" || !f.isNum {
				continue
			}
			n := int64(f.num)
			switch f.Operator {
			case "EQ":
				glo, ghi = max(glo, n), min(ghi, n)
			case "GT":
				glo = max(glo, n+1)
			case "GTE":
				glo = max(glo, n)
			case "LT":
				ghi = min(ghi, n-1)
			case "LTE":
				ghi = min(ghi, n)
			case "BETWEEN":
				glo, ghi = max(glo, n), min(ghi, int64(f.high))
			}
		}
		lo, hi = min(lo, glo), max(hi, ghi)
	}
	return lo, hi
}

// exactRange reports whether the query is one group of bounds on the id
// only, whose matches countRange can count.
func (s *Server) exactRange(t *objectType, groups [][]searchFilter) bool {
	if len(groups) != 1 {
		return false
	}
	for _, f := range groups[0] {
		if f.prop.spec.name != "hs_object_id" || !f.isNum || f.Operator == "NEQ" ||
			f.Operator == "HAS_PROPERTY" || f.Operator == "NOT_HAS_PROPERTY" {
			return false
		}
	}
	return true
}

// countRange counts the records with ids in lo…hi that visible admits,
// without walking the generated ones: every id in the range (generated or
// kept outside the generated range) counts once, less the kept records the
// index does not show (archived before it, created after it).
func (t *objectType) countRange(lo, hi int64, visible func(*record) bool) int {
	n := 0
	if t.gen != nil && t.genN > 0 {
		from, to := max(lo, t.genBase+1), min(hi, t.genBase+int64(t.genN))
		if to >= from {
			n += int(to - from + 1)
		}
	}
	a, _ := slices.BinarySearch(t.extra, lo)
	b, _ := slices.BinarySearch(t.extra, hi+1)
	n += b - a
	for id, rec := range t.mat {
		if id >= lo && id <= hi && !visible(rec) {
			n--
		}
	}
	return n
}

// scanArchivedSince calls fn for archived records in lo…hi archived after
// asOf (the index still shows them).
func (t *objectType) scanArchivedSince(lo, hi int64, asOf time.Time, fn func(*record)) {
	for id, rec := range t.mat {
		if id >= lo && id <= hi && rec.archived && rec.archivedAt.After(asOf) {
			fn(rec)
		}
	}
}
