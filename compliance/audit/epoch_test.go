package audit_test

// Kafka epochs: the raw topic and the events topic start again from offset zero — deleted and created
// again under the running consumers, or the pipeline pointed at another (fresh) Kafka cluster — while
// ClickHouse keeps everything. Every callback of both epochs must be in the analysts' views exactly
// once, in the raw archive once, chained once, and audit verify must pass and name the boundary.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/compliance/audit"
	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/internal/testenv/archivetest"
	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/pipeline"
)

const epochPartitions = 3

// epochRig is one ClickHouse database and the Kafka cluster(s) the pipeline reads in turn.
type epochRig struct {
	t     *testing.T
	conn  driver.Conn
	tc    kafka.Config
	pcfg  pipeline.Config
	start time.Time
	sent  []event.Event // every callback produced, across epochs
}

func newEpochRig(t *testing.T) *epochRig {
	_, conn := archivetest.Migrated(t)
	tc := kafka.DefaultConfig()
	tc.Prefix = "e."
	pcfg := pipeline.DefaultConfig()
	pcfg.Group = "g-epochs"
	pcfg.BatchRows = 8 // several batches per partition and epoch
	pcfg.BatchWait = 50 * time.Millisecond
	pcfg.RetryMin, pcfg.RetryMax = 20*time.Millisecond, 200*time.Millisecond
	return &epochRig{t: t, conn: conn, tc: tc, pcfg: pcfg, start: time.Now().UTC()}
}

// cluster starts a fresh kfake cluster with the project's topics and points the rig at it.
func (r *epochRig) cluster(id string) {
	r.t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.ClusterID(id), kfake.SeedTopics(epochPartitions, r.tc.All()...))
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(c.Close)
	r.tc.Brokers = c.ListenAddrs()
}

// consumers runs the three consumers of imarchive consume (events, raw archive, hash chain) until
// the returned stop.
func (r *epochRig) consumers() (stop func()) {
	r.t.Helper()
	log := archivetest.Discard()
	events, err := pipeline.NewEventConsumer(r.pcfg, r.tc, r.conn, log, prometheus.NewRegistry())
	if err != nil {
		r.t.Fatal(err)
	}
	raw, err := pipeline.NewRawConsumer(r.pcfg, r.tc, r.conn, log, prometheus.NewRegistry())
	if err != nil {
		r.t.Fatal(err)
	}
	chain, err := audit.NewChainConsumer(audit.ChainConfig{}, r.pcfg, r.tc, r.conn, log, prometheus.NewRegistry())
	if err != nil {
		r.t.Fatal(err)
	}
	stops := []func(){start(r.t, events), start(r.t, raw), start(r.t, chain)}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}

// send produces n callbacks as serve does: the canonical event on the events topic (keyed for
// ordering) and the raw record on the raw topic.
func (r *epochRig) send(epoch string, n int) {
	r.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.tc.Brokers...), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		r.t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := range n {
		at := r.start.Add(time.Duration(len(r.sent)) * time.Millisecond).UnixMilli()
		e := event.Event{SchemaVersion: 1, EventID: fmt.Sprintf("%s-%03d", epoch, i), Source: event.SourceNetease, App: "app",
			Kind: event.KindMessage, Op: event.OpSend, PlatformType: "48", OccurredAtMs: at, ReceivedAtMs: at, MsgTimeMs: at,
			Actor: "alice", MsgID: fmt.Sprintf("m-%s-%d", epoch, i), Body: fmt.Sprintf("message %d of %s", i, epoch),
			Target: event.Target{Server: "s1", Channel: fmt.Sprintf("c%d", i%4)},
			Attrs:  map[string]string{"eventType": "48", "body": fmt.Sprintf("message %d of %s", i, epoch)}}
		r.sent = append(r.sent, e)
		v, err := jsonEvent(e)
		if err != nil {
			r.t.Fatal(err)
		}
		raw := archivetest.RawRecord(e, 0, 0)
		raw.Topic, raw.Partition, raw.Offset = r.tc.Raw(), 0, 0
		recs = append(recs, &kgo.Record{Topic: r.tc.Events(), Key: []byte(e.Key()), Value: v}, raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		r.t.Fatal(err)
	}
}

// archived waits until every callback sent is in the views, the raw archive and the chain, then
// checks that each is there exactly once.
func (r *epochRig) archived() {
	r.t.Helper()
	want := uint64(len(r.sent))
	for _, q := range []string{
		"SELECT count() FROM archive_events",
		"SELECT count() FROM messages",
		"SELECT count() FROM raw_callbacks",
		"SELECT count() FROM raw_chain",
	} {
		waitCount(r.t, r.conn, q, want)
	}
	got := map[string]int{}
	rows, err := r.conn.Query(context.Background(), "SELECT event_id FROM messages")
	if err != nil {
		r.t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			r.t.Fatal(err)
		}
		got[id]++
	}
	rows.Close()
	for _, e := range r.sent {
		if got[e.EventID] != 1 {
			r.t.Errorf("event %s is in messages %d times", e.EventID, got[e.EventID])
		}
	}
	for q, want := range map[string]uint64{
		"SELECT uniqExact(event_id) FROM raw_callbacks":                                      want,
		"SELECT uniqExact(raw_topic_id, raw_partition, raw_offset) FROM raw_callbacks":       want,
		"SELECT uniqExact(raw_topic_id, raw_partition, raw_offset) FROM raw_chain":           want,
		"SELECT countIf(event_id NOT IN (SELECT event_id FROM raw_callbacks)) FROM messages": 0,
	} {
		if n := count(r.t, r.conn, q); n != want {
			r.t.Errorf("%s = %d, want %d", q, n, want)
		}
	}
}

// verify runs audit verify over everything and returns its report; it must pass.
func (r *epochRig) verify() audit.Report {
	r.t.Helper()
	rep, err := audit.Verify(context.Background(), r.conn, audit.Range{From: r.start.Add(-time.Hour), To: r.start.Add(time.Hour), Window: 7}, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	if !rep.OK() || rep.Checked() != len(r.sent) {
		r.t.Fatalf("audit verify: %d of %d records checked, breaks %v", rep.Checked(), len(r.sent), rep.Breaks)
	}
	return rep
}

// boundaries checks that verify names one boundary per partition, from the first epoch's topic to the
// second's, with reason.
func boundaries(t *testing.T, rep audit.Report, reason string) {
	t.Helper()
	if len(rep.Boundaries) != epochPartitions {
		t.Fatalf("boundaries %v, want one per partition", rep.Boundaries)
	}
	for _, b := range rep.Boundaries {
		if b.FromTopicID == "" || b.TopicID == "" || b.FromTopicID == b.TopicID || b.Offset != 0 || b.FromOffset < 0 || !strings.Contains(b.Reason, reason) {
			t.Errorf("boundary %s: want the first epoch's topic ID ending, the second's starting at offset 0, because %q", b, reason)
		}
	}
	// Every segment's head is reported for anchoring: two per partition, and they hold.
	if len(rep.Heads) != 2*epochPartitions {
		t.Errorf("heads %v, want two segments per partition", rep.Heads)
	}
}

// TestEpochTopicsRecreated: both topics are deleted and created again under the running consumers;
// they follow the new topics, whose offsets start from zero, and nothing of either epoch is lost or
// doubled.
func TestEpochTopicsRecreated(t *testing.T) {
	r := newEpochRig(t)
	r.cluster("cluster-a")
	stop := r.consumers()
	r.send("first", 60)
	r.archived()

	adm := kadm.NewClient(mustClient(t, r.tc.Brokers))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, topic := range []string{r.tc.Raw(), r.tc.Events()} {
		if _, err := adm.DeleteTopic(ctx, topic); err != nil {
			t.Fatal(err)
		}
		if _, err := adm.CreateTopic(ctx, epochPartitions, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	r.send("second", 60)
	r.archived()
	stop()
	boundaries(t, r.verify(), "deleted and created again")
}

// TestEpochNewCluster: the pipeline is stopped and pointed at a fresh Kafka cluster (ClickHouse kept),
// where offsets start from zero; every callback of both clusters is archived once and the chain goes
// on across the move.
func TestEpochNewCluster(t *testing.T) {
	r := newEpochRig(t)
	r.cluster("cluster-a")
	stop := r.consumers()
	r.send("first", 60)
	r.archived()
	stop()

	r.cluster("cluster-b")
	stop = r.consumers()
	r.send("second", 60)
	r.archived()
	stop()
	rep := r.verify()
	boundaries(t, rep, "another Kafka cluster")
	for _, b := range rep.Boundaries {
		if b.FromClusterID != "cluster-a" || b.ClusterID != "cluster-b" {
			t.Errorf("boundary %s: want from cluster-a to cluster-b", b)
		}
	}
}

func jsonEvent(e event.Event) ([]byte, error) { return json.Marshal(&e) }

func mustClient(t *testing.T, brokers []string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}
