package hubspot

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Window is HubSpot's burst window: limits are "N requests per 10 s".
const Window = 10 * time.Second

// Budget is the request budget of one portal. HubSpot counts requests per
// portal (private app), not per connection, so every goroutine and every
// Client of the process talking to one portal must draw from the same Budget.
//
// It is a token bucket with a burst of one and a rate of (N-1) per 1.02
// windows: in any window at most 1 + (N-1) = N requests start, so the portal's
// rolling limit is never exceeded by this process alone; the 2% margin absorbs
// up to ~300 ms of scheduling and network jitter between the moment a request
// is allowed and the moment HubSpot counts it. On a 429 the budget
// pauses every caller and halves its rate, then recovers additively on
// successes (AIMD), so a portal shared with other integrations settles at
// what is actually left for us.
//
// Each slot goes to the waiting request with the oldest priority (see
// WithPriority): a page stream that started first is served first. A single
// cursor chain can only go as fast as HubSpot answers (one page per round
// trip), so when objects export side by side the one that started first —
// the largest, as discovery lists them — runs at its own limit and the
// others take the slots it leaves; no large object is left alone at the end
// running at a fraction of the budget.
type Budget struct {
	mu          sync.Mutex
	ceiling     float64 // the configured steady rate, per second
	full        float64 // the steady rate now: the ceiling, or HubSpot's announced limit if lower
	current     float64
	next        time.Time // the earliest time the next slot may be granted
	waiters     waitQueue
	timer       *time.Timer // wakes the queue at next; nil when none is set
	seq         uint64
	pausedUntil time.Time
	strikes     int // consecutive 429s, for escalating pauses
	granted     atomic.Int64

	// With shared slots (Share), slots come from them instead of next:
	// claimed are the times of the slots this process holds, in order.
	shared   Slots
	claimed  []time.Time
	claiming bool
	debt     int // resends sent without a slot: the next slots claimed go to them
}

// Slots are a portal's request slots, shared by every process that calls
// it (on AWS the Lambda containers of a backup's exports, a restore and the
// API: a DynamoDB item per account). HubSpot counts a portal's requests
// wherever they come from, so a process that draws on shared slots paces
// itself with all of them: whoever has requests to send takes the slots,
// and the last export running gets every one.
type Slots interface {
	// Claim reserves n consecutive slots, interval apart, and returns the
	// first one's time: the portal's next free slot, never before now.
	Claim(ctx context.Context, n int, interval time.Duration) (time.Time, error)
	// Hold makes no slot free before until (HubSpot asked every caller to
	// pause).
	Hold(ctx context.Context, until time.Time) error
}

// MaxClaim is the most slots a process claims at once: about a quarter of
// a second of a 190/10 s portal, so that slots claimed and then not needed
// (a stream that ended) cost little.
const MaxClaim = 5

// ErrSharedSlots wraps a failure to claim shared slots.
var ErrSharedSlots = errors.New("hubspot: could not claim the portal's shared request slots")

// NewBudget returns a budget of requests per window (HubSpot's window is 10 s).
func NewBudget(requests int, window time.Duration) *Budget {
	full := budgetRate(requests, window)
	return &Budget{ceiling: full, full: full, current: full}
}

func budgetRate(requests int, window time.Duration) float64 {
	n := float64(requests) - 1
	if n < 0.5 {
		n = 0.5
	}
	return n / (window.Seconds() * 1.02)
}

type priorityKey struct{}

// WithPriority marks ctx's requests with a priority: the budget serves the
// smallest first (ties in arrival order). Page iterators mark their requests
// with the time their stream started; unmarked requests rank by the time
// they ask.
func WithPriority(ctx context.Context, p int64) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

func priority(ctx context.Context) int64 {
	if p, ok := ctx.Value(priorityKey{}).(int64); ok {
		return p
	}
	return time.Now().UnixNano()
}

// waiter is one request waiting for a slot.
type waiter struct {
	prio    int64
	seq     uint64
	index   int
	granted chan struct{}
	err     error // set before granted closes when no slot could be had
}

type waitQueue []*waiter

func (q waitQueue) Len() int { return len(q) }
func (q waitQueue) Less(i, j int) bool {
	if q[i].prio != q[j].prio {
		return q[i].prio < q[j].prio
	}
	return q[i].seq < q[j].seq
}
func (q waitQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *waitQueue) Push(x any) {
	w := x.(*waiter)
	w.index = len(*q)
	*q = append(*q, w)
}
func (q *waitQueue) Pop() any {
	old := *q
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	w.index = -1
	return w
}

var budgets sync.Map // key → *Budget

// BudgetFor returns the process-wide budget of the portal reached at baseURL
// with token, creating it with requestsPer10s on first use. Later callers
// share the first budget whatever rate they ask for: one portal, one budget.
func BudgetFor(baseURL, token string, requestsPer10s int) *Budget {
	return budgetIn(&budgets, baseURL, token, requestsPer10s)
}

// budgetIn is the budget of the portal in registry, created on first use.
func budgetIn(registry *sync.Map, baseURL, token string, requestsPer10s int) *Budget {
	sum := sha256.Sum256([]byte(baseURL + "\x00" + token))
	key := hex.EncodeToString(sum[:])
	if b, ok := registry.Load(key); ok {
		return b.(*Budget)
	}
	b, _ := registry.LoadOrStore(key, NewBudget(requestsPer10s, Window))
	return b.(*Budget)
}

// SearchRequestsPer10s paces the search endpoints, which HubSpot limits to
// 5 requests per second per account on their own (outside the 10-second
// limit): 46 per 10 s with the pacer's burst of one is 4.4 a second, slots
// 227 ms apart, so no rolling second ever holds more than 5.
const SearchRequestsPer10s = 46

var searchBudgets sync.Map

func searchBudgetFor(baseURL, token string) *Budget {
	return budgetIn(&searchBudgets, baseURL, token, SearchRequestsPer10s)
}

type budgetKey struct{}

// withBudget makes ctx's requests wait on b instead of the client's budget.
func withBudget(ctx context.Context, b *Budget) context.Context {
	return context.WithValue(ctx, budgetKey{}, b)
}

func budgetOf(ctx context.Context, def *Budget) *Budget {
	if b, ok := ctx.Value(budgetKey{}).(*Budget); ok {
		return b
	}
	return def
}

// Charge takes one slot without waiting, for a request already sent (a
// resend by Go's transport, which cannot be made to wait where it happens):
// the next slot moves one interval later, so the rate stays bounded.
func (b *Budget) Charge() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.granted.Add(1)
	if b.shared != nil {
		// the resend took a slot: the next one this process holds goes,
		// or the next waiter's claim is one larger
		if len(b.claimed) > 0 {
			b.claimed = b.claimed[1:]
		} else {
			b.debt++
		}
		b.reschedule()
		return
	}
	from := time.Now()
	if b.next.After(from) {
		from = b.next
	}
	b.next = from.Add(b.interval())
	b.reschedule()
}

// Share makes the budget draw its slots from shared (nil: from its own
// pacer again). Every process calling the portal must share the same slots;
// the rate stays this budget's own (its configured limit, HubSpot's
// announced one, its back-off after a 429).
func (b *Budget) Share(shared Slots) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.shared, b.claimed = shared, nil
}

// Granted is how many requests the budget has let through.
func (b *Budget) Granted() int64 { return b.granted.Load() }

// Wait blocks until the caller may send one request.
func (b *Budget) Wait(ctx context.Context) error {
	w := &waiter{prio: priority(ctx), granted: make(chan struct{})}
	b.mu.Lock()
	b.seq++
	w.seq = b.seq
	heap.Push(&b.waiters, w)
	b.dispatch()
	b.mu.Unlock()
	select {
	case <-w.granted:
		if w.err != nil {
			return w.err
		}
		b.granted.Add(1)
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		select {
		case <-w.granted: // granted as ctx ended: give the slot to the next one
			if w.err == nil {
				b.giveBack()
			}
		default:
			heap.Remove(&b.waiters, w.index)
		}
		b.dispatch()
		return ctx.Err()
	}
}

// dispatch grants the slot that is due, if any, to the first waiter, and
// sets a timer for the next one. Slots are 1/current apart and never
// accumulate (a burst of one). Called with b.mu held.
func (b *Budget) dispatch() {
	if b.shared != nil {
		b.dispatchShared()
		return
	}
	now := time.Now()
	if b.pausedUntil.After(b.next) {
		b.next = b.pausedUntil
	}
	if len(b.waiters) > 0 && !now.Before(b.next) {
		w := heap.Pop(&b.waiters).(*waiter)
		close(w.granted)
		b.next = now.Add(b.interval())
	}
	if len(b.waiters) == 0 {
		return
	}
	b.wakeAt(b.next)
}

// giveBack returns a slot granted to a waiter that left at that moment.
// Called with b.mu held.
func (b *Budget) giveBack() {
	if b.shared != nil {
		b.claimed = append([]time.Time{time.Now()}, b.claimed...)
		return
	}
	b.next = time.Now()
}

func (b *Budget) interval() time.Duration {
	return time.Duration(float64(time.Second) / b.current)
}

// wakeAt sets the timer that dispatches again at t, unless one is set.
// Called with b.mu held.
func (b *Budget) wakeAt(t time.Time) {
	if b.timer != nil {
		return
	}
	b.timer = time.AfterFunc(time.Until(t), func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.timer = nil
		b.dispatch()
	})
}

// dispatchShared grants the slots this process claimed as they come due,
// and claims more while requests wait. A slot not used within half an
// interval of its time lapses: every request goes out within that of its
// slot, so the portal-wide bound holds (at most 1 + rate·window, with the
// pacer's margin). Called with b.mu held.
func (b *Budget) dispatchShared() {
	now := time.Now()
	grace := b.interval() / 2
	for len(b.claimed) > 0 && now.Sub(b.claimed[0]) > grace {
		b.claimed = b.claimed[1:] // lapsed
	}
	for len(b.waiters) > 0 && len(b.claimed) > 0 && !now.Before(b.claimed[0]) && !now.Before(b.pausedUntil) {
		w := heap.Pop(&b.waiters).(*waiter)
		close(w.granted)
		b.claimed = b.claimed[1:]
	}
	if want := len(b.waiters) - len(b.claimed); want > 0 && !b.claiming {
		// As many as are waiting. (One spare for a stream's next request
		// was tried: with three containers, the spares that lapsed cost a
		// third of the default mix's throughput.)
		b.claiming = true
		go b.claim(min(want, MaxClaim), b.interval())
	}
	if len(b.waiters) > 0 && len(b.claimed) > 0 {
		b.wakeAt(later(b.claimed[0], b.pausedUntil))
	}
}

// claim reserves n shared slots and hands them to the waiters; when none
// can be had, the waiters that were counted get the error.
func (b *Budget) claim(n int, interval time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := b.shared.Claim(ctx, n, interval)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.claiming = false
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrSharedSlots, err)
		for range min(n, len(b.waiters)) {
			w := heap.Pop(&b.waiters).(*waiter)
			w.err = err
			close(w.granted)
		}
		b.dispatch()
		return
	}
	for i := range n {
		if b.debt > 0 {
			b.debt--
			continue
		}
		b.claimed = append(b.claimed, first.Add(time.Duration(i)*interval))
	}
	b.reschedule()
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Throttled records a 429: every caller pauses for d and the rate halves
// (never below a tenth of the configured rate).
func (b *Budget) Throttled(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.strikes++
	if until := time.Now().Add(d); until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
	b.current = max(b.current/2, b.full/10)
	if b.shared != nil {
		shared, until := b.shared, b.pausedUntil
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = shared.Hold(ctx, until) // best effort: each process backs off on its own 429s too
		}()
	}
	b.reschedule()
}

// reschedule restarts the timer after the pause or the rate changed.
// Called with b.mu held.
func (b *Budget) reschedule() {
	if b.timer != nil && b.timer.Stop() {
		b.timer = nil
	}
	b.dispatch()
}

// Succeeded records a request HubSpot accepted: the rate climbs back towards
// the configured one by a twentieth of it per success.
func (b *Budget) Succeeded() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.strikes = 0
	if b.current < b.full {
		b.current = min(b.current+b.full/20, b.full)
	}
}

// Announced follows the limit HubSpot announces in its rate-limit headers,
// down and back up, never above the configured one: a portal on a smaller
// tier, or whose limit changed, is paced by what HubSpot says now.
func (b *Budget) Announced(requests int, window time.Duration) {
	if requests <= 0 || window <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r := min(budgetRate(requests, window), b.ceiling)
	b.full = r
	b.current = min(b.current, r)
}

// strikeCount is the number of consecutive 429s, for the pause escalation.
func (b *Budget) strikeCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.strikes
}

// Limit returns the budget's current rate in requests per second.
func (b *Budget) Limit() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.current
}
