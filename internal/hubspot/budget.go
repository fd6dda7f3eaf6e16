package hubspot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"golang.org/x/time/rate"
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
type Budget struct {
	lim *rate.Limiter

	mu          sync.Mutex
	full        rate.Limit // configured (or server-announced, if lower) steady rate
	current     rate.Limit
	pausedUntil time.Time
	strikes     int // consecutive 429s, for escalating pauses
}

// NewBudget returns a budget of requests per window (HubSpot's window is 10 s).
func NewBudget(requests int, window time.Duration) *Budget {
	full := budgetRate(requests, window)
	return &Budget{lim: rate.NewLimiter(full, 1), full: full, current: full}
}

func budgetRate(requests int, window time.Duration) rate.Limit {
	n := float64(requests) - 1
	if n < 0.5 {
		n = 0.5
	}
	return rate.Limit(n / (window.Seconds() * 1.02))
}

var budgets sync.Map // key → *Budget

// BudgetFor returns the process-wide budget of the portal reached at baseURL
// with token, creating it with requestsPer10s on first use. Later callers
// share the first budget whatever rate they ask for: one portal, one budget.
func BudgetFor(baseURL, token string, requestsPer10s int) *Budget {
	sum := sha256.Sum256([]byte(baseURL + "\x00" + token))
	key := hex.EncodeToString(sum[:])
	if b, ok := budgets.Load(key); ok {
		return b.(*Budget)
	}
	b, _ := budgets.LoadOrStore(key, NewBudget(requestsPer10s, Window))
	return b.(*Budget)
}

// Wait blocks until the caller may send one request.
func (b *Budget) Wait(ctx context.Context) error {
	for {
		if d := time.Until(b.pauseEnd()); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		if err := b.lim.Wait(ctx); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			return err
		}
		// A 429 seen by another goroutine while this one queued pauses it too.
		if !time.Now().Before(b.pauseEnd()) {
			return nil
		}
	}
}

func (b *Budget) pauseEnd() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pausedUntil
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
	b.lim.SetLimit(b.current)
}

// Succeeded records a request HubSpot accepted: the rate climbs back towards
// the configured one by a twentieth of it per success.
func (b *Budget) Succeeded() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.strikes = 0
	if b.current < b.full {
		b.current = min(b.current+b.full/20, b.full)
		b.lim.SetLimit(b.current)
	}
}

// Announced applies the limit HubSpot announces in its rate-limit headers
// when it is lower than the configured one (a portal on a smaller tier).
func (b *Budget) Announced(requests int, window time.Duration) {
	if requests <= 0 || window <= 0 {
		return
	}
	r := budgetRate(requests, window)
	b.mu.Lock()
	defer b.mu.Unlock()
	if r < b.full {
		b.full = r
		b.current = min(b.current, r)
		b.lim.SetLimit(b.current)
	}
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
	return float64(b.current)
}
