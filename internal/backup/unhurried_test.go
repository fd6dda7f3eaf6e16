package backup

import (
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// TestReadersWaitOnlyWhileTheChainCanEndInTime: a range's readers take no
// new range while the list chain (and, for list readers, search too) will
// be done before the top range opens; the chain's pace is measured over a
// second, unless not even the portal's whole budget could read what is
// left by then — a large object gets its readers from the chain's first
// page. Ids may be sparse: what is left is counted in ids, a page in
// records.
func TestReadersWaitOnlyWhileTheChainCanEndInTime(t *testing.T) {
	budget := hubspot.NewBudget(190, 10*time.Second) // 18.6 requests a second: 1,860 records
	if r := budget.Limit(); r < 18.5 || r > 18.9 {
		t.Fatalf("a 190/10 s budget paces %.2f requests a second; the cases below assume 18.6", r)
	}
	for _, tt := range []struct {
		name      string
		elapsed   time.Duration // since the invocation began reading ranges
		read      int64         // ids the chain read in it
		rows      int64         // records in them
		left      int64         // ids left in the chain's range
		block     int64         // the plan's block: 1,000 ids for one id a record
		budget    *hubspot.Budget
		opensIn   time.Duration
		searchers bool // unhurried for search readers
		listers   bool // unhurried for list readers
	}{
		{"no page yet, no plan's density", 50 * time.Millisecond, 0, 0, 20_000, 0, budget, 10 * time.Second, true, true},
		{"no page yet, large by the plan's density", 50 * time.Millisecond, 0, 0, 20_000, 1_000, budget, 10 * time.Second, false, false},
		{"no page yet, small by the plan's density", 50 * time.Millisecond, 0, 0, 15_000, 1_000, budget, 10 * time.Second, true, true},
		{"no page yet, large by the plan's density of ten ids a record", 50 * time.Millisecond, 0, 0, 200_000, 10_000, budget, 10 * time.Second, false, false},
		{"large: more than the budget reads before the top range opens", 150 * time.Millisecond, 100, 100, 19_800, 0, budget, 9 * time.Second, false, false},
		{"large, ten ids a record", 150 * time.Millisecond, 1_000, 100, 198_000, 0, budget, 9 * time.Second, false, false},
		{"large, the budget unknown: its pace is measured first", 150 * time.Millisecond, 100, 100, 19_800, 0, nil, 9 * time.Second, true, true},
		{"small enough for the budget: its pace is measured first", 300 * time.Millisecond, 300, 300, 7_700, 0, budget, 9 * time.Second, true, true},
		{"small enough, ten ids a record", 300 * time.Millisecond, 3_000, 300, 77_000, 0, budget, 9 * time.Second, true, true},
		{"measured: the chain is done in time alone", 1200 * time.Millisecond, 1_100, 1_100, 6_900, 0, budget, 8 * time.Second, true, true},
		{"measured: with search, not alone", 1200 * time.Millisecond, 1_100, 1_100, 9_000, 0, budget, 8 * time.Second, false, true},
		{"measured, ten ids a record: with search, not alone", 1200 * time.Millisecond, 11_000, 1_100, 90_000, 0, budget, 8 * time.Second, false, true},
		{"measured: not even with search, yet within the budget", 1200 * time.Millisecond, 1_100, 1_100, 14_600, 0, budget, 8 * time.Second, false, false},
		{"the top range is open", 1200 * time.Millisecond, 1_100, 1_100, 100, 0, budget, -time.Second, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now()
			const start = 10_000_000_000
			live := start + tt.read
			x := &ranged{
				began: now.Add(-tt.elapsed), startLive: start, listRows: tt.rows, budget: tt.budget,
				runs: []*rangeRun{
					{r: &Range{ID: 0, Hi: live + tt.left + 1, List: true, Block: tt.block}, owned: true, live: live},
					{r: &Range{ID: 1, Lo: live + tt.left + 1, NotBefore: now.Add(tt.opensIn)}},
				},
			}
			if got := x.unhurried(now, false); got != tt.searchers {
				t.Errorf("search readers unhurried: %v, want %v", got, tt.searchers)
			}
			if got := x.unhurried(now, true); got != tt.listers {
				t.Errorf("list readers unhurried: %v, want %v", got, tt.listers)
			}
		})
	}
}
