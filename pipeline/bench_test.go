package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/pipeline"
	"github.com/imarchive/imarchive/schema"
)

// BenchmarkEventSinkWrite measures decoding and writing batches of 5000 events (messages with a
// presence event every tenth) into the real ClickHouse engine: events/s is the sink's throughput.
func BenchmarkEventSinkWrite(b *testing.B) {
	_, conn := testenv.Database(b)
	if _, err := schema.Migrate(context.Background(), conn, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		b.Fatal(err)
	}
	sink := pipeline.NewEventSink(conn, pipeline.DefaultConfig(), prometheus.NewRegistry())
	const batch = 5000
	b.ResetTimer()
	for i := range b.N {
		items := make([]pipeline.Item[pipeline.EventRow], 0, batch)
		for j := range batch {
			n := i*batch + j
			e := message(fmt.Sprint("bench-", n), "c"+strconv.Itoa(n%50), "u"+strconv.Itoa(n%500), "a benchmark message body", t0+int64(n))
			if j%10 == 0 {
				e = presence(fmt.Sprint("bench-p-", n), "u"+strconv.Itoa(n%500), event.OpHeartbeat, t0+int64(n))
			}
			v, _ := json.Marshal(&e)
			row, err := sink.Decode(&kgo.Record{Value: v})
			if err != nil {
				b.Fatal(err)
			}
			items = append(items, pipeline.Item[pipeline.EventRow]{Row: row, Partition: 0, Offset: int64(n)})
		}
		if err := sink.Write(context.Background(), items, fmt.Sprint("bench-", i)); err != nil {
			b.Fatal(err)
		}
		sink.Written(items)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}
