package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/internal/backoff"
	"github.com/imarchive/imarchive/kafka"
)

// Item is one decoded record with the place it was read from.
type Item[T any] struct {
	Row       T
	Partition int32
	Offset    int64
	// Epoch names the incarnation of the topic the record was read from: offsets alone do not name a
	// record once a topic is deleted and created again, or the pipeline reads another cluster.
	Epoch Epoch
}

// Epoch is the identity of the Kafka topic a record was read from beyond its name and offsets. Kafka
// gives every topic a topic ID (a UUID) when it creates it; a topic deleted and created again, or the
// same name on another cluster, has another one, and its offsets start again from zero. The Epoch is
// what tells the new records at those offsets from the old ones (the raw archive keeps TopicID with
// every row, the hash chain starts a new segment per topic ID).
type Epoch struct {
	// TopicID is Kafka's topic ID as kafka-topics.sh prints it (URL-safe Base64 without padding);
	// empty when the broker gave none (Kafka before 2.8).
	TopicID string
	// ClusterID is the Kafka cluster's ID (kafka-cluster.sh cluster-id; kafka-storage.sh format).
	ClusterID string
}

// Sink is what a consumer writes to: it decodes records into rows and writes batches of them.
//
// The consumer writes a batch with one Write call, or — when ClickHouse refused some rows for what they
// hold (chconn.IsDataError) — with several calls on consecutive parts of it, halving the part that was
// refused until the refused rows are alone; those are dead-lettered. Each successful Write is followed
// by Written with the same rows, before the next Write.
type Sink[T any] interface {
	// Decode turns one record into a row. An error means the record can never be written (poison): it
	// goes to the dead-letter topic with the error as the reason, and consumption goes on.
	Decode(r *kgo.Record) (T, error)
	// Write writes the rows (in record order) and returns only when ClickHouse acknowledged all of
	// them. After an error it is called again with the same rows and token (an outage: until it
	// succeeds), or with parts of them (a data error). token names the rows by their content and
	// place (BatchToken): the same rows always have the same token.
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
	topics    kafka.Config
	topic     string
	group     string
	cl        *kgo.Client
	sink      Sink[T]
	log       *slog.Logger
	metrics   *metrics
	resetNext atomic.Bool // partitions moved: the sink forgets its state before the next batch
	epochs    map[[16]byte]Epoch
	warnedID  bool // the broker gave no topic ID: said once

	lastFlush  time.Time     // when the last batch was handed to the sink
	writers    atomic.Int32  // the group's members holding partitions of the topic, as last read (≥ 1)
	rebalanced chan struct{} // partitions moved: read the group again
	stallMu    sync.Mutex
	stalls     []Stall                  // partitions stalled at the last reading, by partition
	progress   map[int32]commitProgress // per partition: the committed offset and since when it has not moved
}

// Stall is a partition of the consumer's topic that has lag and whose committed offset has not moved
// for Config.StallAfter: its member is stuck (ClickHouse down or refusing, a write that never ends)
// or gone without the group noticing.
type Stall struct {
	Topic     string
	Partition int32
	Lag       int64     // records after the committed offset
	Since     time.Time // since when the partition has had lag with its committed offset where it is
	Member    string    // the member holding it ("" when none does)
}

// commitProgress is when a partition's committed offset last moved.
type commitProgress struct {
	commit int64
	since  time.Time
}

// NewConsumer builds a consumer group member of group on topic, writing to sink. name ("events",
// "raw") labels its logs and metrics.
func NewConsumer[T any](name, group, topic string, cfg Config, tc kafka.Config, sink Sink[T], log *slog.Logger, reg prometheus.Registerer, extra ...kgo.Opt) (*Consumer[T], error) {
	if err := errors.Join(cfg.Validate(), tc.Validate()); err != nil {
		return nil, fmt.Errorf("consumer config: %w", err)
	}
	log = log.With("consumer", name, "topic", topic, "group", group)
	c := &Consumer[T]{name: name, cfg: cfg, topics: tc, topic: topic, group: group, sink: sink, log: log,
		metrics: newMetrics(prometheus.WrapRegistererWith(prometheus.Labels{"consumer": name}, reg)),
		epochs:  map[[16]byte]Epoch{}, rebalanced: make(chan struct{}, 1), progress: map[int32]commitProgress{}}
	c.writers.Store(1)
	c.metrics.writers.Set(1)
	c.metrics.interval.Set(cfg.InsertInterval.Seconds())
	// Rebalances are blocked while a batch is handled, so a partition moves between batches; the
	// callbacks only flag it (they never wait on the consumer). Every move flags it — assigned,
	// revoked or lost — so a partition that comes back to this member after another one wrote its
	// accounts' states is read afresh too.
	moved := func(change string) func(context.Context, *kgo.Client, map[string][]int32) {
		return func(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
			if len(parts) == 0 {
				return // a rebalance that moved nothing of this member's
			}
			c.resetNext.Store(true)
			c.metrics.moves.WithLabelValues(change).Inc()
			select {
			case c.rebalanced <- struct{}{}:
			default:
			}
		}
	}
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
		kgo.OnPartitionsAssigned(moved("assigned")),
		kgo.OnPartitionsRevoked(moved("revoked")),
		kgo.OnPartitionsLost(moved("lost")),
	)
	if cfg.InstanceID != "" {
		// Static membership: a restart within the session timeout gets the same partitions back
		// without a rebalance (and a stop does not leave the group: its partitions wait for it, up
		// to the session timeout).
		opts = append(opts, kgo.InstanceID(cfg.InstanceID))
	}
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
	lctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go c.watch(lctx)
	for {
		b, err := c.poll(ctx)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			c.cl.AllowRebalance()
			return nil
		}
		if len(b.recs) > 0 {
			err = c.handle(ctx, b)
		}
		c.cl.AllowRebalance()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if b.recreated {
			c.follow()
		}
	}
}

// follow makes the consumer read the topic of its name again after Kafka answered UNKNOWN_TOPIC_ID:
// the topic was deleted (and maybe created again, with a new topic ID and offsets from zero). The
// Kafka client never adopts a new topic ID by itself (it stalls, by design: franz-go's
// PurgeTopicsFromClient): the topic is purged from the consumer and added again, which rebalances
// the group onto the new topic, read from its start (Kafka dropped the group's offsets of the
// deleted topic).
func (c *Consumer[T]) follow() {
	c.log.Warn("the topic was deleted or recreated (Kafka answers UNKNOWN_TOPIC_ID): following the topic of this name from its start")
	c.cl.PurgeTopicsFromConsuming(c.topic)
	c.cl.AddConsumeTopics(c.topic)
	c.resetNext.Store(true)
	c.metrics.topicChanges.Inc()
}

// lagEvery is how often the group's lag is read from Kafka (more often when StallAfter is short).
const lagEvery = 15 * time.Second

// watch reads the group from Kafka every lagEvery and soon after each rebalance: the lag of each
// partition (the partition's end offset minus the group's committed offset), which partitions have
// stalled, and how many members hold partitions — the writers the insert interval is shared by.
// The lag shows a consumer falling behind while its batch is being retried (the gauge is also
// updated after every commit).
func (c *Consumer[T]) watch(ctx context.Context) {
	adm := kadm.NewClient(c.cl)
	every := min(lagEvery, max(c.cfg.StallAfter/4, 250*time.Millisecond))
	soon := 0 // reads left at a short interval: a cooperative rebalance comes in two rounds
	for {
		wait := every
		if !c.readGroup(ctx, adm) || soon > 0 {
			wait = min(every, 500*time.Millisecond) // mid-rebalance, or just after one: soon again
			soon = max(soon-1, 0)
		}
		select {
		case <-ctx.Done():
			return
		case <-c.rebalanced:
			soon = 10
		case <-time.After(wait):
		}
	}
}

// readGroup reads the group's lag and members once; it reports whether the group was stable.
func (c *Consumer[T]) readGroup(ctx context.Context, adm *kadm.Client) bool {
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	lags, err := adm.Lag(lctx, c.group)
	cancel()
	if err != nil {
		return false
	}
	g, ok := lags[c.group]
	if !ok || g.Error() != nil {
		return false
	}
	stable := g.State == "Stable"
	if stable {
		n := 0
		for _, m := range g.Members {
			if holds(m, c.topic) {
				n++
			}
		}
		if n > 0 {
			if old := c.writers.Swap(int32(n)); old != int32(n) {
				c.log.Info("insert interval shared by the group's writers", "writers", n, "interval", c.cfg.InsertInterval*time.Duration(n))
			}
			c.metrics.writers.Set(float64(n))
			c.metrics.interval.Set((c.cfg.InsertInterval * time.Duration(n)).Seconds())
		}
	}
	now := time.Now()
	var stalls []Stall
	c.metrics.stalled.Reset()
	c.metrics.commitAge.Reset()
	for p, l := range g.Lag[c.topic] {
		if l.Err != nil || l.Lag < 0 {
			continue
		}
		part := strconv.Itoa(int(p))
		c.metrics.lag.WithLabelValues(c.topic, part).Set(float64(l.Lag))
		pr, ok := c.progress[p]
		if !ok || pr.commit != l.Commit.At || l.Lag == 0 {
			pr = commitProgress{commit: l.Commit.At, since: now}
			c.progress[p] = pr
		}
		age := 0.0
		if l.Lag > 0 {
			age = now.Sub(pr.since).Seconds()
		}
		c.metrics.commitAge.WithLabelValues(c.topic, part).Set(age)
		stalled := l.Lag > 0 && now.Sub(pr.since) >= c.cfg.StallAfter
		if !stalled {
			c.metrics.stalled.WithLabelValues(c.topic, part).Set(0)
			continue
		}
		c.metrics.stalled.WithLabelValues(c.topic, part).Set(1)
		st := Stall{Topic: c.topic, Partition: p, Lag: l.Lag, Since: pr.since, Member: memberName(l.Member)}
		stalls = append(stalls, st)
		c.log.Warn("partition stalled: it has lag and its committed offset has not moved", "partition", p, "lag", l.Lag,
			"for", now.Sub(pr.since).Round(time.Second), "member", st.Member)
	}
	sort.Slice(stalls, func(i, j int) bool { return stalls[i].Partition < stalls[j].Partition })
	c.stallMu.Lock()
	c.stalls = stalls
	c.stallMu.Unlock()
	return stable
}

// holds reports whether the group member was assigned partitions of topic.
func holds(m kadm.DescribedGroupMember, topic string) bool {
	a, ok := m.Assigned.AsConsumer()
	if !ok {
		return false
	}
	for _, t := range a.Topics {
		if t.Topic == topic && len(t.Partitions) > 0 {
			return true
		}
	}
	return false
}

// memberName names a group member for people: its client ID, host and static instance ID.
func memberName(m *kadm.DescribedGroupMember) string {
	if m == nil {
		return ""
	}
	s := m.ClientID + "@" + strings.TrimPrefix(m.ClientHost, "/")
	if m.InstanceID != nil {
		s += " (instance " + *m.InstanceID + ")"
	}
	return s
}

// Stalled returns the partitions of the topic that have had lag and no commit for Config.StallAfter
// at the last reading of the group (every member reports every partition of the group).
func (c *Consumer[T]) Stalled() []Stall {
	c.stallMu.Lock()
	defer c.stallMu.Unlock()
	return slices.Clone(c.stalls)
}

// Topic is the topic the consumer reads; Group its consumer group.
func (c *Consumer[T]) Topic() string { return c.topic }

// Group is the consumer's group.
func (c *Consumer[T]) Group() string { return c.group }

// Close leaves the group and closes the client.
func (c *Consumer[T]) Close() { c.cl.Close() }

// Ping checks that Kafka answers.
func (c *Consumer[T]) Ping(ctx context.Context) error { return kafka.Ping(ctx, c.cl) }

// EnsureTopics creates missing topics, retrying until Kafka answers or ctx ends.
func (c *Consumer[T]) EnsureTopics(ctx context.Context) { c.topics.EnsureRetry(ctx, c.cl, c.log) }

// polled is what one poll gathered.
type polled struct {
	recs      []*kgo.Record
	ids       [][16]byte      // the topic ID each record was fetched with (zero when the broker sent none)
	hw        map[int32]int64 // each polled partition's high watermark
	recreated bool            // a fetch answered UNKNOWN_TOPIC_ID
}

// policy is the flush policy with the insert interval shared by the group's writers as last read.
func (c *Consumer[T]) policy() flushPolicy {
	return flushPolicy{rows: c.cfg.BatchRows, bytes: c.cfg.BatchBytes, wait: c.cfg.BatchWait,
		interval: c.cfg.InsertInterval * time.Duration(c.writers.Load()), noCaughtUp: c.cfg.NoCaughtUpFlush}
}

// poll gathers a batch and returns it when the flush policy says to write it (an empty one after
// BatchWait without records, or when the topic was recreated or ctx ended).
func (c *Consumer[T]) poll(ctx context.Context) (*polled, error) {
	b := &polled{hw: map[int32]int64{}}
	var f fill
	linger := false // the last poll emptied the client's buffer: the next one waits only lingerWait
	for {
		now := time.Now()
		act, until := c.policy().next(now, c.lastFlush, f)
		switch act {
		case actFlush:
			c.lastFlush = now
			c.metrics.batches.WithLabelValues(flushReason(c.policy(), now, f)).Inc()
			return b, nil
		case actWait:
			select {
			case <-ctx.Done():
				return b, nil
			case <-time.After(until.Sub(now)):
			}
			continue
		}
		idle := until.IsZero()
		if idle {
			until = now.Add(c.cfg.BatchWait)
		}
		if linger && now.Add(lingerWait).Before(until) {
			until = now.Add(lingerWait)
		}
		// At most pollChunk records a poll, so the batch's bytes are checked as it grows.
		ask := min(c.cfg.BatchRows-f.rows, pollChunk)
		pctx, cancel := context.WithDeadline(ctx, until)
		fs := c.cl.PollRecords(pctx, ask)
		cancel()
		if fs.IsClientClosed() {
			return nil, errors.New("kafka client closed")
		}
		fs.EachError(func(topic string, p int32, err error) {
			switch {
			case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
			case errors.Is(err, kerr.UnknownTopicID):
				b.recreated = true
			default:
				c.log.Warn("fetch error", "partition", p, "err", err)
			}
		})
		got := 0
		fs.EachTopic(func(t kgo.FetchTopic) {
			for _, p := range t.Partitions {
				if len(p.Records) > 0 {
					b.hw[p.Partition] = p.HighWatermark
				}
				for _, r := range p.Records {
					f.bytes += len(r.Key) + len(r.Value)
					b.recs = append(b.recs, r)
					b.ids = append(b.ids, t.TopicID)
					got++
				}
			}
		})
		if got > 0 && f.rows == 0 {
			f.first = now
		}
		f.rows += got
		// Caught up: a poll found nothing more — the client held no records and the broker sent none
		// within lingerWait (it answers a fetch at once when it has records). A poll that emptied the
		// client's buffer says nothing yet: that fetch may have waited there through the last write.
		f.caughtUp = got == 0 && f.rows > 0
		linger = got > 0 && got < ask
		if b.recreated || ctx.Err() != nil || (idle && f.rows == 0) {
			return b, nil
		}
	}
}

// pollChunk is the most records one poll takes: a batch passes BatchBytes by at most that many.
const pollChunk = 2000

// lingerWait is how long a poll after one that emptied the client's buffer waits for more records
// before the consumer counts itself caught up: the broker answers a fetch at once when it has records.
const lingerWait = 25 * time.Millisecond

// flushReason labels a batch written at now for imarchive_pipeline_batches_total.
func flushReason(p flushPolicy, now time.Time, f fill) string {
	switch {
	case f.rows >= p.rows || f.bytes >= p.bytes:
		return "full"
	case f.caughtUp && !p.noCaughtUp:
		return "caught_up"
	}
	return "waited"
}

// epochOf returns the Epoch of records fetched with topic ID id: the ID itself (or, when the broker
// sent none with the records, the one its metadata gives) and the cluster's ID, read from Kafka's
// metadata once per topic ID.
func (c *Consumer[T]) epochOf(ctx context.Context, id [16]byte) (Epoch, error) {
	if e, ok := c.epochs[id]; ok {
		return e, nil
	}
	md, err := kadm.NewClient(c.cl).Metadata(ctx, c.topic)
	if err != nil {
		return Epoch{}, fmt.Errorf("read the metadata of topic %s: %w", c.topic, err)
	}
	if id == ([16]byte{}) {
		if td, ok := md.Topics[c.topic]; ok && td.Err == nil {
			id = td.ID
		}
	}
	e := Epoch{ClusterID: md.Cluster}
	if id != ([16]byte{}) {
		e.TopicID = base64.RawURLEncoding.EncodeToString(id[:])
	} else if !c.warnedID {
		c.warnedID = true
		c.log.Warn("Kafka gives no topic ID (a broker before 2.8?): records of a recreated topic cannot be told from the old ones in the raw archive's hash chain; batches are still named by their content")
	}
	c.epochs[id] = e
	c.log.Info("reading topic", "topic_id", e.TopicID, "cluster_id", e.ClusterID)
	return e, nil
}

// rejection is a row ClickHouse refused for its data.
type rejection struct {
	index int // into the batch's rows
	err   error
}

// handle decodes, dead-letters what can never be written, writes the rest until ClickHouse
// acknowledges (setting aside and dead-lettering the rows it refuses for their data), then commits.
func (c *Consumer[T]) handle(ctx context.Context, b *polled) error {
	if c.resetNext.Swap(false) {
		c.sink.Reset()
	}
	epochs := map[[16]byte]Epoch{} // one per topic ID in the batch (one, but at a topic's recreation)
	for _, id := range b.ids {
		if _, ok := epochs[id]; ok {
			continue
		}
		if err := c.retry(ctx, "read topic metadata", func() error {
			e, err := c.epochOf(ctx, id)
			epochs[id] = e
			return err
		}); err != nil {
			return err
		}
	}
	rows := make([]Item[T], 0, len(b.recs))
	srcs := make([]*kgo.Record, 0, len(b.recs))
	var dead []*kgo.Record
	size := 0
	for i, r := range b.recs {
		size += len(r.Key) + len(r.Value)
		row, err := c.sink.Decode(r)
		if err != nil {
			dead = append(dead, deadLetter(c.topics.DeadLetter(), r, StageConsume, err))
			c.log.Warn("record cannot be written; dead-lettered", "partition", r.Partition, "offset", r.Offset, "err", err)
			continue
		}
		rows = append(rows, Item[T]{Row: row, Partition: r.Partition, Offset: r.Offset, Epoch: epochs[b.ids[i]]})
		srcs = append(srcs, r)
	}
	if err := c.produceDead(ctx, dead); err != nil {
		return err
	}
	var rejected []rejection
	if len(rows) > 0 {
		var err error
		if rejected, err = c.write(ctx, rows, srcs); err != nil {
			return err
		}
		if len(rejected) > 0 {
			refused := make([]*kgo.Record, len(rejected))
			for i, rj := range rejected {
				r := srcs[rj.index]
				refused[i] = deadLetter(c.topics.DeadLetter(), r, StageConsume, rj.err)
				c.log.Warn("ClickHouse refused the row for its data; dead-lettered", "partition", r.Partition, "offset", r.Offset, "err", rj.err)
			}
			if err := c.produceDead(ctx, refused); err != nil {
				return err
			}
			c.metrics.refused.Add(float64(len(rejected)))
		}
		c.metrics.batchRows.Observe(float64(len(rows)))
		c.metrics.batchBytes.Observe(float64(size))
	}
	// The batch is written: commit it even when a stop was asked meanwhile.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.cl.CommitRecords(cctx, b.recs...); err != nil {
		// The rows are written; a re-delivery is folded by deduplication.
		c.metrics.commitErrors.Inc()
		c.log.Warn("offset commit failed after a successful write; records will be re-delivered and deduplicated", "err", err)
		return nil
	}
	c.metrics.rowsWritten.Add(float64(len(rows) - len(rejected)))
	c.log.Debug("batch committed", "records", len(b.recs), "rows", len(rows), "dead_letters", len(dead)+len(rejected))
	next := map[int32]int64{}
	for _, r := range b.recs {
		next[r.Partition] = max(next[r.Partition], r.Offset+1)
	}
	for p, n := range next {
		c.metrics.lag.WithLabelValues(c.topic, strconv.Itoa(int(p))).Set(float64(max(b.hw[p]-n, 0)))
	}
	return nil
}

// produceDead sends dead letters, retrying until Kafka acknowledges them. A dead-letter topic that was
// deleted and created again (UNKNOWN_TOPIC_ID) is purged from the producer, which then finds the new one.
func (c *Consumer[T]) produceDead(ctx context.Context, dead []*kgo.Record) error {
	if len(dead) == 0 {
		return nil
	}
	if err := c.retry(ctx, "produce dead letters", func() error {
		err := c.cl.ProduceSync(ctx, dead...).FirstErr()
		if errors.Is(err, kerr.UnknownTopicID) {
			c.cl.PurgeTopicsFromProducing(c.topics.DeadLetter())
		}
		return err
	}); err != nil {
		return err
	}
	c.metrics.deadLetters.Add(float64(len(dead)))
	return nil
}

// write writes rows (read from srcs) until ClickHouse acknowledges them. An outage is retried with
// backoff, the same rows with the same token, forever. A data error (chconn.IsDataError) splits the
// rows in halves written one after the other, each with its own token, down to single rows: the rows
// refused alone are returned, the others are written. The parts and their tokens depend only on the
// rows, so a retry after a crash repeats them and ClickHouse drops what it has.
func (c *Consumer[T]) write(ctx context.Context, rows []Item[T], srcs []*kgo.Record) ([]rejection, error) {
	var rejected []rejection
	var part func(lo, hi int) error
	part = func(lo, hi int) error {
		ids := make([]string, hi-lo)
		for i := range ids {
			ids[i] = rows[lo+i].Epoch.TopicID
		}
		token := batchToken(srcs[lo:hi], ids)
		if hi-lo == len(rows) {
			c.log.Debug("writing batch", "rows", len(rows), "token", token)
		}
		for attempt := 0; ; attempt++ {
			err := c.sink.Write(ctx, rows[lo:hi], token)
			if err == nil {
				c.sink.Written(rows[lo:hi])
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if chconn.IsDataError(err) {
				if hi-lo == 1 {
					rejected = append(rejected, rejection{index: lo, err: err})
					return nil
				}
				c.log.Warn("ClickHouse refused rows of the batch for their data; writing it in halves to set them aside",
					"rows", hi-lo, "first_offset", rows[lo].Offset, "err", err)
				mid := lo + (hi-lo)/2
				if err := part(lo, mid); err != nil {
					return err
				}
				return part(mid, hi)
			}
			c.metrics.retries.Inc()
			wait := backoff.Wait(c.cfg.RetryMin, c.cfg.RetryMax, attempt+1)
			c.log.Error("write batch failed; retrying the same rows, nothing committed", "rows", hi-lo, "attempt", attempt+1, "retry_in", wait, "err", err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
	}
	err := part(0, len(rows))
	return rejected, err
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
		wait := backoff.Wait(c.cfg.RetryMin, c.cfg.RetryMax, attempt+1)
		c.log.Error(what+" failed; retrying the same batch, nothing committed", "attempt", attempt+1, "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// batchToken names records by what they are, so that ClickHouse's insert deduplication drops a repeat
// of the same records and nothing else: SHA-256 over every record — in (topic, partition, offset)
// order, whatever order they were polled in — of its topic, topic ID (topicIDs[i], Kafka's ID of the
// topic incarnation), partition, offset, timestamp, key, value and headers, each length-prefixed.
//
// Positions alone are not a name: offsets start again from zero when a topic is deleted and created
// again, when the pipeline is pointed at another cluster, or when imarchive dev's in-memory Kafka
// restarts, and a new batch at old offsets would be dropped as a repeat without an error. The topic
// ID tells those incarnations apart where the broker gives one; the content covers the rest (a broker
// without topic IDs, a truncated log rewritten at the same offsets).
func batchToken(recs []*kgo.Record, topicIDs []string) string {
	order := make([]int, len(recs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		ra, rb := recs[order[a]], recs[order[b]]
		if ra.Topic != rb.Topic {
			return ra.Topic < rb.Topic
		}
		if ra.Partition != rb.Partition {
			return ra.Partition < rb.Partition
		}
		return ra.Offset < rb.Offset
	})
	h := sha256.New()
	var buf []byte // one record's fields, then hashed: no allocation per field
	num := func(v uint64) { buf = binary.BigEndian.AppendUint64(buf, v) }
	bytes := func(b []byte) {
		num(uint64(len(b)))
		buf = append(buf, b...)
	}
	str := func(s string) {
		num(uint64(len(s)))
		buf = append(buf, s...)
	}
	for _, i := range order {
		r := recs[i]
		buf = buf[:0]
		str(r.Topic)
		if topicIDs != nil {
			str(topicIDs[i])
		} else {
			str("")
		}
		num(uint64(r.Partition))
		num(uint64(r.Offset))
		num(uint64(r.Timestamp.UnixMilli()))
		bytes(r.Key)
		bytes(r.Value)
		num(uint64(len(r.Headers)))
		for _, hd := range r.Headers {
			str(hd.Key)
			bytes(hd.Value)
		}
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Dead-letter record headers. Reason and stage are package kafka's (one convention on the dead-letter
// topic); the others say where the record was read.
const (
	HeaderDLReason    = kafka.HeaderReason // why the record cannot be written or normalized
	HeaderDLStage     = kafka.HeaderStage  // StageConsume or StageReplay
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
		kgo.RecordHeader{Key: HeaderDLReason, Value: []byte(reasonText(reason))},
		kgo.RecordHeader{Key: HeaderDLStage, Value: []byte(stage)},
		kgo.RecordHeader{Key: HeaderDLTopic, Value: []byte(r.Topic)},
		kgo.RecordHeader{Key: HeaderDLPartition, Value: []byte(strconv.Itoa(int(r.Partition)))},
		kgo.RecordHeader{Key: HeaderDLOffset, Value: []byte(strconv.FormatInt(r.Offset, 10))},
	)
	return &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value, Headers: hs}
}

// reasonText is a dead letter's reason: the error, and for a ClickHouse refusal its code and name
// first ("ClickHouse refused the row: code 469 VIOLATED_CONSTRAINT: …"), so the header says who
// refused it and why in ClickHouse's words.
func reasonText(err error) string {
	var ex *clickhouse.Exception
	if errors.As(err, &ex) && chconn.IsDataError(err) {
		name := ex.CodeName
		if name == "" {
			name = chconn.DataErrorCodes[ex.Code]
		}
		return fmt.Sprintf("ClickHouse refused the row: code %d %s: %s (%v)", ex.Code, name, ex.Message, err)
	}
	if errors.Is(err, chconn.ErrRowRefused) {
		return "ClickHouse refused the row: " + err.Error()
	}
	return err.Error()
}
