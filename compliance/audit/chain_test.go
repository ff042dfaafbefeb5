package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/compliance/audit"
	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/internal/testenv/archivetest"
	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/pipeline"
)

type runner interface {
	Run(context.Context) error
	Close()
}

// start runs a consumer until the test ends or stop is called.
func start(t *testing.T, c runner) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("consumer: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("consumer did not stop")
		}
		c.Close()
	}
	t.Cleanup(stop)
	return stop
}

func count(t *testing.T, conn driver.Conn, q string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func waitCount(t *testing.T, conn driver.Conn, q string, want uint64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := count(t, conn, q)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d, want %d", q, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestChainConsumer runs the chain consumer and the raw archive consumer on a real Kafka broker: the
// chain covers every raw record once, in offset order; a second chain consumer that re-reads the whole
// topic (another group, as after a reset) skips what is chained and continues the same chains; and
// the archive verifies.
func TestChainConsumer(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	_, conn := archivetest.Migrated(t)
	tc := kafka.DefaultConfig()
	tc.Brokers = brokers
	tc.Prefix = testenv.Unique(t) + "."
	tc.Partitions = 3
	tc.ReplicationFactor = 1
	log := archivetest.Discard()
	prod, err := kgo.NewClient(append(tc.ClientOptions(log), kgo.RequiredAcks(kgo.AllISRAcks()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := tc.Ensure(ctx, prod); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	produce := func(from, n int) {
		t.Helper()
		var recs []*kgo.Record
		for i := from; i < from+n; i++ {
			e := event.Event{EventID: fmt.Sprintf("ev-%03d", i), Source: event.SourceNetease, App: "app",
				ReceivedAtMs: now.Add(time.Duration(i) * time.Millisecond).UnixMilli(),
				Attrs:        map[string]string{"eventType": "48", "body": fmt.Sprintf("message %d", i)}}
			r := archivetest.RawRecord(e, 0, 0)
			r.Topic, r.Partition, r.Offset = tc.Raw(), 0, 0
			recs = append(recs, r)
		}
		if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	pcfg := pipeline.DefaultConfig()
	pcfg.Group = "g-" + testenv.Unique(t)
	pcfg.BatchRows = 7 // several batches per partition
	pcfg.BatchWait = 50 * time.Millisecond
	pcfg.RetryMin, pcfg.RetryMax = 20*time.Millisecond, 200*time.Millisecond

	raw, err := pipeline.NewRawConsumer(pcfg, tc, conn, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	start(t, raw)
	chain1, err := audit.NewChainConsumer(audit.ChainConfig{}, pcfg, tc, conn, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	stop1 := start(t, chain1)

	produce(0, 40)
	waitCount(t, conn, "SELECT count() FROM raw_chain", 40)
	stop1()

	// A second chain consumer in a fresh group reads the topic from the start: the 40 chained
	// records are skipped, the new ones continue the chains.
	reg := prometheus.NewRegistry()
	chain2, err := audit.NewChainConsumer(audit.ChainConfig{Group: pcfg.Group + "-chain-again"}, pcfg, tc, conn, log, reg)
	if err != nil {
		t.Fatal(err)
	}
	start(t, chain2)
	produce(40, 20)
	waitCount(t, conn, "SELECT count() FROM raw_chain", 60)
	waitCount(t, conn, "SELECT count() FROM raw_callbacks_data FINAL", 60)
	if n := count(t, conn, "SELECT uniqExact(raw_partition, raw_offset) FROM raw_chain"); n != 60 {
		t.Errorf("%d distinct positions in 60 chain rows: re-delivery forked the chain", n)
	}
	skipped := counterValue(t, reg, "imarchive_audit_chain_skipped_records_total")
	if skipped != 40 {
		t.Errorf("second chain consumer skipped %v records, want the 40 chained before", skipped)
	}
	// Offsets are chained without gaps from 0 in each partition, and the heads are the last offsets.
	if n := count(t, conn, "SELECT count() FROM (SELECT raw_partition, max(raw_offset) + 1 = count() AS dense, min(raw_offset) = 0 AS from0 FROM raw_chain GROUP BY raw_partition) WHERE dense AND from0"); n != 3 {
		t.Errorf("%d of 3 partitions chained densely from offset 0", n)
	}
	rep, err := audit.Verify(ctx, conn, audit.Range{From: now.Add(-time.Hour), To: now.Add(time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Checked() != 60 {
		t.Fatalf("verify: %d checked, breaks %v", rep.Checked(), rep.Breaks)
	}
}

// counterValue reads the counter named name on reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) == 1 {
			return mf.Metric[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestChainConfig: the chain group must not be one of the pipeline's.
func TestChainConfig(t *testing.T) {
	p := pipeline.DefaultConfig()
	if got := (audit.ChainConfig{}).GroupName(p); got != p.Group+"-chain" {
		t.Errorf("default group %q", got)
	}
	for _, g := range []string{p.Group, p.RawGroupName()} {
		if err := (audit.ChainConfig{Group: g}).Validate(p); err == nil {
			t.Errorf("group %q accepted", g)
		}
	}
	if err := (audit.ChainConfig{Group: "mine"}).Validate(p); err != nil {
		t.Error(err)
	}
}
