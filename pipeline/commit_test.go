package pipeline_test

// The commit rule without services: the consumer against franz-go's in-process Kafka (kfake) and a
// fake sink that records what it was asked to write and fails on demand. The sink is the only fake;
// the group, the fetches, the commits and the dead-letter topic are Kafka's (kfake's) own.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/pipeline"
)

// write is one Write call the fake sink saw.
type write struct {
	rows  []string // the records' values
	token string
	epoch pipeline.Epoch
	err   error // what the sink answered
}

// fakeSink records every Write. fail decides each call's answer (nil: success); block, when set,
// holds a Write until it is closed.
type fakeSink struct {
	mu      sync.Mutex
	calls   []write
	written []string // rows of successful writes, in order
	resets  int
	fail    func(rows []string) error
	entered chan struct{} // receives once per Write call, when set
	block   chan struct{}
}

func (s *fakeSink) Decode(r *kgo.Record) (string, error) {
	if string(r.Value) == "undecodable" {
		return "", errors.New("not a record this sink can write")
	}
	return string(r.Value), nil
}

func (s *fakeSink) Write(ctx context.Context, items []pipeline.Item[string], token string) error {
	rows := make([]string, len(items))
	for i, it := range items {
		rows[i] = it.Row
	}
	s.mu.Lock()
	entered, block, fail := s.entered, s.block, s.fail
	s.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var err error
	if fail != nil {
		err = fail(rows)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, write{rows: rows, token: token, epoch: items[0].Epoch, err: err})
	return err
}

func (s *fakeSink) Written(items []pipeline.Item[string]) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range items {
		s.written = append(s.written, it.Row)
	}
}

func (s *fakeSink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resets++
}

func (s *fakeSink) snapshot() ([]write, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls), slices.Clone(s.written)
}

func (s *fakeSink) setFail(f func([]string) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = f
}

// commitRig is a kfake cluster with the project's topics and a consumer group on the events topic.
type commitRig struct {
	t       *testing.T
	cluster *kfake.Cluster
	tc      kafka.Config
	cfg     pipeline.Config
	adm     *kadm.Client
	prod    *kgo.Client
}

func newCommitRig(t *testing.T, partitions int32, opts ...kfake.Opt) *commitRig {
	t.Helper()
	tc := kafka.DefaultConfig()
	tc.Prefix = "u."
	cluster, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, tc.All()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	tc.Brokers = cluster.ListenAddrs()
	prod, err := kgo.NewClient(kgo.SeedBrokers(tc.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	cfg := pipeline.DefaultConfig()
	cfg.Group = "g-unit"
	cfg.BatchWait = 100 * time.Millisecond
	cfg.InsertInterval = 50 * time.Millisecond // the interval's own tests set theirs
	cfg.RetryMin, cfg.RetryMax = 10*time.Millisecond, 50*time.Millisecond
	return &commitRig{t: t, cluster: cluster, tc: tc, cfg: cfg, adm: kadm.NewClient(prod), prod: prod}
}

// produce puts values on the events topic's partition p, in order.
func (r *commitRig) produce(p int32, values ...string) {
	r.t.Helper()
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Topic: r.tc.Events(), Partition: p, Key: []byte("k-" + v), Value: []byte(v),
			Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("x")}}})
	}
	if err := r.prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		r.t.Fatal(err)
	}
}

// consumer is a running consumer of the rig.
type consumer struct {
	c      *pipeline.Consumer[string]
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func (r *commitRig) start(sink *fakeSink, cfg pipeline.Config, extra ...kgo.Opt) *consumer {
	r.t.Helper()
	return r.startSink(sink, cfg, extra...)
}

// startSink starts a consumer of the rig writing to any sink of strings.
func (r *commitRig) startSink(sink pipeline.Sink[string], cfg pipeline.Config, extra ...kgo.Opt) *consumer {
	r.t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{r.t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	reg := prometheus.NewRegistry()
	c, err := pipeline.NewConsumer("events", cfg.Group, r.tc.Events(), cfg, r.tc, sink, log, reg, extra...)
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cs := &consumer{c: c, reg: reg, cancel: cancel, done: make(chan error, 1)}
	go func() { cs.done <- c.Run(ctx) }()
	r.t.Cleanup(func() { cs.stop(r.t) })
	return cs
}

func (cs *consumer) stop(t *testing.T) {
	t.Helper()
	cs.once.Do(func() { cs.halt(t) })
}

func (cs *consumer) halt(t *testing.T) {
	t.Helper()
	cs.cancel()
	select {
	case err := <-cs.done:
		if err != nil {
			t.Errorf("consumer stopped with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("consumer did not stop")
	}
	cs.c.Close()
}

func (cs *consumer) counter(name string) float64 {
	mfs, _ := cs.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name {
			sum := 0.0
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	return 0
}

// committed is the group's committed offset of each partition of the events topic (absent: none).
func (r *commitRig) committed(group string) map[int32]int64 {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := map[int32]int64{}
	resp, err := r.adm.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return out
	}
	if err != nil {
		r.t.Fatalf("fetch offsets: %v", err)
	}
	for p, o := range resp[r.tc.Events()] {
		if o.Err == nil && o.At >= 0 {
			out[p] = o.At
		}
	}
	return out
}

// members is how many members of the group are assigned partitions, once the group is stable.
func (r *commitRig) members(group string) int {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gs, err := r.adm.DescribeGroups(ctx, group)
	if err != nil || gs[group].State != "Stable" {
		return 0
	}
	n := 0
	for _, m := range gs[group].Members {
		if c, ok := m.Assigned.AsConsumer(); ok && len(c.Topics) > 0 && len(c.Topics[0].Partitions) > 0 {
			n++
		}
	}
	return n
}

// deadLetters reads the dead-letter topic from its start for a while.
func (r *commitRig) deadLetters(want int) []*kgo.Record {
	r.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.tc.Brokers...), kgo.ConsumeTopics(r.tc.DeadLetter()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		r.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out []*kgo.Record
	for ctx.Err() == nil && (want < 0 || len(out) < want) {
		out = append(out, cl.PollFetches(ctx).Records()...)
	}
	return out
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func values(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return out
}

// Availability errors as the ClickHouse client returns them.
var (
	errTooManyParts = &clickhouse.Exception{Code: 252, CodeName: "TOO_MANY_PARTS", Message: "Too many parts (3001). Merges are processing significantly slower than inserts"}
	errMemory       = &clickhouse.Exception{Code: 241, CodeName: "MEMORY_LIMIT_EXCEEDED", Message: "Memory limit (total) exceeded"}
	errUnknownCode  = &clickhouse.Exception{Code: 99999, Message: "a code this build does not know"}
	errSchema       = &clickhouse.Exception{Code: 16, CodeName: "NO_SUCH_COLUMN_IN_TABLE", Message: "There is no column raw_topic_id in table"}
	errRefused      = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	errProxy        = &clickhouse.HTTPError{StatusCode: 502, Err: errors.New(`response body: "<html>Bad Gateway</html>"`)}
	errTimeout      = fmt.Errorf("insert 10 rows into messages_data: %w", context.DeadlineExceeded)
)

// TestCommitOnlyAfterTheWrite: while the sink fails — an outage of any kind — nothing is committed and
// nothing is dead-lettered; the same rows are retried with the same token; once the write succeeds
// the offsets are committed, up to the end.
func TestCommitOnlyAfterTheWrite(t *testing.T) {
	r := newCommitRig(t, 1)
	r.produce(0, values("a", 10)...)
	outages := []error{errTooManyParts, errMemory, errUnknownCode, errSchema, errRefused, errProxy, errTimeout}
	sink := &fakeSink{}
	var mu sync.Mutex
	failing := true
	sink.setFail(func([]string) error {
		mu.Lock()
		defer mu.Unlock()
		if !failing {
			return nil
		}
		return outages[len(sink.calls)%len(outages)]
	})
	cfg := r.cfg
	cfg.BatchWait = time.Second // the ten records in one batch
	c := r.start(sink, cfg)

	eventually(t, "two rounds of every kind of outage, or a commit", func() bool {
		calls, _ := sink.snapshot()
		return len(calls) >= 2*len(outages) || len(r.committed(cfg.Group)) > 0
	})
	if got := r.committed(cfg.Group); len(got) != 0 {
		t.Fatalf("committed %v while every write failed", got)
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	eventually(t, "the commit after the write", func() bool { return r.committed(cfg.Group)[0] == 10 })

	calls, written := sink.snapshot()
	for i, w := range calls {
		if w.token != calls[0].token || !slices.Equal(w.rows, calls[0].rows) {
			t.Errorf("attempt %d wrote %v with token %s; the first wrote %v with %s", i+1, w.rows, w.token, calls[0].rows, calls[0].token)
		}
	}
	if !slices.Equal(written, values("a", 10)) {
		t.Errorf("written %v", written)
	}
	if dl := r.deadLetters(-1); len(dl) != 0 {
		t.Errorf("%d records dead-lettered during an outage", len(dl))
	}
	if got := c.counter("imarchive_pipeline_refused_rows_total") + c.counter("imarchive_pipeline_dead_letters_total"); got != 0 {
		t.Errorf("refused/dead-letter counters %v", got)
	}
	if got := c.counter("imarchive_pipeline_insert_retries_total"); got < float64(2*len(outages)) {
		t.Errorf("retries counter %v", got)
	}
}

// TestPoisonRowSetAsideAndPartitionMovesOn: ClickHouse refuses one row for its data; the batch is
// written in halves until the row is alone, every other row is written once, the refused one goes to
// the dead-letter topic with ClickHouse's words, the offsets are committed and the partition goes on.
// A record that cannot be decoded is dead-lettered before the write.
func TestPoisonRowSetAsideAndPartitionMovesOn(t *testing.T) {
	r := newCommitRig(t, 1)
	vals := values("m", 13)
	vals[9] = "poison"
	vals[4] = "undecodable"
	r.produce(0, vals...)
	refusal := &clickhouse.Exception{Code: 469, CodeName: "VIOLATED_CONSTRAINT",
		Message: "Constraint `no_poison` for table imarchive.messages_data (…) is violated at row 1. Expression: (body != 'poison')"}
	sink := &fakeSink{}
	sink.setFail(func(rows []string) error {
		if slices.Contains(rows, "poison") {
			return fmt.Errorf("insert %d rows into messages_data: %w", len(rows), refusal)
		}
		return nil
	})
	cfg := r.cfg
	cfg.BatchWait = time.Second
	c := r.start(sink, cfg)
	eventually(t, "the commit past the poison row", func() bool { return r.committed(cfg.Group)[0] == 13 })

	_, written := sink.snapshot()
	want := slices.DeleteFunc(slices.Clone(vals), func(v string) bool { return v == "poison" || v == "undecodable" })
	if !slices.Equal(written, want) {
		t.Errorf("written %v, want every other row once, in order: %v", written, want)
	}
	dl := r.deadLetters(2)
	reasons := map[string]string{}
	for _, d := range dl {
		reasons[string(d.Value)] = header(d, pipeline.HeaderDLReason)
		if header(d, pipeline.HeaderDLStage) != pipeline.StageConsume || header(d, pipeline.HeaderDLTopic) != r.tc.Events() {
			t.Errorf("dead letter headers %v", d.Headers)
		}
	}
	if got := reasons["poison"]; !strings.Contains(got, "ClickHouse refused the row: code 469 VIOLATED_CONSTRAINT") || !strings.Contains(got, "is violated at row 1") {
		t.Errorf("poison row's reason %q: want ClickHouse's code and words", got)
	}
	if header(dl[0], pipeline.HeaderDLOffset) == "" || !strings.Contains(reasons["undecodable"], "not a record") || len(dl) != 2 {
		t.Errorf("dead letters %v", reasons)
	}
	if got := c.counter("imarchive_pipeline_refused_rows_total"); got != 1 {
		t.Errorf("refused rows counter %v, want 1", got)
	}
	if got := c.counter("imarchive_pipeline_dead_letters_total"); got != 2 {
		t.Errorf("dead letters counter %v, want 2", got)
	}
	if got := c.counter("imarchive_pipeline_rows_written_total"); got != 11 {
		t.Errorf("rows written counter %v, want 11", got)
	}

	// The partition moved on: later records are written as usual.
	r.produce(0, "after-1", "after-2")
	eventually(t, "later records", func() bool { return r.committed(cfg.Group)[0] == 15 })
	if _, written := sink.snapshot(); !slices.Equal(written[len(written)-2:], []string{"after-1", "after-2"}) {
		t.Errorf("after the poison row: %v", written)
	}
}

// TestTokenNamesTheRecords: a re-delivery of the same records (another group re-reading the topic, in
// the same batches) carries the same tokens; records at the same offsets of a topic deleted and
// created again carry other tokens, and another topic ID.
func TestTokenNamesTheRecords(t *testing.T) {
	r := newCommitRig(t, 1)
	r.produce(0, values("x", 6)...)
	cfg := r.cfg
	cfg.BatchRows = 1 // one record per batch: the same boundaries on every read
	first := &fakeSink{}
	c := r.start(first, cfg)
	eventually(t, "the first read", func() bool { return r.committed(cfg.Group)[0] == 6 })
	c.stop(t)

	again := &fakeSink{}
	cfg2 := cfg
	cfg2.Group = "g-unit-again"
	c2 := r.start(again, cfg2)
	eventually(t, "the re-read", func() bool { return r.committed(cfg2.Group)[0] == 6 })
	c2.stop(t)
	tokens := func(s *fakeSink) ([]string, []string) {
		calls, _ := s.snapshot()
		var toks, ids []string
		for _, w := range calls {
			toks, ids = append(toks, w.token), append(ids, w.epoch.TopicID)
		}
		return toks, ids
	}
	t1, ids1 := tokens(first)
	t2, _ := tokens(again)
	if len(t1) != 6 || !slices.Equal(t1, t2) {
		t.Fatalf("tokens of the first read %v, of the re-read %v: want the same six", t1, t2)
	}
	if ids1[0] == "" || len(ids1[0]) != 22 {
		t.Errorf("topic ID %q: want Kafka's 22-character Base64", ids1[0])
	}

	// The topic is deleted and created again; new records land on offsets 0-5 again, one of them
	// byte for byte a record of the old topic.
	recreate(t, r, r.tc.Events(), 1)
	newVals := values("y", 6)
	newVals[2] = "x-02"
	r.produce(0, newVals...)
	third := &fakeSink{}
	cfg3 := cfg
	cfg3.Group = "g-unit-third"
	c3 := r.start(third, cfg3)
	eventually(t, "the new topic's records", func() bool { _, w := third.snapshot(); return len(w) == 6 })
	c3.stop(t)
	t3, ids3 := tokens(third)
	for i := range t3 {
		if slices.Contains(t1, t3[i]) {
			t.Errorf("record %d of the recreated topic carries a token of the old topic (offsets restarted): it would be dropped as a repeat", i)
		}
		if ids3[i] == ids1[0] || ids3[i] == "" {
			t.Errorf("record %d of the recreated topic: topic ID %q, the old one %q", i, ids3[i], ids1[0])
		}
	}
}

// recreate deletes topic and creates it again with the given partitions: a new topic ID, offsets
// from zero.
func recreate(t *testing.T, r *commitRig, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.adm.DeleteTopic(ctx, topic); err != nil {
		t.Fatalf("delete %s: %v", topic, err)
	}
	if _, err := r.adm.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatalf("create %s again: %v", topic, err)
	}
	// The producer knows the old topic ID: forget it.
	r.prod.PurgeTopicsFromClient(topic)
}

// TestTopicRecreatedWhileConsuming: the topic is deleted and created again under a running consumer;
// it follows the topic of its name (Kafka answers the old topic ID with UNKNOWN_TOPIC_ID) and writes
// the new records, offsets from zero, under the new topic ID.
func TestTopicRecreatedWhileConsuming(t *testing.T) {
	r := newCommitRig(t, 2)
	r.produce(0, "old-0", "old-1")
	r.produce(1, "old-2")
	sink := &fakeSink{}
	c := r.start(sink, r.cfg)
	eventually(t, "the old records", func() bool { _, w := sink.snapshot(); return len(w) == 3 })
	calls, _ := sink.snapshot()
	oldID := calls[0].epoch.TopicID

	recreate(t, r, r.tc.Events(), 2)
	r.produce(0, "new-0", "new-1")
	r.produce(1, "new-2")
	eventually(t, "the recreated topic's records", func() bool { _, w := sink.snapshot(); return len(w) == 6 })
	eventually(t, "their commit", func() bool { got := r.committed(r.cfg.Group); return got[0] == 2 && got[1] == 1 })
	calls, written := sink.snapshot()
	slices.Sort(written)
	if !slices.Equal(written, []string{"new-0", "new-1", "new-2", "old-0", "old-1", "old-2"}) {
		t.Errorf("written %v", written)
	}
	for _, w := range calls {
		if strings.HasPrefix(w.rows[0], "new") && (w.epoch.TopicID == oldID || w.epoch.TopicID == "") {
			t.Errorf("new records written under topic ID %q (old %q)", w.epoch.TopicID, oldID)
		}
	}
	if got := c.counter("imarchive_pipeline_topic_recreations_total"); got < 1 {
		t.Errorf("recreations counter %v", got)
	}
}

// TestRebalanceWaitsForTheBatch: a second member joins while the first is in the middle of writing a
// batch; the rebalance waits for it (the batch is written and committed once, no other member writes
// it again), then the partitions are shared and every later record is written once.
func TestRebalanceWaitsForTheBatch(t *testing.T) {
	r := newCommitRig(t, 4)
	for p := range int32(4) {
		r.produce(p, values(fmt.Sprintf("p%d", p), 5)...)
	}
	a := &fakeSink{entered: make(chan struct{}, 100), block: make(chan struct{})}
	cfg := r.cfg
	cfg.BatchWait = 500 * time.Millisecond
	r.start(a, cfg)
	<-a.entered // a is writing its first batch, and holds it

	b := &fakeSink{}
	r.start(b, cfg)
	time.Sleep(time.Second) // b's join is under way; the group waits for a to let the rebalance happen
	if _, w := b.snapshot(); len(w) != 0 {
		t.Fatalf("the new member wrote %v while the first held its batch", w)
	}
	a.mu.Lock()
	close(a.block)
	a.block = nil
	a.mu.Unlock()
	go func() {
		for range a.entered {
		}
	}()
	eventually(t, "the first batch committed", func() bool { return len(r.committed(cfg.Group)) > 0 })
	eventually(t, "both members assigned partitions", func() bool { return r.members(cfg.Group) == 2 })
	for p := range int32(4) {
		r.produce(p, values(fmt.Sprintf("q%d", p), 5)...)
	}
	eventually(t, "every record committed", func() bool {
		got := r.committed(cfg.Group)
		return got[0] == 10 && got[1] == 10 && got[2] == 10 && got[3] == 10
	})
	_, wa := a.snapshot()
	_, wb := b.snapshot()
	all := append(slices.Clone(wa), wb...)
	seen := map[string]int{}
	for _, v := range all {
		seen[v]++
	}
	for p := range 4 {
		for _, v := range append(values(fmt.Sprintf("p%d", p), 5), values(fmt.Sprintf("q%d", p), 5)...) {
			if seen[v] != 1 {
				t.Errorf("%s written %d times (member a wrote %d rows, b %d)", v, seen[v], len(wa), len(wb))
			}
		}
	}
	if len(wb) == 0 {
		t.Error("the second member was given no partition")
	}
	a.mu.Lock()
	resets := a.resets
	a.mu.Unlock()
	if resets == 0 {
		t.Error("the first member's sink was not reset after its partitions moved")
	}
}

// TestMemberKickedOutMidBatch: a member whose write outlasts the group's rebalance timeout loses its
// partitions in the middle of the batch; its commit is refused, the next member reads the same
// records again and writes them with the same token, so ClickHouse drops the repeat.
func TestMemberKickedOutMidBatch(t *testing.T) {
	r := newCommitRig(t, 1, kfake.GroupMinSessionTimeout(time.Second))
	r.produce(0, values("k", 8)...)
	cfg := r.cfg
	cfg.BatchWait = time.Second
	cfg.SessionTimeout = 2 * time.Second
	a := &fakeSink{entered: make(chan struct{}, 10), block: make(chan struct{})}
	ca := r.start(a, cfg, kgo.RebalanceTimeout(2*time.Second))
	<-a.entered

	b := &fakeSink{}
	r.start(b, cfg, kgo.RebalanceTimeout(2*time.Second))
	eventually(t, "the second member to write the batch", func() bool { _, w := b.snapshot(); return len(w) == 8 })
	eventually(t, "its commit", func() bool { return r.committed(cfg.Group)[0] == 8 })
	a.mu.Lock()
	close(a.block)
	a.block = nil
	a.mu.Unlock()
	eventually(t, "the first member to finish its write", func() bool { c, _ := a.snapshot(); return len(c) == 1 })
	eventually(t, "its refused commit", func() bool { return ca.counter("imarchive_pipeline_commit_errors_total") >= 1 })
	ac, _ := a.snapshot()
	bc, _ := b.snapshot()
	if ac[0].token != bc[0].token || !slices.Equal(ac[0].rows, bc[0].rows) {
		t.Errorf("the batch written twice with tokens %s and %s (rows %v and %v): the repeat would not be dropped", ac[0].token, bc[0].token, ac[0].rows, bc[0].rows)
	}
	if got := r.committed(cfg.Group)[0]; got != 8 {
		t.Errorf("committed %d", got)
	}
}
