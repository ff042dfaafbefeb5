package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/kafka"
)

// RawRow is one raw-topic record: a callback as received.
type RawRow struct {
	Source, App  string
	ReceivedAtMs int64
	EventID      string
	RawKey       string
	Body         []byte
	Path         string
	RemoteAddr   string
	HTTPHeaders  map[string]string // canonical header name → value(s), repeated values joined with ", "
	Meta         map[string]string // any other record header
}

// RawSink writes the raw topic into raw_callbacks_data, the auditors' archive.
type RawSink struct{ in *inserter }

// NewRawSink returns the sink of the raw topic, writing over conn.
func NewRawSink(conn driver.Conn, reg prometheus.Registerer) *RawSink {
	return &RawSink{in: newInserter(conn, reg)}
}

// NewRawConsumer builds the consumer of the raw topic into the raw archive, in its own group
// (cfg.RawGroupName()).
func NewRawConsumer(cfg Config, tc kafka.Config, conn driver.Conn, log *slog.Logger, reg prometheus.Registerer, extra ...kgo.Opt) (*Consumer[RawRow], error) {
	sinkReg := prometheus.WrapRegistererWith(prometheus.Labels{"consumer": "raw"}, reg)
	return NewConsumer("raw", cfg.RawGroupName(), tc.Raw(), cfg, tc, NewRawSink(conn, sinkReg), log, reg, extra...)
}

// DecodeRaw reads a raw-topic record. It never fails: every record can be archived. The received time
// is the imarchive.received_at_ms header, or the record's timestamp when the header is missing or
// out of range.
func DecodeRaw(r *kgo.Record) RawRow {
	row := RawRow{RawKey: string(r.Key), Body: r.Value, HTTPHeaders: map[string]string{}, Meta: map[string]string{}}
	row.ReceivedAtMs = r.Timestamp.UnixMilli()
	add := func(m map[string]string, k, v string) {
		if prev, ok := m[k]; ok {
			m[k] = prev + ", " + v
		} else {
			m[k] = v
		}
	}
	for _, h := range r.Headers {
		v := string(h.Value)
		switch {
		case h.Key == kafka.HeaderSource:
			row.Source = v
		case h.Key == kafka.HeaderApp:
			row.App = v
		case h.Key == kafka.HeaderReceivedAt:
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= minTimeMs && ms <= maxTimeMs {
				row.ReceivedAtMs = ms
			} else {
				add(row.Meta, h.Key, v)
			}
		case h.Key == kafka.HeaderPath:
			row.Path = v
		case h.Key == kafka.HeaderRemoteAddr:
			row.RemoteAddr = v
		case h.Key == kafka.HeaderEventID:
			row.EventID = v
		case strings.HasPrefix(h.Key, kafka.HTTPHeaderPrefix):
			add(row.HTTPHeaders, strings.TrimPrefix(h.Key, kafka.HTTPHeaderPrefix), v)
		default:
			add(row.Meta, h.Key, v)
		}
	}
	return row
}

// Decode implements Sink.
func (s *RawSink) Decode(r *kgo.Record) (RawRow, error) { return DecodeRaw(r), nil }

var rawColumns = []string{"source", "app", "received_at", "event_id", "raw_key", "body", "body_sha256", "path",
	"remote_addr", "http_headers", "meta", "raw_partition", "raw_offset", "raw_topic_id"}

// Write implements Sink. A row is named by its receipt — (source, app, received_at, raw_partition,
// raw_offset), the table's key, so a re-delivered record folds into its row — and carries the raw
// topic's ID (raw_topic_id), which tells the records of a recreated topic or another cluster from the
// old ones at the same offsets.
func (s *RawSink) Write(ctx context.Context, rows []Item[RawRow], token string) error {
	vals := make([][]any, len(rows))
	for i, it := range rows {
		r := &it.Row
		sum := sha256.Sum256(r.Body)
		vals[i] = []any{r.Source, r.App, ms(r.ReceivedAtMs), r.EventID, r.RawKey, r.Body, hex.EncodeToString(sum[:]),
			r.Path, r.RemoteAddr, r.HTTPHeaders, r.Meta, it.Partition, it.Offset, it.Epoch.TopicID}
	}
	return s.in.insert(ctx, "raw_callbacks_data", rawColumns, vals, token)
}

// Written implements Sink.
func (s *RawSink) Written([]Item[RawRow]) {}

// Reset implements Sink.
func (s *RawSink) Reset() {}
