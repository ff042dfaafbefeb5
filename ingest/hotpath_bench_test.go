package ingest

// Benchmarks of the receiver's hot path, one stage each, on the manual's NetEase message (eventType
// 48): go test -run '^$' -bench 'HotPath|DedupeWindowMemory' -benchmem ./ingest. imarchive-dev bench
// runs them and puts them in its table; BENCHMARKS.md explains the figures.

import (
	"context"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/normalize"
)

func hotPathBody(b *testing.B) []byte {
	b.Helper()
	body, err := os.ReadFile("../normalize/testdata/netease/48_message.json")
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func BenchmarkHotPath(b *testing.B) {
	const app, secret = "app1", "bench-secret"
	body := hotPathBody(b)
	now := time.Now()
	curTime := strconv.FormatInt(now.UnixMilli(), 10)
	md5hex, sum := NeteaseCheckSum(secret, body, curTime)
	req := httptest.NewRequest("POST", "/v1/netease/"+app, nil)
	for k, v := range map[string]string{"CurTime": curTime, "MD5": md5hex, "CheckSum": sum,
		"Content-Type": "application/json", "User-Agent": "Go-http-client/1.1", "Accept-Encoding": "gzip",
		"Content-Length": strconv.Itoa(len(body))} {
		req.Header.Set(k, v)
	}
	ev, err := normalize.Netease(app, body, now)
	if err != nil {
		b.Fatal(err)
	}

	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if normalize.Field(body, "eventType") == "" {
				b.Fatal("no eventType")
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if err := VerifyNetease(app, secret, req.Header, body, now, 5*time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("normalize", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := normalize.Netease(app, body, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		e := ev
		e.RawKey = e.EventID
		tc := kafka.DefaultConfig()
		for b.Loop() {
			if _, err := tc.EventRecord(&e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw_record", func(b *testing.B) {
		d := delivery{platform: event.SourceNetease, app: app, req: req, body: body, start: now}
		for b.Loop() {
			rawRecord("imarchive.raw", d, ev.EventID, ev.EventID, newReceipt())
		}
	})
	b.Run("dedupe", func(b *testing.B) {
		// A window full at the default size: every new id evicts the oldest, as under steady load.
		const size = 200_000
		keys := make([]string, 1<<20)
		for i := range keys {
			keys[i] = event.ID(event.SourceNetease, app, "48", strconv.Itoa(i))
		}
		d := newDedupe(10*time.Minute, size, time.Now, newMetrics(prometheus.NewRegistry()).dedupeHooks())
		ctx := context.Background()
		for _, k := range keys[:size] {
			d.acquire(ctx, k)
			d.release(k, true)
		}
		i := size
		for b.Loop() {
			k := keys[i%len(keys)] // seen 2^20 ids ago: forgotten long since
			i++
			owner, _, err := d.acquire(ctx, k)
			if err != nil || !owner {
				b.Fatalf("id %d: owner %v, err %v", i, owner, err)
			}
			d.release(k, true)
		}
	})
}

// BenchmarkDedupeWindowMemory measures the heap the dedupe window holds for 100 000 remembered
// event_ids (their strings included, as each request allocates its own), after garbage collection.
func BenchmarkDedupeWindowMemory(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	var perEntry float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d := newDedupe(10*time.Minute, 200_000, time.Now, dedupeHooks{})
		for i := range n {
			k := event.ID(event.SourceNetease, "app1", "48", strconv.Itoa(i))
			d.acquire(ctx, k)
			d.release(k, true)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if got := d.seen.Len(); got != n {
			b.Fatalf("window holds %d ids, want %d", got, n)
		}
		perEntry = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(d)
	}
	b.ReportMetric(perEntry, "B/entry")
	b.ReportMetric(perEntry*n/(1<<20), "MiB/100k")
}
