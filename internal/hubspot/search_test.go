package hubspot_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// TestSearchIDsAndReadPage: keyset paging by id through search, then batch
// reads, give the records the list gives, Highly Sensitive values
// included, within search's own limit and with no 429.
func TestSearchIDsAndReadPage(t *testing.T) {
	c, srv := setup(t, emulator.Options{Sizes: map[string]int{"contacts": 1500}, ErrorRate: 0.1, SearchLag: -1},
		hubspot.Config{Retry: hubspot.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}})
	ctx := context.Background()
	props := []string{"email", "national_id"}
	want := map[string][]string{}
	for _, o := range collect(t, c, "contacts", hubspot.ListOptions{Properties: props}) {
		want[o.ID] = []string{o.Properties["email"], o.Properties["national_id"]}
	}
	top, err := c.SearchIDs(ctx, "contacts", 0, 0, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	if top.Total != 1500 || len(top.IDs) != 1 {
		t.Fatalf("top: %+v", top)
	}
	got := map[string][]string{}
	last := int64(0)
	for {
		r, err := c.SearchIDs(ctx, "contacts", last, top.IDs[0]+1, hubspot.MaxSearchPage, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.IDs) == 0 {
			break
		}
		last = r.IDs[len(r.IDs)-1]
		for ids := range slices.Chunk(r.IDs, hubspot.MaxBatchInputs) {
			page, err := c.ReadPage(ctx, "contacts", ids, props)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(page.Columns[:2], props) {
				t.Fatalf("columns %v", page.Columns)
			}
			for _, o := range page.Objects {
				if _, dup := got[o.ID]; dup {
					t.Fatalf("%s twice", o.ID)
				}
				got[o.ID] = o.Values[:2]
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d records through search, %d through the list", len(got), len(want))
	}
	sensitive := 0
	for id, v := range want {
		if !slices.Equal(got[id], v) {
			t.Fatalf("record %s: %q through search, %q through the list", id, got[id], v)
		}
		if v[1] != "" {
			sensitive++
		}
	}
	if sensitive == 0 {
		t.Fatal("no Highly Sensitive value to compare")
	}
	if st := srv.Stats(); st.SearchMaxInSecond > 5 || st.RateLimited > 0 {
		t.Fatalf("%d searches in a second, %d 429s", st.SearchMaxInSecond, st.RateLimited)
	}
}

func TestReadPageLeavesOutDeletedRecords(t *testing.T) {
	c, _ := setup(t, emulator.Options{Sizes: map[string]int{"deals": 3}}, hubspot.Config{})
	ctx := context.Background()
	r, err := c.SearchIDs(ctx, "deals", 0, 0, 10, false)
	if err != nil || len(r.IDs) != 3 {
		t.Fatalf("%v %+v", err, r)
	}
	if err := c.Archive(ctx, "deals", strconv.FormatInt(r.IDs[1], 10)); err != nil {
		t.Fatal(err)
	}
	page, err := c.ReadPage(ctx, "deals", []int64{r.IDs[2], r.IDs[1], r.IDs[0]}, []string{"dealname"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Objects) != 2 || page.Objects[0].ID != strconv.FormatInt(r.IDs[0], 10) {
		t.Fatalf("%+v", page.Objects)
	}
	if _, err := c.SearchIDs(ctx, "deals", 0, 0, 201, false); !errors.Is(err, hubspot.ErrValidation) {
		t.Fatalf("a page of 201: %v", err)
	}
}
