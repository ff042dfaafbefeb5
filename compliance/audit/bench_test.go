package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imarchive/imarchive/compliance/audit"
	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/internal/testenv/archivetest"
	"github.com/imarchive/imarchive/pipeline"
)

func benchRow(i int) pipeline.RawRow {
	e := event.Event{EventID: fmt.Sprintf("ev-%08d", i), Source: event.SourceNetease, App: "app", ReceivedAtMs: 1772359200000 + int64(i),
		Attrs: map[string]string{"eventType": "48", "body": fmt.Sprintf("message %d with some text, as a chat message has", i), "fromAccount": "alice"}}
	return pipeline.DecodeRaw(archivetest.RawRecord(e, 0, int64(i)))
}

// BenchmarkNewChainRow: the chain consumer's CPU cost per raw record (payload and headers digests and
// the link), a ~300-byte NetEase-like body with eight headers.
func BenchmarkNewChainRow(b *testing.B) {
	row := benchRow(1)
	b.SetBytes(int64(len(row.Body)))
	b.ReportAllocs()
	prev := audit.GenesisHash
	for i := 0; b.Loop(); i++ {
		r, err := audit.NewChainRow(prev, 0, int64(i), row)
		if err != nil {
			b.Fatal(err)
		}
		prev = r.Hash
	}
}

// BenchmarkVerify: audit verify over 20,000 raw records in 3 partitions on the real engine (records per
// second is b.N × 20,000 / elapsed). Seeding is not timed.
func BenchmarkVerify(b *testing.B) {
	_, conn := archivetest.Migrated(b)
	const n = 20000
	sink := pipeline.NewRawSink(conn, prometheus.NewRegistry())
	chain := audit.NewChainSink(conn, archivetest.Discard(), prometheus.NewRegistry())
	items := make([]pipeline.Item[pipeline.RawRow], n)
	for i := range items {
		items[i] = pipeline.Item[pipeline.RawRow]{Row: benchRow(i), Partition: int32(i % 3), Offset: int64(i / 3)}
	}
	ctx := context.Background()
	if err := sink.Write(ctx, items, "bench-raw"); err != nil {
		b.Fatal(err)
	}
	if err := chain.Write(ctx, items, "bench-chain"); err != nil {
		b.Fatal(err)
	}
	r := audit.Range{From: time.UnixMilli(1772359200000 - 1000), To: time.UnixMilli(1772359200000 + n + 1000)}
	b.ResetTimer()
	for b.Loop() {
		rep, err := audit.Verify(ctx, conn, r, nil)
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK() || rep.Checked() != n {
			b.Fatalf("%d checked, breaks %v", rep.Checked(), rep.Breaks)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
