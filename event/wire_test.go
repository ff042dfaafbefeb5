package event_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/imarchive/imarchive/event"
)

// TestWireRoundTrip: every golden event comes back from the topic exactly as it was marshaled, its
// body is on the wire once (not again in attrs), and a record of a build before body_attr (attrs
// whole) reads the same.
func TestWireRoundTrip(t *testing.T) {
	files, err := filepath.Glob("../normalize/testdata/*/*.event.json")
	if err != nil || len(files) < 40 {
		t.Fatalf("golden events: %d, %v", len(files), err)
	}
	withBody := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var e event.Event
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		want := clone(t, &e)
		wire, err := event.Marshal(&e)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !reflect.DeepEqual(&e, want) {
			t.Errorf("%s: Marshal changed the event", f)
		}
		var got event.Event
		if err := event.Unmarshal(wire, &got); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !reflect.DeepEqual(&got, want) {
			t.Errorf("%s: round trip:\n got %+v\nwant %+v", f, got, *want)
		}
		if e.Body != "" && len(e.Body) > 8 {
			if n := strings.Count(string(wire), mustJSON(t, e.Body)); n != 1 {
				t.Errorf("%s: the body is on the wire %d times, want once", f, n)
			}
			withBody++
		}
		var old event.Event
		if err := event.Unmarshal(b, &old); err != nil || !reflect.DeepEqual(&old, want) {
			t.Errorf("%s: a record with whole attrs does not read the same: %v", f, err)
		}
	}
	if withBody < 10 {
		t.Errorf("only %d golden events with a body were checked", withBody)
	}
}

// TestWireNoHTMLEscapingNoRepeat: a body of 90 000 '<' makes a record of about 90 KB — not the 1 MB
// that six-byte escapes twice over made, which the producer refused for ever.
func TestWireNoHTMLEscapingNoRepeat(t *testing.T) {
	body := strings.Repeat("<", 90_000)
	e := event.Event{SchemaVersion: 1, EventID: "0123456789abcdef0123456789abcdef", Source: event.SourceMaxim, App: "a",
		Kind: event.KindMessage, Body: body, Attrs: map[string]string{"content": body, "b": "x&y>z"}}
	wire, err := event.Marshal(&e)
	if err != nil {
		t.Fatal(err)
	}
	if len(wire) > len(body)+1000 {
		t.Errorf("a record of %d bytes for a %d-byte body", len(wire), len(body))
	}
	if bytes.Contains(wire, []byte(`\u003c`)) || !bytes.Contains(wire, []byte(`"x&y>z"`)) {
		t.Errorf("HTML characters escaped: %.200s", wire)
	}
	if !bytes.Contains(wire, []byte(`"body_attr":"content"`)) {
		t.Errorf("body_attr missing: %.200s", wire[len(wire)-200:])
	}
	var got event.Event
	if err := event.Unmarshal(wire, &got); err != nil || got.Attrs["content"] != body || got.BodyAttr != "" {
		t.Errorf("content not restored (%d bytes), body_attr %q, %v", len(got.Attrs["content"]), got.BodyAttr, err)
	}
}

func clone(t *testing.T, e *event.Event) *event.Event {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var c event.Event
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func mustJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
