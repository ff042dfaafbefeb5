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

	"github.com/imarchive/imarchive/pipeline"
	"github.com/imarchive/imarchive/queries"
	"github.com/imarchive/imarchive/topics"
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
func NewChainConsumer(cc ChainConfig, pcfg pipeline.Config, tc topics.Config, conn driver.Conn, log *slog.Logger, reg prometheus.Registerer, extra ...kgo.Opt) (*pipeline.Consumer[pipeline.RawRow], error) {
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

type head struct {
	offset int64 // -1: nothing chained yet
	hash   string
}

// ChainSink is the pipeline.Sink of the chain consumer. Heads are cached per partition and read from
// ClickHouse when unknown (at start, after a rebalance).
type ChainSink struct {
	conn    driver.Conn
	log     *slog.Logger
	heads   map[int32]head // committed: written and acknowledged
	pending map[int32]head // computed by the last Write, made committed by Written
	chained int            // rows the last Write inserted
	metrics *chainMetrics
}

// NewChainSink returns the sink writing raw_chain over conn.
func NewChainSink(conn driver.Conn, log *slog.Logger, reg prometheus.Registerer) *ChainSink {
	return &ChainSink{conn: conn, log: log, heads: map[int32]head{}, metrics: newChainMetrics(reg)}
}

// Decode implements pipeline.Sink: every raw record can be chained.
func (s *ChainSink) Decode(r *kgo.Record) (pipeline.RawRow, error) { return pipeline.DecodeRaw(r), nil }

var (
	stmtChainHead = queries.MustStatement("chain_head")
	chainColumns  = []string{"raw_partition", "raw_offset", "event_id", "source", "app", "received_at", "payload_sha256",
		"headers_sha256", "prev_hash", "hash"}
)

// Write implements pipeline.Sink: it links the records after each partition's head, in offset order,
// skipping those already chained, and inserts them with the batch's deduplication token. Calling it
// again with the same rows (a retry) computes the same rows.
func (s *ChainSink) Write(ctx context.Context, rows []pipeline.Item[pipeline.RawRow], token string) error {
	items := make([]*pipeline.Item[pipeline.RawRow], len(rows))
	for i := range rows {
		items[i] = &rows[i]
	}
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].Partition != items[j].Partition {
			return items[i].Partition < items[j].Partition
		}
		return items[i].Offset < items[j].Offset
	})
	pending := map[int32]head{}
	var out []ChainRow
	skipped := 0
	for _, it := range items {
		h, ok := pending[it.Partition]
		if !ok {
			var err error
			if h, err = s.head(ctx, it.Partition); err != nil {
				return err
			}
		}
		if it.Offset <= h.offset {
			skipped++ // re-delivered: chained already
			continue
		}
		row, err := NewChainRow(h.hash, it.Partition, it.Offset, it.Row)
		if err != nil {
			return fmt.Errorf("chain partition %d offset %d: %w", it.Partition, it.Offset, err)
		}
		out = append(out, row)
		pending[it.Partition] = head{offset: it.Offset, hash: row.Hash}
	}
	if err := s.insert(ctx, out, token); err != nil {
		return err
	}
	s.pending, s.chained = pending, len(out)
	s.metrics.skipped.Add(float64(skipped))
	if skipped > 0 {
		s.log.Info("raw records already chained were skipped (re-delivery)", "records", skipped)
	}
	return nil
}

// head is the partition's last chained record: cached, or read from ClickHouse.
func (s *ChainSink) head(ctx context.Context, partition int32) (head, error) {
	if h, ok := s.heads[partition]; ok {
		return h, nil
	}
	h := head{offset: -1, hash: GenesisHash}
	qctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"partition": strconv.Itoa(int(partition))}))
	err := s.conn.QueryRow(qctx, stmtChainHead.SQL).Scan(&h.offset, &h.hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return head{}, fmt.Errorf("read chain head of partition %d: %w", partition, err)
	}
	s.heads[partition] = h
	s.log.Info("chain head loaded", "partition", partition, "offset", h.offset)
	return h, nil
}

func (s *ChainSink) insert(ctx context.Context, rows []ChainRow, token string) error {
	if len(rows) == 0 {
		return nil
	}
	start := time.Now()
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
		"insert_deduplication_token": token,
		"async_insert":               0,
	}))
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO raw_chain ("+joinColumns(chainColumns)+")")
	if err != nil {
		return fmt.Errorf("prepare insert into raw_chain: %w", err)
	}
	defer b.Abort()
	for _, r := range rows {
		if err := b.Append(r.Partition, r.Offset, r.EventID, r.Source, r.App, time.UnixMilli(r.ReceivedAtMs).UTC(),
			r.PayloadSHA256, r.HeadersSHA256, r.PrevHash, r.Hash); err != nil {
			return fmt.Errorf("append to raw_chain batch: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert %d rows into raw_chain: %w", len(rows), err)
	}
	s.metrics.latency.Observe(time.Since(start).Seconds())
	return nil
}

// Written implements pipeline.Sink: the batch is acknowledged, its heads are the partitions' heads.
func (s *ChainSink) Written([]pipeline.Item[pipeline.RawRow]) {
	for p, h := range s.pending {
		s.heads[p] = h
		s.metrics.head.WithLabelValues(strconv.Itoa(int(p))).Set(float64(h.offset))
	}
	s.metrics.records.Add(float64(s.chained))
	s.pending, s.chained = nil, 0
}

// Reset implements pipeline.Sink: after a rebalance another member may have chained further; heads
// are read again from ClickHouse.
func (s *ChainSink) Reset() {
	s.heads = map[int32]head{}
	s.pending = nil
}

func joinColumns(cols []string) string { return strings.Join(cols, ", ") }
