package listing

import (
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
)

// FuzzCursor: any string given as a cursor decodes to a valid query of
// that account's list or is a 400; what decodes encodes back to itself.
func FuzzCursor(f *testing.F) {
	good := Cursor{Account: "acme", List: "entries", Filter: "backup.created",
		Query: Query{After: "01JD2Z6W6Q3V9K8M7N5P4R3S2A", Oldest: true, From: time.UnixMilli(1700000000000).UTC()}}.Encode()
	for _, s := range []string{good, good[:len(good)-2], "", "bm90IGEgY3Vyc29y", "eyJ2IjoxfQ", "AAAA", good + "A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Decode(s, "acme", "entries")
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("%q: %v, want a 400", s, err)
			}
			return
		}
		if err := c.Query.Check(); err != nil || c.Account != "acme" || c.List != "entries" {
			t.Fatalf("%q decoded to %+v (%v)", s, c, err)
		}
		again, err := Decode(c.Encode(), "acme", "entries")
		if err != nil || again != c {
			t.Fatalf("%q: %+v does not survive encoding: %+v %v", s, c, again, err)
		}
	})
}
