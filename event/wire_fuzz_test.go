package event

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// marshalStd is Marshal as encoding/json writes it: the Event type through an Encoder with
// SetEscapeHTML(false), body_attr set and that attribute left out of attrs.
func marshalStd(t testing.TB, e *Event) []byte {
	w := *e
	w.BodyAttr = ""
	if e.Body != "" {
		for k, v := range e.Attrs {
			if k != "" && v == e.Body && (w.BodyAttr == "" || k < w.BodyAttr) {
				w.BodyAttr = k
			}
		}
	}
	if w.BodyAttr != "" {
		w.Attrs = make(map[string]string, len(e.Attrs))
		for k, v := range e.Attrs {
			if k != w.BodyAttr {
				w.Attrs[k] = v
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&w); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// goldenEvents are the ingest goldens: every shape the normalizers make.
func goldenEvents(t testing.TB) []Event {
	files, err := filepath.Glob("../normalize/testdata/*/*.event.json")
	if err != nil || len(files) < 40 {
		t.Fatalf("golden events: %d, %v", len(files), err)
	}
	var out []Event
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var e Event
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, e)
	}
	return out
}

// fuzzEvent fills an event's fields from a few fuzzed values, in turns, so that every field is
// sometimes empty, sometimes not, and any text lands in any field.
func fuzzEvent(s []string, n int64, flag bool) Event {
	pick := func(i int) string { return s[i%len(s)] }
	num := func(i int64) int64 {
		if flag && i%2 == 0 {
			return 0
		}
		return n * i
	}
	e := Event{SchemaVersion: int(n % 5), EventID: pick(0), Source: pick(1), App: pick(2), Kind: pick(3),
		PlatformType: pick(4), PlatformSubtype: pick(5), Op: pick(6), OccurredAtMs: num(1), ReceivedAtMs: num(2),
		Actor: pick(7), ActorNick: pick(8), ActorClientType: pick(9), ActorDeviceID: pick(10), ActorIP: pick(11),
		ActorConnectionID: pick(12), MsgID: pick(13), ClientMsgID: pick(14), MsgType: pick(15), MsgTimeMs: num(3),
		Reply:  MsgRef{MsgID: pick(16), ClientMsgID: pick(17), From: pick(18), MsgTimeMs: num(4)},
		Thread: MsgRef{MsgID: pick(19), From: pick(20)}, Inviter: pick(21),
		Target: Target{Account: pick(22), Group: pick(23), Server: pick(24), Channel: pick(25), Role: pick(26),
			MemberType: pick(27), ChannelType: pick(28), ChannelViewMode: pick(29)},
		Body: pick(30), Antispam: flag, AntispamDetail: pick(31), RawKey: pick(32), BodyAttr: pick(33)}
	if !flag {
		e.Target.Accounts = []string{pick(34), pick(35)}
		e.Target.RolePriorities = map[string]int64{pick(36): n, pick(37): -n}
		e.Attrs = map[string]string{pick(38): pick(39), pick(40): pick(41), "body": e.Body, "b2": e.Body}
	} else if n%3 == 0 {
		e.Target.Roles = []string{}
		e.Attrs = map[string]string{}
	}
	return e
}

// FuzzMarshalMatchesEncoding: Marshal writes, byte for byte, what encoding/json writes for the
// event (marshalStd), whatever the texts, numbers and empty fields.
func FuzzMarshalMatchesEncoding(f *testing.F) {
	f.Add("yx", "文本消息<&>", "", "\x00\n\"\\", int64(1646744308834), false)
	f.Add("\xff\u2028", "", "a", "b", int64(-7), true)
	f.Add("", "", "", "", int64(0), true)
	f.Add("k", "v", "k", "", int64(3), false)
	f.Fuzz(func(t *testing.T, a, b, c, d string, n int64, flag bool) {
		e := fuzzEvent([]string{a, b, c, d, a + b, "", c + d}, n, flag)
		got, err := Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		if want := marshalStd(t, &e); !bytes.Equal(got, want) {
			t.Fatalf("Marshal:\n%s\nencoding/json:\n%s", got, want)
		}
	})
}

// TestMarshalMatchesEncodingGoldens: the same on every golden event, and on events of many attrs.
func TestMarshalMatchesEncodingGoldens(t *testing.T) {
	evs := goldenEvents(t)
	for _, n := range []int{31, 33, 255, 256, 600} {
		e := evs[0]
		e.Attrs = map[string]string{}
		for i := range n {
			e.Attrs[strconv.Itoa(i*7919%1000)] = strconv.Itoa(i)
		}
		e.Body = "5"
		evs = append(evs, e)
	}
	for _, e := range evs {
		e.RawKey = e.EventID
		got, _ := Marshal(&e)
		if want := marshalStd(t, &e); !bytes.Equal(got, want) {
			t.Fatalf("Marshal:\n%s\nencoding/json:\n%s", got, want)
		}
		var back Event
		if !decodeEvent(got, &back) {
			t.Fatalf("the hand-written reader left Marshal's own record to encoding/json:\n%s", got)
		}
	}
}

// FuzzUnmarshalMatchesEncoding: whatever the hand-written reader takes, encoding/json reads the same
// event from it (and every record Marshal writes is one it takes).
func FuzzUnmarshalMatchesEncoding(f *testing.F) {
	for _, e := range goldenEvents(f) {
		b, _ := Marshal(&e)
		f.Add(b)
	}
	for _, s := range []string{`{}`, `{"event_id":"a","event_id":"b"}`, `{"EVENT_ID":"x"}`, `{"attrs":null}`,
		`{"attrs":{"a":"\u00e9\n","a":"2"}}`, `{"schema_version":2.0}`, `{"target":{"accounts":[]}}`,
		`{"target":{"role_priorities":{"1":2,"1":3}}}`, `{"reply":{}}`, `{"antispam":false}`, `{"msg_time_ms":-0}`,
		`{"schema_version":99999999999999999999}`, `{"body":null}`, "{\"body\":\"\xff\"}", ` {"op":"x"} `,
		`{"attrs":{"a":"1"},"attrs":{"b":"2"}}`, `{"target":{"accounts":["a"]},"target":{"role":"r"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got Event
		if !decodeEvent(b, &got) {
			return
		}
		var want Event
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("the reader took %q, which encoding/json refuses: %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nreader        %+v\nencoding/json %+v", b, got, want)
		}
		// And through Unmarshal, body_attr and all.
		var viaU, viaStd Event
		if err := Unmarshal(b, &viaU); err != nil {
			t.Fatal(err)
		}
		viaStd = want
		if viaStd.BodyAttr != "" {
			if viaStd.Attrs == nil {
				viaStd.Attrs = map[string]string{}
			}
			viaStd.Attrs[viaStd.BodyAttr] = viaStd.Body
			viaStd.BodyAttr = ""
		}
		if !reflect.DeepEqual(viaU, viaStd) {
			t.Fatalf("Unmarshal(%q) differs from encoding/json's", b)
		}
	})
}

// TestUnmarshalLeavesOthersToEncoding: what the reader does not take still decodes as encoding/json
// decodes it, into a zero event and into one already filled.
func TestUnmarshalLeavesOthersToEncoding(t *testing.T) {
	for _, s := range []string{`{"EVENT_ID":"x","Attrs":{"a":"1"}}`, `{"event_id":"a","event_id":"b","unknown":[1]}`,
		`{"attrs":{"a":null}}`} {
		var got, want Event
		if err := Unmarshal([]byte(s), &got); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, encoding/json %+v", s, got, want)
		}
	}
	filled := Event{EventID: "old", Attrs: map[string]string{"keep": "1"}}
	if err := Unmarshal([]byte(`{"attrs":{"new":"2"}}`), &filled); err != nil {
		t.Fatal(err)
	}
	if filled.EventID != "old" || filled.Attrs["keep"] != "1" || filled.Attrs["new"] != "2" {
		t.Errorf("into a filled event: %+v, want encoding/json's merge", filled)
	}
	if err := Unmarshal([]byte(`{"schema_version":"2"}`), &Event{}); err == nil || !strings.Contains(err.Error(), "schema_version") {
		t.Errorf("a string for schema_version: %v, want encoding/json's error", err)
	}
}
