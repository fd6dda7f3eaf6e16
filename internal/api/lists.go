package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/listing"
)

// lister is one list route's source: its name (the response's key, and
// what its cursors are bound to), the domain's read, and its own filter
// parameter if it has one.
type lister[T any] struct {
	name  string
	fetch func(ctx context.Context, account string, q listing.Query, filter string) (listing.Page[T], error)
	// filter names the list's own query parameter ("action"), "" if none;
	// filterValues are the values it takes.
	filter       string
	filterValues []string
	// more adds fields to the response (the unread count).
	more func(ctx context.Context, account string) (map[string]any, error)
}

// listParams are the query parameters every list takes.
var listParams = []string{"limit", "cursor", "order", "from", "to"}

// pageQuery reads a list's query: ?limit (1–100), ?order=newest|oldest,
// ?from and ?to (RFC 3339, [from, to)), the list's filter, or ?cursor —
// the next cursor of a previous page, which carries the rest of its query:
// given with a cursor, those parameters must say what the cursor says.
func pageQuery[T any](r *http.Request, account string, l lister[T]) (listing.Query, string, error) {
	v := r.URL.Query()
	for name := range v {
		if !slices.Contains(listParams, name) && name != l.filter {
			return listing.Query{}, "", apperr.New(apperr.Invalid, "unknown query parameter %q (a list takes limit, cursor, order, from, to%s)",
				clip(name, 40), map[bool]string{true: ", " + l.filter}[l.filter != ""])
		}
		if len(v[name]) > 1 {
			return listing.Query{}, "", apperr.New(apperr.Invalid, "query parameter %q given twice", clip(name, 40))
		}
	}
	var q listing.Query
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > listing.MaxLimit {
			return q, "", apperr.New(apperr.Invalid, "limit must be an integer from 1 to %d, not %q", listing.MaxLimit, clip(s, 40))
		}
		q.Limit = n
	}
	var err error
	if q.Oldest, err = listing.ParseOrder(v.Get("order")); err != nil {
		return q, "", err
	}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := v.Get(p.name); s != "" {
			if *p.t, err = time.Parse(time.RFC3339, s); err != nil {
				return q, "", apperr.New(apperr.Invalid, "%s must be a time in RFC 3339 (2026-12-01T00:00:00Z), not %q", p.name, clip(s, 40))
			}
		}
	}
	var filter string
	if l.filter != "" {
		filter = v.Get(l.filter)
		if filter != "" && !slices.Contains(l.filterValues, filter) {
			return q, "", apperr.New(apperr.Invalid, "%s must be one of %v, not %q", l.filter, l.filterValues, clip(filter, 40)).With("allowed", l.filterValues)
		}
	}
	if err := q.Check(); err != nil {
		return q, "", err
	}
	s := v.Get("cursor")
	if s == "" {
		return q, filter, nil
	}
	c, err := listing.Decode(s, account, l.name)
	if err != nil {
		return q, "", err
	}
	given := func(name string) bool { return v.Get(name) != "" }
	if (given("order") && q.Oldest != c.Query.Oldest) || (given("from") && !q.From.Equal(c.Query.From)) ||
		(given("to") && !q.To.Equal(c.Query.To)) || (l.filter != "" && given(l.filter) && filter != c.Filter) {
		return q, "", apperr.New(apperr.Invalid, "a cursor continues the query it came from: leave out order, from, to and %s, or give the same values", l.filter)
	}
	c.Query.Limit = q.Limit
	return c.Query, c.Filter, nil
}

// list is the handler of a list route: a page of the caller's account's
// list, each item shown by view, under the list's name, with the cursor of
// the next page ("next", absent on the last page).
func list[T, V any](l lister[T], view func(T) V) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *auth.Caller, account string) error {
		q, filter, err := pageQuery(r, account, l)
		if err != nil {
			return err
		}
		page, err := l.fetch(r.Context(), account, q, filter)
		if err != nil {
			return err
		}
		views := make([]V, 0, len(page.Items))
		for _, it := range page.Items {
			views = append(views, view(it))
		}
		body := map[string]any{l.name: views}
		if page.Next != "" {
			next := q
			next.After = page.Next
			body["next"] = listing.Cursor{Account: account, List: l.name, Query: next, Filter: filter}.Encode()
		}
		if l.more != nil {
			extra, err := l.more(r.Context(), account)
			if err != nil {
				return err
			}
			for k, v := range extra {
				body[k] = v
			}
		}
		writeJSON(w, http.StatusOK, body)
		return nil
	}
}
