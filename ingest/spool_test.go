package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/ingest/spool"
	"github.com/imarchive/imarchive/kafka"
)

// stallProducer stands for a broker that stops answering with records in flight: while stalled, it
// holds every record without an answer (as franz-go holds an idempotent producer's records on the
// wire); released, it hands them to Kafka, or fails them with failHeld. refuse, when set, may refuse
// a record for good.
type stallProducer struct {
	inner    ingest.Producer
	mu       sync.Mutex
	stalled  bool
	held     []heldRecord
	failHeld error
	refuse   func(*kgo.Record) error
}

type heldRecord struct {
	ctx     context.Context
	r       *kgo.Record
	promise func(*kgo.Record, error)
}

func (p *stallProducer) TryProduce(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	p.mu.Lock()
	if p.stalled {
		p.held = append(p.held, heldRecord{ctx, r, promise})
		p.mu.Unlock()
		return
	}
	refuse := p.refuse
	p.mu.Unlock()
	if refuse != nil {
		if err := refuse(r); err != nil {
			go promise(r, err)
			return
		}
	}
	p.inner.TryProduce(ctx, r, promise)
}

func (p *stallProducer) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
}

// release ends the stall: held records go to Kafka (or fail with failHeld), in order.
func (p *stallProducer) release() {
	p.mu.Lock()
	held, fail := p.held, p.failHeld
	p.held, p.stalled = nil, false
	p.mu.Unlock()
	for _, h := range held {
		if fail != nil {
			go h.promise(h.r, fail)
			continue
		}
		p.inner.TryProduce(h.ctx, h.r, h.promise)
	}
}

type spoolFixture struct {
	*fixture
	rcv  *ingest.Receiver
	sp   *spool.Spool
	prod *stallProducer
	dir  string
}

// newSpoolFixture runs a Receiver with a spool over kfake, its producer behind a stallProducer:
// answers due after 1 s, spooling after 200 ms.
func newSpoolFixture(t *testing.T, opts spool.Options, cfgFn func(*ingest.Config), ropts ...ingest.Option) *spoolFixture {
	t.Helper()
	tc, cl := kfakeCluster(t)
	prod := &stallProducer{inner: cl}
	cfg := ingest.DefaultConfig()
	cfg.NeteaseApps = map[string]string{"app1": secret}
	cfg.ILinkApps = map[string]ingest.ILinkApp{"app1": {Token: ilinkToken, Secret: ilinkSecret}}
	cfg.MaximApps = map[string]string{"welovemaxim": maximSecret}
	cfg.AckTimeout, cfg.SpoolAfter = time.Second, 200*time.Millisecond
	dir := t.TempDir()
	cfg.SpoolDir = dir
	if cfgFn != nil {
		cfgFn(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sp, _, err := spool.Open(dir, opts, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	now := time.Now()
	clock := &atomic.Int64{}
	clock.Store(now.UnixMilli())
	reg := prometheus.NewRegistry()
	rcv, err := ingest.New(cfg, tc, prod, log, reg, append([]ingest.Option{ingest.WithSpool(sp),
		ingest.WithClock(func() time.Time { return time.UnixMilli(clock.Load()) })}, ropts...)...)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	rcv.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(prod.release) // never leave a handler waiting on a held record
	return &spoolFixture{fixture: &fixture{srv: srv, client: cl, tc: tc, now: now, reg: reg, clock: clock}, rcv: rcv, sp: sp, prod: prod, dir: dir}
}

// forward runs the forwarder until the test ends.
func (f *spoolFixture) forward(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.rcv.Forward(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("forward: %v", err)
		}
	})
}

func (f *spoolFixture) waitDrained(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.sp.Pending() {
		if time.Now().After(deadline) {
			t.Fatalf("spool not drained: %+v", f.sp.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// neteaseMessage is the seed message with its own msgIdServer, signed.
func neteaseMessage(t *testing.T, f *fixture, id string) ([]byte, http.Header) {
	t.Helper()
	b := bytes.Replace(seedMessage(t), []byte(`"1541869"`), []byte(`"`+id+`"`), 1)
	return b, signedHeaders(secret, b, f.now)
}

// timed sends one request and returns its status and how long the answer took.
func timed(t *testing.T, f *fixture, path string, body []byte, h http.Header) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	status, _ := f.do(t, "POST", path, body, h)
	return status, time.Since(start)
}

// receipts counts the raw records of each receipt id, and returns how many carry the spool's mark.
func receipts(t *testing.T, f *fixture) (map[string]int, int) {
	t.Helper()
	byReceipt, spooled := map[string]int{}, 0
	for _, r := range f.records(t, f.tc.Raw()) {
		h := headerMap(r)
		if h[kafka.HeaderReceipt] == "" {
			t.Fatalf("raw record without %s: %v", kafka.HeaderReceipt, h)
		}
		byReceipt[h[kafka.HeaderReceipt]]++
		if h[kafka.HeaderSpooledAt] != "" {
			spooled++
		}
	}
	return byReceipt, spooled
}

// TestSpoolAnswersInTimeWhileKafkaStalls: Kafka stops answering with callbacks in flight. Every
// callback, of every platform, is answered with success within the ack deadline from the spool; while
// the spool holds records, new callbacks go through it too. When Kafka answers again, the in-flight
// produces complete and the spooled copies of those are not sent again; the rest is forwarded in
// order; each receipt is on the raw topic once and each event on the events topic once.
func TestSpoolAnswersInTimeWhileKafkaStalls(t *testing.T) {
	f := newSpoolFixture(t, spool.DefaultOptions(), nil)
	f.prod.stall()
	const concurrent = 12
	var wg sync.WaitGroup
	type answer struct {
		status int
		took   time.Duration
	}
	answers := make([]answer, concurrent+2)
	for i := range concurrent {
		wg.Go(func() {
			b, h := neteaseMessage(t, f.fixture, "stall-"+strconv.Itoa(i))
			answers[i].status, answers[i].took = timed(t, f.fixture, "/v1/netease/app1", b, h)
		})
	}
	wg.Go(func() {
		answers[concurrent].status, answers[concurrent].took = timed(t, f.fixture, ilinkPath, readFile(t, "../normalize/testdata/ilink/4.1_text.json"), nil)
	})
	wg.Go(func() {
		answers[concurrent+1].status, answers[concurrent+1].took = timed(t, f.fixture, "/v1/maxim/welovemaxim", readFile(t, "../normalize/testdata/maxim/chat_text.json"), maximHeaders(maximSecret))
	})
	wg.Wait()
	for i, a := range answers {
		if a.status != 200 || a.took >= time.Second {
			t.Errorf("callback %d: %d after %s; want 200 within the 1 s ack deadline", i, a.status, a.took)
		}
	}
	if n := metricValue(t, f.fixture, "imarchive_ingest_spooled_total", map[string]string{"reason": "kafka_slow"}); n != concurrent+2 {
		t.Errorf("spooled for a slow Kafka: %v, want %d", n, concurrent+2)
	}
	// The spool is not empty: the next callbacks go through it at once, even once Kafka is back.
	const after = 4
	for i := range after {
		b, h := neteaseMessage(t, f.fixture, "after-"+strconv.Itoa(i))
		if status, took := timed(t, f.fixture, "/v1/netease/app1", b, h); status != 200 || took > 500*time.Millisecond {
			t.Errorf("callback while spooling: %d after %s", status, took)
		}
	}
	if n := metricValue(t, f.fixture, "imarchive_ingest_spooled_total", map[string]string{"reason": "spooling"}); n != after {
		t.Errorf("spooled to keep order: %v, want %d", n, after)
	}
	total := concurrent + 2 + after
	if n := metricValue(t, f.fixture, "imarchive_ingest_spool_records", nil); n != float64(total) {
		t.Errorf("spool records gauge %v, want %d", n, total)
	}
	if n := metricValue(t, f.fixture, "imarchive_ingest_spool_oldest_record_age_seconds", nil); n <= 0 {
		t.Errorf("oldest record age %v while spooling", n)
	}

	f.forward(t)
	f.prod.release()
	f.waitDrained(t)
	byReceipt, spooled := receipts(t, f.fixture)
	if len(byReceipt) != total {
		t.Errorf("%d receipts on the raw topic, want %d", len(byReceipt), total)
	}
	for r, n := range byReceipt {
		if n != 1 {
			t.Errorf("receipt %s on the raw topic %d times", r, n)
		}
	}
	if spooled != after {
		t.Errorf("%d raw records forwarded from the spool, want %d (the others' own produce delivered them)", spooled, after)
	}
	ids := map[string]int{}
	for _, r := range f.records(t, f.tc.Events()) {
		ids[string(r.Key)+"/"+headerMap(r)[kafka.HeaderEventID]]++
	}
	if evs := f.endOffsets(t)[f.tc.Events()]; evs != int64(total) {
		t.Errorf("%d event records, want %d", evs, total)
	}
	if n := metricValue(t, f.fixture, "imarchive_ingest_spool_already_delivered_total", nil); n != concurrent+2 {
		t.Errorf("already delivered %v, want %d", n, concurrent+2)
	}
	if n := metricValue(t, f.fixture, "imarchive_ingest_spool_forwarded_records_total", nil); n != float64(total) {
		t.Errorf("forwarded %v, want %d", n, total)
	}
	// Drained: callbacks go straight to Kafka again.
	b, h := neteaseMessage(t, f.fixture, "drained")
	if status, _ := timed(t, f.fixture, "/v1/netease/app1", b, h); status != 200 {
		t.Fatalf("after draining: %d", status)
	}
	if n := metricValue(t, f.fixture, "imarchive_ingest_callbacks_total", map[string]string{"outcome": "accepted"}); n != 1 {
		t.Errorf("accepted straight from Kafka after draining: %v, want 1", n)
	}
}

// TestSpoolForwardsWhenLateProduceFails: the produce that timed out fails in the end (the broker lost
// it): the spooled copy is what reaches Kafka, marked as forwarded from the spool.
func TestSpoolForwardsWhenLateProduceFails(t *testing.T) {
	f := newSpoolFixture(t, spool.DefaultOptions(), nil)
	f.prod.stall()
	f.prod.failHeld = errors.New("injected: the broker died with the records")
	for i := range 3 {
		b, h := neteaseMessage(t, f.fixture, "lost-"+strconv.Itoa(i))
		if status, _ := timed(t, f.fixture, "/v1/netease/app1", b, h); status != 200 {
			t.Fatalf("callback %d: %d", i, status)
		}
	}
	f.prod.release()
	f.forward(t)
	f.waitDrained(t)
	byReceipt, spooled := receipts(t, f.fixture)
	if len(byReceipt) != 3 || spooled != 3 {
		t.Fatalf("%d receipts, %d forwarded from the spool; want 3 and 3", len(byReceipt), spooled)
	}
	if n := f.endOffsets(t)[f.tc.Events()]; n != 3 {
		t.Errorf("%d events, want 3", n)
	}
}

// TestSpoolFullRefuses: a full spool takes nothing more: NetEase and Maxim get 503 at once, iLink no
// answer until past its five seconds (here shortened); the full gauge says so; once the spool is
// forwarded, callbacks are taken again.
func TestSpoolFullRefuses(t *testing.T) {
	const hold = 1500 * time.Millisecond
	f := newSpoolFixture(t, spool.Options{MaxBytes: 6 << 10, SegmentBytes: 2 << 10}, nil, ingest.WithILinkHold(hold))
	f.prod.stall()
	taken := 0
	for i := 0; ; i++ {
		b, h := neteaseMessage(t, f.fixture, "fill-"+strconv.Itoa(i))
		status, took := timed(t, f.fixture, "/v1/netease/app1", b, h)
		if took >= time.Second {
			t.Fatalf("callback %d answered after %s", i, took)
		}
		if status == http.StatusServiceUnavailable {
			break
		}
		if status != 200 || i > 100 {
			t.Fatalf("callback %d: %d", i, status)
		}
		taken++
	}
	if taken == 0 {
		t.Fatal("nothing spooled before the spool was full")
	}
	if n := metricValue(t, f.fixture, "imarchive_ingest_spool_full", nil); n != 1 {
		t.Errorf("spool_full %v, want 1", n)
	}
	// Larger than any callback that filled it, so that it cannot fit in what is left.
	big := append([]byte(`{"pad":"`+strings.Repeat("x", 3000)+`",`), readFile(t, "../normalize/testdata/maxim/chat_text.json")[1:]...)
	if status, took := timed(t, f.fixture, "/v1/maxim/welovemaxim", big, maximHeaders(maximSecret)); status != 503 || took >= time.Second {
		t.Errorf("maxim with a full spool: %d after %s, want 503 within the deadline", status, took)
	}
	bigILink := append([]byte(`{"pad":"`+strings.Repeat("x", 3000)+`",`), readFile(t, "../normalize/testdata/ilink/4.1_text.json")[1:]...)
	status, took := timed(t, f.fixture, ilinkPath, bigILink, nil)
	if status != 503 || took < hold {
		t.Errorf("ilink with a full spool: %d after %s; want no answer before %s (then 503)", status, took, hold)
	}
	if n := metricValue(t, f.fixture, "imarchive_ingest_callbacks_total", map[string]string{"outcome": "spool_full"}); n != 3 {
		t.Errorf("spool_full outcomes %v, want 3", n)
	}
	f.prod.release()
	f.forward(t)
	f.waitDrained(t)
	if n := metricValue(t, f.fixture, "imarchive_ingest_spool_full", nil); n != 0 {
		t.Errorf("spool_full %v after draining", n)
	}
	if status, _ := timed(t, f.fixture, ilinkPath, bigILink, nil); status != 200 {
		t.Errorf("ilink after draining: %d", status)
	}
	byReceipt, _ := receipts(t, f.fixture)
	if len(byReceipt) != taken+1 {
		t.Errorf("%d receipts on the raw topic, want the %d spooled and the one after", len(byReceipt), taken+1)
	}
}

// TestSpoolSetsAsideWhatKafkaRefuses: a spooled record Kafka refuses for good (too large) does not
// block the spool: it is kept in the damaged directory, counted, and the records after it forwarded.
func TestSpoolSetsAsideWhatKafkaRefuses(t *testing.T) {
	f := newSpoolFixture(t, spool.DefaultOptions(), nil)
	f.prod.stall()
	f.prod.failHeld = errors.New("injected: lost")
	bodies := []string{"ok-1", "too-large", "ok-2"}
	for _, id := range bodies {
		b, h := neteaseMessage(t, f.fixture, id)
		if status, _ := timed(t, f.fixture, "/v1/netease/app1", b, h); status != 200 {
			t.Fatalf("%s: %d", id, status)
		}
	}
	f.prod.mu.Lock()
	f.prod.refuse = func(r *kgo.Record) error {
		if r.Topic == f.tc.Raw() && bytes.Contains(r.Value, []byte("too-large")) {
			return kerr.MessageTooLarge
		}
		return nil
	}
	f.prod.mu.Unlock()
	f.prod.release()
	f.forward(t)
	f.waitDrained(t)
	if n := metricValue(t, f.fixture, "imarchive_ingest_spool_rejected_records_total", nil); n != 1 {
		t.Errorf("rejected %v, want 1", n)
	}
	kept, _ := filepath.Glob(filepath.Join(f.dir, spool.DamagedDir, "record-*.rejected"))
	if len(kept) != 1 {
		t.Fatalf("set aside: %v", kept)
	}
	if b, _ := os.ReadFile(kept[0]); !bytes.Contains(b, []byte("too-large")) {
		t.Errorf("the set-aside record is not the refused callback")
	}
	if n := f.endOffsets(t)[f.tc.Raw()]; n != 2 {
		t.Errorf("%d raw records, want the 2 others", n)
	}
}

// TestNoSpoolAnswersAtDeadline: without a spool, a callback whose produce hangs is answered 503 at
// the ack deadline (iLink: past its silence), not when the client gives up.
func TestNoSpoolAnswersAtDeadline(t *testing.T) {
	tc, cl := kfakeCluster(t)
	prod := &stallProducer{inner: cl}
	f := newFixtureWith(t, tc, prod, func(c *ingest.Config) { c.AckTimeout = 500 * time.Millisecond })
	t.Cleanup(prod.release)
	prod.stall()
	b, h := neteaseMessage(t, f, "hang")
	status, took := timed(t, f, "/v1/netease/app1", b, h)
	if status != 503 || took < 500*time.Millisecond || took > 1500*time.Millisecond {
		t.Errorf("netease with Kafka hanging: %d after %s; want 503 at the 500 ms deadline", status, took)
	}
}

func TestSpoolEntryRoundTrip(t *testing.T) {
	tc := kafka.DefaultConfig()
	at := time.UnixMilli(1646744309123)
	e := ingest.SpoolEntry{Receipt: "r1", Platform: "netease_qchat", App: "app1", Received: at, Records: []*kgo.Record{
		{Topic: tc.Raw(), Key: []byte("k"), Value: []byte("body"), Timestamp: at, Headers: []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b", Value: nil}}},
		{Topic: tc.Events(), Key: []byte("e"), Value: []byte(`{"x":1}`), Timestamp: at},
		{Topic: tc.DeadLetter(), Key: []byte(""), Value: []byte{0, 1, 2}, Timestamp: at},
	}}
	b, err := ingest.EncodeSpoolEntry(tc, e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ingest.DecodeSpoolEntry(tc, b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Receipt != e.Receipt || got.Platform != e.Platform || got.App != e.App || !got.Received.Equal(at) || len(got.Records) != 3 {
		t.Fatalf("decoded %+v", got)
	}
	for i, r := range got.Records {
		w := e.Records[i]
		if r.Topic != w.Topic || !bytes.Equal(r.Key, w.Key) || !bytes.Equal(r.Value, w.Value) || !r.Timestamp.Equal(w.Timestamp) || len(r.Headers) != len(w.Headers) {
			t.Fatalf("record %d: %+v, want %+v", i, r, w)
		}
	}
	if _, err := ingest.EncodeSpoolEntry(tc, ingest.SpoolEntry{Records: []*kgo.Record{{Topic: "elsewhere"}}}); err == nil {
		t.Error("a record for another topic encoded")
	}
	for n := range len(b) {
		if _, err := ingest.DecodeSpoolEntry(tc, b[:n]); err == nil {
			t.Fatalf("entry cut to %d of %d bytes decoded", n, len(b))
		}
	}
}

// FuzzDecodeSpoolEntry: any bytes decode or fail cleanly, and what decodes encodes to the same bytes.
func FuzzDecodeSpoolEntry(f *testing.F) {
	tc := kafka.DefaultConfig()
	b, _ := ingest.EncodeSpoolEntry(tc, ingest.SpoolEntry{Receipt: "r", Platform: "p", App: "a", Received: time.UnixMilli(5),
		Records: []*kgo.Record{{Topic: tc.Raw(), Key: []byte("k"), Value: []byte("v"), Timestamp: time.UnixMilli(5), Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("x")}}}}})
	f.Add(b)
	f.Add([]byte{1, 0, 0, 0, 0, 1, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ingest.DecodeSpoolEntry(tc, data)
		if err != nil {
			return
		}
		again, err := ingest.EncodeSpoolEntry(tc, e)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("decoded and encoded again: %x, was %x", again, data)
		}
	})
}
