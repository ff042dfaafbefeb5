package main_test

// Scale-out tests: several consume processes in one group through rebalances, and several serve
// replicas behind one URL, on the real Kafka broker and ClickHouse engine named by IMARCHIVE_TEST_*.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/normalize"
)

// consumeProc is one consume process of a scale test.
type consumeProc struct {
	name string
	cmd  *exec.Cmd
	log  *lockedLog
	ops  string // its /metrics and /readyz address
}

func (p *consumeProc) metric(t *testing.T, name, labels string) float64 {
	return metric(t, "http://"+p.ops+"/metrics", name, labels)
}

// startConsume starts a consume process with the stack's environment and env on top, on an ops
// address of its own, logging at debug level (the kill below reads its batches from the log).
func (s *stack) startConsume(name string, env ...string) *consumeProc {
	s.t.Helper()
	ops := freeAddr(s.t)
	env = append([]string{"IMARCHIVE_OPS_LISTEN=" + ops, "IMARCHIVE_LOG_LEVEL=debug"}, env...)
	cmd, log := s.startWatched("consume", env...)
	p := &consumeProc{name: name, cmd: cmd, log: log, ops: ops}
	s.t.Cleanup(func() {
		if s.t.Failed() && cmd.ProcessState == nil {
			s.t.Logf("--- %s log (last 4 KiB) ---\n%s", name, tail(log.String(), 4096))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// stopConsume stops a consume process with SIGTERM and expects a clean exit.
func stopConsume(t *testing.T, p *consumeProc) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s exited with %v after SIGTERM\n%s", p.name, err, tail(p.log.String(), 4096))
		}
	case <-time.After(45 * time.Second):
		p.cmd.Process.Kill()
		t.Errorf("%s did not stop within 45 s of SIGTERM", p.name)
	}
}

// admin returns an admin client of the stack's brokers and a context of ten seconds for one
// question; done closes both.
func (s *stack) admin() (*kadm.Client, context.Context, func()) {
	s.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(s.getenv("IMARCHIVE_KAFKA_BROKERS"), ",")...))
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	return kadm.NewClient(cl), ctx, func() { cancel(); cl.Close() }
}

// groupHolders returns the members of a stable group that hold partitions, by client host and
// instance ID; nil while the group rebalances.
func (s *stack) groupHolders(group string) []string {
	s.t.Helper()
	adm, ctx, done := s.admin()
	defer done()
	gs, err := adm.DescribeGroups(ctx, group)
	if err != nil || gs[group].State != "Stable" {
		return nil
	}
	var out []string
	for _, m := range gs[group].Members {
		if c, ok := m.Assigned.AsConsumer(); ok && len(c.Topics) > 0 && len(c.Topics[0].Partitions) > 0 {
			id := m.MemberID
			if m.InstanceID != nil {
				id = *m.InstanceID
			}
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// caughtUp says whether group has committed every record of its topics (no lag on any partition).
func (s *stack) caughtUp(group string) bool {
	s.t.Helper()
	adm, ctx, done := s.admin()
	defer done()
	lags, err := adm.Lag(ctx, group)
	if err != nil || lags.Error() != nil || len(lags[group].Lag) == 0 {
		return false
	}
	return lags[group].Lag.Total() == 0
}

func (s *stack) waitHolders(group string, n int, timeout time.Duration) []string {
	s.t.Helper()
	var got []string
	waitFor(s.t, fmt.Sprintf("group %s stable with %d members holding partitions", group, n), timeout, func() bool {
		got = s.groupHolders(group)
		return len(got) == n
	})
	return got
}

// scaleTraffic is a platform sending NetEase callbacks at a steady rate: messages, and presence copies
// of 12 accounts on 2 connections each — logins, heartbeats, logouts, drops, reconnects — a sixth of
// them late (older than copies of their connection already sent), so the online-state rule has
// verdicts to give that depend on what came before.
type scaleTraffic struct{ *traffic }

func (tr scaleTraffic) body(i int64) []byte {
	h := uint64(i)*0x9e3779b97f4a7c15 ^ 0x5851f42d4c957f2d
	h ^= h >> 29
	if i%3 != 0 {
		return fmt.Appendf(nil, `{"eventType":"48","fromAccount":"user%d","fromNick":"n","msgType":"TEXT","body":"message %d of %s","serverId":"s1","channelId":"c%d","msgIdServer":"%s-%d","msgIdClient":"cl-%d","msgTimestamp":"%d","time":%d}`,
			i%11, i, tr.run, i%5, tr.run, i, i, 1_700_000_000_000+i, 1_700_000_000_003+i)
	}
	types := []string{"1", "8", "2", "3", "1", "7", "8", "1"}
	at := 1_700_000_000_000 + i*1000
	if h%6 == 0 {
		at -= int64(20_000 + h%100_000) // late: a connection has a copy every 72 callbacks or so
	}
	acct, conn := h%12, (h>>16)%2
	return fmt.Appendf(nil, `{"eventType":"47","type":"%s","accid":"acct%d","deviceId":"dev%d","clientType":"AOS","consid":"%s-a%d-c%d","time":"%d","seq":"%d"}`,
		types[(h>>8)%uint64(len(types))], acct, conn, tr.run, acct, conn, at, i)
}

// sendPaced delivers callbacks 0..n-1 at rate per second with workers in flight, each retried until
// answered 200 (traffic.deliver); it returns when all are acknowledged or ctx ends.
func (tr scaleTraffic) sendPaced(ctx context.Context, n int64, rate float64, workers int) {
	client := &http.Client{Timeout: 10 * time.Second}
	next := make(chan int64)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				tr.deliver(ctx, client, tr.body(i))
			}
		}()
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for i := int64(0); i < n && ctx.Err() == nil; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
		}
		<-tick.C
	}
	close(next)
	wg.Wait()
}

// number reads a JSON number that may come quoted (ClickHouse quotes 64-bit integers).
func number(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}

// killMidBatch SIGKILLs p the moment its events consumer is between "writing batch" and "batch
// committed", and reports whether the kill landed there.
func killMidBatch(t *testing.T, p *consumeProc) bool {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !batchInFlight(p.log.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never had a batch in flight", p.name)
		}
		time.Sleep(2 * time.Millisecond)
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()
	return batchInFlight(p.log.String())
}

// presenceRows returns the rows of a presence view as text, sorted, for comparing two runs.
func presenceRows(t *testing.T, s *stack, q string) []string {
	t.Helper()
	rows, err := s.conn().Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals := make([]any, len(rows.ColumnTypes()))
		for i, ct := range rows.ColumnTypes() {
			vals[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteString(" | ")
			}
			fmt.Fprint(&b, reflect.ValueOf(v).Elem().Interface())
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestConsumersScaleOutThroughRebalances: three consume processes share one group under a steady
// load while the group changes under them: scaled up from one to three, one killed with SIGKILL in
// the middle of a batch, one stopped (scaled down), two static members added and one of them
// restarted — which must not rebalance the others. Every acknowledged callback is archived exactly
// once, and the presence verdicts and states are those one consumer gives reading the same topics
// alone afterwards (into a database of its own): an account's copies move between consumers with
// its partition, and each consumer's cached states are read again from ClickHouse when they do.
func TestConsumersScaleOutThroughRebalances(t *testing.T) {
	s := newStack(t)
	group := s.getenv("IMARCHIVE_CONSUMER_GROUP")
	s.env = append(s.env,
		"IMARCHIVE_TOPIC_PARTITIONS=6",
		"IMARCHIVE_SESSION_TIMEOUT=6s", // the broker's minimum: a killed member is given up after 6 s
		"IMARCHIVE_BATCH_WAIT=200ms",
		"IMARCHIVE_INSERT_INTERVAL=300ms",
	)
	s.run("migrate")
	refDSN, _ := testenv.Database(t)
	ref := *s
	ref.env = append(slices.Clone(s.env), "IMARCHIVE_CLICKHOUSE_DSN="+refDSN, "IMARCHIVE_CONSUMER_GROUP="+group+"-single")
	ref.run("migrate")
	s.start("serve")
	waitFor(t, "serve /readyz", 60*time.Second, s.ready)

	tr := scaleTraffic{newTraffic(s)}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const total = 3600
	done := make(chan struct{})
	go func() { tr.sendPaced(ctx, total, 80, 8); close(done) }()
	acked := func() int { return len(tr.ackedIDs()) }

	c1 := s.startConsume("c1")
	waitFor(t, "c1 to write", 60*time.Second, func() bool { return c1.metric(t, "imarchive_pipeline_rows_written_total", `consumer="events"`) > 50 })
	c2 := s.startConsume("c2")
	c3 := s.startConsume("c3")
	t.Logf("scaled up to 3: %v (%d acknowledged)", s.waitHolders(group, 3, 60*time.Second), acked())
	waitFor(t, "each consumer to write", 60*time.Second, func() bool {
		return c2.metric(t, "imarchive_pipeline_rows_written_total", `consumer="events"`) > 0 &&
			c3.metric(t, "imarchive_pipeline_rows_written_total", `consumer="events"`) > 0
	})
	waitFor(t, "c1 to count three writers in its group", 20*time.Second, func() bool {
		return c1.metric(t, "imarchive_pipeline_group_writers", `consumer="events"`) == 3
	})

	midBatch := false
	for try := 1; try <= 3 && !midBatch; try++ {
		if try > 1 {
			c2 = s.startConsume(fmt.Sprintf("c2-%d", try))
			s.waitHolders(group, 3, 60*time.Second)
			waitFor(t, "the new c2 to write", 60*time.Second, func() bool {
				return c2.metric(t, "imarchive_pipeline_rows_written_total", `consumer="events"`) > 0
			})
		}
		midBatch = killMidBatch(t, c2)
		t.Logf("kill -9 #%d of c2, batch in flight: %v (%d acknowledged)", try, midBatch, acked())
	}
	if !midBatch {
		t.Error("no kill landed while c2 was writing a batch")
	}
	t.Logf("after the kill, once the session timed out: %v", s.waitHolders(group, 2, 60*time.Second))

	stopConsume(t, c3)
	t.Logf("scaled down (c3 stopped): %v (%d acknowledged)", s.waitHolders(group, 1, 60*time.Second), acked())

	// Static members are given a session timeout longer than a restart takes (as an operator
	// would): the broker waits that long for c4 to come back before it rebalances. With the 6 s of
	// the dynamic members, a restart on a loaded machine can outlast it.
	static := func(id string) []string {
		return []string{"IMARCHIVE_GROUP_INSTANCE_ID=" + id, "IMARCHIVE_SESSION_TIMEOUT=30s"}
	}
	c4 := s.startConsume("c4", static("c4")...)
	c5 := s.startConsume("c5", static("c5")...)
	holders := s.waitHolders(group, 3, 60*time.Second)
	if !slices.Contains(holders, "c4") || !slices.Contains(holders, "c5") {
		t.Errorf("holders %v: want the static members c4 and c5", holders)
	}
	waitFor(t, "c4 to write", 60*time.Second, func() bool {
		return c4.metric(t, "imarchive_pipeline_rows_written_total", `consumer="events"`) > 0
	})
	moves := func() float64 {
		return c1.metric(t, "imarchive_pipeline_partition_moves_total", "") + c5.metric(t, "imarchive_pipeline_partition_moves_total", "")
	}
	// Both groups (events and raw) settled: three holders each, and no move for three seconds
	// (a cooperative rebalance takes two rounds, and the raw group's may end after the events').
	s.waitHolders(group+"-raw", 3, 60*time.Second)
	before := moves()
	for steady := time.Now(); time.Since(steady) < 3*time.Second; time.Sleep(250 * time.Millisecond) {
		if m := moves(); m != before {
			before, steady = m, time.Now()
		}
	}
	stopConsume(t, c4) // a static member does not leave the group: its partitions wait for it
	c4 = s.startConsume("c4-restarted", static("c4")...)
	waitFor(t, "the restarted c4 to write", 60*time.Second, func() bool {
		return c4.metric(t, "imarchive_pipeline_rows_written_total", `consumer="events"`) > 0
	})
	t.Logf("static members c4, c5 joined: %v; c4 restarted (%d acknowledged)", holders, acked())
	if after := moves(); after != before {
		t.Errorf("restarting the static member c4 moved partitions of the others (%v moves before, %v after): it should rejoin without a rebalance", before, after)
	}
	if h := s.groupHolders(group); !slices.Equal(h, holders) {
		t.Errorf("holders after the restart %v, before %v", h, holders)
	}

	<-done
	if n := acked(); n != total {
		t.Fatalf("traffic did not finish: %d of %d acknowledged", n, total)
	}
	ids := tr.ackedIDs()
	verifyArchive(t, s, ids)
	for _, p := range []*consumeProc{c1, c4, c5} {
		if st := p.metric(t, "imarchive_pipeline_partition_stalled", ""); st != 0 {
			t.Errorf("%s reports %v stalled partitions once caught up", p.name, st)
		}
	}

	// The same topics read by one consumer alone, into its own database.
	single, _ := ref.startWatched("consume", "IMARCHIVE_OPS_LISTEN="+freeAddr(t))
	verifyArchive(t, &ref, ids)
	single.Process.Signal(syscall.SIGTERM)
	single.Wait()

	for _, q := range []string{
		`SELECT event_id, account, connection, op, online, stale, arrival, since FROM presence_events`,
		`SELECT account, connection, status, since, state_op, state_time, state_arrival, state_event_id FROM presence_connections`,
		`SELECT account, status, since, connections_online, connections, state_event_id FROM presence_state`,
	} {
		multi, alone := presenceRows(t, s, q), presenceRows(t, &ref, q)
		if len(multi) == 0 {
			t.Errorf("%s: no rows", q)
		}
		diff := 0
		for i := range max(len(multi), len(alone)) {
			var a, b string
			if i < len(multi) {
				a = multi[i]
			}
			if i < len(alone) {
				b = alone[i]
			}
			if a != b {
				if diff < 5 {
					t.Errorf("%s\n  three consumers: %s\n  one consumer:    %s", q, a, b)
				}
				diff++
			}
		}
		if diff > 0 {
			t.Errorf("%s: %d of %d rows differ between three consumers and one", q, diff, len(alone))
		}
	}
	stale := count(t, s.conn(), "SELECT countIf(stale) FROM presence_events")
	t.Logf("%d callbacks acknowledged; %d presence copies, %d of them stale",
		len(ids), count(t, s.conn(), "SELECT count() FROM presence_events"), stale)
	if stale == 0 {
		t.Error("no copy arrived stale: the traffic does not exercise the rule")
	}
	for _, p := range []*consumeProc{c1, c4, c5} {
		stopConsume(t, p)
	}
	s.stop("serve")
}

// TestServeReplicasBehindOneURL: two serve processes behind one URL (the platform reaches either);
// every callback is delivered to one, and a platform retry of a tenth of them lands on the other.
// Each replica's dedupe window is its own, so the retry is produced again there (counted as
// accepted, not as a duplicate, by that replica), and analysts still see each event once: the
// archive folds it by event_id. The raw archive keeps both receipts, which duplicates_discarded
// counts.
func TestServeReplicasBehindOneURL(t *testing.T) {
	s := newStack(t)
	s.run("migrate")
	a, b := s.listen, freeAddr(t)
	opsB := freeAddr(t)
	s.start("serve")
	cmd := exec.Command(binary(t), "serve")
	cmd.Env = append(slices.Clone(s.env), "IMARCHIVE_LISTEN="+b, "IMARCHIVE_SERVE_OPS_LISTEN="+opsB, "IMARCHIVE_SPOOL_DIR="+t.TempDir())
	var logB bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logB, &logB
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	s.start("consume")
	for _, ops := range []string{s.ops, opsB} {
		waitFor(t, "both replicas ready", 60*time.Second, func() bool {
			resp, err := http.Get("http://" + ops + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}

	post := func(addr string, body []byte) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/netease/app1", bytes.NewReader(body))
		req.Header = sign("s3cret", body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	tr := newTraffic(s)
	const n, retried = 200, 20
	acked := map[string]bool{}
	for i := range int64(n) {
		body := tr.body(i)
		first, other := a, b
		if i%2 == 1 {
			first, other = b, a
		}
		waitFor(t, "a delivery answered 200", 30*time.Second, func() bool { return post(first, body) == http.StatusOK })
		if i < retried {
			// The platform did not get our answer in time and retries; its load balancer picks the
			// other replica. And once more on the first, which remembers it.
			if code := post(other, body); code != http.StatusOK {
				t.Fatalf("retry on the other replica: %d", code)
			}
			if code := post(first, body); code != http.StatusOK {
				t.Fatalf("retry on the first replica: %d", code)
			}
		}
		ev, err := normalize.Netease("app1", body, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		acked[ev.EventID] = true
	}
	verifyArchive(t, s, acked)

	c := s.conn()
	if got := count(t, c, "SELECT count() FROM raw_callbacks"); got != n+retried {
		t.Errorf("raw archive holds %d receipts, want %d: each callback, and the retries that reached the other replica", got, n+retried)
	}
	// What the archive shows analysts: each retry that reached the other replica is a second receipt
	// of an event already received (duplicates_discarded), and the event is in the views once.
	dups := 0.0
	for _, r := range s.queryJSON("duplicates_discarded", "from=-1h", "to=now", "step_seconds=86400") {
		dups += number(r["duplicates"])
	}
	if dups != retried {
		t.Errorf("duplicates_discarded counts %v repeated receipts, want %d", dups, retried)
	}
	seen := metric(t, "http://"+s.ops+"/metrics", "imarchive_ingest_duplicates_total", `platform="netease_qchat"`) +
		metric(t, "http://"+opsB+"/metrics", "imarchive_ingest_duplicates_total", `platform="netease_qchat"`)
	if seen != retried {
		t.Errorf("the replicas' imarchive_ingest_duplicates_total sums to %v, want %d: each replica counts only the retries its own window remembers", seen, retried)
	}
	// Answered with success and produced: acknowledged by Kafka ("accepted") or, when Kafka was slow
	// on a loaded machine, written to the replica's spool first ("spooled"); never both.
	accepted := 0.0
	for _, ops := range []string{s.ops, opsB} {
		for _, o := range []string{"accepted", "spooled"} {
			accepted += metric(t, "http://"+ops+"/metrics", "imarchive_ingest_callbacks_total", `outcome="`+o+`"`)
		}
	}
	if accepted != n+retried {
		t.Errorf("the replicas accepted or spooled %v callbacks, want %d (each first delivery, and each retry on the replica that had not seen it)", accepted, n+retried)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	s.stop("serve")
	s.stop("consume")
}

// TestMigrateClusterPrint: imarchive migrate --cluster NAME --print prints, without a server, the
// rendering the schema package golden-tests (schema/testdata/cluster), for the DSN's database.
func TestMigrateClusterPrint(t *testing.T) {
	out, err := exec.Command(binary(t), "migrate", "--cluster", "imarchive", "--print", "--clickhouse-dsn", "http://127.0.0.1:1/imarchive").Output()
	if err != nil {
		t.Fatal(err)
	}
	goldens, err := filepath.Glob("../../schema/testdata/cluster/*.sql")
	if err != nil || len(goldens) < 10 {
		t.Fatalf("golden files: %v %v", goldens, err)
	}
	for _, g := range goldens {
		b, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		// The golden's statements, after its three lines of header.
		body := strings.SplitN(string(b), "\n", 4)[3]
		if !bytes.Contains(out, []byte(body)) {
			t.Errorf("migrate --cluster --print does not print %s as rendered", filepath.Base(g))
		}
	}
}
