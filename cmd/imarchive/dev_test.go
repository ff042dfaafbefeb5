package main_test

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imarchive/imarchive/internal/testenv"
)

// TestDevEmbeddedKafka runs `imarchive dev` with no Kafka configured: it must say loudly that its
// embedded Kafka is not durable, migrate, accept a signed callback and write it to ClickHouse.
func TestDevEmbeddedKafka(t *testing.T) {
	dsn, _ := testenv.Database(t)
	listen, ops := freeAddr(t), freeAddr(t)
	// The parts' settings as dev's flags (as the README shows them), the rest in the environment.
	cmd := exec.Command(binary(t), "dev", "--netease-apps", "app1=s3cret", "--listen", listen,
		"--ops-listen", ops, "--consume-ops-listen", freeAddr(t), "--batch-wait=200ms")
	cmd.Env = append(os.Environ(),
		"IMARCHIVE_KAFKA_BROKERS=",
		"IMARCHIVE_CLICKHOUSE_DSN="+dsn,
		"IMARCHIVE_LOG_FORMAT=text",
	)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("dev log:\n%s", logs.String())
		}
	}()
	waitFor(t, "dev /readyz", 60*time.Second, func() bool {
		resp, err := http.Get("http://" + ops + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if !strings.Contains(logs.String(), "NOT DURABLE") {
		t.Errorf("dev did not warn that the embedded Kafka is not durable")
	}
	seed, err := os.ReadFile("../../normalize/testdata/netease/48_message.json")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the callback to be accepted", 30*time.Second, func() bool {
		req, _ := http.NewRequest(http.MethodPost, "http://"+listen+"/v1/netease/app1", bytes.NewReader(seed))
		req.Header = sign("s3cret", seed)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	s := &stack{t: t, env: append(os.Environ(), "IMARCHIVE_CLICKHOUSE_DSN="+dsn)}
	var rows []map[string]any
	waitFor(t, "the message in ClickHouse", 60*time.Second, func() bool {
		rows = s.queryJSON("message_history", "app=app1", "channel_id=1394678", "from=2022-03-08T00:00:00Z", "to=2022-03-09T00:00:00Z")
		return len(rows) == 1
	})
	if rows[0]["msg_id"] != "1541869" || rows[0]["sender"] != "yx" {
		t.Errorf("row %v", rows[0])
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("dev exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("dev did not stop within 30s of SIGTERM")
	}
}
