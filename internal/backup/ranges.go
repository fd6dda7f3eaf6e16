package backup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crmbackup/crmbackup/internal/blobkey"
	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// A large object is read as ranges of its ids side by side, so that one
// cursor chain's latency no longer bounds it (docs/architecture.md,
// "Reading a large object"):
//   - range 0 is read by the list cursor from the object's start, as a small
//     object is, and ends where the next range begins;
//   - the other ranges are read through search — a fresh query for the ids
//     above the last one read, sorted by id, 200 at a time (so search's cap
//     of 10,000 results per query never bites) — and their records by batch
//     reads, which return every sensitivity level and fresh values (search
//     serves no Highly Sensitive values and lags writes);
//   - or, when the list's cursor reads as a record id (ListFrom), by a list
//     chain of their own started at the range's position — a use of the
//     cursor HubSpot does not document, so each start is proven against
//     search (its first record must be the first id search has there) and
//     one failed proof reads every range through search from then on;
//   - the top range (above the largest id when the export began) is read
//     last, once search's index has caught up with the backup's start
//     (SearchCatchUp), for records created just before it;
//   - a reader that is done takes half of what is left of the range with
//     the most left (the owner learns its new end when it next commits).
//
// Every id belongs to exactly one range, and a range keeps only ids below
// its end as it stands when a page is committed, so no record is written
// twice and none is skipped. Each range has its own chunks; the zip step
// writes them in id order. The list is checked to come in ascending id
// order on every page (what range 0's end relies on); if it ever does not,
// the object is exported again from the start as one chain.

// Range is one range of an object's ids, ids in [Lo, Hi) (Hi 0: no end).
type Range struct {
	ID int   `json:"id"`
	Lo int64 `json:"lo"`
	Hi int64 `json:"hi,omitempty"`
	// List: read with the list cursor — range 0 from the object's start,
	// another from its position, proven against search when its chain
	// starts (readList); After is its cursor once its chain wrote a chunk
	// (empty: the next chain starts from Pos, with a proof).
	List  bool   `json:"list,omitempty"`
	After string `json:"after,omitempty"`
	// Pos is the last id whose record (if it still existed) is in a chunk:
	// the range goes on above it.
	Pos int64 `json:"pos"`
	// Block (range 0) is the size, in ids, of the blocks readers take.
	Block int64 `json:"block,omitempty"`
	// NotBefore: the top range waits for search's index to catch up.
	NotBefore  time.Time `json:"notBefore,omitzero"`
	Chunks     int       `json:"chunks"`
	Rows       int64     `json:"rows"`
	Bytes      int64     `json:"bytes"`
	Compressed int64     `json:"compressed"`
	Done       bool      `json:"done,omitempty"`
}

// Searcher is what reading ranges needs of the CRM (hubspot.Client).
type Searcher interface {
	SearchIDs(ctx context.Context, objectType string, after, below int64, limit int, desc bool) (*hubspot.IDRange, error)
	ReadPage(ctx context.Context, objectType string, ids []int64, properties []string) (*hubspot.Page, error)
}

const (
	// RangedMin is how many records must be left after an object's first
	// page for the rest to be read as ranges. Below, one chain is about as
	// fast, and the top range's wait for search's index (SearchCatchUp,
	// from the object's start) would cost more than ranges gain.
	RangedMin = 3000
	// SearchCatchUp is how long after an object's export begins its top
	// range waits: HubSpot's search index trails writes by "a few moments".
	SearchCatchUp = 10 * time.Second
	// searchReaders read ranges through search. Search paces them all:
	// with four, each range went at a quarter of its pace and the last two
	// ended a second after the list chains. Two keep search near its pace
	// (each sends its next search while the last one's records are read),
	// and list readers take the rest. (Measured, four runs each: (d) 88%
	// of the bound with four, 90% with two, 89% with three; (b), at 400 ms,
	// 87% with two, 89% with three or four. Ranking the search ranges by
	// age instead, four readers: (d) 84%.)
	searchReaders = 2
	// listReaders read ranges with list chains of their own (ListFrom): a
	// chain is serial, so at 400 ms a page each brings about 250 records a
	// second, and it takes several, beside search's 880, to fill the
	// budget (18.6 requests a second).
	listReaders = 4
	blockPages  = 5
	// patience is how long a reader waits before it looks again while the
	// list chain needs no help (unhurried).
	patience = 250 * time.Millisecond
	// paceSample is how long the list chain's pace is measured before
	// readers that may not be needed start (unhurried); one page's time
	// says little: it may have waited for a slot.
	paceSample = time.Second
	// searchPace is how many records a second the search readers bring at
	// most: search's pace (hubspot.SearchRequestsPer10s, less its margin)
	// times its page.
	searchPace = hubspot.SearchRequestsPer10s / 10.0 / 1.04 * hubspot.MaxSearchPage
	// readersLater ranks a range's readers in the budget after the chain
	// of every export that began within a day of theirs.
	readersLater = int64(24 * time.Hour)
)

// errUnordered says the list did not come in id order: ranges are unsafe.
var errUnordered = errors.New("the list came out of id order")

// planRanges sets out to read what is left of a large object, whose list
// chain has reached cp, as ranges, or returns nil when little is left. Range
// 0 is the list chain going on (its chunks are the chain's), up to the
// largest id now; readers carve blocks off its top as they go (take). The
// top range, above that id, waits until catchUp after the object's export
// began.
func planRanges(ctx context.Context, sr Searcher, typeID string, cp Checkpoint, least int, catchUp time.Duration) ([]Range, error) {
	top, err := sr.SearchIDs(ctx, typeID, cp.LastID, 0, 1, true)
	if err != nil {
		return nil, err
	}
	if top.Total < least || len(top.IDs) == 0 {
		return nil, nil
	}
	hi := top.IDs[0]
	// A block is about five search pages of records, in ids: large
	// enough that its last, short page is a small share of its searches,
	// small enough that the readers' last blocks end soon after the chain.
	block := max((hi-cp.LastID)*blockPages*hubspot.MaxSearchPage/int64(top.Total), blockPages*hubspot.MaxSearchPage)
	return []Range{
		{ID: 0, Lo: 0, Hi: hi + 1, List: true, After: cp.After, Pos: cp.LastID, Block: block,
			Chunks: cp.Chunks, Rows: cp.Rows, Bytes: cp.Bytes, Compressed: cp.Compressed},
		{ID: 1, Lo: hi + 1, Pos: hi, NotBefore: cp.SnapshotStart.Add(catchUp)},
	}, nil
}

// searchCtx marks ctx's requests with the search readers' rank in the
// budget: after every chain's, before the other list chains'.
func (x *ranged) searchCtx(ctx context.Context) context.Context {
	return hubspot.WithPriority(ctx, x.prio+readersLater+1)
}

// positional says whether the list's cursor after cp's last page reads as
// the first record id of the next page — an id above the last one read, as
// HubSpot's does in practice — so that list chains from other positions
// (the cursor id+1 after id) are worth proving (readList).
func positional(cp Checkpoint) bool {
	n, err := strconv.ParseInt(cp.After, 10, 64)
	return err == nil && n > cp.LastID && cp.LastID > 0
}

// rangeRun is one range being read in this invocation.
type rangeRun struct {
	r     *Range
	owned bool
	live  int64 // the last id written into the encoder (under ranged.mu)
	enc   *chunkEncoder
	rows  int64 // rows in the current chunk
	after string
}

type ranged struct {
	s     *Service
	in    ExportInput
	obj   *Object
	names []string
	limit int
	sr    Searcher
	pages func(ctx context.Context, after string) iter.Seq2[*hubspot.Page, error]
	ctx   context.Context // the invocation's (chunks are saved with it)
	hctx  context.Context // HubSpot's calls end with it
	// deadline: past it, each reader stops after the page it has (an
	// invocation that starts past it still reads one).
	deadline    time.Time
	mu          sync.Mutex
	runs        []*rangeRun
	nextID      int
	listFrom    bool // list chains from a position may be tried (under mu once readers run)
	listReaders int
	// began is when this invocation began reading, startLive where the
	// list chain stood then (its pace, for unhurried).
	began     time.Time
	startLive int64
	// listRows counts the records the list chain kept in this invocation
	// (under mu): with startLive, how many ids a record spans.
	listRows int64
	prio     int64           // the list chain's priority in the budget (the export's)
	budget   *hubspot.Budget // the portal's (nil: unknown)
}

// paced is what the CRM says of its pace (hubspot.Client): the portal's
// request budget.
type paced interface {
	Budget() *hubspot.Budget
}

// exportRanges reads the object's ranges until they are done or the step's
// time is up, and brings cp up to date.
func (s *Service) exportRanges(ctx, hctx context.Context, deadline time.Time, in ExportInput, obj *Object, names []string, limit int,
	sr Searcher, pages func(ctx context.Context, after string) iter.Seq2[*hubspot.Page, error], cp *Checkpoint) error {
	x := &ranged{s: s, deadline: deadline, in: in, obj: obj, names: names, limit: limit, sr: sr, pages: pages, ctx: ctx, hctx: hctx,
		listFrom: cp.ListFrom, listReaders: max(cmp.Or(s.ListReaders, listReaders), 0), prio: cp.SnapshotStart.UnixNano()}
	for i := range cp.Ranges {
		r := cp.Ranges[i]
		x.runs = append(x.runs, &rangeRun{r: &r, live: r.Pos, after: r.After})
		x.nextID = max(x.nextID, r.ID+1)
	}
	x.began, x.startLive = time.Now(), x.runs[0].live
	if p, ok := sr.(paced); ok {
		x.budget = p.Budget()
	}
	g, gctx := errgroup.WithContext(hctx)
	if run := x.runs[0]; run.r.ID == 0 && !run.r.Done {
		run.owned = true
		g.Go(func() error { return x.readList(gctx, run) })
	}
	// The list chain is serial: each of its requests waits for the last
	// answer, so it goes first in the budget — as every other object's
	// chain does, whose export began later: the readers rank after every
	// chain (readersLater), so that no chain of the backup waits behind
	// them and the budget stays full to the end, when the last chains run
	// alone. Among the readers, the search readers' batch reads go before
	// the other list chains: search's ids come from a budget of their own,
	// so its records cost one request per 100, a list's two when the object
	// is too wide for a list URL.
	rctx := x.searchCtx(gctx)
	lctx := hubspot.WithPriority(gctx, x.prio+readersLater+2)
	for range searchReaders {
		g.Go(func() error { return x.reader(rctx, false) })
	}
	if x.listFrom {
		for range x.listReaders {
			g.Go(func() error { return x.reader(lctx, true) })
		}
	}
	err := g.Wait()
	cp.ListFrom = x.listFrom
	cp.Ranges = make([]Range, 0, len(x.runs)) // not in place: the input's ranges stay as they were
	for _, run := range x.runs {
		cp.Ranges = append(cp.Ranges, *run.r)
	}
	slices.SortFunc(cp.Ranges, func(a, b Range) int { return cmp.Compare(a.Lo, b.Lo) })
	cp.Chunks, cp.Rows, cp.Bytes, cp.Compressed, cp.Done = 0, 0, 0, 0, true
	for _, r := range cp.Ranges {
		cp.Chunks += r.Chunks
		cp.Rows += r.Rows
		cp.Bytes += r.Bytes
		cp.Compressed += r.Compressed
		cp.Done = cp.Done && r.Done
	}
	return err
}

// keep says which of ids (ascending) the range keeps as it stands, and
// records the last kept one; done when the range ends within them.
func (x *ranged) keep(run *rangeRun, ids []int64) (n int, done bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	n = len(ids)
	if hi := run.r.Hi; hi > 0 {
		n, _ = slices.BinarySearch(ids, hi)
	}
	if n > 0 {
		run.live = ids[n-1]
	}
	return n, n < len(ids)
}

// write adds a page's first n records to the range's chunk, the header
// first in range 0.
func (x *ranged) write(run *rangeRun, objs []hubspot.Object, cols []string) error {
	if !slices.Equal(cols[:min(len(x.names), len(cols))], x.names) {
		return fmt.Errorf("export %s: a page's columns %v are not the %d asked for", x.obj.Name, cols, len(x.names))
	}
	var csv []byte
	if run.r.ID == 0 && run.r.Chunks == 0 && run.r.Bytes == 0 && run.enc.bytes == 0 {
		csv = headerRow(x.obj)
	}
	for i := range objs {
		csv = appendRow(csv, &objs[i], len(x.names))
	}
	run.rows += int64(len(objs))
	if _, err := run.enc.Write(csv); err != nil {
		return fmt.Errorf("compress %s: %w", x.obj.Name, err)
	}
	if run.enc.Len() >= x.chunkLimit(run) {
		return x.flush(run)
	}
	return nil
}

// flush saves the range's current chunk and moves its checkpoint to what
// the chunk holds.
func (x *ranged) flush(run *rangeRun) error {
	if run.enc.bytes == 0 {
		return nil
	}
	r := run.r
	chunk, state, err := run.enc.Chunk()
	if err != nil {
		return fmt.Errorf("compress chunk %d of %s range %d: %w", r.Chunks, x.obj.Name, r.ID, err)
	}
	name := RangeName(x.obj.Name, r.ID)
	if err := x.s.Blobs.Put(x.ctx, blobkey.Chunk(x.in.AccountID, x.in.BackupID, name, r.Chunks), chunk); err != nil {
		return fmt.Errorf("write chunk %d of %s: %w", r.Chunks, name, err)
	}
	if err := x.s.Blobs.Put(x.ctx, blobkey.ChunkState(x.in.AccountID, x.in.BackupID, name, r.Chunks), state); err != nil {
		return fmt.Errorf("write the state of chunk %d of %s: %w", r.Chunks, name, err)
	}
	r.Bytes += run.enc.bytes
	r.Compressed += int64(len(chunk))
	r.Chunks++
	run.enc.next()
	x.mu.Lock()
	r.Rows += run.rows
	r.Pos, r.After = run.live, run.after
	x.mu.Unlock()
	run.rows = 0
	return nil
}

// RangeName names a range's chunks: range 0's are the object's list
// chain's, the others' are under the object's.
func RangeName(object string, id int) string {
	if id == 0 {
		return object
	}
	return object + "/r" + strconv.Itoa(id)
}

// chunkLimit is the compressed size that ends a range's chunk: range 0's
// are the object's chunks; the others' a quarter of that (64 KiB at the
// least), since one per reader is written at once and a process's memory is
// its chunks (a range's chunk size is its own: its chunks are a sequence
// of their own).
func (x *ranged) chunkLimit(run *rangeRun) int {
	if run.r.ID == 0 {
		return x.limit
	}
	return max(x.limit/4, 64<<10)
}

// open gives the run its encoder: each range's CSV part runs its own CRC.
func (x *ranged) open(run *rangeRun) error {
	enc, err := x.s.continueChunks(x.ctx, x.in.StepInput, RangeName(x.obj.Name, run.r.ID), run.r.Chunks, x.chunkLimit(run))
	if err != nil {
		return err
	}
	run.enc = enc
	return nil
}

func (x *ranged) close(run *rangeRun) {
	if run.enc != nil {
		x.s.chunkBufs.Put(run.enc.Release())
		run.enc = nil
	}
}

// finish ends a run: done, or its time is up (err) and it keeps what it read.
//
// The run's encoder is released before the range is: once it is not owned,
// another reader may take it and open an encoder of its own.
func (x *ranged) finish(run *rangeRun, done bool, err error) error {
	if err != nil && !TimeUp(x.ctx, x.hctx, err) {
		x.close(run)
		return err
	}
	if done && run.r.ID == 0 && run.r.Chunks == 0 && run.enc.bytes == 0 {
		if _, err := run.enc.Write(headerRow(x.obj)); err != nil { // the CSV starts with range 0
			x.close(run)
			return err
		}
	}
	ferr := x.flush(run)
	x.close(run)
	if ferr != nil {
		return ferr
	}
	x.mu.Lock()
	run.r.Done = done
	run.owned = false
	x.mu.Unlock()
	return nil
}

// readList reads a range with the list cursor: range 0 from where its
// chain stands, another from its own cursor if it has one, else from its
// position. The list's cursor is HubSpot's to define: that the position
// (the id after the last one read) works as one is proven on the first page
// — its first record must be the first id search has above the position,
// or one search missed (a record created moments ago) — and if it is not,
// the range, and every range from then on, is read through search.
func (x *ranged) readList(ctx context.Context, run *rangeRun) error {
	if err := x.open(run); err != nil {
		return err
	}
	x.mu.Lock()
	from, hi, after := run.live, run.r.Hi, run.r.After
	proven := run.r.ID == 0 || (run.r.List && after != "")
	x.mu.Unlock()
	var first int64 // the first id above from, by search (while unproven)
	if !proven {
		// At the search readers' priority: theirs, always waiting, would
		// otherwise keep it from search's budget.
		res, err := x.sr.SearchIDs(x.searchCtx(ctx), x.obj.TypeID, from, hi, 1, false)
		if err != nil {
			return x.finish(run, false, err)
		}
		if len(res.IDs) == 0 {
			return x.finish(run, true, nil) // nothing there, as a search range would find
		}
		first, after = res.IDs[0], strconv.FormatInt(from+1, 10)
	}
	x.mu.Lock()
	run.r.List = true
	x.mu.Unlock()
	run.after = after
	prev := from
	var refused string // why the proof failed: the range goes on through search, once the list is let go
	for page, err := range x.pages(ctx, after) {
		if err != nil {
			var he *hubspot.Error
			if first > 0 && errors.As(err, &he) && he.StatusCode == http.StatusBadRequest {
				refused = "HubSpot refused the cursor " + after
				break
			}
			return x.finish(run, false, err)
		}
		if first > 0 {
			// The proof: the chain starts just above the position, at the
			// first id search has there, at one search missed, or past
			// ids search still has but whose records are gone.
			var id0 int64
			if len(page.Objects) > 0 {
				id0, _ = strconv.ParseInt(page.Objects[0].ID, 10, 64)
			}
			skipped := id0 <= from
			if !skipped && id0 > first {
				if skipped, err = x.skipped(ctx, first, id0); err != nil {
					return x.finish(run, false, err)
				}
			}
			if skipped {
				refused = fmt.Sprintf("the list from %s began at id %d, search at %d", after, id0, first)
				break
			}
			first = 0
		}
		ids := make([]int64, len(page.Objects))
		for i, o := range page.Objects {
			id, perr := strconv.ParseInt(o.ID, 10, 64)
			if perr != nil || id <= prev {
				x.close(run)
				return fmt.Errorf("%w: id %q after %d", errUnordered, o.ID, prev)
			}
			ids[i], prev = id, id
		}
		n, done := x.keep(run, ids)
		if run.r.ID == 0 {
			x.mu.Lock()
			x.listRows += int64(n)
			x.mu.Unlock()
		}
		run.after = page.Next
		if err := x.write(run, page.Objects[:n], page.Columns); err != nil {
			x.close(run)
			return err
		}
		if done || page.Next == "" {
			return x.finish(run, true, nil)
		}
		if time.Now().After(x.deadline) {
			return x.finish(run, false, nil)
		}
	}
	if refused != "" {
		x.mu.Lock()
		x.listFrom, run.r.List, run.r.After = false, false, ""
		x.mu.Unlock()
		x.s.log().WarnContext(ctx, "the list cursor does not work as a position; reading the ranges through search",
			"object", x.obj.Name, "range", run.r.ID, "from", from, "why", refused)
		x.close(run) // nothing of it was written
		return x.readSearch(ctx, run)
	}
	return x.finish(run, false, ctx.Err())
}

// skipped says whether a record still there lies in [first, below), which
// search has and a list chain skipped: search's index trails deletions, so
// ids it gives may be gone (a batch read leaves them out). It looks at a
// few; past them, it says so.
func (x *ranged) skipped(ctx context.Context, first, below int64) (bool, error) {
	sctx := x.searchCtx(ctx)
	for range 3 {
		p, err := x.sr.ReadPage(sctx, x.obj.TypeID, []int64{first}, x.names)
		if err != nil || len(p.Objects) > 0 {
			return true, err
		}
		res, err := x.sr.SearchIDs(sctx, x.obj.TypeID, first, below, 1, false)
		if err != nil || len(res.IDs) == 0 {
			return false, err
		}
		first = res.IDs[0]
	}
	return true, nil
}

// reader reads ranges until none is left to read or take: through search,
// or (viaList) with list chains from their positions while that holds.
func (x *ranged) reader(ctx context.Context, viaList bool) error {
	sctx := x.searchCtx(ctx) // a list reader's, once it reads through search
	for {
		run, wait, asList := x.take(viaList)
		if run == nil && wait.IsZero() {
			return nil
		}
		if run == nil {
			t := time.NewTimer(time.Until(wait))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			continue
		}
		read, rctx := x.readSearch, sctx
		if asList {
			read, rctx = x.readList, ctx
		}
		if err := read(rctx, run); err != nil {
			return err
		}
		x.mu.Lock() // another reader may have taken it since
		done := run.r.Done
		x.mu.Unlock()
		if !done { // its time is up
			return nil
		}
	}
}

// take gives a reader a range: one nobody reads; else, to a search reader,
// a block off the top of the list chain's (a block while it is far, half of
// what is left when near), so that a fast chain reads most and a slow one
// little; else half of the range with the most left — to a list reader
// always, since a chain is latency-bound and a long one pays its proof
// once. Or it says when to look again (the top range waits), or (zero)
// that there is nothing left to take. A list reader reads as a search
// reader (asList false) once the list's cursor failed its proof.
func (x *ranged) take(viaList bool) (run *rangeRun, wait time.Time, asList bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	viaList = viaList && x.listFrom
	run, wait = x.takeLocked(viaList)
	return run, wait, viaList
}

func (x *ranged) takeLocked(viaList bool) (*rangeRun, time.Time) {
	var wait time.Time
	var free *rangeRun // one nobody reads: a list range to a list reader first, a search range to a search reader
	for _, run := range x.runs {
		if run.owned || run.r.Done || run.r.ID == 0 {
			continue
		}
		if nb := run.r.NotBefore; time.Now().Before(nb) {
			if wait.IsZero() || nb.Before(wait) {
				wait = nb
			}
			continue
		}
		if run.r.List && !viaList && x.listFrom && x.listReaders > 0 {
			continue // a chain is going on there: the list readers' to go on with
		}
		if free == nil || (run.r.List == viaList && free.r.List != viaList) {
			free = run
		}
	}
	if free != nil {
		free.owned = true
		return free, time.Time{}
	}
	if x.unhurried(time.Now(), viaList) {
		return nil, time.Now().Add(patience)
	}
	block := x.runs[0].r.Block
	split := func(from *rangeRun, lo int64) *rangeRun {
		r := &Range{ID: x.nextID, Lo: lo, Hi: from.r.Hi, Pos: lo - 1}
		x.nextID++
		from.r.Hi = lo
		run := &rangeRun{r: r, owned: true, live: r.Pos}
		x.runs = append(x.runs, run)
		return run
	}
	if list := x.runs[0]; !viaList && list.r.ID == 0 && !list.r.Done {
		if left := list.r.Hi - 1 - list.live; left >= block/2 {
			return split(list, list.r.Hi-min(block, left/2)), time.Time{}
		}
	}
	var best *rangeRun
	for _, run := range x.runs {
		if run.r.Done || run.r.Hi == 0 || !run.owned || (run.r.ID == 0 && !viaList) {
			continue
		}
		if best == nil || run.r.Hi-run.live > best.r.Hi-best.live {
			best = run
		}
	}
	if best != nil && best.r.Hi-1-best.live >= block/2 {
		return split(best, best.live+(best.r.Hi-best.live)/2), time.Time{}
	}
	return nil, wait
}

// unhurried says (under mu) whether what a reader would add is not needed
// yet: whether the list chain alone (for a search reader), or the chain and
// the search readers (for a list reader), will have read what is left
// before the top range opens, at the pace the chain went over a second or
// more. The object ends when the top range is read; the slots the reader
// would take are the other objects' exports' (whose chains it would slow
// down: slots are shared across containers first come, first served,
// whatever the priority within each). So list chains from positions —
// HubSpot's cursor used in a way it does not document — start only where
// documented reading falls short.
func (x *ranged) unhurried(now time.Time, viaList bool) bool {
	list := x.runs[0]
	if list.r.ID != 0 || list.r.Done || !list.owned {
		return false
	}
	var opens time.Time
	for _, run := range x.runs {
		if run.r.Hi == 0 && !run.r.Done {
			opens = run.r.NotBefore
		}
	}
	if !now.Before(opens) {
		return false
	}
	elapsed, read := now.Sub(x.began), list.live-x.startLive
	// Ids a record spans: as the chain found them in this invocation, or
	// before, as the plan's search counted them (a block is blockPages
	// search pages of records, in ids).
	perRecord := float64(list.r.Block) / (blockPages * hubspot.MaxSearchPage)
	if read > 0 && x.listRows > 0 {
		perRecord = float64(read) / float64(x.listRows)
	}
	chainLeft := float64(list.r.Hi - 1 - list.live) // ids
	allLeft := chainLeft
	for _, run := range x.runs[1:] {
		if run.owned && !run.r.Done && run.r.Hi > 0 {
			allLeft += float64(run.r.Hi - 1 - run.live)
		}
	}
	done := func(left, pace float64) time.Time {
		return now.Add(time.Duration(min(left/pace, 3600) * float64(time.Second)))
	}
	// No chain, nor all the readers together, reads faster than the
	// portal's budget, 100 records a request: when even at that pace what
	// is left would not be read before the top range opens, every reader
	// is needed now (a large object, from its plan on).
	if x.budget != nil && perRecord > 0 && !done(allLeft, x.budget.Limit()*hubspot.MaxPageSize*perRecord).Before(opens) {
		return false
	}
	if elapsed < paceSample {
		return true // the chain's pages of the first second tell its pace: one may have waited for a slot
	}
	if read <= 0 || x.listRows <= 0 {
		return false
	}
	left, pace := chainLeft, float64(read)/elapsed.Seconds() // ids, ids a second
	if viaList {
		left, pace = allLeft, pace+searchPace*perRecord
	}
	return done(left, pace).Before(opens)
}

// readSearch reads one search range: ids through search, records by batch
// reads.
func (x *ranged) readSearch(ctx context.Context, run *rangeRun) error {
	if err := x.open(run); err != nil {
		return err
	}
	x.mu.Lock()
	run.r.List, run.r.After, run.after = false, "", "" // a list range goes on through search
	x.mu.Unlock()
	// The next search needs only the last id of this one: it goes out
	// while this page's records are read (and is dropped if the range ends).
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	search := func(after int64) <-chan foundIDs {
		ch := make(chan foundIDs, 1)
		x.mu.Lock()
		hi := run.r.Hi
		x.mu.Unlock()
		go func() {
			res, err := x.sr.SearchIDs(sctx, x.obj.TypeID, after, hi, hubspot.MaxSearchPage, false)
			ch <- foundIDs{res, err}
		}()
		return ch
	}
	x.mu.Lock()
	from := run.live
	x.mu.Unlock()
	pending := search(from)
	for {
		f := <-pending
		if f.err != nil {
			return x.finish(run, false, f.err)
		}
		res := f.res
		// HubSpot's total says whether the range holds more than this page.
		last := len(res.IDs) < hubspot.MaxSearchPage || res.Total <= len(res.IDs)
		if !last {
			pending = search(res.IDs[len(res.IDs)-1])
		}
		pages := make([]*hubspot.Page, (len(res.IDs)+hubspot.MaxBatchInputs-1)/hubspot.MaxBatchInputs)
		g, gctx := errgroup.WithContext(ctx)
		for i, ids := range slicesChunk(res.IDs, hubspot.MaxBatchInputs) {
			g.Go(func() error {
				p, err := x.sr.ReadPage(gctx, x.obj.TypeID, ids, x.names)
				pages[i] = p
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return x.drop(pending, last, cancel, x.finish(run, false, err))
		}
		n, done := x.keep(run, res.IDs)
		var objs []hubspot.Object
		var cols []string
		for _, p := range pages {
			cols = p.Columns
			for _, o := range p.Objects {
				id, _ := strconv.ParseInt(o.ID, 10, 64)
				if n > 0 && id <= res.IDs[n-1] {
					objs = append(objs, o)
				}
			}
		}
		if len(objs) > 0 {
			if err := x.write(run, objs, cols); err != nil {
				x.close(run)
				return x.drop(pending, last, cancel, err)
			}
		}
		if done || last {
			return x.drop(pending, last, cancel, x.finish(run, true, nil))
		}
		if time.Now().After(x.deadline) {
			return x.drop(pending, last, cancel, x.finish(run, false, nil))
		}
	}
}

// foundIDs is a search's answer.
type foundIDs struct {
	res *hubspot.IDRange
	err error
}

// drop waits for a search sent ahead that is not needed (cancelled), and
// returns err.
func (x *ranged) drop(pending <-chan foundIDs, none bool, cancel context.CancelFunc, err error) error {
	if !none {
		cancel()
		<-pending
	}
	return err
}

func slicesChunk(ids []int64, n int) [][]int64 {
	var out [][]int64
	for c := range slices.Chunk(ids, n) {
		out = append(out, c)
	}
	return out
}
