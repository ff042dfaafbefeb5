package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/topics"
)

// Item is one decoded record with the place it was read from.
type Item[T any] struct {
	Row       T
	Partition int32
	Offset    int64
}

// Sink is what a consumer writes to: it decodes records into rows and writes batches of them.
type Sink[T any] interface {
	// Decode turns one record into a row. An error means the record can never be written (poison): it
	// goes to the dead-letter topic with the error as the reason, and consumption goes on.
	Decode(r *kgo.Record) (T, error)
	// Write writes the rows (in record order) and returns only when ClickHouse acknowledged all of
	// them. After an error it is called again with the same rows and token, until it succeeds.
	Write(ctx context.Context, rows []Item[T], token string) error
	// Written is called once after Write succeeded, before the offsets are committed.
	Written(rows []Item[T])
	// Reset drops whatever the sink keeps between batches: partitions were assigned, revoked or lost.
	Reset()
}

// Consumer reads one topic in a consumer group and writes batches to a Sink. Offsets are committed
// only after the Sink acknowledged the batch holding them.
type Consumer[T any] struct {
	name      string
	cfg       Config
	topics    topics.Config
	topic     string
	group     string
	cl        *kgo.Client
	sink      Sink[T]
	log       *slog.Logger
	metrics   *metrics
	resetNext atomic.Bool // partitions moved: the sink forgets its state before the next batch
}

// NewConsumer builds a consumer group member of group on topic, writing to sink. name ("events",
// "raw") labels its logs and metrics.
func NewConsumer[T any](name, group, topic string, cfg Config, tc topics.Config, sink Sink[T], log *slog.Logger, reg prometheus.Registerer, extra ...kgo.Opt) (*Consumer[T], error) {
	if err := errors.Join(cfg.Validate(), tc.Validate()); err != nil {
		return nil, fmt.Errorf("consumer config: %w", err)
	}
	log = log.With("consumer", name, "topic", topic, "group", group)
	c := &Consumer[T]{name: name, cfg: cfg, topics: tc, topic: topic, group: group, sink: sink, log: log,
		metrics: newMetrics(prometheus.WrapRegistererWith(prometheus.Labels{"consumer": name}, reg))}
	// Rebalances are blocked while a batch is handled, so a partition moves between batches; the
	// callbacks only flag it (they never wait on the consumer).
	reset := func(context.Context, *kgo.Client, map[string][]int32) { c.resetNext.Store(true) }
	opts := append(tc.ClientOptions(log),
		kgo.ConsumerGroup(group),
		kgo.SessionTimeout(cfg.SessionTimeout),
		kgo.HeartbeatInterval(min(3*time.Second, cfg.SessionTimeout/3)),
		kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Back-pressure: the client buffers at most one fetch per broker until it is polled, and a
		// fetch is at most one batch's bytes; nothing is polled while a batch is being written.
		kgo.FetchMaxBytes(int32(cfg.BatchBytes)),
		kgo.FetchMaxPartitionBytes(int32(cfg.BatchBytes)),
		kgo.OnPartitionsAssigned(reset),
		kgo.OnPartitionsRevoked(reset),
		kgo.OnPartitionsLost(reset),
	)
	opts = append(opts, extra...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	c.cl = cl
	return c, nil
}

// Run consumes until ctx is done. The batch in hand when ctx ends is not committed (it will be
// re-delivered, and deduplicated); Run returns nil on a clean stop.
func (c *Consumer[T]) Run(ctx context.Context) error {
	lctx, stopLag := context.WithCancel(ctx)
	defer stopLag()
	go c.reportLag(lctx)
	for {
		recs, hw, err := c.poll(ctx)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			c.cl.AllowRebalance()
			return nil
		}
		if len(recs) > 0 {
			err = c.handle(ctx, recs, hw)
		}
		c.cl.AllowRebalance()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// lagEvery is how often the group's lag is read from Kafka.
const lagEvery = 15 * time.Second

// reportLag sets the lag gauge from Kafka every lagEvery: the partition's end offset minus the group's
// committed offset. It is what shows a consumer falling behind while its batch is being retried (the
// gauge is also updated after every commit).
func (c *Consumer[T]) reportLag(ctx context.Context) {
	adm := kadm.NewClient(c.cl)
	for {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		lags, err := adm.Lag(lctx, c.group)
		cancel()
		if err == nil {
			if g, ok := lags[c.group]; ok && g.Error() == nil {
				for _, l := range g.Lag[c.topic] {
					if l.Err == nil && l.Lag >= 0 {
						c.metrics.lag.WithLabelValues(c.topic, strconv.Itoa(int(l.Partition))).Set(float64(l.Lag))
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(lagEvery):
		}
	}
}

// Close leaves the group and closes the client.
func (c *Consumer[T]) Close() { c.cl.Close() }

// Ping checks that Kafka answers.
func (c *Consumer[T]) Ping(ctx context.Context) error { return topics.Ping(ctx, c.cl) }

// EnsureTopics creates missing topics, retrying until Kafka answers or ctx ends.
func (c *Consumer[T]) EnsureTopics(ctx context.Context) { c.topics.EnsureRetry(ctx, c.cl, c.log) }

// poll gathers up to BatchRows records and BatchBytes bytes, waiting at most BatchWait after the first
// poll. hw holds each polled partition's high watermark.
func (c *Consumer[T]) poll(ctx context.Context) ([]*kgo.Record, map[int32]int64, error) {
	var recs []*kgo.Record
	hw := map[int32]int64{}
	size := 0
	deadline := time.Now().Add(c.cfg.BatchWait)
	for len(recs) < c.cfg.BatchRows && size < c.cfg.BatchBytes {
		pctx, cancel := context.WithDeadline(ctx, deadline)
		fs := c.cl.PollRecords(pctx, c.cfg.BatchRows-len(recs))
		cancel()
		if fs.IsClientClosed() {
			return nil, nil, errors.New("kafka client closed")
		}
		fs.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return
			}
			c.log.Warn("fetch error", "partition", p, "err", err)
		})
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if len(p.Records) > 0 {
				hw[p.Partition] = p.HighWatermark
			}
			for _, r := range p.Records {
				size += len(r.Key) + len(r.Value)
			}
			recs = append(recs, p.Records...)
		})
		if ctx.Err() != nil || !time.Now().Before(deadline) {
			break
		}
	}
	return recs, hw, nil
}

// handle decodes, dead-letters what can never be written, writes the rest until ClickHouse
// acknowledges, then commits.
func (c *Consumer[T]) handle(ctx context.Context, recs []*kgo.Record, hw map[int32]int64) error {
	if c.resetNext.Swap(false) {
		c.sink.Reset()
	}
	rows := make([]Item[T], 0, len(recs))
	var dead []*kgo.Record
	size := 0
	for _, r := range recs {
		size += len(r.Key) + len(r.Value)
		row, err := c.sink.Decode(r)
		if err != nil {
			dead = append(dead, deadLetter(c.topics.DeadLetter(), r, StageConsume, err))
			c.log.Warn("record cannot be written; dead-lettered", "partition", r.Partition, "offset", r.Offset, "err", err)
			continue
		}
		rows = append(rows, Item[T]{Row: row, Partition: r.Partition, Offset: r.Offset})
	}
	if len(dead) > 0 {
		if err := c.retry(ctx, "produce dead letters", func() error {
			return c.cl.ProduceSync(ctx, dead...).FirstErr()
		}); err != nil {
			return err
		}
		c.metrics.deadLetters.Add(float64(len(dead)))
	}
	if len(rows) > 0 {
		token := batchToken(recs)
		c.log.Debug("writing batch", "rows", len(rows), "bytes", size, "token", token)
		if err := c.retry(ctx, "write batch", func() error { return c.sink.Write(ctx, rows, token) }); err != nil {
			return err
		}
		c.sink.Written(rows)
		c.metrics.batchRows.Observe(float64(len(rows)))
		c.metrics.batchBytes.Observe(float64(size))
	}
	// The batch is written: commit it even when a stop was asked meanwhile.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.cl.CommitRecords(cctx, recs...); err != nil {
		// The rows are written; a re-delivery is folded by deduplication.
		c.metrics.commitErrors.Inc()
		c.log.Warn("offset commit failed after a successful write; records will be re-delivered and deduplicated", "err", err)
		return nil
	}
	c.metrics.rowsWritten.Add(float64(len(rows)))
	c.log.Debug("batch committed", "records", len(recs), "rows", len(rows), "dead_letters", len(dead))
	next := map[int32]int64{}
	for _, r := range recs {
		next[r.Partition] = max(next[r.Partition], r.Offset+1)
	}
	for p, n := range next {
		c.metrics.lag.WithLabelValues(c.topic, strconv.Itoa(int(p))).Set(float64(max(hw[p]-n, 0)))
	}
	return nil
}

// retry runs op until it succeeds or ctx ends, backing off between attempts; nothing is skipped.
func (c *Consumer[T]) retry(ctx context.Context, what string, op func() error) error {
	for attempt := 0; ; attempt++ {
		err := op()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.metrics.retries.Inc()
		wait := backoff(c.cfg.RetryMin, c.cfg.RetryMax, attempt)
		c.log.Error(what+" failed; retrying the same batch, nothing committed", "attempt", attempt+1, "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// batchToken names a batch by its partitions and offset ranges: re-sending the same records gives the
// same token, so ClickHouse's insert deduplication makes the repeat a no-op.
func batchToken(recs []*kgo.Record) string {
	type span struct{ lo, hi int64 }
	spans := map[string]*span{}
	for _, r := range recs {
		k := r.Topic + "/" + strconv.Itoa(int(r.Partition))
		s, ok := spans[k]
		if !ok {
			spans[k] = &span{r.Offset, r.Offset}
			continue
		}
		s.lo, s.hi = min(s.lo, r.Offset), max(s.hi, r.Offset)
	}
	keys := make([]string, 0, len(spans))
	for k := range spans {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s:%d-%d;", k, spans[k].lo, spans[k].hi)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func backoff(lo, hi time.Duration, attempt int) time.Duration {
	d := lo << min(attempt, 16)
	if d > hi || d <= 0 {
		d = hi
	}
	return d
}

// Dead-letter record headers. Reason and stage are ingest's (one convention on the dead-letter
// topic); the others say where the record was read.
const (
	HeaderDLReason    = ingest.HeaderReason // why the record cannot be written or normalized
	HeaderDLStage     = ingest.HeaderStage  // StageConsume or StageReplay
	HeaderDLTopic     = "imarchive.dl.topic"
	HeaderDLPartition = "imarchive.dl.partition"
	HeaderDLOffset    = "imarchive.dl.offset"
)

// Dead-letter stages of the pipeline.
const (
	StageConsume = "pipeline.consume"
	StageReplay  = "pipeline.replay"
)

func deadLetter(topic string, r *kgo.Record, stage string, reason error) *kgo.Record {
	hs := append([]kgo.RecordHeader{}, r.Headers...)
	hs = append(hs,
		kgo.RecordHeader{Key: HeaderDLReason, Value: []byte(reason.Error())},
		kgo.RecordHeader{Key: HeaderDLStage, Value: []byte(stage)},
		kgo.RecordHeader{Key: HeaderDLTopic, Value: []byte(r.Topic)},
		kgo.RecordHeader{Key: HeaderDLPartition, Value: []byte(strconv.Itoa(int(r.Partition)))},
		kgo.RecordHeader{Key: HeaderDLOffset, Value: []byte(strconv.FormatInt(r.Offset, 10))},
	)
	return &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value, Headers: hs}
}
