package kafka_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/kafka"
)

// TestEnsureCreatesWithPartitionsAndReplication creates the three topics on a three-broker in-process
// cluster with the configured partitions and replication factor, and leaves existing topics alone.
func TestEnsureCreatesWithPartitionsAndReplication(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(3))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	tc := kafka.DefaultConfig()
	tc.Brokers = cluster.ListenAddrs()
	tc.Prefix = "t."
	tc.Partitions = 4
	tc.ReplicationFactor = 3
	cl, err := kgo.NewClient(tc.ClientOptions(slog.New(slog.NewTextHandler(io.Discard, nil)))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	for range 2 { // the second run finds them all and changes nothing
		if err := tc.Ensure(ctx, cl); err != nil {
			t.Fatal(err)
		}
	}
	details, err := kadm.NewClient(cl).ListTopics(ctx, tc.All()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range tc.All() {
		d, ok := details[name]
		if !ok || d.Err != nil {
			t.Fatalf("topic %s not created: %v", name, d.Err)
		}
		if len(d.Partitions) != 4 {
			t.Errorf("%s has %d partitions, want 4", name, len(d.Partitions))
		}
		for _, p := range d.Partitions {
			if len(p.Replicas) != 3 {
				t.Errorf("%s partition %d has %d replicas, want 3", name, p.Partition, len(p.Replicas))
			}
		}
	}
}

func TestValidateReplication(t *testing.T) {
	tc := kafka.DefaultConfig()
	tc.Brokers = []string{"k:9092"}
	for _, rf := range []int16{-1, 1, 3} {
		tc.ReplicationFactor = rf
		if err := tc.Validate(); err != nil {
			t.Errorf("replication %d: %v", rf, err)
		}
	}
	for _, rf := range []int16{0, -2} {
		tc.ReplicationFactor = rf
		if err := tc.Validate(); err == nil || !strings.Contains(err.Error(), "replication factor") {
			t.Errorf("replication %d: want an error, got %v", rf, err)
		}
	}
}

// TestEnsureRecordLimit: created topics get max.message.bytes = the record limit; a topic that
// exists with a smaller one is reported (ErrTopicLimit, saying how to raise it), not changed.
func TestEnsureRecordLimit(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	tc := kafka.DefaultConfig()
	tc.Brokers = cluster.ListenAddrs()
	tc.Prefix = "t."
	cl, err := kgo.NewClient(tc.ClientOptions(slog.New(slog.NewTextHandler(io.Discard, nil)))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	adm := kadm.NewClient(cl)
	small := "1048588"
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": &small}, tc.Raw()); err != nil {
		t.Fatal(err)
	}
	err = tc.Ensure(ctx, cl)
	if !errors.Is(err, kafka.ErrTopicLimit) || !strings.Contains(err.Error(), tc.Raw()+" allows 1048588 bytes") || !strings.Contains(err.Error(), "--add-config max.message.bytes=4194304") {
		t.Fatalf("Ensure with a small existing topic: %v", err)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, tc.Events(), tc.DeadLetter(), tc.Raw())
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			if c.Key != "max.message.bytes" {
				continue
			}
			want := "4194304"
			if rc.Name == tc.Raw() {
				want = small // left as it was
			}
			if c.Value == nil || *c.Value != want {
				t.Errorf("%s: max.message.bytes %v, want %s", rc.Name, c.Value, want)
			}
		}
	}
}
