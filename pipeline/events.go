package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/normalize"
)

// Errors of a record that can never be written (Decode): the record is dead-lettered with the error.
var (
	// ErrNoTable: the event's kind has no table in this build.
	ErrNoTable = errors.New("no table for this event kind")
	// ErrBadEvent: the record is not a canonical event this build can write.
	ErrBadEvent = errors.New("bad event")
)

// The range of ClickHouse DateTime64(3): 1900-01-01 to 2299-12-31T23:59:59.999 UTC, in Unix ms.
const (
	minTimeMs = -2208988800000
	maxTimeMs = 10413791999999
)

// EventRow is one canonical event on its way to its table.
type EventRow struct {
	Event event.Event
	table *table
	// Presence verdict, decided in Write.
	presence    presenceVerdict
	expiresAtMs int64
}

// EventSink writes canonical events into their tables (TableFor), deciding presence verdicts with the
// online-state processor on the way.
type EventSink struct {
	auth     kafka.RecordAuth // verifies each record's signature (serve's, replay's) when keys are set
	in       *inserter
	cfg      Config
	presence *presenceTracker
	pending  *presencePending
}

// NewEventSink returns the sink of the events topic, writing over conn.
func NewEventSink(conn driver.Conn, cfg Config, reg prometheus.Registerer) *EventSink {
	return &EventSink{
		in:       newInserter(conn, reg),
		cfg:      cfg,
		presence: newPresenceTracker(clickhousePresenceStore{conn: conn}, cfg.Presence.CacheAccounts, newPresenceMetrics(reg)),
	}
}

// NewEventConsumer builds the consumer of the events topic into ClickHouse, in group cfg.Group.
func NewEventConsumer(cfg Config, tc kafka.Config, conn driver.Conn, log *slog.Logger, reg prometheus.Registerer, extra ...kgo.Opt) (*Consumer[EventRow], error) {
	sinkReg := prometheus.WrapRegistererWith(prometheus.Labels{"consumer": "events"}, reg)
	sink := NewEventSink(conn, cfg, sinkReg)
	sink.auth = tc.Auth
	if !tc.Auth.On() {
		log.Warn("events are not authenticated (no IMARCHIVE_RECORD_KEYS): any client that may write the events topic can add history")
	}
	return NewConsumer("events", cfg.Group, tc.Events(), cfg, tc, sink, log, reg, extra...)
}

// Decode parses and checks one events-topic record. It returns ErrBadEvent or ErrNoTable (wrapped)
// for a record that can never be written — ErrBadEvent wrapping kafka.ErrUnauthenticRecord for one
// that serve or replay did not sign, when record keys are configured.
func (s *EventSink) Decode(r *kgo.Record) (EventRow, error) {
	var row EventRow
	if err := s.auth.Verify(r); err != nil {
		return row, fmt.Errorf("%w: %w", ErrBadEvent, err)
	}
	if err := event.Unmarshal(r.Value, &row.Event); err != nil {
		return row, fmt.Errorf("%w: not a canonical event: %w", ErrBadEvent, err)
	}
	if err := Check(&row.Event); err != nil {
		return row, err
	}
	// An event of an older envelope is written as this version's; one that cannot be upgraded is
	// written as it is (nothing is lost: its attrs hold the payload).
	_ = normalize.Upgrade(&row.Event)
	row.table = byKind[row.Event.Kind]
	return row, nil
}

// Check reports why an event cannot be written, or nil: ErrBadEvent (a missing identity, a time
// out of ClickHouse's range, a presence event without account or with an unknown op, an envelope
// newer than this build) or ErrNoTable.
func Check(e *event.Event) error {
	var errs []error
	if e.SchemaVersion < 1 || e.SchemaVersion > event.SchemaVersion {
		errs = append(errs, fmt.Errorf("schema_version %d: this build writes 1..%d", e.SchemaVersion, event.SchemaVersion))
	}
	if e.EventID == "" {
		errs = append(errs, errors.New("no event_id"))
	}
	if e.Source == "" || e.App == "" {
		errs = append(errs, errors.New("no source or app"))
	}
	for name, v := range map[string]int64{"occurred_at_ms": e.OccurredAtMs, "received_at_ms": e.ReceivedAtMs, "msg_time_ms": e.MsgTimeMs,
		"reply.msg_time_ms": e.Reply.MsgTimeMs, "thread.msg_time_ms": e.Thread.MsgTimeMs} {
		if v < minTimeMs || v > maxTimeMs {
			errs = append(errs, fmt.Errorf("%s %d: outside 1900..2299", name, v))
		}
	}
	if e.Kind == event.KindPresence {
		if e.Actor == "" {
			errs = append(errs, errors.New("presence event without an account (actor)"))
		}
		if _, ok := e.PresenceOnline(); !ok {
			errs = append(errs, fmt.Errorf("presence op %q: not one the online-state rule knows", e.Op))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrBadEvent, err)
	}
	if _, ok := byKind[e.Kind]; !ok {
		return fmt.Errorf("%w: %q", ErrNoTable, e.Kind)
	}
	return nil
}

// Write decides the presence verdicts, then inserts the rows, one INSERT per table, each with the
// batch's deduplication token.
func (s *EventSink) Write(ctx context.Context, rows []Item[EventRow], token string) error {
	var pres []*Item[EventRow]
	for i := range rows {
		if rows[i].Row.table == presenceTable {
			pres = append(pres, &rows[i])
		}
	}
	if len(pres) > 0 {
		evs := make([]*event.Event, len(pres))
		for i, it := range pres {
			evs[i] = &it.Row.Event
		}
		verdicts, pending, err := s.presence.decide(ctx, evs)
		if err != nil {
			return fmt.Errorf("decide presence: %w", err)
		}
		for i, it := range pres {
			it.Row.presence = verdicts[i]
			it.Row.expiresAtMs = s.expiresAt(&it.Row.Event)
		}
		s.pending = &pending
	}
	for _, t := range tableOrder {
		var vals [][]any
		for i := range rows {
			if rows[i].Row.table == t {
				vals = append(vals, t.row(&rows[i]))
			}
		}
		if err := s.in.insert(ctx, t.name, t.columns, vals, token); err != nil {
			return err
		}
	}
	return nil
}

// Written makes the batch's presence states the known ones.
func (s *EventSink) Written(rows []Item[EventRow]) {
	if s.pending != nil {
		var stale int
		var n int
		for i := range rows {
			if rows[i].Row.table == presenceTable {
				n++
				if rows[i].Row.presence.Stale {
					stale++
				}
			}
		}
		s.presence.commit(*s.pending, n, stale)
		s.pending = nil
	}
}

// Reset forgets the cached presence states: another consumer may have written them meanwhile.
func (s *EventSink) Reset() { s.presence.reset() }

// heartbeatSources are the platforms that renew online states periodically (NetEase eventType 47
// type 8); an online state of another platform (iLink) lasts until an offline event.
var heartbeatSources = map[string]bool{event.SourceNetease: true}

// expiresAt is when the online state e gives its connection lapses without a renewal: occurred_at +
// heartbeat period + grace; 0 (never) for an offline event or a platform without renewals.
func (s *EventSink) expiresAt(e *event.Event) int64 {
	online, _ := e.PresenceOnline()
	if !online || !heartbeatSources[e.Source] {
		return 0
	}
	return e.OccurredAtMs + (s.cfg.Presence.Heartbeat + s.cfg.Presence.Grace).Milliseconds()
}
