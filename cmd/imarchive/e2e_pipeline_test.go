package main_test

// Delivery failure tests: real processes (serve, consume), the real Kafka broker and ClickHouse
// engine named by IMARCHIVE_TEST_*, and real failures: kill -9 of consume mid-batch, the ClickHouse
// engine killed and started again during consumption, the Kafka broker restarted while callbacks
// flow. Each ends with: the distinct events in ClickHouse are exactly the callbacks acknowledged
// (answered 200), and no view an analyst queries shows a duplicate.
//
// The tests that stop a shared service need its control command, a prefix to which start, stop or
// kill is appended (scripts/test.sh sets both, for the services it started):
//
//	IMARCHIVE_TEST_KAFKA_CTL   e.g. "env IMARCHIVE_KAFKA_PORT=19092 /path/to/scripts/kafka.sh"
//	IMARCHIVE_TEST_CHDB_CTL    e.g. "env IMARCHIVE_CHDB_PORT=18123 /path/to/scripts/chdb.sh"
//
// They stop the service other tests use too: run them with go test -p 1 (scripts/test.sh does).

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/normalize"
)

// ctl returns the control command prefix in env, or skips (fails under IMARCHIVE_TEST_REQUIRE=1).
func ctl(t *testing.T, env string) string {
	t.Helper()
	return testenv.Need(t, env, "failure test skipped (scripts/test.sh sets it)")
}

// control runs "<prefix> <action>" from the repository root.
func control(t *testing.T, prefix, action string) {
	t.Helper()
	start := time.Now()
	cmd := exec.Command("bash", "-c", prefix+" "+action)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", prefix, action, err, out)
	}
	t.Logf("%s %s: %s", prefix, action, time.Since(start).Round(time.Millisecond))
}

// env returns one of the stack's variables.
func (s *stack) getenv(name string) string {
	for i := len(s.env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(s.env[i], name+"="); ok {
			return v
		}
	}
	return ""
}

// conn opens the stack's ClickHouse database.
func (s *stack) conn() driver.Conn {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := chconn.Open(ctx, s.getenv("IMARCHIVE_CLICKHOUSE_DSN"))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close() })
	return c
}

// traffic is a platform sending NetEase callbacks to serve: messages (eventType 48) and presence
// events (47: logins, logouts, drops, heartbeats, some late with an older time), each retried with a
// fresh signature until it is answered 200, as the platform retries.
type traffic struct {
	s     *stack
	run   string
	mu    sync.Mutex
	acked map[string]bool // event_id of every callback answered 200
	sends atomic.Int64
	fails atomic.Int64 // answers other than 200, and transport errors
	next  atomic.Int64
}

func newTraffic(s *stack) *traffic {
	return &traffic{s: s, run: strconv.FormatInt(time.Now().UnixNano(), 36), acked: map[string]bool{}}
}

func (tr *traffic) body(i int64) []byte {
	base := time.Now().Add(-time.Minute).UnixMilli()
	if i%4 == 0 {
		types := []string{"1", "8", "2", "3", "1", "7"}
		at := 1_700_000_000_000 + i*1000
		if i%20 == 0 {
			at -= 7000 // late: older than events already sent for the account
		}
		return fmt.Appendf(nil, `{"eventType":"47","type":"%s","accid":"acct%d","deviceId":"dev%d","clientType":"AOS","consid":"%s-%d","time":"%d"}`,
			types[(i/4)%int64(len(types))], i%37, i%3, tr.run, i, at)
	}
	return fmt.Appendf(nil, `{"eventType":"48","fromAccount":"user%d","fromNick":"n","msgType":"TEXT","body":"message %d of %s","serverId":"s1","channelId":"c%d","msgIdServer":"%s-%d","msgIdClient":"cl-%d","msgTimestamp":"%d","time":%d}`,
		i%11, i, tr.run, i%5, tr.run, i, i, base+i, base+i+3)
}

// deliver sends one callback until it is answered 200 or ctx ends.
func (tr *traffic) deliver(ctx context.Context, client *http.Client, body []byte) {
	ev, err := normalize.Netease("app1", body, time.Now())
	if err != nil {
		tr.s.t.Errorf("test callback does not normalize: %v", err)
		return
	}
	for wait := 100 * time.Millisecond; ctx.Err() == nil; wait = min(2*wait, 2*time.Second) {
		tr.sends.Add(1)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+tr.s.listen+"/v1/netease/app1", bytes.NewReader(body))
		req.Header = sign("s3cret", body)
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				tr.mu.Lock()
				tr.acked[ev.EventID] = true
				tr.mu.Unlock()
				return
			}
		}
		tr.fails.Add(1)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// send delivers callbacks with concurrency workers until n are acknowledged (n > 0) or, with n = 0,
// until stop is closed; it returns when every callback started is acknowledged or ctx ends.
func (tr *traffic) send(ctx context.Context, n int64, workers int, stop <-chan struct{}) {
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				select {
				case <-stop:
					return
				default:
				}
				i := tr.next.Add(1) - 1
				if n > 0 && i >= n {
					return
				}
				tr.deliver(ctx, client, tr.body(i))
			}
		}()
	}
	wg.Wait()
}

func (tr *traffic) ackedIDs() map[string]bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := make(map[string]bool, len(tr.acked))
	for k := range tr.acked {
		out[k] = true
	}
	return out
}

func count(t *testing.T, c driver.Conn, q string) uint64 {
	t.Helper()
	var n uint64
	if err := c.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// verifyArchive waits for every acknowledged callback to be archived, then checks that the distinct
// events in ClickHouse are exactly the acknowledged ones and that no view shows a duplicate.
func verifyArchive(t *testing.T, s *stack, acked map[string]bool) {
	t.Helper()
	c := s.conn()
	want := uint64(len(acked))
	waitFor(t, fmt.Sprintf("%d acknowledged events in archive_events", want), 90*time.Second, func() bool {
		return count(t, c, "SELECT count() FROM archive_events") >= want
	})
	waitFor(t, "every acknowledged event in the raw archive", 90*time.Second, func() bool {
		return count(t, c, "SELECT uniqExact(event_id) FROM raw_callbacks") >= want
	})
	waitFor(t, "the hash chain to cover the raw archive", 90*time.Second, func() bool {
		return count(t, c, "SELECT count() FROM raw_chain") >= count(t, c, "SELECT count() FROM raw_callbacks")
	})
	rows, err := c.Query(context.Background(), "SELECT event_id FROM archive_events")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		got[id]++
	}
	rows.Close()
	missing, extra, dups := 0, 0, 0
	for id := range acked {
		if got[id] == 0 {
			missing++
		}
	}
	for id, n := range got {
		if !acked[id] {
			extra++
		}
		if n > 1 {
			dups++
		}
	}
	if missing+extra+dups > 0 {
		t.Errorf("archive_events: %d acknowledged events missing, %d events never acknowledged, %d event_ids more than once (of %d acknowledged)", missing, extra, dups, len(acked))
	}
	for _, q := range []string{
		"SELECT toInt64(count()) - toInt64(uniqExact(event_id)) FROM messages",
		"SELECT toInt64(count()) - toInt64(uniqExact(event_id)) FROM presence_events",
		"SELECT toInt64(count()) - toInt64(uniqExact(source, app, account)) FROM presence_state",
		"SELECT toInt64(count()) - toInt64(uniqExact(source, app, account, device_id, client_type)) FROM presence_devices",
		"SELECT toInt64(count()) - toInt64(uniqExact(raw_topic_id, raw_partition, raw_offset)) FROM raw_callbacks",
		"SELECT toInt64(count()) - toInt64(uniqExact(raw_topic_id, raw_partition, raw_offset)) FROM raw_chain",
		"SELECT toInt64(countIf(event_id NOT IN (SELECT event_id FROM archive_events))) FROM raw_callbacks",
	} {
		var n int64
		if err := c.QueryRow(context.Background(), q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n != 0 {
			t.Errorf("%s = %d, want 0", q, n)
		}
	}
	// Every callback of the traffic is good: nothing was dead-lettered (an outage is retried, never
	// set aside as bad data).
	if n := deadLetters(t, s); n > 0 {
		t.Errorf("%d records on the dead-letter topic", n)
	}
	// Every connection's online-state timestamp is the greatest time among its copies, whatever the
	// arrival order (a copy older than the stamp never moves it; any other copy sets it).
	if n := count(t, c, `SELECT count() FROM presence_connections AS s
		FULL OUTER JOIN (SELECT source, app, account, connection, max(occurred_at) AS t FROM presence_events GROUP BY source, app, account, connection) AS p
		ON s.source = p.source AND s.app = p.app AND s.account = p.account AND s.connection = p.connection WHERE s.state_time != p.t`); n != 0 {
		t.Errorf("%d connections whose online-state timestamp is not their greatest time", n)
	}
	t.Logf("%d acknowledged callbacks, %d events archived once each, %d raw receipts",
		len(acked), len(got), count(t, c, "SELECT count() FROM raw_callbacks"))
}

// deadLetters counts the records of the stack's dead-letter topic (-1: the stack's Kafka is not
// reachable from the test, as dev's embedded one).
func deadLetters(t *testing.T, s *stack) int64 {
	t.Helper()
	brokers := s.getenv("IMARCHIVE_KAFKA_BROKERS")
	if brokers == "" {
		return -1
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, s.getenv("IMARCHIVE_TOPIC_PREFIX")+"deadletter")
	if err != nil {
		t.Fatalf("dead-letter topic end offsets: %v", err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n
}

// metric reads a counter or gauge from a /metrics page: the sum over the series whose text matches.
func metric(t *testing.T, url, name, labels string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `\{[^}]*` + regexp.QuoteMeta(labels) + `[^}]*\} (\S+)$`)
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			sum += v
		}
	}
	return sum
}

func startPipeline(t *testing.T, s *stack, extraEnv ...string) {
	t.Helper()
	s.env = append(s.env, extraEnv...)
	s.run("migrate")
	s.start("serve")
	s.start("consume")
	waitFor(t, "serve /readyz", 60*time.Second, s.ready)
}

// ready reports whether serve (or dev) answers /readyz on its ops address with 200.
func (s *stack) ready() bool {
	resp, err := http.Get("http://" + s.ops + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// lockedLog is a process's output, readable while the process writes it.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startWatched starts consume with debug logging and a readable log.
func (s *stack) startWatched(name string, env ...string) (*exec.Cmd, *lockedLog) {
	s.t.Helper()
	cmd := exec.Command(binary(s.t), name)
	cmd.Env = append(append([]string{}, s.env...), env...)
	log := &lockedLog{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, log
}

// batchInFlight reports whether the events consumer's last batch line in log is "writing batch"
// with no "batch committed" after it.
func batchInFlight(log string) bool {
	state := false
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "consumer=events") {
			continue
		}
		switch {
		case strings.Contains(line, `msg="writing batch"`):
			state = true
		case strings.Contains(line, `msg="batch committed"`):
			state = false
		}
	}
	return state
}

// TestFailureConsumerKilledMidBatch: consume is killed with SIGKILL three times while it writes a
// batch of a steady stream (right after it logs "writing batch", before "batch committed") and
// restarted; every acknowledged callback ends up archived once.
func TestFailureConsumerKilledMidBatch(t *testing.T) {
	s := newStack(t)
	// A killed member is given up after the session timeout: 6 s, the broker's minimum, not 45.
	startPipeline(t, s, "IMARCHIVE_BATCH_ROWS=200", "IMARCHIVE_BATCH_WAIT=300ms", "IMARCHIVE_SESSION_TIMEOUT=6s")
	s.stop("consume") // replaced by watched instances
	c := s.conn()
	tr := newTraffic(s)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const total = 2400
	done := make(chan struct{})
	go func() { tr.send(ctx, total, 12, nil); close(done) }()

	written := func() uint64 { return count(t, c, "SELECT count() FROM archive_events") }
	midBatch := 0
	for kill := 1; kill <= 3; kill++ {
		cmd, log := s.startWatched("consume", "IMARCHIVE_LOG_LEVEL=debug")
		// Let this instance commit a batch or two, then kill it at once when the next is in flight.
		waitFor(t, "the consumer to commit and start writing the next batch", 60*time.Second, func() bool {
			l := log.String()
			return strings.Count(l, `msg="batch committed" consumer=events`) >= kill && batchInFlight(l)
		})
		cmd.Process.Kill()
		cmd.Wait()
		if batchInFlight(log.String()) {
			midBatch++
		}
		t.Logf("kill -9 #%d of consume (batch in flight: %v) with %d of %d events archived", kill, batchInFlight(log.String()), written(), total)
	}
	if midBatch == 0 {
		t.Error("no kill landed while a batch was being written")
	}
	s.start("consume")
	<-done
	if n := len(tr.ackedIDs()); n != total {
		t.Fatalf("traffic did not finish: %d of %d acknowledged", n, total)
	}
	verifyArchive(t, s, tr.ackedIDs())
	s.stop("serve")
	s.stop("consume")
}

// TestFailureClickHouseDownDuringConsumption: the ClickHouse engine is killed while callbacks flow
// and are consumed, stays down a few seconds (serve keeps acknowledging: it needs Kafka only; consume
// retries its batch), and is started again; nothing acknowledged is lost or doubled.
func TestFailureClickHouseDownDuringConsumption(t *testing.T) {
	chctl := ctl(t, "IMARCHIVE_TEST_CHDB_CTL")
	s := newStack(t)
	startPipeline(t, s)
	c := s.conn()
	tr := newTraffic(s)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { tr.send(ctx, 0, 8, stop); close(done) }()
	t.Cleanup(func() { exec.Command("bash", "-c", chctl+" start").Run() }) // never leave it down

	waitFor(t, "events archived", 60*time.Second, func() bool { return count(t, c, "SELECT count() FROM archive_events") > 100 })
	control(t, chctl, "kill")
	before := len(tr.ackedIDs())
	time.Sleep(4 * time.Second)
	// While the batch is retried, the lag the consumer reports (read from Kafka) grows.
	ops := "http://" + s.getenv("IMARCHIVE_OPS_LISTEN") + "/metrics"
	waitFor(t, "consume to report its lag during the outage", 40*time.Second, func() bool {
		return metric(t, ops, "imarchive_pipeline_consumer_lag_records", `consumer="events"`) > 0
	})
	during := len(tr.ackedIDs()) - before
	control(t, chctl, "start")
	time.Sleep(2 * time.Second)
	close(stop)
	<-done
	if during == 0 {
		t.Error("no callback was acknowledged while ClickHouse was down: serve should need Kafka only")
	}
	if r := metric(t, ops, "imarchive_pipeline_insert_retries_total", `consumer="events"`); r < 1 {
		t.Errorf("consume reported %v retries: the outage was not seen", r)
	}
	t.Logf("%d callbacks acknowledged while ClickHouse was down", during)
	verifyArchive(t, s, tr.ackedIDs())
	s.stop("serve")
	s.stop("consume")
}

// TestFailureKafkaRestartWhileCallbacksFlow: the Kafka broker is stopped and started while callbacks
// flow; serve answers from its spool meanwhile (nothing is refused) and forwards it when the broker
// is back; consume reconnects; every callback acknowledged before, during and after is archived once.
func TestFailureKafkaRestartWhileCallbacksFlow(t *testing.T) {
	kctl := ctl(t, "IMARCHIVE_TEST_KAFKA_CTL")
	s := newStack(t)
	startPipeline(t, s)
	c := s.conn()
	tr := newTraffic(s)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { tr.send(ctx, 0, 8, stop); close(done) }()
	t.Cleanup(func() { exec.Command("bash", "-c", kctl+" start").Run() })

	waitFor(t, "events archived", 60*time.Second, func() bool { return count(t, c, "SELECT count() FROM archive_events") > 100 })
	failsBefore := tr.fails.Load()
	control(t, kctl, "stop")
	time.Sleep(2 * time.Second)
	control(t, kctl, "start")
	waitFor(t, "callbacks acknowledged again", 60*time.Second, func() bool {
		n := len(tr.ackedIDs())
		time.Sleep(time.Second)
		return len(tr.ackedIDs()) > n
	})
	time.Sleep(2 * time.Second)
	close(stop)
	<-done
	if ctx.Err() != nil {
		t.Fatal("traffic did not finish within its deadline")
	}
	if n := tr.fails.Load() - failsBefore; n != 0 {
		t.Errorf("%d callbacks refused while Kafka was down: serve should have answered them from its spool", n)
	}
	if n := metric(t, "http://"+s.ops+"/metrics", "imarchive_ingest_spooled_total", `platform="netease_qchat"`); n <= 0 {
		t.Errorf("spooled %v callbacks while Kafka was down", n)
	}
	t.Logf("%d sends, %d refused or failed and retried", tr.sends.Load(), tr.fails.Load())
	verifyArchive(t, s, tr.ackedIDs())
	s.stop("serve")
	s.stop("consume")
}

// TestReplayCommand: imarchive replay re-normalizes the raw topic of a running stack into the events
// topic with progress output; the consumer rewrites the rows and analysts still see each event once.
func TestReplayCommand(t *testing.T) {
	s := newStack(t)
	startPipeline(t, s)
	c := s.conn()
	tr := newTraffic(s)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const n = 40
	tr.send(ctx, n, 4, nil)
	acked := tr.ackedIDs()
	if len(acked) != n {
		t.Fatalf("%d of %d callbacks acknowledged", len(acked), n)
	}
	verifyArchive(t, s, acked)
	stored := func() uint64 {
		return count(t, c, "SELECT count() FROM messages_data") + count(t, c, "SELECT count() FROM presence_events_data")
	}
	before := stored()

	// Every receipt on the raw topic is replayed (a retried callback may have been received twice).
	receipts := count(t, c, "SELECT count() FROM raw_callbacks")
	out := s.run("replay", "--progress-every", "1ms")
	if !strings.Contains(out, fmt.Sprintf("replay: done: %d raw records, %d events, 0 dead letters", receipts, receipts)) || !strings.Contains(out, "records/s") {
		t.Fatalf("replay of %d raw receipts said:\n%s", receipts, out)
	}
	// The consumer writes the replayed events again (more stored rows, unless merged meanwhile) …
	waitFor(t, "the replayed events to be written", 60*time.Second, func() bool {
		return metric(t, "http://"+s.getenv("IMARCHIVE_OPS_LISTEN")+"/metrics", "imarchive_pipeline_rows_written_total", `consumer="events"`) >= float64(n+receipts)
	})
	t.Logf("stored rows %d before the replay, %d after (merges may fold them at any time)", before, stored())
	// … and the views still show each event once.
	verifyArchive(t, s, acked)

	if out := s.run("replay", "--dry-run"); !strings.Contains(out, "dry run: nothing produced") {
		t.Errorf("dry run said:\n%s", out)
	}
	s.stop("serve")
	s.stop("consume")
}
