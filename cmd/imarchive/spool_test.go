package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/ingest/spool"
	"github.com/imarchive/imarchive/kafka"
)

// TestSpoolStatusAndInspect: imarchive spool status and inspect read a spool (as serve left it) and
// report what waits and what is damaged: the last record cut in half is reported, the others listed.
func TestSpoolStatusAndInspect(t *testing.T) {
	dir := t.TempDir()
	tc := kafka.DefaultConfig()
	sp, _, err := spool.Open(dir, spool.DefaultOptions(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var last spool.Record
	for _, id := range []string{"e1", "e2", "e3"} {
		b, err := ingest.EncodeSpoolEntry(tc, ingest.SpoolEntry{Receipt: "r-" + id, Platform: "netease_qchat", App: "app1", Received: time.Now(),
			Records: []*kgo.Record{{Topic: tc.Raw(), Key: []byte(id), Value: []byte(`{"body":"` + id + `"}`),
				Headers: []kgo.RecordHeader{{Key: kafka.HeaderEventID, Value: []byte(id)}}}}})
		if err != nil {
			t.Fatal(err)
		}
		if last, err = sp.Append(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	sp.Close()
	code, out, errOut := runCLI(t, "spool", "status", "--spool-dir", dir)
	if code != 0 || !strings.Contains(out, "waiting to be forwarded: 3 records") {
		t.Fatalf("status: %d\n%s%s", code, out, errOut)
	}
	// The last record cut in half, as a crash mid-write leaves it.
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	st, _ := os.Stat(segs[0])
	if err := os.Truncate(segs[0], st.Size()-last.Size()/2); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "spool", "status", "--spool-dir", dir)
	if code != 1 || !strings.Contains(out, "waiting to be forwarded: 2 records") || !strings.Contains(out, "DAMAGED") || !strings.Contains(errOut, "1 damaged") {
		t.Fatalf("status of a torn spool: %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "spool", "inspect", "--spool-dir", dir, "--bodies")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 1 || len(lines) != 2 {
		t.Fatalf("inspect: %d\n%s", code, out)
	}
	var first struct {
		Receipt, EventID, Body string `json:",omitempty"`
	}
	var raw map[string]any
	json.Unmarshal([]byte(lines[0]), &raw)
	first.Receipt, _ = raw["receipt_id"].(string)
	first.EventID, _ = raw["event_id"].(string)
	first.Body, _ = raw["body"].(string)
	if first.Receipt != "r-e1" || first.EventID != "e1" || first.Body != `{"body":"e1"}` {
		t.Errorf("inspect's first line: %s", lines[0])
	}
	if code, _, _ := runCLI(t, "spool", "nonsense"); code == 0 {
		t.Error("an unknown cli.Subcommand succeeded")
	}
}
