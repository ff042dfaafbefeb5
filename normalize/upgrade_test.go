package normalize_test

import (
	"bufio"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/normalize"
)

// TestUpgradeVersion1Events: every event version 1 of the envelope made of the example payloads
// (testdata/v1_events.jsonl, the goldens of that version, written by that build) upgrades to exactly
// the event this build makes of the same payload, event_id included.
func TestUpgradeVersion1Events(t *testing.T) {
	f, err := os.Open("testdata/v1_events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n, changed := 0, 0
	for sc.Scan() {
		var line struct {
			Name  string      `json:"name"`
			Event event.Event `json:"event"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		n++
		old := line.Event
		if old.SchemaVersion != 1 {
			t.Fatalf("%s: version %d in the version 1 file", line.Name, old.SchemaVersion)
		}
		var want event.Event
		if err := json.Unmarshal(readFile(t, "testdata/"+line.Name+".event.json"), &want); err != nil {
			t.Fatal(err)
		}
		up := old
		if err := normalize.Upgrade(&up); err != nil {
			t.Errorf("%s: %v", line.Name, err)
			continue
		}
		if !reflect.DeepEqual(up, want) {
			got, _ := json.Marshal(up)
			w, _ := json.Marshal(want)
			t.Errorf("%s: upgraded to\n%s\nwant\n%s", line.Name, got, w)
		}
		old.SchemaVersion = event.SchemaVersion
		if !reflect.DeepEqual(old, want) {
			changed++ // more than the version number changed
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Errorf("%d version 1 events, want every golden of that version", n)
	}
	if changed != 17 {
		t.Errorf("%d version 1 events differ from their version 2 goldens beyond the version, want the 17 of 47 (its consid), 54, 55, 61, 62, 63, 68, 69, 76, 79", changed)
	}
	// An event of this version is left alone.
	e := event.Event{SchemaVersion: event.SchemaVersion, Source: event.SourceNetease, PlatformType: "54",
		Target: event.Target{Account: "kept"}, Attrs: map[string]string{"eventType": "54", "inviteAccid": "x"}}
	if err := normalize.Upgrade(&e); err != nil || e.Target.Account != "kept" || e.Inviter != "" {
		t.Errorf("a current event was changed: %+v (%v)", e, err)
	}
}
