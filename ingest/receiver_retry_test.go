package ingest_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/ingest"
)

// gatedProducer passes records to Kafka, except that the records of its first call (a callback's
// records share one context) can be held until release and can fail instead of being produced.
type gatedProducer struct {
	inner     ingest.Producer
	hold      chan struct{} // if not nil, the first call waits for it to close
	holdAll   bool          // every call waits for hold, not only the first
	failFirst bool
	release   sync.Once
	mu        sync.Mutex
	calls     map[context.Context]int
}

var errInjected = errors.New("injected: broker unreachable")

func (g *gatedProducer) TryProduce(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[context.Context]int{}
	}
	n, ok := g.calls[ctx]
	if !ok {
		n = len(g.calls) + 1
		g.calls[ctx] = n
	}
	g.mu.Unlock()
	if (n != 1 && !g.holdAll) || (g.hold == nil && !g.failFirst) {
		g.inner.TryProduce(ctx, r, promise)
		return
	}
	go func() {
		if g.hold != nil {
			<-g.hold
		}
		if g.failFirst {
			promise(r, errInjected)
			return
		}
		g.inner.TryProduce(ctx, r, promise)
	}()
}

// open releases the held first call (once).
func (g *gatedProducer) open() { g.release.Do(func() { close(g.hold) }) }

func (g *gatedProducer) callCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}

func newGatedFixture(t *testing.T, g *gatedProducer, cfgFn func(*ingest.Config)) *fixture {
	t.Helper()
	tc, cl := kfakeCluster(t)
	g.inner = cl
	f := newFixtureWith(t, tc, g, cfgFn)
	if g.hold != nil {
		t.Cleanup(g.open) // before the server closes, so a failed test does not hang on held requests
	}
	return f
}

// retryHeaders signs the delivery as a platform retry does: the same body with a new CurTime.
func (f *fixture) retryHeaders(body []byte, n int) http.Header {
	return signedHeaders(secret, body, f.now.Add(time.Duration(n)*time.Second))
}

func (f *fixture) wantCounts(t *testing.T, raw, events, dead int64) {
	t.Helper()
	ends := f.endOffsets(t)
	if ends[f.tc.Raw()] != raw || ends[f.tc.Events()] != events || ends[f.tc.DeadLetter()] != dead {
		t.Fatalf("raw %d, events %d, dead letters %d; want %d, %d, %d",
			ends[f.tc.Raw()], ends[f.tc.Events()], ends[f.tc.DeadLetter()], raw, events, dead)
	}
}

// TestRetryInSequence: the same delivery three times, one after the other → one record on each topic,
// three success answers, two duplicates counted.
func TestRetryInSequence(t *testing.T) {
	f := newFixture(t, nil)
	body := seedMessage(t)
	for i := range 3 {
		if status, _ := f.do(t, "POST", "/v1/netease/app1", body, f.retryHeaders(body, i)); status != 200 {
			t.Fatalf("delivery %d: status %d", i+1, status)
		}
	}
	f.wantCounts(t, 1, 1, 0)
	if n := metricValue(t, f, "imarchive_ingest_duplicates_total", map[string]string{"platform": "netease_qchat", "state": "seen"}); n != 2 {
		t.Errorf("duplicates counted %v, want 2", n)
	}
	// A dead-lettered body is deduplicated too: once on raw and dead-letter topics.
	bad := []byte(`{"eventType":"999"}`)
	for i := range 3 {
		if status, _ := f.do(t, "POST", "/v1/netease/app1", bad, f.retryHeaders(bad, i)); status != 200 {
			t.Fatalf("dead-letter delivery %d: status %d", i+1, status)
		}
	}
	f.wantCounts(t, 2, 1, 1)
	// So is an iLink push, which carries no id: the same bytes are the same event.
	ilinkBody := readFile(t, "../normalize/testdata/ilink/4.1_text.json")
	for range 3 {
		if status, answer := f.do(t, "POST", ilinkPath, ilinkBody, nil); status != 200 || answer != `{"code":0}` {
			t.Fatalf("ilink: %d %q", status, answer)
		}
	}
	f.wantCounts(t, 3, 2, 1)
}

// post3 sends the same delivery three times at once and returns the statuses once all have answered.
func (f *fixture) post3(t *testing.T, body []byte, answered chan<- int) []int {
	t.Helper()
	statuses := make([]int, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			status, _ := f.do(t, "POST", "/v1/netease/app1", body, f.retryHeaders(body, i))
			statuses[i] = status
			answered <- i
		})
	}
	wg.Wait()
	return statuses
}

// waitGauge waits until the dedupe_waiting gauge reaches n.
func waitGauge(t *testing.T, f *fixture, n float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(t, f, "imarchive_ingest_dedupe_waiting", nil) != n {
		if time.Now().After(deadline) {
			t.Fatalf("dedupe_waiting never reached %v", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRetryConcurrent: three copies of one delivery at once, while the first is still being produced.
// The two retries wait for it instead of producing; nobody is answered before Kafka acknowledged; one
// record on each topic.
func TestRetryConcurrent(t *testing.T) {
	g := &gatedProducer{hold: make(chan struct{})}
	f := newGatedFixture(t, g, nil)
	body := seedMessage(t)
	answered := make(chan int, 3)
	done := make(chan []int)
	go func() { done <- f.post3(t, body, answered) }()
	waitGauge(t, f, 2) // one producing (held), two waiting for it
	select {
	case i := <-answered:
		t.Fatalf("request %d answered before Kafka acknowledged the first delivery", i)
	case <-time.After(50 * time.Millisecond):
	}
	g.open()
	for i, s := range <-done {
		if s != 200 {
			t.Errorf("request %d: status %d", i, s)
		}
	}
	f.wantCounts(t, 1, 1, 0)
	if g.callCount() != 1 {
		t.Errorf("producer called %d times, want once", g.callCount())
	}
	if n := metricValue(t, f, "imarchive_ingest_duplicates_total", map[string]string{"state": "in_flight"}); n != 2 {
		t.Errorf("in-flight duplicates counted %v, want 2", n)
	}
}

// TestRetryAfterFailedDelivery: a first delivery Kafka did not acknowledge (503) is not remembered, so
// the platform's retry gets through and is produced.
func TestRetryAfterFailedDelivery(t *testing.T) {
	g := &gatedProducer{failFirst: true}
	f := newGatedFixture(t, g, nil)
	body := seedMessage(t)
	if status, _ := f.do(t, "POST", "/v1/netease/app1", body, f.retryHeaders(body, 0)); status != http.StatusServiceUnavailable {
		t.Fatalf("first delivery: status %d, want 503 (never 500: NetEase would not retry)", status)
	}
	f.wantCounts(t, 0, 0, 0)
	if status, _ := f.do(t, "POST", "/v1/netease/app1", body, f.retryHeaders(body, 1)); status != 200 {
		t.Fatalf("retry: status %d, want 200", status)
	}
	f.wantCounts(t, 1, 1, 0)
	if n := metricValue(t, f, "imarchive_ingest_produce_errors_total", nil); n != 2 {
		t.Errorf("produce errors counted %v, want 2 (raw and event of the failed delivery)", n)
	}
}

// TestRetryConcurrentWithFailedFirst: the first delivery fails while two retries wait for it; one of
// them takes over and produces, the other is its duplicate.
func TestRetryConcurrentWithFailedFirst(t *testing.T) {
	g := &gatedProducer{hold: make(chan struct{}), failFirst: true}
	f := newGatedFixture(t, g, nil)
	body := seedMessage(t)
	answered := make(chan int, 3)
	done := make(chan []int)
	go func() { done <- f.post3(t, body, answered) }()
	waitGauge(t, f, 2)
	g.open()
	statuses := <-done
	n503, n200 := 0, 0
	for _, s := range statuses {
		switch s {
		case 503:
			n503++
		case 200:
			n200++
		}
	}
	if n503 != 1 || n200 != 2 {
		t.Fatalf("statuses %v, want one 503 (the failed first) and two 200", statuses)
	}
	f.wantCounts(t, 1, 1, 0)
}

// TestDedupeWindow: a retry inside the window produces nothing; after it, the delivery is produced
// again (downstream folds it by event_id).
func TestDedupeWindow(t *testing.T) {
	f := newFixture(t, func(c *ingest.Config) { c.DedupeWindow = 10 * time.Minute })
	body := readFile(t, "../normalize/testdata/ilink/4.4_topic.json")
	post := func() {
		t.Helper()
		if status, _ := f.do(t, "POST", ilinkPath, body, nil); status != 200 {
			t.Fatalf("status %d", status)
		}
	}
	post()
	f.advance(9 * time.Minute)
	post()
	f.wantCounts(t, 1, 1, 0)
	f.advance(10 * time.Minute) // 10 min after the last acknowledged delivery, the first one
	post()
	f.wantCounts(t, 2, 2, 0)
}

// TestDedupeSizeBound: the cache holds at most DedupeSize ids; the oldest is forgotten first.
func TestDedupeSizeBound(t *testing.T) {
	f := newFixture(t, func(c *ingest.Config) { c.DedupeSize = 2 })
	bodies := [][]byte{
		readFile(t, "../normalize/testdata/ilink/4.1_text.json"),
		readFile(t, "../normalize/testdata/ilink/4.2_group.json"),
		readFile(t, "../normalize/testdata/ilink/4.4_topic.json"),
	}
	for _, b := range bodies {
		f.do(t, "POST", ilinkPath, b, nil)
	}
	f.wantCounts(t, 3, 3, 0)
	f.do(t, "POST", ilinkPath, bodies[2], nil) // still remembered
	f.wantCounts(t, 3, 3, 0)
	f.do(t, "POST", ilinkPath, bodies[0], nil) // evicted: produced again
	f.wantCounts(t, 4, 4, 0)
	if n := metricValue(t, f, "imarchive_ingest_dedupe_evictions_total", nil); n != 2 {
		t.Errorf("evictions %v, want 2", n)
	}
	if n := metricValue(t, f, "imarchive_ingest_dedupe_entries", nil); n != 2 {
		t.Errorf("entries %v, want 2", n)
	}
}

// TestDedupeOff: a zero window turns deduplication off.
func TestDedupeOff(t *testing.T) {
	f := newFixture(t, func(c *ingest.Config) { c.DedupeWindow = 0 })
	body := readFile(t, "../normalize/testdata/ilink/4.1_text.json")
	f.do(t, "POST", ilinkPath, body, nil)
	f.do(t, "POST", ilinkPath, body, nil)
	f.wantCounts(t, 2, 2, 0)
}
