package ingest

import (
	"context"
	"testing"
	"time"
)

// TestDedupeConflicts: a second delivery of a key with another body is a conflict, whether the
// first is remembered or still in flight; with the same body, or an unknown one, it is a duplicate.
func TestDedupeConflicts(t *testing.T) {
	d := newDedupe(time.Minute, 10, time.Now, dedupeHooks{})
	ctx := context.Background()
	a, b := bodySum{1}, bodySum{2}
	if owner, _, _, _ := d.acquireBody(ctx, "k", a); !owner {
		t.Fatal("first delivery not the owner")
	}
	got := make(chan [2]any, 2)
	for _, sum := range []bodySum{a, b} {
		go func() {
			_, dup, first, _ := d.acquireBody(ctx, "k", sum)
			got <- [2]any{dup, first}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	d.release("k", true)
	states := map[string]bodySum{}
	for range 2 {
		r := <-got
		states[r[0].(string)] = r[1].(bodySum)
	}
	if states[dupInFlight] != a || states[dupConflict] != a || len(states) != 2 {
		t.Errorf("in flight: %v, want one in_flight and one conflict naming the first body", states)
	}
	for _, c := range []struct {
		sum  bodySum
		want string
	}{{a, dupSeen}, {b, dupConflict}, {bodySum{}, dupSeen}} {
		if _, dup, first, _ := d.acquireBody(ctx, "k", c.sum); dup != c.want || first != a {
			t.Errorf("after delivery, sum %v: %s (first %v), want %s", c.sum[0], dup, first[0], c.want)
		}
	}
}
