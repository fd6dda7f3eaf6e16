// Package listing pages through an account's lists (backups, imports,
// notifications, the audit log). Every item of a list is keyed by a ULID,
// so keys sort by time: a page is a key range read newest or oldest first,
// and the next page starts after the last key read. Stores take a Query and
// give a Page; the API hands out the position as an opaque Cursor bound to
// the caller's account and to the list.
package listing

import (
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/crmbackup/crmbackup/internal/apperr"
)

// Page sizes: DefaultLimit unless asked for 1 to MaxLimit.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// Query asks for one page of a list.
type Query struct {
	// Limit is the page size; outside 1..MaxLimit it is DefaultLimit.
	Limit int
	// After is the key the previous page ended on ("": the first page).
	After string
	// Oldest reads oldest first; newest first otherwise.
	Oldest bool
	// From and To keep the items created in [From, To) (zero: unbounded),
	// to the millisecond a ULID holds.
	From, To time.Time
}

// Page is one page of a list.
type Page[T any] struct {
	Items []T
	// Next is the key to read after for the next page; "" when this page
	// is the last.
	Next string
}

// Size is the page size q asks for.
func (q Query) Size() int {
	if q.Limit < 1 || q.Limit > MaxLimit {
		return DefaultLimit
	}
	return q.Limit
}

// The lowest and highest ULIDs (Crockford base32; the first character of
// a valid ULID is at most 7).
const (
	minKey = "00000000000000000000000000"
	maxKey = "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"
)

// Range is the inclusive key range [Lo, Hi] that From and To select.
func (q Query) Range() (lo, hi string) {
	lo, hi = minKey, maxKey
	if !q.From.IsZero() {
		lo = bound(q.From, false)
	}
	if !q.To.IsZero() {
		hi = bound(q.To.Add(-time.Millisecond), true)
	}
	return lo, hi
}

// bound is the first (or last) ULID of t's millisecond.
func bound(t time.Time, last bool) string {
	ms := t.UnixMilli()
	if ms < 0 {
		ms = 0
	}
	if uint64(ms) > ulid.MaxTime() {
		ms = int64(ulid.MaxTime())
	}
	var id ulid.ULID
	if last {
		for i := 6; i < len(id); i++ {
			id[i] = 0xff
		}
	}
	if err := id.SetTime(uint64(ms)); err != nil {
		panic(err) // ms is in range
	}
	return id.String()
}

// Check refuses a query no store should run: an After that is not a key,
// or lies outside the From–To range (a stale or forged position), or a
// range that ends before it starts.
func (q Query) Check() error {
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return apperr.New(apperr.Invalid, "from must be before to")
	}
	if q.After == "" {
		return nil
	}
	if _, err := ulid.ParseStrict(q.After); err != nil {
		return apperr.New(apperr.Invalid, "the cursor does not name a position in this list")
	}
	lo, hi := q.Range()
	if q.After < lo || q.After > hi {
		return apperr.New(apperr.Invalid, "the cursor's position is outside the requested time range")
	}
	return nil
}

// Select is a store's page of keys (sorted ascending, each a ULID): the
// keys in q's range after q.After in q's order, at most q.Size(), and the
// Next key when more follow.
func Select(keys []string, q Query) (page []string, next string) {
	lo, hi := q.Range()
	n := q.Size()
	in := func(k string) bool { return k >= lo && k <= hi }
	if q.Oldest {
		for _, k := range keys {
			if !in(k) || (q.After != "" && k <= q.After) {
				continue
			}
			if len(page) == n {
				return page, page[n-1]
			}
			page = append(page, k)
		}
		return page, ""
	}
	for i := len(keys) - 1; i >= 0; i-- {
		k := keys[i]
		if !in(k) || (q.After != "" && k >= q.After) {
			continue
		}
		if len(page) == n {
			return page, page[n-1]
		}
		page = append(page, k)
	}
	return page, ""
}

// Order names a direction of time for people and query strings.
func (q Query) Order() string {
	if q.Oldest {
		return "oldest"
	}
	return "newest"
}

// ParseOrder reads "newest" (the default: "") or "oldest".
func ParseOrder(s string) (oldest bool, err error) {
	switch s {
	case "", "newest":
		return false, nil
	case "oldest":
		return true, nil
	}
	return false, apperr.New(apperr.Invalid, "order must be newest or oldest")
}
