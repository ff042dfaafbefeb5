package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/imarchive/imarchive/event"
)

// memStore is the presence events table reduced to what the rule reads from it: per account, the rows
// written (key and verdict). It stands for presence_events_data in the property test; the same
// decisions against the real table are tested in consumer_test.go.
type memStore struct {
	rows map[accountRef][]memRow
}

type memRow struct {
	key   presenceKey
	stale bool
}

func newMemStore() *memStore { return &memStore{rows: map[accountRef][]memRow{}} }

func (m *memStore) states(_ context.Context, accts []accountRef) (map[accountRef]presenceKey, error) {
	out := map[accountRef]presenceKey{}
	for _, r := range accts {
		for i, row := range m.rows[r] {
			if k, ok := out[r]; i == 0 || !ok || k.less(row.key) {
				out[r] = row.key
			}
		}
	}
	return out, nil
}

func (m *memStore) verdicts(_ context.Context, evs map[accountRef][]string) (map[string]bool, error) {
	out := map[string]bool{}
	for r, ids := range evs {
		for _, row := range m.rows[r] {
			if slices.Contains(ids, row.key.EventID) {
				v, ok := out[row.key.EventID]
				out[row.key.EventID] = (ok && v && row.stale) || (!ok && row.stale)
			}
		}
	}
	return out, nil
}

func (m *memStore) write(evs []*event.Event, stale []bool) {
	for i, e := range evs {
		m.rows[refOf(e)] = append(m.rows[refOf(e)], memRow{keyOf(e), stale[i]})
	}
}

var presenceOps = []string{event.OpLogin, event.OpLogout, event.OpDropped, event.OpKickedMultiDevice, event.OpKickedBySDK,
	event.OpKickedByServer, event.OpReplaced, event.OpHeartbeat}

func presenceEvent(account string, n int, op string, atMs int64) *event.Event {
	return &event.Event{SchemaVersion: 1, EventID: fmt.Sprintf("%s-%03d", account, n), Source: event.SourceNetease,
		App: "app", Kind: event.KindPresence, Op: op, Actor: account, OccurredAtMs: atMs}
}

// TestPresencePropertyRandomOrder: for many accounts, random login/logout/heartbeat sequences are
// delivered in a random interleaving, with losses and duplicates, in random batches, and the
// consumer crashes at random (before or after its write, never committing) and restarts with an empty
// cache. After every trial: each account's state is its greatest-key delivered event (the greatest
// time; ties by the documented rule), every event is flagged stale exactly when an event of the same
// account with a greater key arrived before it, and every row of an event carries the same verdict.
func TestPresencePropertyRandomOrder(t *testing.T) {
	for trial := range 300 {
		rng := rand.New(rand.NewPCG(uint64(trial), 42))
		var stream []*event.Event
		var all []*event.Event
		accounts := 1 + rng.IntN(30)
		for a := range accounts {
			acct := fmt.Sprintf("u%02d", a)
			n := 1 + rng.IntN(15)
			for i := range n {
				// Times from a small range, so that equal times are common.
				e := presenceEvent(acct, i, presenceOps[rng.IntN(len(presenceOps))], 1_700_000_000_000+int64(rng.IntN(20))*1000)
				all = append(all, e)
				if rng.IntN(10) == 0 {
					continue // lost
				}
				stream = append(stream, e)
			}
		}
		rng.Shuffle(len(stream), func(i, j int) { stream[i], stream[j] = stream[j], stream[i] })
		// Duplicates: a platform retry or a re-delivery arrives again later.
		for range rng.IntN(len(stream) + 1) {
			i := rng.IntN(len(stream))
			j := i + rng.IntN(len(stream)-i+1)
			stream = slices.Insert(stream, j, stream[i])
		}

		store := newMemStore()
		tr := newPresenceTracker(store, 1+rng.IntN(40), nil)
		committed := 0
		for committed < len(stream) {
			size := 1 + rng.IntN(12)
			batch := stream[committed:min(committed+size, len(stream))]
			stale, pending, err := tr.decide(context.Background(), batch)
			if err != nil {
				t.Fatal(err)
			}
			switch rng.IntN(6) {
			case 0: // crash before the write: nothing recorded, restart
				tr = newPresenceTracker(store, tr.max, nil)
				continue
			case 1: // crash after the write, before the commit: re-delivered after a restart
				store.write(batch, stale)
				tr = newPresenceTracker(store, tr.max, nil)
				continue
			case 2: // a failed write retried: decided again before anything is remembered
				stale2, _, err := tr.decide(context.Background(), batch)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(stale, stale2) {
					t.Fatalf("trial %d: a retried batch was decided differently: %v then %v", trial, stale, stale2)
				}
			}
			store.write(batch, stale)
			tr.commit(pending, len(batch), 0)
			committed += len(batch)
		}

		// The expected verdicts, from the arrival order alone.
		firstPos := map[string]int{}
		for i, e := range stream {
			if _, ok := firstPos[e.EventID]; !ok {
				firstPos[e.EventID] = i
			}
		}
		for _, e := range all {
			pos, delivered := firstPos[e.EventID]
			rows := 0
			for _, row := range store.rows[refOf(e)] {
				if row.key.EventID != e.EventID {
					continue
				}
				rows++
				want := false
				for _, o := range stream[:pos] {
					if refOf(o) == refOf(e) && keyOf(e).less(keyOf(o)) {
						want = true
					}
				}
				if row.stale != want {
					t.Fatalf("trial %d: event %s (t=%d %s) recorded stale=%v, want %v", trial, e.EventID, e.OccurredAtMs, e.Op, row.stale, want)
				}
			}
			if delivered && rows == 0 {
				t.Fatalf("trial %d: delivered event %s not recorded", trial, e.EventID)
			}
			if !delivered && rows > 0 {
				t.Fatalf("trial %d: lost event %s recorded", trial, e.EventID)
			}
		}
		// The state: the greatest delivered event by time, ties by the rule, and it is not stale.
		states, _ := store.states(context.Background(), func() []accountRef {
			var rs []accountRef
			for r := range store.rows {
				rs = append(rs, r)
			}
			return rs
		}())
		for r, got := range states {
			var best *event.Event
			for _, e := range stream {
				if refOf(e) == r && (best == nil || keyOf(best).less(keyOf(e))) {
					best = e
				}
			}
			if got != keyOf(best) {
				t.Fatalf("trial %d: %s state %+v, want %+v", trial, r.Account, got, keyOf(best))
			}
			for _, e := range stream {
				if refOf(e) == r && e.OccurredAtMs > best.OccurredAtMs {
					t.Fatalf("trial %d: state time %d below delivered event time %d", trial, best.OccurredAtMs, e.OccurredAtMs)
				}
			}
			for _, row := range store.rows[r] {
				if row.key == got && row.stale {
					t.Fatalf("trial %d: the state's own event %s is flagged stale", trial, got.EventID)
				}
			}
		}
	}
}

// TestPresenceRule spells the rule out on small cases, including the equal-time tie.
func TestPresenceRule(t *testing.T) {
	at := func(s int64) int64 { return 1_700_000_000_000 + s*1000 }
	cases := []struct {
		name       string
		events     []*event.Event
		wantStale  []bool
		wantOnline bool
	}{
		{"in order", []*event.Event{presenceEvent("a", 1, event.OpLogin, at(1)), presenceEvent("a", 2, event.OpLogout, at(2))},
			[]bool{false, false}, false},
		{"logout overtaken by an older login", []*event.Event{presenceEvent("a", 2, event.OpLogout, at(2)), presenceEvent("a", 1, event.OpLogin, at(1))},
			[]bool{false, true}, false},
		{"heartbeat renews", []*event.Event{presenceEvent("a", 1, event.OpLogin, at(1)), presenceEvent("a", 2, event.OpHeartbeat, at(1800))},
			[]bool{false, false}, true},
		{"kick after heartbeat", []*event.Event{presenceEvent("a", 1, event.OpHeartbeat, at(1)), presenceEvent("a", 2, event.OpKickedByServer, at(3))},
			[]bool{false, false}, false},
		{"equal time: offline first, then online", []*event.Event{presenceEvent("a", 1, event.OpReplaced, at(5)), presenceEvent("a", 2, event.OpLogin, at(5))},
			[]bool{false, false}, true},
		{"equal time: online first, then offline is stale", []*event.Event{presenceEvent("a", 2, event.OpLogin, at(5)), presenceEvent("a", 1, event.OpReplaced, at(5))},
			[]bool{false, true}, true},
		{"equal time and rank: greater event_id wins", []*event.Event{presenceEvent("a", 2, event.OpLogout, at(5)), presenceEvent("a", 1, event.OpDropped, at(5))},
			[]bool{false, true}, false},
		{"same event twice is not stale", []*event.Event{presenceEvent("a", 1, event.OpLogin, at(5)), presenceEvent("a", 1, event.OpLogin, at(5))},
			[]bool{false, false}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := newPresenceTracker(newMemStore(), 10, nil)
			stale, pending, err := tr.decide(context.Background(), c.events)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(stale, c.wantStale) {
				t.Errorf("stale = %v, want %v", stale, c.wantStale)
			}
			if got := pending[refOf(c.events[0])]; got.Online != c.wantOnline {
				t.Errorf("state %+v, want online=%v", got, c.wantOnline)
			}
		})
	}
}
