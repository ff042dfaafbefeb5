package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/topics"
)

// Writer is what the consumer needs of a sink: a check that an event has a place, and an
// all-or-nothing batch write that returns only when the sink acknowledged it.
type Writer interface {
	Accepts(e *event.Event) error
	WriteBatch(ctx context.Context, rows []Row, token string) error
}

// Consumer reads the events topic in a consumer group and writes batches to a Writer.
type Consumer struct {
	cfg     Config
	topics  topics.Config
	cl      *kgo.Client
	w       Writer
	log     *slog.Logger
	metrics *metrics
}

// NewConsumer builds a consumer group member. Offsets are committed by the consumer itself, only after
// the Writer acknowledged the batch holding them.
func NewConsumer(cfg Config, tc topics.Config, w Writer, log *slog.Logger, reg prometheus.Registerer, extra ...kgo.Opt) (*Consumer, error) {
	if err := errors.Join(cfg.Validate(), tc.Validate()); err != nil {
		return nil, fmt.Errorf("consumer config: %w", err)
	}
	opts := append(tc.ClientOptions(log),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(tc.Events()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
	)
	opts = append(opts, extra...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return &Consumer{cfg: cfg, topics: tc, cl: cl, w: w, log: log, metrics: newMetrics(reg)}, nil
}

// Run consumes until ctx is done. The batch in hand when ctx ends is not committed (it will be
// re-delivered); Run returns nil on a clean stop.
func (c *Consumer) Run(ctx context.Context) error {
	for {
		recs, err := c.poll(ctx)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			c.cl.AllowRebalance()
			return nil
		}
		if len(recs) == 0 {
			c.cl.AllowRebalance()
			continue
		}
		if err := c.handle(ctx, recs); err != nil {
			c.cl.AllowRebalance()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		c.cl.AllowRebalance()
	}
}

// Close leaves the group and closes the client.
func (c *Consumer) Close() { c.cl.Close() }

// poll gathers up to BatchRows records, waiting at most BatchWait after the first poll.
func (c *Consumer) poll(ctx context.Context) ([]*kgo.Record, error) {
	var recs []*kgo.Record
	deadline := time.Now().Add(c.cfg.BatchWait)
	for len(recs) < c.cfg.BatchRows {
		pctx, cancel := context.WithDeadline(ctx, deadline)
		fs := c.cl.PollRecords(pctx, c.cfg.BatchRows-len(recs))
		cancel()
		if fs.IsClientClosed() {
			return nil, errors.New("kafka client closed")
		}
		fs.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return
			}
			c.log.Warn("fetch error", "topic", topic, "partition", p, "err", err)
		})
		recs = append(recs, fs.Records()...)
		if ctx.Err() != nil || !time.Now().Before(deadline) {
			break
		}
	}
	return recs, nil
}

// handle decodes, dead-letters what cannot be written, writes the rest until ClickHouse acknowledges,
// then commits.
func (c *Consumer) handle(ctx context.Context, recs []*kgo.Record) error {
	rows := make([]Row, 0, len(recs))
	var dead []*kgo.Record
	for _, r := range recs {
		var e event.Event
		err := json.Unmarshal(r.Value, &e)
		if err == nil && e.EventID == "" {
			err = errors.New("event has no event_id")
		}
		if err == nil {
			err = c.w.Accepts(&e)
		}
		if err != nil {
			dead = append(dead, deadLetter(c.topics.DeadLetter(), r, "consume", err))
			continue
		}
		rows = append(rows, Row{Event: e, Partition: r.Partition, Offset: r.Offset})
	}
	if len(dead) > 0 {
		if err := c.cl.ProduceSync(ctx, dead...).FirstErr(); err != nil {
			return fmt.Errorf("produce %d dead letters: %w", len(dead), err)
		}
		c.metrics.deadLetters.Add(float64(len(dead)))
		c.log.Warn("records dead-lettered", "count", len(dead), "topic", c.topics.DeadLetter())
	}
	token := batchToken(recs)
	for attempt := 0; ; attempt++ {
		start := time.Now()
		err := c.w.WriteBatch(ctx, rows, token)
		if err == nil {
			c.metrics.insertLatency.Observe(time.Since(start).Seconds())
			c.metrics.batchRows.Observe(float64(len(rows)))
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.metrics.retries.Inc()
		wait := backoff(c.cfg.RetryMin, c.cfg.RetryMax, attempt)
		c.log.Error("batch insert failed; retrying the same batch, nothing committed", "rows", len(rows), "attempt", attempt+1, "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	if err := c.cl.CommitRecords(ctx, recs...); err != nil {
		// The rows are written; a re-delivery is folded by deduplication.
		c.metrics.commitErrors.Inc()
		c.log.Warn("offset commit failed after a successful insert; records will be re-delivered and deduplicated", "err", err)
		return nil
	}
	c.metrics.rowsWritten.Add(float64(len(rows)))
	return nil
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

// Dead-letter record headers.
const (
	HeaderDLReason    = "imarchive.dl.reason"
	HeaderDLStage     = "imarchive.dl.stage"
	HeaderDLTopic     = "imarchive.dl.topic"
	HeaderDLPartition = "imarchive.dl.partition"
	HeaderDLOffset    = "imarchive.dl.offset"
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

// Ping checks that Kafka answers.
func (c *Consumer) Ping(ctx context.Context) error { return topics.Ping(ctx, c.cl) }

// EnsureTopics creates missing topics, retrying until Kafka answers or ctx ends.
func (c *Consumer) EnsureTopics(ctx context.Context) { c.topics.EnsureRetry(ctx, c.cl, c.log) }
