package bench_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/cmd/imarchive-dev/bench"
	"github.com/imarchive/imarchive/internal/testenv"
)

func TestMain(m *testing.M) {
	bench.MaybeChild() // the smoke test runs this binary again as the load generator
	os.Exit(m.Run())
}

// TestSmoke runs the whole harness for a moment on the real broker and engine, the load generator in
// a child process and the microbenchmarks once each, and checks that every row of the table was
// measured. It asserts no speed.
func TestSmoke(t *testing.T) {
	cfg := bench.DefaultConfig()
	cfg.KafkaBrokers = testenv.KafkaBrokers(t)
	cfg.ClickHouseDSN = testenv.ClickHouseDSN(t)
	cfg.Prime, cfg.Duration, cfg.Warmup, cfg.ScaleDuration = 300*time.Millisecond, 700*time.Millisecond, 100*time.Millisecond, 300*time.Millisecond
	cfg.Concurrency, cfg.Partitions, cfg.Scale = 8, 2, []int{1, 2}
	cfg.ConsumeRows = 2000
	cfg.E2ERate = 100
	cfg.MicroTime = "1x"
	cfg.Self = []string{os.Args[0]}
	cfg.Progress = testWriter{t}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text.String())
	for _, f := range rep.Failures() {
		t.Errorf("not measured: %s: %s: %s", f.Area, f.Name, f.Err)
	}

	// Every row, in order: the names start with these.
	want := []string{
		"bare net/http handler", "imarchive ingest: NetEase 48", "raw franz-go producer", "imarchive ingest while spooling",
		"franz-go, idempotent", "franz-go, idempotence off", "segmentio/kafka-go Writer",
		"imarchive ingest at half of its peak",
		"events → ClickHouse", "imarchive consume as deployed", "end to end: acknowledged → visible",
		"inserts per second into the busiest table, records offered faster than consumed, 1 consumer, before",
		"inserts per second into the busiest table, records offered faster than consumed, 3 consumers, before",
		"inserts per second into the busiest table, records offered faster than consumed, 1 consumer, after",
		"inserts per second into the busiest table, records offered faster than consumed, 3 consumers, after",
		"end to end at light load: acknowledged → visible in message_history, before",
		"end to end at light load: acknowledged → visible in message_history, after",
		"ingest, 1 partitions, 1 workers", "ingest, 2 partitions, 1 workers", "ingest, 2 partitions, 2 workers",
		"decode:", "verify:", "normalize:", "encode:", "raw record:", "dedupe:", "dedupe window:",
		"consumer: decode", "consumer: deduplication token",
	}
	if len(rep.Rows) != len(want) {
		t.Errorf("%d rows, want %d", len(rep.Rows), len(want))
	}
	for i, w := range want {
		if i >= len(rep.Rows) {
			t.Errorf("row %d (%s…) missing", i, w)
			continue
		}
		r := rep.Rows[i]
		if !strings.HasPrefix(r.Name, w) {
			t.Errorf("row %d is %q, want %s…", i, r.Name, w)
		}
		if r.Err != "" {
			continue // reported above
		}
		if !(r.Value > 0) || math.IsInf(r.Value, 0) {
			t.Errorf("%s: value %v %s", r.Name, r.Value, r.Unit)
		}
		if !strings.Contains(text.String(), r.Name) {
			t.Errorf("the printed table lacks %s", r.Name)
		}
		if math.IsNaN(r.P50) {
			continue
		}
		if !(r.P50 > 0 && r.P99 >= r.P50 && r.P999 >= r.P99) {
			t.Errorf("%s: latencies p50 %v p99 %v p99.9 %v", r.Name, r.P50, r.P99, r.P999)
		}
	}
	for _, r := range rep.Rows {
		if strings.HasPrefix(r.Name, "imarchive ingest: NetEase 48") && !strings.Contains(r.Compare, "bare handler") {
			t.Errorf("ingest is not compared with its ceilings: %q", r.Compare)
		}
	}
	if rep.Machine.LoadBefore == "" || rep.Machine.Cores == 0 {
		t.Errorf("machine %+v", rep.Machine)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
