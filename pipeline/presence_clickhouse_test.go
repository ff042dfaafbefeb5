package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/internal/presencemodel"
	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/pipeline"
	"github.com/imarchive/imarchive/schema"
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

// BenchmarkPresenceSinkWrite measures deciding and writing batches of 2000 NetEase presence copies
// into the real ClickHouse engine, as a platform sends them: sessions of 2000 accounts, each a login on
// a new connection (consid), renewals and a logout, so every batch meets connections it has not seen
// (looked up in ClickHouse) and copies of connections it has. events/s is the sink's throughput.
func BenchmarkPresenceSinkWrite(b *testing.B) {
	_, conn := testenv.Database(b)
	if _, err := schema.Migrate(context.Background(), conn, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		b.Fatal(err)
	}
	sink := pipeline.NewEventSink(conn, pipeline.DefaultConfig(), prometheus.NewRegistry())
	const batch, accounts = 2000, 2000
	types := []string{"1", "8", "8", "2"} // a session: login, two renewals, logout
	now := time.Now()
	b.ResetTimer()
	for i := range b.N {
		items := make([]pipeline.Item[pipeline.EventRow], 0, batch)
		for j := range batch {
			n := i*batch + j
			acct, step := n%accounts, n/accounts
			session := step / len(types)
			at := now.UnixMilli() - 3_600_000 + int64(step)*1000
			cb := presencemodel.NetEase(types[step%len(types)], fmt.Sprint("b", acct), fmt.Sprintf("b%d-%d", acct, session), "d", "AOS", at, at)
			e, err := cb.Normalize(now)
			if err != nil {
				b.Fatal(err)
			}
			v, _ := json.Marshal(&e)
			row, err := sink.Decode(&kgo.Record{Value: v})
			if err != nil {
				b.Fatal(err)
			}
			items = append(items, pipeline.Item[pipeline.EventRow]{Row: row, Partition: 0, Offset: int64(n)})
		}
		if err := sink.Write(context.Background(), items, fmt.Sprint("bench-", i)); err != nil {
			b.Fatal(err)
		}
		sink.Written(items)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}
