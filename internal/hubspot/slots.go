package hubspot

import (
	"context"
	"sync"
	"time"
)

// MemorySlots are shared slots within one process (the reference the
// DynamoDB adapter is held to, and what tests share between budgets that
// stand for separate processes).
type MemorySlots struct {
	mu   sync.Mutex
	next time.Time
	Now  func() time.Time // default time.Now
}

var _ Slots = (*MemorySlots)(nil)

// Claim implements Slots.
func (m *MemorySlots) Claim(ctx context.Context, n int, interval time.Duration) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	first := later(m.next, m.now())
	m.next = first.Add(time.Duration(n) * interval)
	return first, nil
}

// Hold implements Slots.
func (m *MemorySlots) Hold(ctx context.Context, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next = later(m.next, until)
	return nil
}

func (m *MemorySlots) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}
