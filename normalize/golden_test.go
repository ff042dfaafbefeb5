package normalize_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/normalize"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// receivedAt is the fixed arrival time the golden events are computed with.
var receivedAt = time.UnixMilli(1646744309000)

// checkGoldens normalizes every dir/*.json payload and compares the event with the .event.json file
// beside it (rewritten with -update). It returns the number of payloads.
func checkGoldens(t *testing.T, dir, app string, fn normalize.Func) int {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range inputs {
		if strings.HasSuffix(in, ".event.json") {
			continue
		}
		n++
		t.Run(filepath.Base(in), func(t *testing.T) {
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := fn(app, body, receivedAt)
			if err != nil {
				t.Fatalf("normalize: %v", err)
			}
			got, _ := json.MarshalIndent(ev, "", "  ")
			golden := strings.TrimSuffix(in, ".json") + ".event.json"
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test -update to create it): %v", err)
			}
			if strings.TrimSpace(string(want)) != strings.TrimSpace(string(got)) {
				t.Errorf("event differs from %s\n got: %s\nwant: %s", golden, got, want)
			}
			// Nothing the platform sent is dropped: every top-level field is in attrs.
			var payload map[string]json.RawMessage
			if err := json.Unmarshal(body, &payload); err != nil {
				t.Fatal(err)
			}
			if len(ev.Attrs) != len(payload) {
				t.Errorf("attrs has %d fields, the payload %d", len(ev.Attrs), len(payload))
			}
			for k := range payload {
				if _, ok := ev.Attrs[k]; !ok {
					t.Errorf("payload field %q missing from attrs", k)
				}
			}
		})
	}
	if n == 0 {
		t.Fatalf("no payloads in %s", dir)
	}
	return n
}

// TestILinkGolden: the iLink manual's four examples (§4.1–4.4; §4.3's key " time" read as "time", a
// conversion artefact) and derived ones for the forms the manual describes without an example.
func TestILinkGolden(t *testing.T) {
	if n := checkGoldens(t, "testdata/ilink", "app1", normalize.ILink); n < 4 {
		t.Errorf("%d iLink examples, want at least the manual's 4", n)
	}
}

// TestMaximGolden: Maxim message-subscription payloads with the fields the console documents.
func TestMaximGolden(t *testing.T) {
	checkGoldens(t, "testdata/maxim", "welovemaxim", normalize.Maxim)
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
