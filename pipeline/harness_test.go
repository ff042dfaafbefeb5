package pipeline_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/pipeline"
	"github.com/imarchive/imarchive/schema"
)

// harness is a migrated database on the real ClickHouse engine and an in-process kfake Kafka cluster
// with the project's topics.
type harness struct {
	t    *testing.T
	tc   kafka.Config
	conn driver.Conn
	prod *kgo.Client
	log  *slog.Logger
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	_, conn := testenv.Database(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := schema.Migrate(ctx, conn, log); err != nil {
		t.Fatal(err)
	}
	tc := kafka.DefaultConfig()
	tc.Prefix = "t."
	tc.Partitions = 3
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, tc.All()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	tc.Brokers = cluster.ListenAddrs()
	prod, err := kgo.NewClient(kgo.SeedBrokers(tc.Brokers...), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	return &harness{t: t, tc: tc, conn: conn, prod: prod, log: log}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func (h *harness) config() pipeline.Config {
	cfg := pipeline.DefaultConfig()
	cfg.Group = "g-events"
	cfg.BatchWait = 50 * time.Millisecond
	cfg.RetryMin = 20 * time.Millisecond
	cfg.RetryMax = 200 * time.Millisecond
	return cfg
}

// produceEvents puts events on the events topic as ingest does: JSON, keyed by Event.Key.
func (h *harness) produceEvents(evs ...event.Event) {
	h.t.Helper()
	var recs []*kgo.Record
	for i := range evs {
		v, err := json.Marshal(&evs[i])
		if err != nil {
			h.t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: h.tc.Events(), Key: []byte(evs[i].Key()), Value: v})
	}
	h.produce(recs...)
}

func (h *harness) produce(recs ...*kgo.Record) {
	h.t.Helper()
	if err := h.prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		h.t.Fatal(err)
	}
}

// running is a consumer running in the background.
type running struct {
	cancel context.CancelFunc
	done   chan error
	close  func()
	reg    *prometheus.Registry
}

// start runs a consumer ("events" or "raw") until stop.
func (h *harness) start(kind string, cfg pipeline.Config) *running {
	h.t.Helper()
	reg := prometheus.NewRegistry()
	var run func(context.Context) error
	var closeFn func()
	switch kind {
	case "events":
		c, err := pipeline.NewEventConsumer(cfg, h.tc, h.conn, h.log, reg)
		if err != nil {
			h.t.Fatal(err)
		}
		run, closeFn = c.Run, c.Close
	case "raw":
		c, err := pipeline.NewRawConsumer(cfg, h.tc, h.conn, h.log, reg)
		if err != nil {
			h.t.Fatal(err)
		}
		run, closeFn = c.Run, c.Close
	default:
		h.t.Fatalf("no consumer %q", kind)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), close: closeFn, reg: reg}
	go func() { r.done <- run(ctx) }()
	var once sync.Once
	h.t.Cleanup(func() { once.Do(func() { r.stop(h.t) }) })
	return r
}

// stop asks the consumer to stop and waits for it.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("consumer stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("consumer did not stop within 30 s")
	}
	r.close()
	r.cancel = nil
}

// count runs a query returning one number.
func (h *harness) count(query string, args ...any) uint64 {
	h.t.Helper()
	var n uint64
	if err := h.conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// waitCount waits until query returns want, failing after timeout.
func (h *harness) waitCount(what string, want uint64, timeout time.Duration, query string, args ...any) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	var got uint64
	for {
		if got = h.count(query, args...); got == want {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: %d after %s, want %d (%s)", what, got, timeout, want, query)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// written is how many records the consumer has written and committed (its rows_written counter).
func (r *running) written() float64 {
	mfs, err := r.reg.Gather()
	if err != nil {
		return -1
	}
	for _, mf := range mfs {
		if mf.GetName() == "imarchive_pipeline_rows_written_total" {
			for _, m := range mf.GetMetric() {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// metric sums the values of a counter, gauge or histogram count of the consumer's registry.
func (r *running) metric(name string) (float64, bool) {
	mfs, err := r.reg.Gather()
	if err != nil {
		return 0, false
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		sum := 0.0
		for _, m := range mf.GetMetric() {
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			case m.Histogram != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
		return sum, true
	}
	return 0, false
}

// waitWritten waits until the consumer has written and committed want records.
func (r *running) waitWritten(t *testing.T, want float64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for r.written() < want {
		if time.Now().After(deadline) {
			t.Fatalf("consumer wrote %v records in %s, want %v", r.written(), timeout, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := r.written(); got != want {
		t.Fatalf("consumer wrote %v records, want %v", got, want)
	}
}

// waitGroup waits until the consumer group is stable with members members, each assigned partitions.
func (h *harness) waitGroup(group string, members int) {
	h.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.tc.Brokers...))
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(30 * time.Second)
	for {
		gs, err := adm.DescribeGroups(context.Background(), group)
		if err == nil {
			g := gs[group]
			ok := g.State == "Stable" && len(g.Members) == members
			for _, m := range g.Members {
				c, isConsumer := m.Assigned.AsConsumer()
				n := 0
				if isConsumer {
					for _, t := range c.Topics {
						n += len(t.Partitions)
					}
				}
				ok = ok && n > 0
			}
			if ok {
				return
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("group %s not stable with %d members each assigned partitions after 30 s", group, members)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readDeadLetters reads every record of the dead-letter topic.
func (h *harness) readDeadLetters(want int) []*kgo.Record {
	h.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.tc.Brokers...), kgo.ConsumeTopics(h.tc.DeadLetter()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			h.t.Fatalf("dead letters: got %d, want %d", len(out), want)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
