// Package backoff is imarchive's one retry backoff, used by the consumers (pipeline) and the
// platform connectors: exponential from a first wait, capped, with "equal jitter" (a wait drawn from
// the upper half of the step) so that processes retrying the same outage do not retry in step.
//
// Written here rather than taken from a library: the callers know the retry number and want the wait
// as a pure function of it that never exceeds the configured longest wait (--retry-max, a connector's
// MaxBackoff). cenkalti/backoff's ExponentialBackOff is a stateful object per retry loop whose
// randomized wait reaches 1.5 × MaxInterval and which stops after MaxElapsedTime unless told not to;
// adapting it would take more lines than this, and would blur the documented bounds.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Wait is the wait before retry number n (1 for the first retry): first·2^(n-1), capped at longest,
// then drawn uniformly from its upper half. first and longest must be positive, first ≤ longest.
func Wait(first, longest time.Duration, n int) time.Duration {
	d := first
	for i := 1; i < n && d < longest; i++ {
		d *= 2
	}
	d = min(d, longest)
	half := d / 2
	return half + rand.N(d-half+1)
}
