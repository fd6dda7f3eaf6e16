// Package slotstest is the conformance suite of hubspot.Slots adapters: every
// adapter hands out a portal's request slots so that no two claims overlap,
// however many processes claim at once, and a hold moves them all.
package slotstest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// Run runs the suite. fresh returns slots of a portal no other test uses.
func Run(t *testing.T, fresh func(t *testing.T) hubspot.Slots) {
	ctx := context.Background()
	const interval = 50 * time.Millisecond
	t.Run("a claim starts now on an idle portal, the next one after it", func(t *testing.T) {
		s := fresh(t)
		before := time.Now()
		first, err := s.Claim(ctx, 3, time.Second) // long enough to be ahead still at the next claim
		if err != nil {
			t.Fatal(err)
		}
		if first.Before(before.Add(-time.Millisecond)) || first.After(time.Now().Add(time.Millisecond)) {
			t.Fatalf("first slot at %v, want between %v and now", first, before)
		}
		second, err := s.Claim(ctx, 1, interval)
		if err != nil {
			t.Fatal(err)
		}
		if want := first.Add(3 * time.Second); second.Sub(want).Abs() > time.Millisecond {
			t.Fatalf("second claim at %v, want %v (after the first's 3 slots)", second, want)
		}
	})
	t.Run("slots that passed unused are not handed out", func(t *testing.T) {
		s := fresh(t)
		if _, err := s.Claim(ctx, 1, time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		before := time.Now()
		first, err := s.Claim(ctx, 1, interval)
		if err != nil {
			t.Fatal(err)
		}
		if first.Before(before.Add(-time.Millisecond)) {
			t.Fatalf("a slot in the past (%v before the claim)", before.Sub(first))
		}
	})
	t.Run("claims at once never overlap", func(t *testing.T) {
		s := fresh(t)
		type span struct{ from, to time.Time }
		var (
			mu    sync.Mutex
			spans []span
			wg    sync.WaitGroup
		)
		for g := range 8 {
			wg.Go(func() {
				for i := range 5 {
					n := 1 + (g+i)%3
					first, err := s.Claim(ctx, n, time.Millisecond)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					spans = append(spans, span{first, first.Add(time.Duration(n) * time.Millisecond)})
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.SortFunc(spans, func(a, b span) int { return a.from.Compare(b.from) })
		for i := 1; i < len(spans); i++ {
			if spans[i].from.Before(spans[i-1].to.Add(-time.Microsecond)) {
				t.Fatalf("claims overlap: %v–%v and %v–%v", spans[i-1].from, spans[i-1].to, spans[i].from, spans[i].to)
			}
		}
		if len(spans) != 40 {
			t.Fatalf("%d claims, want 40", len(spans))
		}
	})
	t.Run("a hold moves the next slot, never back", func(t *testing.T) {
		s := fresh(t)
		until := time.Now().Add(2 * time.Second)
		if err := s.Hold(ctx, until); err != nil {
			t.Fatal(err)
		}
		if err := s.Hold(ctx, time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		first, err := s.Claim(ctx, 1, interval)
		if err != nil {
			t.Fatal(err)
		}
		if first.Sub(until).Abs() > time.Millisecond {
			t.Fatalf("first slot after the hold at %v, want %v", first, until)
		}
	})
}
