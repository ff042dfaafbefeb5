package pipeline_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/internal/presencemodel"
)

// normalize makes the canonical events of callbacks, as serve does.
func normalize(t *testing.T, cbs []presencemodel.Callback, receivedAt time.Time) []event.Event {
	t.Helper()
	out := make([]event.Event, 0, len(cbs))
	for _, cb := range cbs {
		e, err := cb.Normalize(receivedAt)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// TestPresenceScenariosOnClickHouse: the manual's cases (reconnect with type 7, kicks 4/5/6, equal
// times, heartbeat expiry, iLink same-second online/offline, copies without consid, …) through the
// events consumer give, on the real engine, the verdicts and the account, device and connection states
// written by hand; consuming every copy again (another group, other batches: a re-delivery of
// everything) changes nothing.
func TestPresenceScenariosOnClickHouse(t *testing.T) {
	h := newHarness(t)
	now := time.Now()
	scs := presencemodel.Scenarios("ch-", now.UnixMilli())
	var evs []event.Event
	for _, sc := range scs {
		evs = append(evs, normalize(t, sc.Callbacks, now)...)
	}
	h.produceEvents(evs...)
	cfg := h.config()
	c := h.start("events", cfg)
	c.waitWritten(t, float64(len(evs)), 60*time.Second)
	presencemodel.CheckScenarios(t, h.conn, scs)
	c.stop(t)

	cfg.Group, cfg.BatchRows = "g-again", 2
	h.start("events", cfg).waitWritten(t, float64(len(evs)), 60*time.Second)
	presencemodel.CheckScenarios(t, h.conn, scs)
	if n := h.count("SELECT count() FROM (SELECT event_id FROM presence_events_data GROUP BY event_id HAVING uniqExact(stale, arrival, since) > 1)"); n != 0 {
		t.Errorf("%d copies written twice with different verdicts", n)
	}
}

// TestPresenceRuleOnClickHouse: random multi-device histories of many NetEase and iLink accounts (every
// type, equal times, copies without consid, some long past their renewal deadline), delivered shuffled
// with repeats, are consumed by consumers that are stopped and replaced (state reloaded from
// ClickHouse) between bursts and, in every other burst, by two instances of the group at once, so that
// accounts move between them. Every verdict and arrival, and every connection, device and account
// state, is the oracle's (internal/presencemodel: the manual's rule replayed in arrival order, no code
// shared with the pipeline).
func TestPresenceRuleOnClickHouse(t *testing.T) {
	h := newHarness(t)
	rng := rand.New(rand.NewPCG(7, 14))
	now := time.Now()
	history := presencemodel.RandomHistory(rng, "r-", 30, now.Add(-45*time.Minute).UnixMilli(), now.Add(-10*time.Minute).UnixMilli())
	stream := normalize(t, history, now)
	rng.Shuffle(len(stream), func(i, j int) { stream[i], stream[j] = stream[j], stream[i] })
	for range 60 {
		i := rng.IntN(len(stream))
		stream = slices.Insert(stream, i+rng.IntN(len(stream)-i+1), stream[i])
	}
	// An account's copies are on one partition (keyed by account): the stream's order per account is
	// the arrival order the rule sees.
	model := presencemodel.New(presencemodel.ExpiryMs)
	for i := range stream {
		c, err := presencemodel.Read(&stream[i])
		if err != nil {
			t.Fatal(err)
		}
		model.Arrive(c)
	}

	cfg := h.config()
	cfg.BatchRows = 13
	distinct := map[string]bool{}
	a := h.start("events", cfg)
	var b *running
	bWrote := false
	for sent, burst := 0, 0; sent < len(stream); burst++ {
		switch burst % 4 {
		case 1:
			b = h.start("events", cfg)
			h.waitGroup(cfg.Group, 2)
		case 2:
			bWrote = bWrote || b.written() > 0
			b.stop(t)
			h.waitGroup(cfg.Group, 1)
		case 3:
			a.stop(t)
			a = h.start("events", cfg)
		}
		n := min(len(stream)-sent, 30+rng.IntN(40))
		h.produceEvents(stream[sent : sent+n]...)
		for _, e := range stream[sent : sent+n] {
			distinct[e.EventID] = true
		}
		sent += n
		h.waitCount("presence copies archived", uint64(len(distinct)), 60*time.Second, "SELECT uniqExact(event_id) FROM presence_events_data")
	}
	if b != nil && b.cancel != nil {
		bWrote = bWrote || b.written() > 0
		b.stop(t)
	}
	a.stop(t)
	if !bWrote {
		t.Error("the second instance never consumed: the partitions did not move")
	}
	if n := presencemodel.CheckModel(t, h.conn, model, "r-"); n > 0 {
		t.Errorf("%d differences from the rule (%d copies, %d distinct)", n, len(stream), len(distinct))
	}
	var expired, online uint64 = h.count("SELECT count() FROM presence_state WHERE status = 'expired'"), h.count("SELECT count() FROM presence_state WHERE status = 'online'")
	t.Logf("%d copies (%d distinct), accounts: %d online, %d expired, %d in all", len(stream), len(distinct), online, expired,
		h.count("SELECT count() FROM presence_state"))
	if expired == 0 || online == 0 {
		t.Errorf("the history gave %d online and %d expired accounts: both must be tested", online, expired)
	}
}
