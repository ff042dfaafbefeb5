package main_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/chconn"
)

// runCode runs a one-shot command and returns its exit code, standard output and standard error.
func (s *stack) runCode(args ...string) (int, string, string) {
	s.t.Helper()
	cmd := exec.Command(binary(s.t), args...)
	cmd.Env = s.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	if err != nil {
		s.t.Fatalf("imarchive %s: %v", strings.Join(args, " "), err)
	}
	return 0, stdout.String(), stderr.String()
}

func (s *stack) envValue(name string) string {
	for _, kv := range s.env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// TestEndToEndCompliance: every NetEase example of the manual POSTed to a running serve and written
// by a running consume, which also chains the raw records. Then, as an auditor would, through the
// binary: audit verify proves the raw archive intact; an account's history is exported and the export
// verifies offline (and a changed file does not); a hold is placed, listed, respected by a retention
// dry run and released; a raw body altered in ClickHouse makes audit verify fail and name the place.
func TestEndToEndCompliance(t *testing.T) {
	s := newStack(t)
	s.run("migrate")
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
	start := time.Now().UTC().Add(-time.Minute)
	files, err := filepath.Glob("../../normalize/testdata/netease/*.json")
	if err != nil {
		t.Fatal(err)
	}
	posted := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".event.json") {
			continue
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "serve to accept "+filepath.Base(f), 30*time.Second, func() bool {
			return s.post("app1", body, sign("s3cret", body)) == http.StatusOK
		})
		posted++
	}
	if posted < 30 {
		t.Fatalf("only %d examples posted", posted)
	}
	ctx := context.Background()
	conn, err := chconn.Open(ctx, s.envValue("IMARCHIVE_CLICKHOUSE_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	count := func(q string) uint64 {
		var n uint64
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	waitFor(t, "every raw record archived and chained", 90*time.Second, func() bool {
		return count("SELECT count() FROM raw_callbacks") == uint64(posted) && count("SELECT count() FROM raw_chain") == uint64(posted)
	})
	// The events group writes on its own schedule: the export below reads what it wrote.
	waitFor(t, "the events group caught up", 90*time.Second, func() bool { return s.caughtUp(s.envValue("IMARCHIVE_CONSUMER_GROUP")) })
	to := time.Now().UTC().Add(time.Minute)
	rangeArgs := []string{"--from", start.Format(time.RFC3339), "--to", to.Format(time.RFC3339)}

	code, out, errOut := s.runCode(append([]string{"audit", "verify"}, rangeArgs...)...)
	if code != 0 || !strings.Contains(out, "OK: ") || !strings.Contains(out, "records checked") {
		t.Fatalf("audit verify of an intact archive: exit %d\n%s\n%s", code, out, errOut)
	}
	anchors := regexp.MustCompile(`--anchor \d+:\d+:[0-9a-f]{64}`).FindAllString(out, -1)
	if len(anchors) == 0 {
		t.Fatalf("audit verify printed no heads:\n%s", out)
	}

	// yx is the operator of most of the manual's examples.
	hist := s.queryJSON("account_history", "account=yx", "from=2020-01-01T00:00:00Z", "to=2030-01-01T00:00:00Z")
	if len(hist) < 5 {
		t.Fatalf("account_history of yx: %d rows", len(hist))
	}

	dir := filepath.Join(t.TempDir(), "yx")
	code, out, errOut = s.runCode("export", "--out", dir, "--app", "app1", "--account", "yx", "--from", "2020-01-01", "--format", "csv")
	if code != 0 || !strings.Contains(errOut, "export done:") {
		t.Fatalf("export: exit %d\n%s\n%s", code, out, errOut)
	}
	m := regexp.MustCompile(`manifest SHA-256 ([0-9a-f]{64})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("export printed no manifest hash:\n%s", out)
	}
	code, out, _ = s.runCode("export", "verify", dir, "--manifest-sha256", m[1])
	if code != 0 || !strings.Contains(out, "OK: every file and payload is as exported") {
		t.Fatalf("export verify: exit %d\n%s", code, out)
	}
	msgs := filepath.Join(dir, "messages.csv")
	b, err := os.ReadFile(msgs)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(msgs, bytes.Replace(b, []byte("文本消息"), []byte("文本"), 1), 0o640)
	code, out, _ = s.runCode("export", "verify", dir, "--manifest-sha256", m[1])
	if code != 1 || !strings.Contains(out, "PROBLEM: messages.csv: SHA-256 is") {
		t.Fatalf("export verify of a changed file: exit %d\n%s", code, out)
	}

	// A hold on yx: listed with who and why; a retention dry run counts yx's rows as held.
	code, out, errOut = s.runCode("hold", "add", "--app", "app1", "--scope", "account", "--subject", "yx", "--by", "auditor@example.com", "--reason", "case 7")
	hid := regexp.MustCompile(`hold (h-\S+) placed`).FindStringSubmatch(out)
	if code != 0 || hid == nil {
		t.Fatalf("hold add: exit %d\n%s\n%s", code, out, errOut)
	}
	out = s.run("hold", "list", "--format", "csv")
	if !strings.Contains(out, hid[1]+",1,app1,account,yx,auditor@example.com,") {
		t.Errorf("hold list:\n%s", out)
	}
	out = s.run("retention", "apply", "--retention", "all=1", "--by", "ops", "--dry-run")
	if !strings.Contains(out, "retention dry run") || !regexp.MustCompile(`messages_data\s+1\s+\S+\s+0\s+0\s+0`).MatchString(out) {
		t.Errorf("retention dry run (every row is younger than a day: nothing to delete):\n%s", out)
	}
	s.run("hold", "release", "--id", hid[1], "--by", "auditor@example.com", "--reason", "case closed")
	if out := s.run("hold", "list", "--format", "csv"); strings.Contains(out, hid[1]) {
		t.Errorf("released hold still listed as in force:\n%s", out)
	}

	s.stop("serve")
	s.stop("consume")

	// Someone alters a raw body in ClickHouse: audit verify fails and says where.
	if err := conn.Exec(ctx, "ALTER TABLE raw_callbacks_data UPDATE body = replaceOne(body, 'yx', 'zz') WHERE position(body, 'yx') > 0 SETTINGS mutations_sync = 2"); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = s.runCode(append([]string{"audit", "verify"}, rangeArgs...)...)
	if code != 1 || !strings.Contains(out, "FIRST BREAK: partition ") || !strings.Contains(out, ": altered: payload SHA-256 is") ||
		!strings.Contains(errOut, "breaks in the raw archive; the first: partition") {
		t.Fatalf("audit verify after tampering: exit %d\n%s\n%s", code, out, errOut)
	}
	// The anchors taken before still hold: the chain itself was not touched.
	args := append([]string{"audit", "verify", "--format", "json"}, rangeArgs...)
	for _, a := range anchors {
		args = append(args, strings.Fields(a)...)
	}
	if code, out, _ := s.runCode(args...); code != 1 || strings.Contains(out, `"kind": "anchor"`) || !strings.Contains(out, `"kind": "altered"`) {
		t.Errorf("audit verify --format json with anchors: exit %d, an anchor break:\n%s", code, out)
	}
}
