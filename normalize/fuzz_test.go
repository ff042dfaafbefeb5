package normalize_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/normalize"
)

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
	hexID      = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

func envelopeSchema(t testing.TB) *jsonschema.Schema {
	schemaOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(event.JSONSchema))
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		if schemaErr = c.AddResource("v1.json", doc); schemaErr == nil {
			schema, schemaErr = c.Compile("v1.json")
		}
	})
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	return schema
}

// seedCorpus adds every example payload of a testdata directory.
func seedCorpus(f *testing.F, dir string) {
	f.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, ".event.json") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		n++
	}
	if n == 0 {
		f.Fatalf("no seed payloads in %s", dir)
	}
}

// checkNormalizer holds for any body: the normalizer does not panic; it fails only with a
// normalization error (a dead letter, never a 5xx); what it returns is a valid envelope (the JSON
// Schema) that keeps every top-level field in attrs and does not depend on the arrival time.
func checkNormalizer(t *testing.T, fn normalize.Func, source string, body []byte) {
	e, err := fn("app1", body, time.UnixMilli(1646744309000))
	if err != nil {
		if !normalize.IsError(err) {
			t.Fatalf("error %v is not a normalization error", err)
		}
		return
	}
	if e.Source != source || e.App != "app1" || !hexID.MatchString(e.EventID) || e.Kind == "" {
		t.Fatalf("envelope: %+v", e)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		t.Fatalf("normalized a body that is not a JSON object: %v", err)
	}
	if len(e.Attrs) != len(top) {
		t.Fatalf("attrs has %d fields, the payload %d", len(e.Attrs), len(top))
	}
	enc, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(enc))
	if err != nil {
		t.Fatal(err)
	}
	if err := envelopeSchema(t).Validate(v); err != nil {
		t.Fatalf("event does not match schema v1: %v\n%s", err, enc)
	}
	again, err := fn("app1", body, time.UnixMilli(1999999999999))
	if err != nil {
		t.Fatalf("second normalization failed: %v", err)
	}
	again.ReceivedAtMs = e.ReceivedAtMs
	enc2, _ := json.Marshal(again)
	if !bytes.Equal(enc, enc2) {
		t.Fatalf("normalization depends on the arrival time:\n%s\n%s", enc, enc2)
	}
}

func FuzzNormalizeNetease(f *testing.F) {
	seedCorpus(f, "testdata/netease")
	f.Add([]byte(`{"eventType":53,"inviteAccids":"[1,\"a\"]","time":"1"}`))
	f.Add([]byte(`{"eventType":"79","roleIdPriority":{"1":2}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkNormalizer(t, normalize.Netease, event.SourceNetease, body)
	})
}

func FuzzNormalizeILink(f *testing.F) {
	seedCorpus(f, "testdata/ilink")
	f.Add([]byte(`{"from_uid":"414","msg_type":4," time":1457408202,"type":0}`))
	f.Fuzz(func(t *testing.T, body []byte) { checkNormalizer(t, normalize.ILink, event.SourceILink, body) })
}

func FuzzNormalizeMaxim(f *testing.F) {
	seedCorpus(f, "testdata/maxim")
	f.Fuzz(func(t *testing.T, body []byte) { checkNormalizer(t, normalize.Maxim, event.SourceMaxim, body) })
}
