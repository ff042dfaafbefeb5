// Package archivetest seeds a real ClickHouse database (testenv) with a small, fully known archive —
// canonical events of all three platforms written by the pipeline's own sinks, their raw records, and
// the raw records' hash chain — so that the auditors' queries, exports, retention and audit tests
// check values, not only counts. The archive is Fixture; its accounts and times are constants here.
package archivetest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/compliance/audit"
	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/pipeline"
	"github.com/imarchive/imarchive/schema"
)

// Migrated returns a fresh test database with the whole schema applied: its DSN and a connection.
func Migrated(t testing.TB) (string, driver.Conn) {
	t.Helper()
	dsn, conn := testenv.Database(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := schema.Migrate(ctx, conn, Discard()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return dsn, conn
}

// Discard is a logger that writes nothing.
func Discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// WriteEvents writes canonical events through the pipeline's events sink (decode, online-state
// verdicts, one INSERT per table), as the events consumer does; offsets are the events' positions.
func WriteEvents(t testing.TB, conn driver.Conn, evs ...event.Event) {
	t.Helper()
	sink := pipeline.NewEventSink(conn, pipeline.DefaultConfig(), prometheus.NewRegistry())
	items := make([]pipeline.Item[pipeline.EventRow], 0, len(evs))
	for i := range evs {
		v, err := json.Marshal(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		row, err := sink.Decode(&kgo.Record{Key: []byte(evs[i].Key()), Value: v})
		if err != nil {
			t.Fatalf("event %s: %v", evs[i].EventID, err)
		}
		items = append(items, pipeline.Item[pipeline.EventRow]{Row: row, Partition: 0, Offset: int64(i)})
	}
	if err := sink.Write(context.Background(), items, "seed-"+strconv.Itoa(len(evs))+"-"+evs[0].EventID); err != nil {
		t.Fatalf("write events: %v", err)
	}
	sink.Written(items)
}

// RawRecord is the raw-topic record ingest would have produced for an event: Body(e) as the value,
// the event's id as key and header, its received time, a path and a remote address, two HTTP headers.
func RawRecord(e event.Event, partition int32, offset int64) *kgo.Record {
	received := time.UnixMilli(e.ReceivedAtMs).UTC()
	return &kgo.Record{
		Key: []byte(e.EventID), Value: Body(e), Partition: partition, Offset: offset, Timestamp: received,
		Headers: []kgo.RecordHeader{
			{Key: kafka.HeaderSource, Value: []byte(e.Source)},
			{Key: kafka.HeaderApp, Value: []byte(e.App)},
			{Key: kafka.HeaderReceivedAt, Value: []byte(strconv.FormatInt(e.ReceivedAtMs, 10))},
			{Key: kafka.HeaderPath, Value: []byte("/v1/" + pathSource(e.Source) + "/" + e.App)},
			{Key: kafka.HeaderRemoteAddr, Value: []byte("203.0.113.7:40412")},
			{Key: kafka.HeaderEventID, Value: []byte(e.EventID)},
			{Key: kafka.HTTPHeaderPrefix + "Content-Type", Value: []byte("application/json")},
			{Key: kafka.HTTPHeaderPrefix + "Curtime", Value: []byte(strconv.FormatInt(e.ReceivedAtMs, 10))},
		},
	}
}

func pathSource(s string) string {
	if s == event.SourceNetease {
		return "netease"
	}
	return s
}

// Body is the raw body of a fixture event: its Attrs as a JSON object (keys sorted), the shape of the
// platforms' payloads.
func Body(e event.Event) []byte {
	b, err := json.Marshal(e.Attrs)
	if err != nil {
		panic(err)
	}
	return b
}

// WriteRaw writes raw records (with their Partition and Offset set) through the pipeline's raw sink.
func WriteRaw(t testing.TB, conn driver.Conn, recs ...*kgo.Record) {
	t.Helper()
	sink := pipeline.NewRawSink(conn, prometheus.NewRegistry())
	items := rawItems(t, recs, sink.Decode)
	if err := sink.Write(context.Background(), items, token("raw", recs)); err != nil {
		t.Fatalf("write raw records: %v", err)
	}
}

// Chain links raw records (in their partitions, in offset order) into raw_chain with the chain
// consumer's sink, as the chain consumer does.
func Chain(t testing.TB, conn driver.Conn, recs ...*kgo.Record) {
	t.Helper()
	sink := audit.NewChainSink(conn, Discard(), prometheus.NewRegistry())
	items := rawItems(t, recs, sink.Decode)
	if err := sink.Write(context.Background(), items, token("chain", recs)); err != nil {
		t.Fatalf("chain raw records: %v", err)
	}
	sink.Written(items)
}

func rawItems(t testing.TB, recs []*kgo.Record, decode func(*kgo.Record) (pipeline.RawRow, error)) []pipeline.Item[pipeline.RawRow] {
	t.Helper()
	items := make([]pipeline.Item[pipeline.RawRow], 0, len(recs))
	for _, r := range recs {
		row, err := decode(r)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, pipeline.Item[pipeline.RawRow]{Row: row, Partition: r.Partition, Offset: r.Offset})
	}
	return items
}

func token(kind string, recs []*kgo.Record) string {
	s := kind
	for _, r := range recs {
		s += "/" + strconv.Itoa(int(r.Partition)) + ":" + strconv.FormatInt(r.Offset, 10)
	}
	return event.ID("archivetest", kind, s)
}

// Seeded is what Seed wrote.
type Seeded struct {
	Events []event.Event
	Raw    []*kgo.Record // every raw record, with partition and offset; Retry is among them
	// Retry is a second receipt of M1's callback (a platform retry): same body and event_id, its own
	// raw record.
	Retry *kgo.Record
}

// Partitions is the number of raw-topic partitions Seed spreads the raw records over.
const Partitions = 3

// Seed writes Fixture: the events, a raw record for each (and a retry of M1's), spread over
// Partitions partitions in order, and their hash chain.
func Seed(t testing.TB, conn driver.Conn) Seeded {
	t.Helper()
	evs := Fixture()
	WriteEvents(t, conn, evs...)
	s := Seeded{Events: evs}
	next := make([]int64, Partitions)
	add := func(e event.Event, receivedAtMs int64) *kgo.Record {
		p := int32(len(s.Raw) % Partitions)
		e.ReceivedAtMs = receivedAtMs
		r := RawRecord(e, p, next[p])
		next[p]++
		s.Raw = append(s.Raw, r)
		return r
	}
	for _, e := range evs {
		add(e, e.ReceivedAtMs)
	}
	m1 := evs[0]
	s.Retry = add(m1, m1.ReceivedAtMs+5000)
	WriteRaw(t, conn, s.Raw...)
	Chain(t, conn, s.Raw...)
	return s
}

// EventByID finds a fixture event.
func (s Seeded) EventByID(id string) (event.Event, bool) {
	for _, e := range s.Events {
		if e.EventID == id {
			return e, true
		}
	}
	return event.Event{}, false
}
