package backoff_test

import (
	"testing"
	"time"

	"github.com/imarchive/imarchive/internal/backoff"
)

func TestWaitGrowsWithinBounds(t *testing.T) {
	first, longest := 100*time.Millisecond, time.Second
	for n, full := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond,
		4: 800 * time.Millisecond, 5: time.Second, 9: time.Second, 80: time.Second} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := backoff.Wait(first, longest, n)
			if d < full/2 || d > full {
				t.Fatalf("retry %d: wait %s outside [%s, %s]", n, d, full/2, full)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("retry %d: every wait was the same: no jitter", n)
		}
	}
}
