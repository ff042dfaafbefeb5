package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/internal/presencemodel"
)

// memStore is presence_events_data reduced to what the rule reads from it: the rows written, with
// their connection and verdict. It stands for the table in the property test; the same rule against
// the real table and views is tested in presence_clickhouse_test.go.
type memStore struct{ rows []memRow }

type memRow struct {
	conn   connRef
	id     string
	atMs   int64
	online bool
	v      presenceVerdict
}

func (m *memStore) arrivals(_ context.Context, accts []accountRef) (map[accountRef]uint64, error) {
	out := map[accountRef]uint64{}
	for _, r := range m.rows {
		if slices.Contains(accts, r.conn.accountRef) && r.v.Arrival > out[r.conn.accountRef] {
			out[r.conn.accountRef] = r.v.Arrival
		}
	}
	return out, nil
}

func (m *memStore) connections(_ context.Context, conns []connRef) (map[connRef]connState, error) {
	out := map[connRef]connState{}
	best := map[connRef]memRow{}
	for _, r := range m.rows {
		if !slices.Contains(conns, r.conn) {
			continue
		}
		s := out[r.conn]
		s.has = true
		s.stampMs = max(s.stampMs, r.atMs)
		if b, ok := best[r.conn]; !r.v.Stale && (!ok || r.atMs > b.atMs || (r.atMs == b.atMs && r.v.Arrival > b.v.Arrival)) {
			best[r.conn] = r
			s.online, s.sinceMs = r.online, r.v.SinceMs
		}
		out[r.conn] = s
	}
	return out, nil
}

func (m *memStore) verdicts(_ context.Context, evs map[accountRef][]string) (map[string]presenceVerdict, error) {
	out := map[string]presenceVerdict{}
	for _, r := range m.rows {
		if slices.Contains(evs[r.conn.accountRef], r.id) {
			out[r.id] = r.v
		}
	}
	return out, nil
}

func (m *memStore) write(evs []*event.Event, vs []presenceVerdict) {
	for i, e := range evs {
		online, _ := e.PresenceOnline()
		m.rows = append(m.rows, memRow{connOf(e), e.EventID, e.OccurredAtMs, online, vs[i]})
	}
}

// deliver turns a history into an arrival order: shuffled whole or locally, some copies lost, some
// delivered again later (a platform retry, a consumer re-delivery).
func deliver(t testing.TB, rng *rand.Rand, history []presencemodel.Callback, now time.Time) (stream, lost []*event.Event) {
	for _, cb := range history {
		e, err := cb.Normalize(now)
		if err != nil {
			t.Fatal(err)
		}
		if rng.IntN(12) == 0 {
			lost = append(lost, &e)
			continue
		}
		stream = append(stream, &e)
	}
	if rng.IntN(2) == 0 {
		rng.Shuffle(len(stream), func(i, j int) { stream[i], stream[j] = stream[j], stream[i] })
	} else {
		slices.SortStableFunc(stream, func(a, b *event.Event) int { return int(a.OccurredAtMs - b.OccurredAtMs) })
		for range len(stream) / 3 {
			if i := rng.IntN(len(stream) + 1); i+1 < len(stream) {
				stream[i], stream[i+1] = stream[i+1], stream[i]
			}
		}
	}
	for range rng.IntN(len(stream)/2 + 1) {
		i := rng.IntN(len(stream))
		stream = slices.Insert(stream, i+rng.IntN(len(stream)-i+1), stream[i])
	}
	return stream, lost
}

// TestPresencePropertyAgainstModel: random multi-device histories of NetEase and iLink accounts, with
// every type, equal times, copies without consid or device, losses, shuffles and repeats, are decided in
// random batches by a consumer that crashes at random (before its write, or after it and before its
// commit) and restarts with nothing cached, or retries a failed write. Every copy must get the verdict
// and arrival number of the oracle (internal/presencemodel: the manual's rule replayed in arrival order,
// sharing no code with presence.go), every row of a copy the same, and every connection the oracle's
// stamp, state and run start — both as cached and as loaded afresh.
func TestPresencePropertyAgainstModel(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	for trial := range 400 {
		rng := rand.New(rand.NewPCG(uint64(trial), 14))
		stream, lost := deliver(t, rng, presencemodel.RandomHistory(rng, "", 1+rng.IntN(6), now.UnixMilli()-60_000), now)
		if len(stream) == 0 {
			continue
		}

		model := presencemodel.New(presencemodel.ExpiryMs)
		for _, e := range stream {
			c, err := presencemodel.Read(e)
			if err != nil {
				t.Fatal(err)
			}
			model.Arrive(c)
		}

		store := &memStore{}
		tr := newPresenceTracker(store, 1+rng.IntN(40), nil)
		for done := 0; done < len(stream); {
			batch := stream[done:min(done+1+rng.IntN(12), len(stream))]
			vs, pending, err := tr.decide(context.Background(), batch)
			if err != nil {
				t.Fatal(err)
			}
			switch rng.IntN(6) {
			case 0: // crash before the write: nothing recorded, restart
				tr = newPresenceTracker(store, tr.max, nil)
				continue
			case 1: // crash after the write, before the commit: re-delivered after a restart
				store.write(batch, vs)
				tr = newPresenceTracker(store, tr.max, nil)
				continue
			case 2: // a failed write retried: decided again before anything is remembered
				again, _, err := tr.decide(context.Background(), batch)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(vs, again) {
					t.Fatalf("trial %d: a retried batch was decided differently: %v then %v", trial, vs, again)
				}
			}
			store.write(batch, vs)
			tr.commit(pending, len(batch), 0)
			done += len(batch)
		}

		recorded := map[string]presenceVerdict{}
		for _, r := range store.rows {
			want, ok := model.Verdict(r.id)
			if !ok {
				t.Fatalf("trial %d: %s recorded but never delivered", trial, r.id)
			}
			if r.v.Stale != want.Stale || r.v.Arrival != want.Arrival {
				t.Fatalf("trial %d: copy %s (t=%d, %s) recorded stale=%v arrival=%d, the rule says stale=%v arrival=%d",
					trial, r.id, r.atMs, r.conn.Conn, r.v.Stale, r.v.Arrival, want.Stale, want.Arrival)
			}
			if prev, ok := recorded[r.id]; ok && prev != r.v {
				t.Fatalf("trial %d: copy %s recorded twice with different verdicts: %+v, %+v", trial, r.id, prev, r.v)
			}
			recorded[r.id] = r.v
		}
		for _, e := range stream {
			if _, ok := recorded[e.EventID]; !ok {
				t.Fatalf("trial %d: delivered copy %s not recorded", trial, e.EventID)
			}
		}
		for _, e := range lost {
			_, delivered := model.Verdict(e.EventID)
			if _, ok := recorded[e.EventID]; ok && !delivered {
				t.Fatalf("trial %d: lost copy %s recorded", trial, e.EventID)
			}
		}

		var refs []connRef
		conns := model.Connections()
		for _, c := range conns {
			refs = append(refs, connRef{accountRef{c.Source, c.App, c.Account}, modelKey(c)})
		}
		loaded, _ := store.connections(context.Background(), refs)
		for i, c := range conns {
			want := connState{has: true, stampMs: c.Stamp, online: c.Online, sinceMs: c.RunStart}
			if got := loaded[refs[i]]; got != want {
				t.Fatalf("trial %d: connection %s/%q loaded as %+v, the rule says %+v", trial, c.Account, refs[i].Conn, got, want)
			}
			if got, ok := tr.conns[refs[i]]; ok && got != want {
				t.Fatalf("trial %d: connection %s/%q cached as %+v, the rule says %+v", trial, c.Account, refs[i].Conn, got, want)
			}
		}
		if len(loaded) != len(refs) {
			t.Fatalf("trial %d: %d connections recorded, the rule has %d", trial, len(loaded), len(refs))
		}
	}
}

// modelKey spells a model connection the way the store names it (the one place the test needs the
// pipeline's naming).
func modelKey(c *presencemodel.Conn) string {
	switch {
	case c.ConsID != "":
		return "consid:" + c.ConsID
	case c.Device != "" || c.ClientType != "":
		return "device:" + c.ClientType + "/" + c.Device
	}
	return ""
}

// TestPresenceRuleScenarios: the manual's cases (internal/presencemodel.Scenarios, expectations written
// by hand) give their verdicts, in one batch and one copy per batch, and the connections they name
// end in the expected state.
func TestPresenceRuleScenarios(t *testing.T) {
	now := time.Now()
	for _, sc := range presencemodel.Scenarios("u-", now.UnixMilli()) {
		for _, batch := range []int{len(sc.Callbacks), 1} {
			t.Run(fmt.Sprintf("%s/batch %d", sc.Name, batch), func(t *testing.T) {
				var evs []*event.Event
				for _, cb := range sc.Callbacks {
					e, err := cb.Normalize(now)
					if err != nil {
						t.Fatal(err)
					}
					evs = append(evs, &e)
				}
				store := &memStore{}
				tr := newPresenceTracker(store, 100, nil)
				var stale []bool
				for lo := 0; lo < len(evs); lo += batch {
					b := evs[lo:min(lo+batch, len(evs))]
					vs, p, err := tr.decide(context.Background(), b)
					if err != nil {
						t.Fatal(err)
					}
					store.write(b, vs)
					tr.commit(p, len(b), 0)
					for _, v := range vs {
						stale = append(stale, v.Stale)
					}
				}
				if !slices.Equal(stale, sc.Stale) {
					t.Errorf("stale = %v, want %v", stale, sc.Stale)
				}
				for _, w := range sc.Connections {
					c := connRef{accountRef{event.SourceNetease, presencemodel.App, w.Account}, "consid:" + w.ConsID}
					if got := tr.conns[c]; got.online != (w.Status == "online") {
						t.Errorf("connection %s: online=%v, want %s", c.Conn, got.online, w.Status)
					}
				}
			})
		}
	}
}

// TestPresenceRedeliveryKeepsVerdict: a copy delivered again after later copies keeps the verdict it
// got the first time and changes nothing, across a restart: a login and a logout of equal time (the
// logout, arriving second, is applied), then the login again.
func TestPresenceRedeliveryKeepsVerdict(t *testing.T) {
	now := time.Now()
	in, err := presencemodel.NetEase("1", "r", "c", "d", "AOS", now.UnixMilli(), 0).Normalize(now)
	if err != nil {
		t.Fatal(err)
	}
	out, err := presencemodel.NetEase("2", "r", "c", "d", "AOS", now.UnixMilli(), 0).Normalize(now)
	if err != nil {
		t.Fatal(err)
	}
	store := &memStore{}
	tr := newPresenceTracker(store, 10, nil)
	step := func(evs ...*event.Event) []presenceVerdict {
		vs, p, err := tr.decide(context.Background(), evs)
		if err != nil {
			t.Fatal(err)
		}
		store.write(evs, vs)
		tr.commit(p, len(evs), 0)
		return vs
	}
	first := step(&in, &out)
	for _, restart := range []bool{false, true} {
		if restart {
			tr = newPresenceTracker(store, 10, nil)
		}
		again := step(&in)
		if again[0] != first[0] {
			t.Errorf("restart=%v: the login delivered again got %+v, first %+v", restart, again[0], first[0])
		}
		if s := tr.conns[connOf(&in)]; s.online {
			t.Errorf("restart=%v: the login delivered again made the connection online", restart)
		}
	}
}
