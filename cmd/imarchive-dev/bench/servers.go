package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/ingest/spool"
	"github.com/imarchive/imarchive/kafka"
)

// The NetEase app the load generator signs for and the receiver verifies.
const (
	benchApp    = "benchapp"
	benchSecret = "bench-app-secret-0123456789"
)

// httpTarget is an HTTP server on a free port of 127.0.0.1.
type httpTarget struct {
	URL   string
	srv   *http.Server
	close []func() error         // after the server stopped
	regs  []*prometheus.Registry // the receivers' metrics
}

// startHTTP serves h with serve's HTTP hygiene settings (cmd/imarchive/serve.go).
func startHTTP(h http.Handler, log *slog.Logger) (*httpTarget, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      24 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go srv.Serve(ln)
	return &httpTarget{URL: "http://" + ln.Addr().String(), srv: srv}, nil
}

// Close stops the server (in-flight requests finish), then what it served.
func (t *httpTarget) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errs := []error{t.srv.Shutdown(ctx)}
	for _, c := range t.close {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// bareHandler is the HTTP ceiling: it reads the body and answers 200, nothing else.
func bareHandler(w http.ResponseWriter, r *http.Request) {
	if _, err := io.ReadAll(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// producerOptions are serve's Kafka producer options (cmd/imarchive/serve.go): the shared client
// options, acks=all with franz-go's default idempotent producer, no linger.
func producerOptions(tc kafka.Config, log *slog.Logger) []kgo.Opt {
	return append(tc.ClientOptions(log),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
	)
}

// startIngest serves the real receivers: workers of them, each with its own Kafka producer client and
// dedupe window (as that many serve replicas would be), behind one listener that hands requests to
// them in turn.
func startIngest(tc kafka.Config, workers int, log *slog.Logger) (*httpTarget, error) {
	icfg := ingest.DefaultConfig()
	icfg.NeteaseApps = map[string]string{benchApp: benchSecret}
	var (
		muxes   []*http.ServeMux
		clients []*kgo.Client
		regs    []*prometheus.Registry
	)
	closeAll := func() {
		for _, cl := range clients {
			cl.Close()
		}
	}
	for range workers {
		cl, err := kgo.NewClient(producerOptions(tc, log)...)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("kafka client: %w", err)
		}
		clients = append(clients, cl)
		reg := prometheus.NewRegistry()
		regs = append(regs, reg)
		rcv, err := ingest.New(icfg, tc, cl, log, reg)
		if err != nil {
			closeAll()
			return nil, err
		}
		mux := http.NewServeMux()
		rcv.Register(mux)
		muxes = append(muxes, mux)
	}
	var next atomic.Uint64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		muxes[(next.Add(1)-1)%uint64(len(muxes))].ServeHTTP(w, r)
	})
	t, err := startHTTP(h, log)
	if err != nil {
		closeAll()
		return nil, err
	}
	t.regs = regs
	for _, cl := range clients {
		t.close = append(t.close, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := cl.Flush(ctx)
			cl.Close()
			return err
		})
	}
	return t, nil
}

// histogram is a snapshot of a Prometheus histogram summed over its label sets: cumulative counts by
// upper bound.
type histogram struct {
	bounds map[float64]uint64
	n      uint64
}

// readHistogram reads the histogram name from the registries.
func readHistogram(regs []*prometheus.Registry, name string) histogram {
	h := histogram{bounds: map[float64]uint64{}}
	for _, reg := range regs {
		mfs, err := reg.Gather()
		if err != nil {
			continue
		}
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, m := range mf.GetMetric() {
				ph := m.GetHistogram()
				h.n += ph.GetSampleCount()
				for _, b := range ph.GetBucket() {
					h.bounds[b.GetUpperBound()] += b.GetCumulativeCount()
				}
			}
		}
	}
	return h
}

// since is what was observed after the earlier snapshot.
func (h histogram) since(earlier histogram) histogram {
	d := histogram{bounds: map[float64]uint64{}, n: h.n - earlier.n}
	for le, c := range h.bounds {
		d.bounds[le] = c - earlier.bounds[le]
	}
	return d
}

// quantiles returns the upper bounds, in ms, of the buckets holding the median and the 99th
// percentile (NaN when nothing was observed).
func (h histogram) quantiles() (p50, p99 float64) {
	if h.n == 0 {
		return math.NaN(), math.NaN()
	}
	les := slices.Sorted(maps.Keys(h.bounds))
	at := func(q float64) float64 {
		for _, le := range les {
			if float64(h.bounds[le]) >= q*float64(h.n) {
				return le * 1000
			}
		}
		return math.Inf(1)
	}
	return at(.5), at(.99)
}

// ackNote says what the server's histogram saw, for a row's notes.
func (t *httpTarget) ackNote() string {
	h := readHistogram(t.regs, "imarchive_ingest_ack_latency_seconds")
	if h.n == 0 {
		return ""
	}
	p50, p99 := h.quantiles()
	return fmt.Sprintf("server-side ack p50 ≤ %s ms, p99 ≤ %s ms (histogram buckets, warm-up included)", ms(p50), ms(p99))
}

// startIngestSpooling serves one receiver whose Kafka is unreachable (a closed port), with a spool in
// a new directory under dir: after the first callbacks wait for Kafka, everything is answered from
// the fsynced spool — the path serve takes during a Kafka outage.
func startIngestSpooling(tc kafka.Config, dir string, log *slog.Logger) (*httpTarget, error) {
	icfg := ingest.DefaultConfig()
	icfg.NeteaseApps = map[string]string{benchApp: benchSecret}
	sdir, err := os.MkdirTemp(dir, "bench-spool-")
	if err != nil {
		return nil, fmt.Errorf("spool directory: %w", err)
	}
	icfg.SpoolDir = sdir
	dead := tc
	dead.Brokers = []string{"127.0.0.1:1"} // nothing listens: records wait, as for a broker that died
	cl, err := kgo.NewClient(producerOptions(dead, discard)...)
	if err != nil {
		os.RemoveAll(sdir)
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	sp, _, err := spool.Open(sdir, spool.Options{MaxBytes: 16 << 30, SegmentBytes: icfg.SpoolSegmentBytes}, log)
	if err != nil {
		cl.Close()
		os.RemoveAll(sdir)
		return nil, err
	}
	reg := prometheus.NewRegistry()
	rcv, err := ingest.New(icfg, tc, cl, log, reg, ingest.WithSpool(sp))
	if err != nil {
		sp.Close()
		cl.Close()
		os.RemoveAll(sdir)
		return nil, err
	}
	mux := http.NewServeMux()
	rcv.Register(mux)
	t, err := startHTTP(mux, log)
	if err != nil {
		sp.Close()
		cl.Close()
		os.RemoveAll(sdir)
		return nil, err
	}
	t.regs = []*prometheus.Registry{reg}
	t.close = append(t.close, func() error {
		cl.Close() // fails the records that never left
		return errors.Join(sp.Close(), os.RemoveAll(sdir))
	})
	return t, nil
}

// spoolNote says what the server's spool histogram saw, for a row's notes.
func (t *httpTarget) spoolNote() string {
	h := readHistogram(t.regs, "imarchive_ingest_spool_ack_latency_seconds")
	if h.n == 0 {
		return ""
	}
	p50, p99 := h.quantiles()
	return fmt.Sprintf("server-side spool ack p50 ≤ %s ms, p99 ≤ %s ms (histogram buckets; the first callbacks waited --spool-after for Kafka)", ms(p50), ms(p99))
}
