package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/compliance/audit"
	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/internal/testenv/archivetest"
	"github.com/imarchive/imarchive/pipeline"
)

// epochRecords are n raw records of one topic incarnation, all on partition 0, offsets from first.
func epochRecords(tag string, first, n int) []*kgo.Record {
	var out []*kgo.Record
	for i := range n {
		at := archivetest.T0.Add(time.Duration(len(tag)*1000+i) * time.Second)
		e := event.Event{EventID: fmt.Sprintf("%s-%d", tag, i), Source: event.SourceNetease, App: "app", ReceivedAtMs: at.UnixMilli(),
			Attrs: map[string]string{"eventType": "48", "body": fmt.Sprintf("%s message %d", tag, i)}}
		out = append(out, archivetest.RawRecord(e, 0, int64(first+i)))
	}
	return out
}

func items(t *testing.T, recs []*kgo.Record, epoch pipeline.Epoch) []pipeline.Item[pipeline.RawRow] {
	t.Helper()
	var out []pipeline.Item[pipeline.RawRow]
	for _, r := range recs {
		out = append(out, pipeline.Item[pipeline.RawRow]{Row: pipeline.DecodeRaw(r), Partition: r.Partition, Offset: r.Offset, Epoch: epoch})
	}
	return out
}

// archive writes records into the raw archive and the chain as the consumers do, under epoch; a
// fresh chain sink each time, as after a restart (heads read from ClickHouse).
func archive(t *testing.T, conn driver.Conn, epoch pipeline.Epoch, raw, chain []*kgo.Record) {
	t.Helper()
	ctx := context.Background()
	if len(raw) > 0 {
		its := items(t, raw, epoch)
		if err := pipeline.NewRawSink(conn, prometheus.NewRegistry()).Write(ctx, its, "raw-"+epoch.TopicID+its[0].Row.EventID); err != nil {
			t.Fatal(err)
		}
	}
	if len(chain) > 0 {
		sink := audit.NewChainSink(conn, archivetest.Discard(), prometheus.NewRegistry())
		its := items(t, chain, epoch)
		if err := sink.Write(ctx, its, "chain-"+epoch.TopicID+its[0].Row.EventID); err != nil {
			t.Fatal(err)
		}
		sink.Written(its)
		time.Sleep(5 * time.Millisecond) // segments are ordered by when they were chained
	}
}

var (
	epochA = pipeline.Epoch{TopicID: "AAAAAAAAAAAAAAAAAAAAAA", ClusterID: "c1"}
	epochB = pipeline.Epoch{TopicID: "BBBBBBBBBBBBBBBBBBBBBB", ClusterID: "c1"}
	epochC = pipeline.Epoch{TopicID: "CCCCCCCCCCCCCCCCCCCCCC", ClusterID: "c2"}
	legacy = pipeline.Epoch{}
)

// TestVerifySegments: a partition's chain over three topic incarnations verifies and names both
// boundaries with their reasons; every way of cutting or forging at a boundary is found.
func TestVerifySegments(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	a, b, c := epochRecords("a", 0, 6), epochRecords("bb", 0, 4), epochRecords("ccc", 0, 5)
	seed := func() {
		for _, tbl := range []string{"raw_callbacks_data", "raw_chain"} {
			exec(t, conn, "TRUNCATE TABLE "+tbl)
		}
		archive(t, conn, epochA, a, a)
		archive(t, conn, epochB, b, b)
		archive(t, conn, epochC, c, c)
	}
	seed()
	rep := verify(t, conn)
	if !rep.OK() || rep.Checked() != 15 || len(rep.Boundaries) != 2 || len(rep.Heads) != 3 {
		t.Fatalf("untouched: %d checked, breaks %v, boundaries %v, heads %v", rep.Checked(), rep.Breaks, rep.Boundaries, rep.Heads)
	}
	want := []string{
		"partition 0: topic id BBBBBBBBBBBBBBBBBBBBBB (cluster c1) from offset 0 follows topic id AAAAAAAAAAAAAAAAAAAAAA (cluster c1) at offset 5: the raw topic was deleted and created again in the same Kafka cluster (its offsets start again)",
		"partition 0: topic id CCCCCCCCCCCCCCCCCCCCCC (cluster c2) from offset 0 follows topic id BBBBBBBBBBBBBBBBBBBBBB (cluster c1) at offset 3: the pipeline read another Kafka cluster (its offsets start again)",
	}
	for i, b := range rep.Boundaries {
		if b.String() != want[i] {
			t.Errorf("boundary %d:\n got %s\nwant %s", i, b, want[i])
		}
	}

	for _, tc := range []struct {
		name   string
		tamper func()
		want   []string
	}{
		{"a whole earlier segment removed", func() {
			exec(t, conn, "DELETE FROM raw_callbacks_data WHERE raw_topic_id = ?", epochA.TopicID)
			exec(t, conn, "DELETE FROM raw_chain WHERE raw_topic_id = ?", epochA.TopicID)
		}, []string{"0/0 broken_link"}},
		{"the last record of a segment removed with its chain row", func() {
			exec(t, conn, "DELETE FROM raw_callbacks_data WHERE raw_topic_id = ? AND raw_offset = 3", epochB.TopicID)
			exec(t, conn, "DELETE FROM raw_chain WHERE raw_topic_id = ? AND raw_offset = 3", epochB.TopicID)
		}, []string{"0/0 broken_link"}},
		{"a record of the middle segment altered", func() {
			exec(t, conn, "ALTER TABLE raw_callbacks_data UPDATE body = 'x' WHERE raw_topic_id = ? AND raw_offset = 2", epochB.TopicID)
		}, []string{"0/2 altered"}},
		{"a chain row moved to another segment", func() {
			exec(t, conn, "ALTER TABLE raw_chain UPDATE raw_topic_id = ? WHERE raw_topic_id = ? AND raw_offset = 2", epochC.TopicID, epochA.TopicID)
		}, []string{"0/2 forked", "0/2 unchained", "0/3 broken_link"}},
		{"a forged segment from the genesis", func() {
			exec(t, conn, `INSERT INTO raw_chain (raw_partition, raw_offset, raw_topic_id, event_id, source, app, received_at, payload_sha256, headers_sha256, prev_hash, hash)
				SELECT raw_partition, raw_offset, 'DDDDDDDDDDDDDDDDDDDDDD', event_id, source, app, received_at, payload_sha256, headers_sha256, prev_hash, hash
				FROM raw_chain WHERE raw_topic_id = ? AND raw_offset = 0`, epochA.TopicID)
		}, []string{"0/0 broken_link"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed()
			tc.tamper()
			rep := verify(t, conn)
			if got := breaks(rep); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("breaks %v, want %v\n%v", got, tc.want, rep.Breaks)
			}
		})
	}
}

// TestVerifyAcrossTheUpgrade: records chained before schema 0070 (no topic ID) and the first run
// after it, whose consumers read the same topic under its ID: the raw archive was ahead of the chain
// (records archived without an ID, chained with one), then a crash re-delivered records the chain had
// (archived with an ID, chained without). The chain is not doubled, and everything verifies.
func TestVerifyAcrossTheUpgrade(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	recs := epochRecords("u", 0, 12)
	// Before: the raw archive has 0-7, the chain 0-5.
	archive(t, conn, legacy, recs[:8], recs[:6])
	// After: the topic's ID is known. The chain consumer resumes at 6 (and sees 4-5 again after a
	// crash: chained already, by content); the raw archive resumes at 8, and sees 7 again.
	archive(t, conn, epochA, recs[7:], recs[4:])
	if n := count(t, conn, "SELECT count() FROM raw_chain"); n != 12 {
		t.Errorf("%d chain rows for 12 records", n)
	}
	rep := verify(t, conn)
	if !rep.OK() || rep.Checked() != 12 || len(rep.Boundaries) != 1 || !strings.Contains(rep.Boundaries[0].Reason, "before schema 0070") || rep.Boundaries[0].Offset != 6 {
		t.Fatalf("%d checked, breaks %v, boundaries %v", rep.Checked(), rep.Breaks, rep.Boundaries)
	}
	// The same records' raw rows under the ID fold with those written before (one receipt each).
	if n := count(t, conn, "SELECT count() FROM raw_callbacks"); n != 12 {
		t.Errorf("raw_callbacks shows %d receipts of 12", n)
	}
	// A record archived before the upgrade and chained after it is still checked: altered, it is found
	// (not left "pending" because the chain without a topic ID ends before it).
	exec(t, conn, "ALTER TABLE raw_callbacks_data UPDATE body = 'rewritten' WHERE raw_topic_id = '' AND raw_offset = 6")
	if got := breaks(verify(t, conn)); strings.Join(got, ",") != "0/6 altered" {
		t.Errorf("after altering record 6: breaks %v, want [0/6 altered]", got)
	}
}
