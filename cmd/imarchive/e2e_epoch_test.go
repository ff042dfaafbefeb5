package main_test

// Kafka epochs end to end: the real binary, ClickHouse kept, Kafka's offsets starting again from zero —
// the topics deleted and created again on the real broker, or imarchive dev restarted with a fresh
// embedded Kafka (the black-box finding of issue 13). Every callback acknowledged in either epoch must
// be in the analysts' views exactly once, and imarchive audit verify must pass and name the boundary.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// auditVerify runs imarchive audit verify over the last day and returns its output; it fails the test
// when verify finds a break.
func auditVerify(t *testing.T, s *stack) string {
	t.Helper()
	now := time.Now().UTC()
	return s.run("audit", "verify", "--from", now.Add(-24*time.Hour).Format(time.RFC3339), "--to", now.Add(time.Hour).Format(time.RFC3339))
}

// boundariesNamed checks that verify's output names an epoch boundary in every partition, with reason.
func boundariesNamed(t *testing.T, out, reason string) {
	t.Helper()
	n := strings.Count(out, "epoch boundary: partition ")
	if n != 3 || strings.Count(out, reason) != 3 || !strings.Contains(out, "OK: ") {
		t.Errorf("audit verify named %d boundaries, want one per partition (3) because %q:\n%s", n, reason, out)
	}
}

// TestEpochTopicsRecreatedEndToEnd: serve and consume run on the real broker; the three topics are
// deleted and created again (serve and consume create them when they start); offsets start from
// zero, and every callback of both epochs is archived once and verifies.
func TestEpochTopicsRecreatedEndToEnd(t *testing.T) {
	s := newStack(t)
	startPipeline(t, s)
	tr := newTraffic(s)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tr.send(ctx, 150, 6, nil)
	verifyArchive(t, s, tr.ackedIDs())
	s.stop("serve")
	s.stop("consume")

	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(s.getenv("IMARCHIVE_KAFKA_BROKERS"), ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	prefix := s.getenv("IMARCHIVE_TOPIC_PREFIX")
	names := []string{prefix + "raw", prefix + "events", prefix + "deadletter"}
	if _, err := adm.DeleteTopics(ctx, names...); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the topics to be deleted", 60*time.Second, func() bool {
		td, err := adm.ListTopics(ctx, names...)
		return err == nil && len(td.TopicsSet()) == 0
	})

	s.start("serve")
	s.start("consume")
	waitFor(t, "serve /readyz", 60*time.Second, s.ready)
	tr.next.Store(150) // each worker of the first send took one index past 150 before it stopped
	tr.send(ctx, 300, 6, nil)
	if n := len(tr.ackedIDs()); n != 300 {
		t.Fatalf("%d of 300 callbacks acknowledged", n)
	}
	verifyArchive(t, s, tr.ackedIDs())
	boundariesNamed(t, auditVerify(t, s), "the raw topic was deleted and created again")
	s.stop("serve")
	s.stop("consume")
}

// TestEpochDevRestart: imarchive dev with its embedded, in-memory Kafka, restarted against the
// ClickHouse database it wrote: the second run's Kafka is a fresh cluster whose offsets start from
// zero again. Every callback of both runs is archived once; the chain goes on across the restart.
func TestEpochDevRestart(t *testing.T) {
	s := newStack(t)
	s.env = append(s.env, "IMARCHIVE_KAFKA_BROKERS=") // dev's embedded Kafka
	tr := newTraffic(s)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for run, upTo := range []int64{300, 600} {
		s.start("dev")
		waitFor(t, "dev /readyz", 60*time.Second, s.ready)
		tr.next.Store(int64(len(tr.ackedIDs()))) // each worker of a send takes one index past its end
		tr.send(ctx, upTo, 6, nil)
		if n := len(tr.ackedIDs()); n != int(upTo) {
			t.Fatalf("run %d: %d of %d callbacks acknowledged", run+1, n, upTo)
		}
		verifyArchive(t, s, tr.ackedIDs())
		s.stop("dev")
	}
	boundariesNamed(t, auditVerify(t, s), "the pipeline read another Kafka cluster")
}
