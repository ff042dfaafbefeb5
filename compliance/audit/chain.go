package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/pipeline"
	"github.com/imarchive/imarchive/queries"
)

// ChainConfig configures the chain consumer.
type ChainConfig struct {
	// Group is the chain consumer's Kafka consumer group (IMARCHIVE_CHAIN_GROUP); empty: the events
	// group + "-chain".
	Group string
}

// GroupName is Group, or events group + "-chain".
func (c ChainConfig) GroupName(p pipeline.Config) string {
	if c.Group != "" {
		return c.Group
	}
	return p.Group + "-chain"
}

// Validate reports a group that collides with the pipeline's groups: sharing one would split the raw
// topic's partitions between the chain and another consumer, and each would see only some records.
func (c ChainConfig) Validate(p pipeline.Config) error {
	g := c.GroupName(p)
	if g == p.Group || g == p.RawGroupName() {
		return fmt.Errorf("chain consumer group %q: must differ from the events group %q and the raw archive group %q", g, p.Group, p.RawGroupName())
	}
	return nil
}

// NewChainConsumer builds the chain consumer: the raw topic, in its own group, into raw_chain. The
// batching, retry and commit rules are the pipeline's (pipeline.Consumer).
func NewChainConsumer(cc ChainConfig, pcfg pipeline.Config, tc kafka.Config, conn driver.Conn, log *slog.Logger, reg prometheus.Registerer, extra ...kgo.Opt) (*pipeline.Consumer[pipeline.RawRow], error) {
	if err := cc.Validate(pcfg); err != nil {
		return nil, err
	}
	sink := NewChainSink(conn, log, reg)
	return pipeline.NewConsumer("chain", cc.GroupName(pcfg), tc.Raw(), pcfg, tc, sink, log, reg, extra...)
}

// ChainRow is one row of raw_chain.
type ChainRow struct {
	Partition     int32
	Offset        int64
	TopicID       string // Kafka topic ID of the raw topic: the chain segment ("" before schema 0070)
	ClusterID     string // the Kafka cluster the record was read from
	EventID       string
	Source, App   string
	ReceivedAtMs  int64
	PayloadSHA256 string
	HeadersSHA256 string
	PrevHash      string
	Hash          string
}

// NewChainRow links a raw record to prev (the hash of the record before it in its partition).
func NewChainRow(prev string, partition int32, offset int64, r pipeline.RawRow) (ChainRow, error) {
	row := ChainRow{Partition: partition, Offset: offset, EventID: r.EventID, Source: r.Source, App: r.App,
		ReceivedAtMs: r.ReceivedAtMs, PayloadSHA256: PayloadDigest(r.Body), HeadersSHA256: HeadersDigest(r), PrevHash: prev}
	h, err := Link(prev, partition, offset, row.PayloadSHA256, row.HeadersSHA256)
	if err != nil {
		return row, err
	}
	row.Hash = h
	return row, nil
}

// segment names one chain: a raw-topic partition of one Kafka topic ID.
type segment struct {
	topicID   string
	partition int32
}

// head is where a segment's chain goes on.
type head struct {
	offset int64  // last chained offset; -1: nothing chained in the segment yet
	hash   string // its hash; for a segment not started, the hash its first row links to
	// pred is the previous segment of the partition, for a segment not started yet: its records at
	// or below pred.offset that were chained there already (same payload and headers) are skipped.
	pred *predecessor
}

type predecessor struct {
	topicID string
	offset  int64
	hash    string
}

// ChainSink is the pipeline.Sink of the chain consumer. Heads are cached per segment and read from
// ClickHouse when unknown (at start, after a rebalance).
type ChainSink struct {
	conn    driver.Conn
	log     *slog.Logger
	heads   map[segment]head // committed: written and acknowledged
	pending map[segment]head // computed by the last Write, made committed by Written
	chained int              // rows the last Write inserted
	metrics *chainMetrics
}

// NewChainSink returns the sink writing raw_chain over conn.
func NewChainSink(conn driver.Conn, log *slog.Logger, reg prometheus.Registerer) *ChainSink {
	return &ChainSink{conn: conn, log: log, heads: map[segment]head{}, metrics: newChainMetrics(reg)}
}

// Decode implements pipeline.Sink: every raw record can be chained.
func (s *ChainSink) Decode(r *kgo.Record) (pipeline.RawRow, error) { return pipeline.DecodeRaw(r), nil }

var (
	stmtChainHead = queries.MustStatement("chain_head")
	stmtChainPred = queries.MustStatement("chain_predecessor")
	chainColumns  = []string{"raw_partition", "raw_offset", "raw_topic_id", "kafka_cluster_id", "event_id", "source", "app",
		"received_at", "payload_sha256", "headers_sha256", "prev_hash", "hash"}
)

// Write implements pipeline.Sink: it links the records after their segment's head, in offset order,
// and inserts them with the batch's deduplication token. A record is already chained — and skipped —
// when its offset is at or below its segment's head (a re-delivery), or, in a segment that has no row
// yet, when the partition's previous segment chained the same payload and headers at its offset (the
// same record, read again under a new topic ID: the first run after schema 0070, or a mirrored
// topic). A record of a new topic ID otherwise starts a new segment, whose first row links to the
// previous segment's last row. Calling Write again with the same rows (a retry) computes the same rows.
func (s *ChainSink) Write(ctx context.Context, rows []pipeline.Item[pipeline.RawRow], token string) error {
	items := make([]*pipeline.Item[pipeline.RawRow], len(rows))
	for i := range rows {
		items[i] = &rows[i]
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.Epoch.TopicID != b.Epoch.TopicID {
			return a.Epoch.TopicID < b.Epoch.TopicID
		}
		if a.Partition != b.Partition {
			return a.Partition < b.Partition
		}
		return a.Offset < b.Offset
	})
	pending := map[segment]head{}
	before := map[segment]map[int64]chainEntry{} // the predecessors' rows at the offsets of this batch
	var out []ChainRow
	skipped := 0
	for _, it := range items {
		seg := segment{it.Epoch.TopicID, it.Partition}
		h, ok := pending[seg]
		if !ok {
			var err error
			if h, err = s.head(ctx, seg); err != nil {
				return err
			}
		}
		if it.Offset <= h.offset {
			skipped++ // re-delivered: chained already
			continue
		}
		if h.offset < 0 && h.pred != nil && it.Offset <= h.pred.offset {
			prev, ok := before[seg]
			if !ok {
				var err error
				if prev, err = s.predecessorRows(ctx, seg, h.pred, items); err != nil {
					return err
				}
				before[seg] = prev
			}
			if c, ok := prev[it.Offset]; ok && c.payload == PayloadDigest(it.Row.Body) && c.headers == HeadersDigest(it.Row) {
				skipped++ // the same record, chained in the previous segment
				continue
			}
		}
		row, err := NewChainRow(h.hash, it.Partition, it.Offset, it.Row)
		if err != nil {
			return fmt.Errorf("chain partition %d offset %d: %w", it.Partition, it.Offset, err)
		}
		row.TopicID, row.ClusterID = it.Epoch.TopicID, it.Epoch.ClusterID
		if h.offset < 0 {
			args := []any{"partition", it.Partition, "topic_id", it.Epoch.TopicID, "cluster_id", it.Epoch.ClusterID, "first_offset", it.Offset}
			if h.pred != nil {
				args = append(args, "after_topic_id", h.pred.topicID, "after_offset", h.pred.offset)
			}
			s.log.Info("new chain segment: the raw topic's ID changed (topic recreated, or another Kafka cluster); it links to the partition's previous segment", args...)
		}
		out = append(out, row)
		pending[seg] = head{offset: it.Offset, hash: row.Hash}
	}
	if err := s.insert(ctx, out, token); err != nil {
		return err
	}
	for seg, h := range pending {
		if h.offset < 0 {
			delete(pending, seg)
		}
	}
	s.pending, s.chained = pending, len(out)
	s.metrics.skipped.Add(float64(skipped))
	if skipped > 0 {
		s.log.Info("raw records already chained were skipped (re-delivery)", "records", skipped)
	}
	return nil
}

// head is the segment's last chained record: cached, or read from ClickHouse. For a segment with no
// row yet it is the partition's previous segment's last row (the link of the new segment's first
// row), or the genesis.
func (s *ChainSink) head(ctx context.Context, seg segment) (head, error) {
	if h, ok := s.heads[seg]; ok {
		return h, nil
	}
	params := clickhouse.Parameters{"partition": strconv.Itoa(int(seg.partition)), "topic_id": seg.topicID}
	qctx := clickhouse.Context(ctx, clickhouse.WithParameters(params))
	h := head{offset: -1, hash: GenesisHash}
	err := s.conn.QueryRow(qctx, stmtChainHead.SQL).Scan(&h.offset, &h.hash)
	switch {
	case err == nil:
		s.log.Info("chain head loaded", "partition", seg.partition, "topic_id", seg.topicID, "offset", h.offset)
	case errors.Is(err, sql.ErrNoRows):
		var p predecessor
		err = s.conn.QueryRow(qctx, stmtChainPred.SQL).Scan(&p.topicID, &p.offset, &p.hash)
		switch {
		case err == nil:
			h.hash, h.pred = p.hash, &p
		case !errors.Is(err, sql.ErrNoRows):
			return head{}, fmt.Errorf("read the previous chain segment of partition %d: %w", seg.partition, err)
		}
	default:
		return head{}, fmt.Errorf("read chain head of partition %d topic %q: %w", seg.partition, seg.topicID, err)
	}
	s.heads[seg] = h
	return h, nil
}

// predecessorRows reads the chain rows of the previous segment at the offsets of the batch's records of
// seg that are at or below its head.
func (s *ChainSink) predecessorRows(ctx context.Context, seg segment, pred *predecessor, items []*pipeline.Item[pipeline.RawRow]) (map[int64]chainEntry, error) {
	lo, hi := int64(-1), int64(-1)
	for _, it := range items {
		if it.Epoch.TopicID == seg.topicID && it.Partition == seg.partition && it.Offset <= pred.offset {
			if lo < 0 || it.Offset < lo {
				lo = it.Offset
			}
			hi = max(hi, it.Offset)
		}
	}
	out := map[int64]chainEntry{}
	if lo < 0 {
		return out, nil
	}
	rows, err := readChain(ctx, s.conn, seg.partition, lo, hi)
	if err != nil {
		return nil, err
	}
	for _, c := range rows {
		if c.topicID == pred.topicID {
			out[c.offset] = c
		}
	}
	return out, nil
}

func (s *ChainSink) insert(ctx context.Context, rows []ChainRow, token string) error {
	if len(rows) == 0 {
		return nil
	}
	start := time.Now()
	ctx = chconn.InsertContext(ctx, token)
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO raw_chain ("+joinColumns(chainColumns)+")")
	if err != nil {
		return fmt.Errorf("prepare insert into raw_chain: %w", err)
	}
	defer b.Abort()
	for _, r := range rows {
		if err := b.Append(r.Partition, r.Offset, r.TopicID, r.ClusterID, r.EventID, r.Source, r.App, time.UnixMilli(r.ReceivedAtMs).UTC(),
			r.PayloadSHA256, r.HeadersSHA256, r.PrevHash, r.Hash); err != nil {
			return fmt.Errorf("append to raw_chain batch: %w: %w", chconn.ErrRowRefused, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert %d rows into raw_chain: %w", len(rows), err)
	}
	s.metrics.latency.Observe(time.Since(start).Seconds())
	return nil
}

// Written implements pipeline.Sink: the batch is acknowledged, its heads are the segments' heads.
func (s *ChainSink) Written([]pipeline.Item[pipeline.RawRow]) {
	for seg, h := range s.pending {
		s.heads[seg] = h
		s.metrics.head.WithLabelValues(strconv.Itoa(int(seg.partition))).Set(float64(h.offset))
	}
	s.metrics.records.Add(float64(s.chained))
	s.pending, s.chained = nil, 0
}

// Reset implements pipeline.Sink: after a rebalance another member may have chained further; heads
// are read again from ClickHouse.
func (s *ChainSink) Reset() {
	s.heads = map[segment]head{}
	s.pending = nil
}

func joinColumns(cols []string) string { return strings.Join(cols, ", ") }
