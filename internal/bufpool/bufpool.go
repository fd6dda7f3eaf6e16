// Package bufpool keeps large byte buffers for a process's next use.
//
// A Lambda container runs one invocation after another; a buffer of
// megabytes allocated afresh for each fragments the heap, and peak RSS then
// creeps up with the number of invocations, that is with the size of the
// account. A sync.Pool would not help: it empties at every garbage
// collection. A Pool keeps up to Max buffers for good.
package bufpool

import (
	"cmp"
	"sync"
)

// Pool is a free list of buffers. The zero value is ready to use.
type Pool struct {
	// Max is how many buffers it keeps at most (default 4): as many as
	// are in use at once.
	Max int

	mu   sync.Mutex
	free [][]byte
}

// Get returns an empty buffer with room for size bytes.
func (p *Pool) Get(size int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, b := range p.free {
		if cap(b) >= size {
			p.free[i] = p.free[len(p.free)-1]
			p.free = p.free[:len(p.free)-1]
			return b[:0]
		}
	}
	return make([]byte, 0, size)
}

// Put keeps b for a later Get, unless the pool is full.
func (p *Pool) Put(b []byte) {
	if b == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < cmp.Or(p.Max, 4) {
		p.free = append(p.free, b)
	}
}
