package pipeline

import (
	"context"
	"strconv"

	"github.com/imarchive/imarchive/event"
)

// The online-state rule, as the NetEase manual (eventType 47) writes it and as pipeline/doc.go reads
// it: every presence copy belongs to a connection (connectionKey); a copy whose time is strictly
// smaller than its connection's stamp when it arrives is stale (kept, flagged, without effect); any
// other copy is applied, in arrival order, and its time becomes the stamp. A connection's state is its
// last applied copy: online after a login or heartbeat (NetEase 1, 8; iLink online), offline after
// anything else (NetEase 2–7; iLink offline). Accounts and devices are online when any of their
// connections is (schema 0075 computes those, with the heartbeat expiry, in presence_state and
// presence_devices).
//
// Arrival order is the events topic's order: an account's copies are on one partition (keyed by
// account) and one consumer reads a partition at a time. Each copy's first arrival is numbered per
// account (arrival, 1, 2, …) and recorded with its verdict in presence_events_data; equal times are
// ordered by it.
//
// Restarts and re-deliveries: nothing is kept but in ClickHouse. A connection's stamp is the greatest
// time among its recorded copies (a stale copy is older than some copy recorded before it, so it never
// holds the maximum), its state the applied copy with the greatest (time, arrival); an account's
// arrival counter is its greatest recorded arrival. They are loaded when an account or connection is
// first seen and after a rebalance, and cached once a batch is written. A re-delivered copy (same
// event_id) keeps the verdict, arrival and since it was first given: every copy whose time is not
// above its connection's stamp may have been recorded, so it is looked up in presence_events_data
// first; a copy above the stamp is new (every recorded copy is at or below the stamp).

// accountRef names one account.
type accountRef struct{ Source, App, Account string }

// connRef names one connection: the key of an online-state timestamp.
type connRef struct {
	accountRef
	Conn string // connectionKey
}

// connState is what the rule knows of a connection; has is false for a connection with no copy.
type connState struct {
	has     bool
	stampMs int64 // the online-state timestamp: the time of the last applied copy
	online  bool  // what the last applied copy says
	sinceMs int64 // since when the connection has been online (or offline): the first applied copy of the run
}

// presenceVerdict is what the rule decided for one copy.
type presenceVerdict struct {
	Stale   bool   // older than its connection's stamp when it arrived: no effect
	Arrival uint64 // the copy's first arrival among its account's copies, from 1
	SinceMs int64  // applied copies: since when their connection has been in the state they left it in
}

// connectionID is the platform's connection id of a copy. Envelopes written before
// actor_connection_id existed carry NetEase's consid in attrs only.
func connectionID(e *event.Event) string {
	if e.ActorConnectionID != "" || e.Source != event.SourceNetease {
		return e.ActorConnectionID
	}
	return e.Attrs["consid"]
}

// connectionKey names the connection whose stamp a copy is ordered against: "consid:ID" where the
// copy names its connection; else "device:CLIENTTYPE/DEVICEID" where it names a device or client
// type; else "" — the account is its one connection (iLink status pushes, Maxim). Migration 0075
// computes the same for the rows it recomputes; the two must not diverge.
func connectionKey(e *event.Event) string {
	if id := connectionID(e); id != "" {
		return "consid:" + id
	}
	if e.ActorDeviceID != "" || e.ActorClientType != "" {
		return "device:" + e.ActorClientType + "/" + e.ActorDeviceID
	}
	return ""
}

// loginTimeMs is NetEase's loginTime of the copy's connection (Unix ms), 0 where absent or unreadable.
func loginTimeMs(e *event.Event) int64 {
	v, err := strconv.ParseInt(e.Attrs["loginTime"], 10, 64)
	if err != nil || v < minTimeMs || v > maxTimeMs {
		return 0
	}
	return v
}

func refOf(e *event.Event) accountRef { return accountRef{e.Source, e.App, e.Actor} }

func connOf(e *event.Event) connRef { return connRef{refOf(e), connectionKey(e)} }

// presenceStore is where verdicts are recorded: the presence events table.
type presenceStore interface {
	// arrivals returns the greatest recorded arrival of each account; an account with none is absent.
	arrivals(ctx context.Context, accounts []accountRef) (map[accountRef]uint64, error)
	// connections returns the state of each connection with recorded copies; others are absent.
	connections(ctx context.Context, conns []connRef) (map[connRef]connState, error)
	// verdicts returns the recorded verdicts of those of the given copies (event_ids per account) that
	// are recorded.
	verdicts(ctx context.Context, events map[accountRef][]string) (map[string]presenceVerdict, error)
}

// presencePending is what a decided batch leads to, remembered once it is written.
type presencePending struct {
	arrivals map[accountRef]uint64
	conns    map[connRef]connState
}

// presenceTracker decides presence verdicts. It is used by one consumer goroutine.
type presenceTracker struct {
	store    presenceStore
	arrivals map[accountRef]uint64 // recorded arrival counters of the accounts seen since the last reset
	conns    map[connRef]connState // recorded states of the connections seen since the last reset
	max      int
	m        *presenceMetrics
}

func newPresenceTracker(store presenceStore, maxEntries int, m *presenceMetrics) *presenceTracker {
	t := &presenceTracker{store: store, max: maxEntries, m: m}
	t.reset()
	return t
}

// load fetches the accounts and connections of evs that are not cached.
func (t *presenceTracker) load(ctx context.Context, evs []*event.Event) error {
	var accounts []accountRef
	var conns []connRef
	askedA, askedC := map[accountRef]bool{}, map[connRef]bool{}
	for _, e := range evs {
		a, c := refOf(e), connOf(e)
		if _, ok := t.arrivals[a]; !ok && !askedA[a] {
			askedA[a] = true
			accounts = append(accounts, a)
		}
		if _, ok := t.conns[c]; !ok && !askedC[c] {
			askedC[c] = true
			conns = append(conns, c)
		}
	}
	if len(accounts) > 0 {
		loaded, err := t.store.arrivals(ctx, accounts)
		if err != nil {
			return err
		}
		for _, a := range accounts {
			t.arrivals[a] = loaded[a]
		}
	}
	if len(conns) > 0 {
		loaded, err := t.store.connections(ctx, conns)
		if err != nil {
			return err
		}
		for _, c := range conns {
			t.conns[c] = loaded[c]
		}
	}
	if t.m != nil {
		t.m.loads.Add(float64(len(accounts) + len(conns)))
	}
	return nil
}

// decide returns the verdict of each copy of evs, in arrival order, and the states the batch leads to.
// Nothing is remembered until commit: a batch that fails to be written is decided again, alike.
func (t *presenceTracker) decide(ctx context.Context, evs []*event.Event) ([]presenceVerdict, presencePending, error) {
	if err := t.load(ctx, evs); err != nil {
		return nil, presencePending{}, err
	}
	p := presencePending{arrivals: map[accountRef]uint64{}, conns: map[connRef]connState{}}
	conn := func(c connRef) connState {
		if s, ok := p.conns[c]; ok {
			return s
		}
		return t.conns[c]
	}

	// Copies not above their connection's stamp may be re-deliveries: look their verdicts up. Only
	// a copy above the stamp raises it, whatever the verdicts of the others turn out to be.
	lookup := map[accountRef][]string{}
	for _, e := range evs {
		c := connOf(e)
		s := conn(c)
		if s.has && e.OccurredAtMs <= s.stampMs {
			lookup[c.accountRef] = append(lookup[c.accountRef], e.EventID)
			continue
		}
		s.has, s.stampMs = true, e.OccurredAtMs
		p.conns[c] = s
	}
	recorded := map[string]presenceVerdict{}
	if len(lookup) > 0 {
		var err error
		if recorded, err = t.store.verdicts(ctx, lookup); err != nil {
			return nil, presencePending{}, err
		}
	}

	clear(p.conns)
	out := make([]presenceVerdict, len(evs))
	decided := map[string]presenceVerdict{}
	for i, e := range evs {
		if v, ok := decided[e.EventID]; ok {
			out[i] = v // the same copy twice in one batch
			continue
		}
		if v, ok := recorded[e.EventID]; ok {
			out[i], decided[e.EventID] = v, v // a re-delivery: its effect is in the loaded state
			continue
		}
		a, c := refOf(e), connOf(e)
		n, ok := p.arrivals[a]
		if !ok {
			n = t.arrivals[a]
		}
		n++
		p.arrivals[a] = n
		v := presenceVerdict{Arrival: n}
		s := conn(c)
		if s.has && e.OccurredAtMs < s.stampMs {
			v.Stale = true
		} else {
			online, _ := e.PresenceOnline()
			if !s.has || s.online != online {
				s.sinceMs = e.OccurredAtMs
			}
			s.has, s.stampMs, s.online = true, e.OccurredAtMs, online
			v.SinceMs = s.sinceMs
			p.conns[c] = s
		}
		out[i], decided[e.EventID] = v, v
	}
	return out, p, nil
}

// commit makes a written batch's states the known ones; past max entries the cache starts afresh.
func (t *presenceTracker) commit(p presencePending, events, stale int) {
	for a, n := range p.arrivals {
		t.arrivals[a] = n
	}
	for c, s := range p.conns {
		t.conns[c] = s
	}
	if len(t.arrivals) > t.max || len(t.conns) > t.max {
		t.reset()
	}
	if t.m != nil {
		t.m.events.Add(float64(events))
		t.m.stale.Add(float64(stale))
	}
}

// reset forgets every cached state; they are loaded again from the store as accounts come back.
func (t *presenceTracker) reset() {
	t.arrivals = map[accountRef]uint64{}
	t.conns = map[connRef]connState{}
}
