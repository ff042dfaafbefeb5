package pipeline

import (
	"testing"
	"time"
)

// TestFlushPolicy: the flush rule, case by case. The expected actions are written out from the rule
// as Config documents it (a batch is written as soon as the interval since the previous one allows,
// once it is full, caught up or BatchWait old; a full batch stops polling), not computed.
func TestFlushPolicy(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	p := flushPolicy{rows: 100, bytes: 1 << 20, wait: time.Second, interval: 3 * time.Second}
	cases := []struct {
		name      string
		now, last time.Time
		f         fill
		want      flushAction
		until     time.Time
	}{
		{"nothing in hand: poll", at(0), time.Time{}, fill{}, actPoll, time.Time{}},
		{"caught up, no batch before: write at once", at(10), time.Time{}, fill{rows: 1, first: at(0), caughtUp: true}, actFlush, time.Time{}},
		{"caught up, the interval has passed: write at once", at(5000), at(1000), fill{rows: 3, first: at(4990), caughtUp: true}, actFlush, time.Time{}},
		{"caught up within the interval: poll on until it allows", at(2000), at(1000), fill{rows: 3, first: at(1900), caughtUp: true}, actPoll, at(4000)},
		{"more waiting, not full, young: poll until BatchWait", at(5000), at(0), fill{rows: 3, first: at(4900)}, actPoll, at(5900)},
		{"more waiting, BatchWait passed, interval too: write", at(6000), at(0), fill{rows: 3, first: at(4900)}, actFlush, time.Time{}},
		{"BatchWait passed within the interval: poll until it allows", at(1500), at(0), fill{rows: 3, first: at(200)}, actPoll, at(3000)},
		{"full within the interval: poll no more, wait for it", at(1500), at(0), fill{rows: 100, first: at(1000)}, actWait, at(3000)},
		{"full by bytes within the interval: wait", at(1500), at(0), fill{rows: 5, bytes: 1 << 20, first: at(1000)}, actWait, at(3000)},
		{"full when the interval allows: write", at(3000), at(0), fill{rows: 100, first: at(2999)}, actFlush, time.Time{}},
	}
	for _, c := range cases {
		act, until := p.next(c.now, c.last, c.f)
		if act != c.want || !until.Equal(c.until) {
			t.Errorf("%s: got action %d until %v, want %d until %v", c.name, act, until, c.want, c.until)
		}
	}
	// The policy before the interval (NoCaughtUpFlush, no interval): caught up is not enough.
	old := flushPolicy{rows: 5000, bytes: 1 << 20, wait: time.Second, noCaughtUp: true}
	if act, until := old.next(at(10), time.Time{}, fill{rows: 1, first: at(0), caughtUp: true}); act != actPoll || !until.Equal(at(1000)) {
		t.Errorf("no caught-up flush: got %d until %v, want to poll until BatchWait", act, until)
	}
	// Without an interval, only the batch decides.
	p.interval = 0
	if act, _ := p.next(at(10), at(9), fill{rows: 1, first: at(0), caughtUp: true}); act != actFlush {
		t.Errorf("interval off, caught up: got %d, want a write", act)
	}
}
