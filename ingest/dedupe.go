package ingest

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// dedupe remembers the keys (event_ids) of deliveries whose records Kafka acknowledged, for a window,
// so that a platform retry within it produces nothing. Memory is bounded: past size keys the oldest
// are forgotten first (an eviction, counted). A delivery still in flight is known too: a retry that
// arrives meanwhile waits for its outcome instead of producing a second time, and takes over when the
// first one failed — a failed delivery is never remembered, so its retry gets through.
//
// Each key is remembered with the SHA-256 of the body that was delivered under it: a delivery of the
// same key with a different body is not a retry but a conflict (dupConflict) — someone who knows a
// static credential sent a forgery first, or the genuine callback came second — which the receiver
// keeps raw and dead-letters with both hashes, never swallows.
//
// It is per process: replicas behind a load balancer do not share it, and a retry after the window
// is produced again. Downstream, ClickHouse folds repeats by event_id; this keeps the topics clean of
// the common case.
//
// The bounded store is hashicorp/golang-lru's simplelru, read with Peek so that its order stays the
// order of delivery: one window for all, so the oldest entry is also the soonest to expire, and
// expire walks from it. Not its expirable variant: that one reads the wall clock (the windows follow
// the receiver's platform-facing clock, WithClock) and starts a goroutine per cache that never ends.
// The in-flight coordination (a retry waits for the first delivery's outcome) is ours: no cache does it.
type dedupe struct {
	window time.Duration
	size   int
	now    func() time.Time
	hooks  dedupeHooks

	mu       sync.Mutex
	seen     *simplelru.LRU[string, seenKey] // oldest first
	inflight map[string]*flight
}

type seenKey struct {
	at  time.Time
	sum bodySum
}

type flight struct {
	done chan struct{}
	sum  bodySum
	ok   bool // set before done is closed
}

// bodySum is the SHA-256 of a delivered body; the zero value means unknown (never a conflict).
type bodySum [32]byte

// dedupeHooks report to metrics.
type dedupeHooks struct {
	entries func(n int)
	evicted func()
	waiting func(delta int)
}

func newDedupe(window time.Duration, size int, now func() time.Time, hooks dedupeHooks) *dedupe {
	nop := func(int) {}
	if hooks.entries == nil {
		hooks.entries = nop
	}
	if hooks.waiting == nil {
		hooks.waiting = nop
	}
	if hooks.evicted == nil {
		hooks.evicted = func() {}
	}
	seen, err := simplelru.NewLRU[string, seenKey](max(size, 1), nil)
	if err != nil {
		panic(err) // only for a size below one
	}
	return &dedupe{window: window, size: size, now: now, hooks: hooks, seen: seen, inflight: map[string]*flight{}}
}

// Duplicate states, for metrics.
const (
	dupSeen     = "seen"      // delivered before, within the window
	dupInFlight = "in_flight" // arrived while the first delivery was being produced, which then succeeded
	dupConflict = "conflict"  // delivered before with a different body: not a duplicate
)

// acquire decides what the caller does with a delivery of key. owner: produce it, then call release.
// Otherwise dup names why it is a duplicate; its records are already acknowledged. err is ctx's when
// the wait for an in-flight first delivery outlasted it.
func (d *dedupe) acquire(ctx context.Context, key string) (owner bool, dup string, err error) {
	owner, dup, _, err = d.acquireBody(ctx, key, bodySum{})
	return owner, dup, err
}

// acquireBody is acquire for a delivery whose body hashes to sum: when key was delivered (or is
// being delivered) with a different body, dup is dupConflict and first is that body's sum.
func (d *dedupe) acquireBody(ctx context.Context, key string, sum bodySum) (owner bool, dup string, first bodySum, err error) {
	if d.window <= 0 {
		return true, "", bodySum{}, nil
	}
	for {
		d.mu.Lock()
		d.expire()
		if sk, ok := d.seen.Peek(key); ok {
			first = sk.sum
			d.mu.Unlock()
			return false, dupOf(dupSeen, first, sum), first, nil
		}
		fl, busy := d.inflight[key]
		if !busy {
			d.inflight[key] = &flight{done: make(chan struct{}), sum: sum}
			d.mu.Unlock()
			return true, "", bodySum{}, nil
		}
		d.mu.Unlock()
		d.hooks.waiting(1)
		select {
		case <-fl.done:
			d.hooks.waiting(-1)
		case <-ctx.Done():
			d.hooks.waiting(-1)
			return false, "", bodySum{}, ctx.Err()
		}
		if fl.ok {
			return false, dupOf(dupInFlight, fl.sum, sum), fl.sum, nil
		}
		// The first delivery failed and is not remembered: try to take over.
	}
}

// dupOf is state, or dupConflict when both sums are known and differ.
func dupOf(state string, first, sum bodySum) string {
	if first != (bodySum{}) && sum != (bodySum{}) && first != sum {
		return dupConflict
	}
	return state
}

// seenRecently reports whether key was released as delivered within the window.
func (d *dedupe) seenRecently(key string) bool {
	if d.window <= 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire()
	return d.seen.Contains(key)
}

// release ends the caller's ownership of key: delivered says whether Kafka acknowledged its records.
// Only then is the key remembered.
func (d *dedupe) release(key string, delivered bool) {
	if d.window <= 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	fl := d.inflight[key]
	delete(d.inflight, key)
	if delivered {
		sk := seenKey{at: d.now()}
		if fl != nil {
			sk.sum = fl.sum
		}
		d.seen.Remove(key) // a key delivered again goes to the back: its window starts anew
		if d.seen.Add(key, sk) {
			d.hooks.evicted()
		}
		d.hooks.entries(d.seen.Len())
	}
	if fl != nil {
		fl.ok = delivered
		close(fl.done)
	}
}

// expire forgets keys older than the window. Called with mu held.
func (d *dedupe) expire() {
	now := d.now()
	n := d.seen.Len()
	for {
		_, sk, ok := d.seen.GetOldest()
		if !ok || now.Sub(sk.at) < d.window {
			break
		}
		d.seen.RemoveOldest()
	}
	if d.seen.Len() != n {
		d.hooks.entries(d.seen.Len())
	}
}
