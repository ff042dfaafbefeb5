package main_test

// The spool's failure tests: the real broker killed (SIGKILL) or stopped with callbacks in flight,
// serve killed while it spools and while it drains. Each measures every request's answer and ends
// with the archive check of e2e_pipeline_test.go: every callback answered 200 is in the analysts'
// views exactly once and in the raw archive.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/normalize"
)

const (
	spoolILinkApps = "IMARCHIVE_ILINK_APPS=app1=tok3n:p4thsecret-abcdefg"
	spoolILinkPath = "/v1/ilink/app1/p4thsecret-abcdefg"
	ackBudget      = 4 * time.Second // serve's default --ack-timeout
)

// answer is one request's outcome as the platform saw it.
type answer struct {
	platform string
	at       time.Time
	took     time.Duration
	status   int   // 0: no HTTP answer
	err      error // transport error (EOF, refused, timeout)
}

// timedLoad sends NetEase callbacks (messages and presence, as traffic does) and iLink pushes, each
// once per attempt, measuring every answer; a callback not answered 200 is sent again later, as the
// platform would, until it is.
type timedLoad struct {
	*traffic
	rate    float64 // requests per second over all workers; 0: as fast as they go
	mu      sync.Mutex
	answers []answer
	retry   []int64
	down    atomic.Bool // serve is known to be down: transport errors are expected, not measured
	bodies  sync.Map    // i → []byte: a retry sends the same bytes, as a platform does
}

func newTimedLoad(s *stack, rate float64) *timedLoad {
	return &timedLoad{traffic: newTraffic(s), rate: rate}
}

// iLinkBody is a text push (§4.1) of its own content: its event_id is the hash of the body, so the
// body of a retry must be the same bytes (once keeps it).
func (l *timedLoad) iLinkBody(i int64) []byte {
	content := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "push %d of %s", i, l.run))
	return fmt.Appendf(nil, `{"from_uid":"u%d","to_uid":"u%d","create_time":%d,"msg_type":1,"content":"%s"}`,
		i%7, i%5, time.Now().Unix(), content)
}

// once sends callback i one time and records the answer.
func (l *timedLoad) once(ctx context.Context, client *http.Client, i int64) bool {
	var (
		body, url = []byte(nil), ""
		h         http.Header
		platform  = "netease"
		eventID   string
	)
	mk := l.body
	if i%5 == 4 {
		platform, mk = "ilink", l.iLinkBody
	}
	b, _ := l.bodies.LoadOrStore(i, mk(i))
	body = b.([]byte)
	if platform == "ilink" {
		url = "http://" + l.s.listen + spoolILinkPath
		ev, err := normalize.ILink("app1", body, time.Now())
		if err != nil {
			l.s.t.Errorf("test push does not normalize: %v", err)
			return true
		}
		eventID = ev.EventID
	} else {
		url, h = "http://"+l.s.listen+"/v1/netease/app1", sign("s3cret", body)
		ev, err := normalize.Netease("app1", body, time.Now())
		if err != nil {
			l.s.t.Errorf("test callback does not normalize: %v", err)
			return true
		}
		eventID = ev.EventID
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if h != nil {
		req.Header = h
	}
	down := l.down.Load()
	start := time.Now()
	resp, err := client.Do(req)
	a := answer{platform: platform, at: start, err: err}
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		a.status = resp.StatusCode
	}
	a.took = time.Since(start)
	l.sends.Add(1)
	if ctx.Err() != nil {
		return true
	}
	if !(down && err != nil) {
		l.mu.Lock()
		l.answers = append(l.answers, a)
		l.mu.Unlock()
	}
	if a.status == http.StatusOK {
		l.traffic.mu.Lock()
		l.acked[eventID] = true
		l.traffic.mu.Unlock()
		return true
	}
	l.fails.Add(1)
	return false
}

// drive sends until stop is closed, then sends what was not answered 200 again until it is or ctx
// ends. Refused callbacks are sent again meanwhile too, as a platform retries.
func (l *timedLoad) drive(ctx context.Context, workers int, stop <-chan struct{}) {
	client := &http.Client{Timeout: 15 * time.Second}
	var tick <-chan time.Time
	if l.rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / l.rate))
		defer t.Stop()
		tick = t.C
	}
	jobs := make(chan int64)
	var (
		wg   sync.WaitGroup
		busy atomic.Int64
	)
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				if !l.once(ctx, client, i) {
					l.mu.Lock()
					l.retry = append(l.retry, i)
					l.mu.Unlock()
				}
				busy.Add(-1)
			}
		})
	}
	next := func() int64 {
		l.mu.Lock()
		defer l.mu.Unlock()
		if len(l.retry) > 0 {
			i := l.retry[0]
			l.retry = l.retry[1:]
			return i
		}
		return l.next.Add(1) - 1
	}
feed:
	for ctx.Err() == nil {
		if tick != nil {
			select {
			case <-tick:
			case <-stop:
				break feed
			case <-ctx.Done():
				break feed
			}
		}
		i := next()
		busy.Add(1)
		select {
		case jobs <- i:
		case <-stop:
			busy.Add(-1)
			l.mu.Lock()
			l.retry = append(l.retry, i)
			l.mu.Unlock()
			break feed
		case <-ctx.Done():
			break feed
		}
	}
	// Every callback started is sent until it is acknowledged.
	for ctx.Err() == nil {
		l.mu.Lock()
		again := l.retry
		l.retry = nil
		l.mu.Unlock()
		if len(again) == 0 {
			if busy.Load() == 0 {
				l.mu.Lock()
				n := len(l.retry)
				l.mu.Unlock()
				if n == 0 {
					break
				}
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		time.Sleep(200 * time.Millisecond)
		for _, i := range again {
			busy.Add(1)
			jobs <- i
		}
	}
	close(jobs)
	wg.Wait()
}

// check reports every answer that was not a success within limit (per platform), and the latencies.
func (l *timedLoad) check(t *testing.T, from, to time.Time, limits map[string]time.Duration) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var tooSlow, failed, n int
	var took []time.Duration
	for _, a := range l.answers {
		if a.at.Before(from) || a.at.After(to) {
			continue
		}
		n++
		took = append(took, a.took)
		switch {
		case a.err != nil || a.status != http.StatusOK:
			failed++
			if failed <= 5 {
				t.Errorf("%s request at %s: status %d, error %v, after %s", a.platform, a.at.Format("15:04:05.000"), a.status, a.err, a.took)
			}
		case a.took >= limits[a.platform]:
			tooSlow++
			if tooSlow <= 5 {
				t.Errorf("%s request at %s answered after %s, over %s", a.platform, a.at.Format("15:04:05.000"), a.took, limits[a.platform])
			}
		}
	}
	slices.Sort(took)
	q := func(p float64) time.Duration {
		if len(took) == 0 {
			return 0
		}
		return took[min(len(took)-1, int(p*float64(len(took))))].Round(time.Millisecond)
	}
	t.Logf("%d requests measured: %d not answered 200, %d late; latency p50 %s, p99 %s, max %s", n, failed, tooSlow, q(.5), q(.99), q(1))
	if n == 0 {
		t.Error("no request measured")
	}
}

// gauge reads an unlabelled metric of serve's /metrics (-1 when serve does not answer).
func gauge(url, name string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

// readyz returns serve's /readyz status and body.
func readyz(s *stack) (int, string) {
	resp, err := http.Get("http://" + s.ops + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// checkReceipts: every raw receipt carries its receipt id, and a receipt archived more than once was
// re-sent by the spool (its copies are marked), never mistaken for a platform retry.
func checkReceipts(t *testing.T, s *stack) {
	t.Helper()
	c := s.conn()
	if n := count(t, c, "SELECT count() FROM raw_callbacks WHERE meta['imarchive.receipt_id'] = ''"); n != 0 {
		t.Errorf("%d raw receipts without a receipt id", n)
	}
	if n := count(t, c, `SELECT count() FROM (SELECT meta['imarchive.receipt_id'] AS r, countIf(meta['imarchive.spooled_at_ms'] != '') AS spooled, count() AS n
		FROM raw_callbacks GROUP BY r HAVING n > 1 AND spooled = 0)`); n != 0 {
		t.Errorf("%d receipts archived twice without a spool re-send mark", n)
	}
	t.Logf("raw archive: %d receipts, %d rows forwarded from the spool, %d re-sent copies of a receipt",
		count(t, c, "SELECT uniqExact(meta['imarchive.receipt_id']) FROM raw_callbacks"),
		count(t, c, "SELECT count() FROM raw_callbacks WHERE meta['imarchive.spooled_at_ms'] != ''"),
		count(t, c, "SELECT toUInt64(count() - uniqExact(meta['imarchive.receipt_id'])) FROM raw_callbacks"))
}

// waitDrained waits until serve's spool is empty again.
func waitDrained(t *testing.T, s *stack, timeout time.Duration) {
	t.Helper()
	url := "http://" + s.ops + "/metrics"
	waitFor(t, "serve's spool to drain", timeout, func() bool { return gauge(url, "imarchive_ingest_spool_records") == 0 })
}

// loadRun is a stack under a timed load, with the broker's control command.
type loadRun struct {
	s          *stack
	l          *timedLoad
	kctl       string
	ctx        context.Context
	stop, done chan struct{}
	from       time.Time
}

// startLoad starts serve and consume (with an iLink app) and a load of rate callbacks/s (0: as fast
// as workers go), waits until events are archived, and makes sure the broker is started again
// whatever the test does to it.
func startLoad(t *testing.T, rate float64, workers int, timeout time.Duration) *loadRun {
	t.Helper()
	r := &loadRun{kctl: ctl(t, "IMARCHIVE_TEST_KAFKA_CTL"), s: newStack(t), stop: make(chan struct{}), done: make(chan struct{})}
	startPipeline(t, r.s, spoolILinkApps)
	c := r.s.conn()
	t.Cleanup(func() { exec.Command("bash", "-c", r.kctl+" start").Run() })
	r.l = newTimedLoad(r.s, rate)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	r.ctx, r.from = ctx, time.Now()
	go func() { r.l.drive(ctx, workers, r.stop); close(r.done) }()
	waitFor(t, "events archived", 60*time.Second, func() bool { return count(t, c, "SELECT count() FROM archive_events") > 50 })
	return r
}

// finish stops the load and waits until every callback started was acknowledged; it returns when the
// load stopped.
func (r *loadRun) finish(t *testing.T) time.Time {
	t.Helper()
	close(r.stop)
	to := time.Now()
	<-r.done
	if r.ctx.Err() != nil {
		t.Fatal("traffic did not finish within its deadline")
	}
	return to
}

// TestFailureKafkaKilledAnswersInTime: under load (40 callbacks/s), the broker is killed with SIGKILL
// with records in flight and stays down for a while: every request, measured one by one, is answered
// with success within the 4 s ack budget (from the spool); /readyz stays ready, saying "degraded:
// spooling"; once the broker is back the spool drains and every acknowledged callback is archived
// once.
func TestFailureKafkaKilledAnswersInTime(t *testing.T) {
	r := startLoad(t, 40, 8, 150*time.Second)
	s, l := r.s, r.l
	control(t, r.kctl, "kill")
	time.Sleep(8 * time.Second)
	status, body := readyz(s)
	if status != http.StatusOK || !strings.Contains(body, "degraded: spooling") {
		t.Errorf("/readyz with the broker down: %d %q, want 200 with \"degraded: spooling\"", status, body)
	}
	url := "http://" + s.ops + "/metrics"
	if n := gauge(url, "imarchive_ingest_spool_records"); n <= 0 {
		t.Errorf("spool records %v with the broker down", n)
	}
	control(t, r.kctl, "start")
	waitDrained(t, s, 90*time.Second)
	time.Sleep(2 * time.Second)
	to := r.finish(t)
	l.check(t, r.from, to, map[string]time.Duration{"netease": ackBudget, "ilink": ackBudget})
	if n := gauge(url, "imarchive_ingest_spool_forwarded_records_total"); n <= 0 {
		t.Errorf("forwarded %v records from the spool", n)
	}
	verifyArchive(t, s, l.ackedIDs())
	checkReceipts(t, s)
	s.stop("serve")
	s.stop("consume")
}

// kafkaOutage is how long TestFailureKafkaStoppedSpools keeps the broker stopped:
// IMARCHIVE_TEST_KAFKA_OUTAGE (a Go duration; the case is 2m), 20 s by default.
func kafkaOutage(t *testing.T) time.Duration {
	if v := os.Getenv("IMARCHIVE_TEST_KAFKA_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("IMARCHIVE_TEST_KAFKA_OUTAGE: %v", err)
		}
		return d
	}
	return 20 * time.Second
}

// TestFailureKafkaStoppedSpools: under load, Kafka is stopped for an outage (2 minutes when run by
// hand with IMARCHIVE_TEST_KAFKA_OUTAGE=2m) and started again: during the outage iLink gets its
// success reply within its five seconds and NetEase within the ack budget; afterwards every callback
// that got a success reply is in the analysts' views exactly once and in the raw archive.
func TestFailureKafkaStoppedSpools(t *testing.T) {
	outage := kafkaOutage(t)
	r := startLoad(t, 40, 8, outage+150*time.Second)
	s, l := r.s, r.l
	control(t, r.kctl, "stop")
	down := time.Now()
	before := len(l.ackedIDs())
	time.Sleep(outage)
	during := len(l.ackedIDs()) - before
	up := time.Now()
	control(t, r.kctl, "start")
	waitDrained(t, s, 120*time.Second)
	time.Sleep(2 * time.Second)
	to := r.finish(t)
	t.Logf("outage of %s: %d callbacks acknowledged from the spool", up.Sub(down).Round(time.Second), during)
	if during == 0 {
		t.Error("nothing acknowledged during the outage")
	}
	// Every request of the run, the outage and the broker's restart included.
	l.check(t, r.from, to, map[string]time.Duration{"netease": ackBudget, "ilink": ingest.ILinkSilence})
	verifyArchive(t, s, l.ackedIDs())
	checkReceipts(t, s)
	s.stop("serve")
	s.stop("consume")
}

// killServe kills serve with SIGKILL and waits for it to be gone.
func killServe(t *testing.T, s *stack) {
	t.Helper()
	p := s.procs["serve"]
	p.Process.Kill()
	p.Wait()
}

// restartServe starts serve again on the same spool and waits until it is ready; it returns the
// number of records its spool recovery found to forward.
func restartServe(t *testing.T, s *stack) int {
	t.Helper()
	s.start("serve")
	waitFor(t, "serve /readyz after the restart", 60*time.Second, func() bool { st, _ := readyz(s); return st == http.StatusOK })
	m := regexp.MustCompile(`msg="spool opened".* records_to_forward=(\d+)`).FindStringSubmatch(s.logs["serve"].String())
	if m == nil {
		t.Fatalf("serve did not report its spool:\n%s", s.logs["serve"].String())
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestFailureServeKilledWhileSpooling: with Kafka down, serve is killed with SIGKILL while it spools
// callbacks, restarted (its recovery finds what it acknowledged), spools more, and, once Kafka is
// back, is killed again while it drains the spool, and restarted. Nothing acknowledged is lost: every
// callback answered 200 is archived once, and a receipt sent twice is marked as a spool re-send.
func TestFailureServeKilledWhileSpooling(t *testing.T) {
	r := startLoad(t, 0, 6, 200*time.Second)
	s, l, kctl := r.s, r.l, r.kctl
	control(t, kctl, "stop")
	url := "http://" + s.ops + "/metrics"
	waitFor(t, "callbacks spooled", 30*time.Second, func() bool { return gauge(url, "imarchive_ingest_spool_records") > 300 })
	l.down.Store(true)
	killServe(t, s) // while spooling: requests are being appended
	acked := len(l.ackedIDs())
	if n := restartServe(t, s); n == 0 {
		t.Fatal("serve's spool recovery found nothing to forward after a kill while spooling")
	} else {
		t.Logf("kill -9 of serve while spooling, %d callbacks acknowledged: its restart recovered %d records to forward", acked, n)
	}
	l.down.Store(false)
	waitFor(t, "more callbacks spooled after the restart", 30*time.Second, func() bool {
		return gauge(url, "imarchive_ingest_spool_records") > 1000
	})

	// Kafka back: kill serve as soon as it has forwarded some of its spool and not all.
	control(t, kctl, "start")
	deadline := time.Now().Add(90 * time.Second)
	for {
		fwd, left := gauge(url, "imarchive_ingest_spool_forwarded_records_total"), gauge(url, "imarchive_ingest_spool_records")
		if fwd > 0 && left > 0 {
			l.down.Store(true)
			killServe(t, s)
			t.Logf("kill -9 of serve while draining: %v records forwarded, %v left", fwd, left)
			break
		}
		if left == 0 {
			t.Fatal("the spool drained before serve could be killed while draining")
		}
		if time.Now().After(deadline) {
			t.Fatal("serve never started draining its spool")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if n := restartServe(t, s); n == 0 {
		t.Error("nothing left to forward after a kill while draining")
	}
	l.down.Store(false)
	waitDrained(t, s, 90*time.Second)
	r.finish(t)
	verifyArchive(t, s, l.ackedIDs())
	checkReceipts(t, s)
	s.stop("serve")
	s.stop("consume")
}
