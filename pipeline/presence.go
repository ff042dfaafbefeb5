package pipeline

import (
	"context"

	"github.com/imarchive/imarchive/event"
)

// The online-state rule (NetEase QChat manual, eventType 47): login and logout copies may arrive out
// of order or be lost, so keep the time of the last applied login/logout per account as its
// online-state timestamp, and ignore a later-arriving event whose time is smaller.
//
// Here every presence event is ordered by its key (occurred_at, online, event_id): time first; at an
// equal time an online event outranks an offline one (a reconnect's login and the old connection's
// drop or replacement share a time, and the account is then online); then the greater event_id. The
// key is a total order, so the state, the greatest key of the account's events, never depends on
// arrival order. The verdict depends on arrival order, as the manual says: an event is stale when an
// event of the same account with a greater key arrived before it (events of one account are on one
// partition, keyed by account, so "before" is the partition's order). A stale event is written with
// stale = true and does not change the state.
//
// Restarts and re-deliveries: the state is not kept anywhere but in ClickHouse (presence_events_data:
// the greatest key of an account's rows is its state), loaded when an account is first seen and after
// a rebalance, and cached in memory only once a batch is written. A re-delivered event must keep the
// verdict it got the first time; an event whose key is below the state is therefore looked up in
// presence_events_data: if it is recorded there, its recorded verdict is reused; if not, it is new
// and stale. An event whose key equals the state is the very event that set it (the key holds the
// event_id): not stale. An event above the state is new and applied.

// accountRef names one account's online state.
type accountRef struct{ Source, App, Account string }

// presenceKey orders presence events (see above).
type presenceKey struct {
	AtMs    int64
	Online  bool
	EventID string
}

func (k presenceKey) less(o presenceKey) bool {
	if k.AtMs != o.AtMs {
		return k.AtMs < o.AtMs
	}
	if k.Online != o.Online {
		return !k.Online
	}
	return k.EventID < o.EventID
}

// accountState is the greatest key seen for an account; has is false for an account with no events.
type accountState struct {
	key presenceKey
	has bool
}

// below reports whether k is below the state.
func (s accountState) below(k presenceKey) bool { return s.has && k.less(s.key) }

// raise makes k the state when it is above it.
func (s *accountState) raise(k presenceKey) {
	if !s.has || s.key.less(k) {
		s.key, s.has = k, true
	}
}

func refOf(e *event.Event) accountRef { return accountRef{e.Source, e.App, e.Actor} }

func keyOf(e *event.Event) presenceKey {
	online, _ := e.PresenceOnline()
	return presenceKey{AtMs: e.OccurredAtMs, Online: online, EventID: e.EventID}
}

// presenceStore is where the verdicts and states are recorded: the presence events table.
type presenceStore interface {
	// states returns the greatest key of each account's recorded events; an account with none is absent.
	states(ctx context.Context, accounts []accountRef) (map[accountRef]presenceKey, error)
	// verdicts returns the recorded stale flag of those of the given events that are recorded.
	verdicts(ctx context.Context, events map[accountRef][]string) (map[string]bool, error)
}

// presenceTracker decides presence verdicts. It is used by one consumer goroutine.
type presenceTracker struct {
	store presenceStore
	known map[accountRef]accountState // the recorded state of accounts seen since the last reset
	max   int
	m     *presenceMetrics
}

func newPresenceTracker(store presenceStore, maxAccounts int, m *presenceMetrics) *presenceTracker {
	return &presenceTracker{store: store, known: map[accountRef]accountState{}, max: maxAccounts, m: m}
}

// decide returns the verdict (stale) of each event, in arrival order, and the states the batch leads
// to. Nothing is remembered until commit: a batch that fails to be written is decided again, alike.
func (t *presenceTracker) decide(ctx context.Context, evs []*event.Event) ([]bool, map[accountRef]presenceKey, error) {
	var missing []accountRef
	asked := map[accountRef]bool{}
	for _, e := range evs {
		r := refOf(e)
		if _, ok := t.known[r]; !ok && !asked[r] {
			asked[r] = true
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		loaded, err := t.store.states(ctx, missing)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range missing {
			k, ok := loaded[r]
			t.known[r] = accountState{key: k, has: ok}
		}
		if t.m != nil {
			t.m.loads.Add(float64(len(missing)))
		}
	}

	// The events below the state when they arrive may be re-deliveries: look their verdicts up.
	cur := map[accountRef]accountState{}
	state := func(r accountRef) accountState {
		if s, ok := cur[r]; ok {
			return s
		}
		return t.known[r]
	}
	lookup := map[accountRef][]string{}
	seen := map[string]bool{}
	for _, e := range evs {
		r, k := refOf(e), keyOf(e)
		s := state(r)
		if s.below(k) && !seen[e.EventID] {
			lookup[r] = append(lookup[r], e.EventID)
		}
		seen[e.EventID] = true
		s.raise(k)
		cur[r] = s
	}
	recorded := map[string]bool{}
	if len(lookup) > 0 {
		var err error
		if recorded, err = t.store.verdicts(ctx, lookup); err != nil {
			return nil, nil, err
		}
	}

	stale := make([]bool, len(evs))
	decided := map[string]bool{}
	clear(cur)
	for i, e := range evs {
		r, k := refOf(e), keyOf(e)
		s := state(r)
		if v, ok := decided[e.EventID]; ok {
			stale[i] = v // the same event twice in one batch
		} else if s.below(k) {
			v, ok := recorded[e.EventID]
			stale[i] = !ok || v
		}
		decided[e.EventID] = stale[i]
		s.raise(k)
		cur[r] = s
	}
	pending := make(map[accountRef]presenceKey, len(cur))
	for r, s := range cur {
		pending[r] = s.key
	}
	return stale, pending, nil
}

// commit makes a written batch's states the known ones; past max accounts the cache starts afresh.
func (t *presenceTracker) commit(pending map[accountRef]presenceKey, events, stale int) {
	for r, k := range pending {
		t.known[r] = accountState{key: k, has: true}
	}
	if len(t.known) > t.max {
		t.reset()
	}
	if t.m != nil {
		t.m.events.Add(float64(events))
		t.m.stale.Add(float64(stale))
	}
}

// reset forgets every cached state; they are loaded again from the store as accounts come back.
func (t *presenceTracker) reset() { t.known = map[accountRef]accountState{} }
