package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/internal/testenv"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds ./cmd/imarchive once per test run: the end-to-end tests drive the real binary through
// its flags and environment, as an operator would.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "imarchive-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "imarchive")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// stack is one test's running services and their configuration.
type stack struct {
	t      *testing.T
	env    []string
	listen string
	ops    string // serve's /readyz and /metrics
	procs  map[string]*exec.Cmd
	logs   map[string]*bytes.Buffer
}

func newStack(t *testing.T) *stack {
	brokers := testenv.KafkaBrokers(t)
	dsn, _ := testenv.Database(t)
	u := testenv.Unique(t)
	s := &stack{
		t:      t,
		listen: freeAddr(t),
		ops:    freeAddr(t),
		procs:  map[string]*exec.Cmd{},
		logs:   map[string]*bytes.Buffer{},
	}
	s.env = append(os.Environ(),
		"IMARCHIVE_KAFKA_BROKERS="+strings.Join(brokers, ","),
		"IMARCHIVE_TOPIC_PREFIX="+u+".",
		"IMARCHIVE_TOPIC_PARTITIONS=3",
		"IMARCHIVE_CONSUMER_GROUP="+u,
		"IMARCHIVE_CLICKHOUSE_DSN="+dsn,
		"IMARCHIVE_NETEASE_APPS=app1=s3cret,app2=other",
		"IMARCHIVE_LISTEN="+s.listen,
		"IMARCHIVE_SERVE_OPS_LISTEN="+s.ops,
		"IMARCHIVE_OPS_LISTEN="+freeAddr(t),
		"IMARCHIVE_BATCH_WAIT=200ms",
		"IMARCHIVE_LOG_FORMAT=text",
		"IMARCHIVE_SPOOL_DIR="+t.TempDir(), // serve's spool, kept across its restarts within the test
	)
	t.Cleanup(func() {
		for name, p := range s.procs {
			if p.ProcessState == nil {
				p.Process.Kill()
				p.Wait()
			}
			if t.Failed() {
				t.Logf("--- %s log ---\n%s", name, s.logs[name].String())
			}
		}
	})
	return s
}

// run runs a one-shot command and returns its standard output.
func (s *stack) run(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(binary(s.t), args...)
	cmd.Env = s.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("imarchive %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// start starts a long-running cli.Subcommand.
func (s *stack) start(name string) {
	s.t.Helper()
	cmd := exec.Command(binary(s.t), name)
	cmd.Env = s.env
	buf := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = buf, buf
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.procs[name], s.logs[name] = cmd, buf
}

// stop sends SIGTERM and expects a clean exit.
func (s *stack) stop(name string) {
	s.t.Helper()
	p := s.procs[name]
	p.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			s.t.Errorf("%s exited with %v after SIGTERM\n%s", name, err, s.logs[name].String())
		}
	case <-time.After(30 * time.Second):
		s.t.Errorf("%s did not stop within 30s of SIGTERM", name)
		p.Process.Kill()
	}
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *stack) post(appKey string, body []byte, h http.Header) int {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.listen+"/v1/netease/"+appKey, bytes.NewReader(body))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func sign(secret string, body []byte) http.Header {
	ct := strconv.FormatInt(time.Now().UnixMilli(), 10)
	md5hex, sum := ingest.NeteaseCheckSum(secret, body, ct)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("CurTime", ct)
	h.Set("MD5", md5hex)
	h.Set("CheckSum", sum)
	return h
}

// TestEndToEndNeteaseMessage: the manual's eventType 48 example, POSTed with a correct checksum to a
// running serve, consumed into ClickHouse by a running consume, read back through query
// message_history — field by field. A forged callback is refused and never reaches ClickHouse; a
// platform retry of the real one shows up once.
func TestEndToEndNeteaseMessage(t *testing.T) {
	s := newStack(t)
	if out := s.run("migrate"); !strings.Contains(out, "schema version") {
		t.Fatalf("migrate said %q", out)
	}
	if out := s.run("migrate"); !strings.Contains(out, "(0 applied now)") {
		t.Fatalf("second migrate said %q, want nothing applied", out)
	}
	s.start("serve")
	s.start("consume")
	waitFor(t, "serve /readyz", 60*time.Second, func() bool {
		resp, err := http.Get("http://" + s.ops + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	seed, err := os.ReadFile("../../normalize/testdata/netease/48_message.json")
	if err != nil {
		t.Fatal(err)
	}
	// A forged copy of another message in the same channel: right shape, wrong secret.
	forged := bytes.Replace(seed, []byte(`"1541869"`), []byte(`"6666666"`), 1)
	forged = bytes.Replace(forged, []byte("文本消息"), []byte("FORGED"), 1)
	if code := s.post("app1", forged, sign("not-the-secret", forged)); code != http.StatusUnauthorized {
		t.Fatalf("forged callback: status %d, want 401", code)
	}
	waitFor(t, "topics to be created", 30*time.Second, func() bool {
		return s.post("app1", seed, sign("s3cret", seed)) == http.StatusOK
	})
	// The platform retries (say our answer was lost): same body, new CurTime and CheckSum.
	if code := s.post("app1", seed, sign("s3cret", seed)); code != http.StatusOK {
		t.Fatalf("retry: status %d", code)
	}

	var rows []map[string]any
	waitFor(t, "the message in ClickHouse", 90*time.Second, func() bool {
		rows = s.queryJSON("message_history", "app=app1", "channel_id=1394678",
			"from=2022-03-08T00:00:00Z", "to=2022-03-09T00:00:00Z")
		return len(rows) > 0
	})
	// Give a late duplicate or a leaked forgery time to land before counting.
	time.Sleep(2 * time.Second)
	rows = s.queryJSON("message_history", "app=app1", "channel_id=1394678", "from=2022-03-08T00:00:00Z", "to=2022-03-09T00:00:00Z")
	if len(rows) != 1 {
		t.Fatalf("message_history returned %d rows, want exactly 1 (the forged one refused, the retry folded): %v", len(rows), rows)
	}
	want := map[string]any{
		"msg_time":      "2022-03-08 12:58:28.787",
		"sender":        "yx",
		"sender_nick":   "yx",
		"msg_type":      "TEXT",
		"body":          "文本消息ygy-2022-03-08T20:58:28.721",
		"server_id":     "1492674",
		"channel_id":    "1394678",
		"msg_id":        "1541869",
		"client_msg_id": "852b7e2c-21f9-44ca-ae12-ad28eba35b7d",
		"source":        "netease_qchat",
		"event_id":      event.ID(event.SourceNetease, "app1", "48", "1541869"),
	}
	for k, v := range want {
		if rows[0][k] != v {
			t.Errorf("%s = %#v, want %#v", k, rows[0][k], v)
		}
	}
	if rt, _ := rows[0]["received_at"].(string); !strings.HasPrefix(rt, time.Now().UTC().Format("2006-01-02")) {
		t.Errorf("received_at = %v, want today", rows[0]["received_at"])
	}

	// The other output formats carry the same row.
	csvOut := s.run("query", "message_history", "--param", "app=app1", "--param", "channel_id=1394678",
		"--param", "from=2022-03-08 00:00:00", "--param", "to=1646784000000", "--format", "csv")
	lines := strings.Split(strings.TrimSpace(csvOut), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "msg_time,sender,") || !strings.Contains(lines[1], "1541869") {
		t.Errorf("csv output:\n%s", csvOut)
	}
	table := s.run("query", "message_history", "--param", "app=app1", "--param", "channel_id=1394678",
		"--param", "from=2022-03-08 00:00:00", "--param", "to=2022-03-09 00:00:00")
	if !strings.Contains(table, "\n(1 row)\n") || !strings.Contains(table, "文本消息ygy") {
		t.Errorf("table output:\n%s", table)
	}

	s.stop("serve")
	s.stop("consume")
}

func (s *stack) queryJSON(name string, params ...string) []map[string]any {
	s.t.Helper()
	args := []string{"query", name, "--format", "json"}
	for _, p := range params {
		args = append(args, "--param", p)
	}
	out := s.run(args...)
	var rows []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			s.t.Fatalf("query output line %q: %v", sc.Text(), err)
		}
		rows = append(rows, m)
	}
	return rows
}
