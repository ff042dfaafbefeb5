package normalize_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/normalize"
)

// TestNeteaseGolden normalizes every testdata/netease/*.json payload (the manual's examples, one per
// eventType 48–82 and one per login/logout type of 47) and compares with the event in the .event.json
// file beside it. go test -update rewrites the goldens; review the diff before committing it.
func TestNeteaseGolden(t *testing.T) {
	n := checkGoldens(t, "testdata/netease", "app1", normalize.Netease)
	if n < 43 {
		t.Errorf("%d NetEase examples, want all 43 of the manual", n)
	}
}

// TestNeteaseEveryTypeHasGolden: each of the 36 eventTypes of the manual (47–82) is mapped and has an
// example, and every login/logout type of 47 too.
func TestNeteaseEveryTypeHasGolden(t *testing.T) {
	types := normalize.NeteaseEventTypes()
	if len(types) != 36 || types[0] != "47" || types[35] != "82" {
		t.Fatalf("mapped eventTypes %v, want 47…82", types)
	}
	for _, et := range types {
		m, _ := filepath.Glob("testdata/netease/" + et + "_*.event.json")
		if len(m) == 0 {
			t.Errorf("eventType %s has no golden example", et)
		}
	}
	for typ := 1; typ <= 8; typ++ {
		if m, _ := filepath.Glob(fmt.Sprintf("testdata/netease/47_%d_*.event.json", typ)); len(m) != 1 {
			t.Errorf("eventType 47 type %d has %d golden examples, want 1", typ, len(m))
		}
	}
}

// TestNeteaseMessageFields pins the seed's eventType 48 example field by field, independent of the golden file.
func TestNeteaseMessageFields(t *testing.T) {
	body, err := os.ReadFile("testdata/netease/48_message.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := normalize.Netease("app1", body, receivedAt)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]any{
		"kind":                       {ev.Kind, event.KindMessage},
		"source":                     {ev.Source, event.SourceNetease},
		"platform_type":              {ev.PlatformType, "48"},
		"actor":                      {ev.Actor, "yx"},
		"server":                     {ev.Target.Server, "1492674"},
		"channel":                    {ev.Target.Channel, "1394678"},
		"msg_id":                     {ev.MsgID, "1541869"},
		"client_msg_id":              {ev.ClientMsgID, "852b7e2c-21f9-44ca-ae12-ad28eba35b7d"},
		"body":                       {ev.Body, "文本消息ygy-2022-03-08T20:58:28.721"},
		"msg_time":                   {ev.MsgTimeMs, int64(1646744308787)},
		"occurred_at":                {ev.OccurredAtMs, int64(1646744308834)}, // "time" arrives as a number here
		"received_at":                {ev.ReceivedAtMs, receivedAt.UnixMilli()},
		"event_id":                   {ev.EventID, event.ID(event.SourceNetease, "app1", "48", "1541869")},
		"attr clientPort (a number)": {ev.Attrs["clientPort"], "7260"},
		"attr ext":                   {ev.Attrs["ext"], "ext-2022-03-08T20:58:28.721"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %#v, want %#v", name, c[0], c[1])
		}
	}
	if len(ev.Attrs) != 16 {
		t.Errorf("attrs has %d fields, want all 16 of the payload: %v", len(ev.Attrs), ev.Attrs)
	}
}

func TestNeteaseStringOrNumberTime(t *testing.T) {
	for _, body := range []string{
		`{"eventType":"48","msgIdServer":"9","time":"1646744308834","msgTimestamp":1646744308787}`,
		`{"eventType":48,"msgIdServer":9,"time":1646744308834,"msgTimestamp":"1646744308787"}`,
	} {
		ev, err := normalize.Netease("a", []byte(body), receivedAt)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if ev.OccurredAtMs != 1646744308834 || ev.MsgTimeMs != 1646744308787 || ev.MsgID != "9" || ev.PlatformType != "48" {
			t.Errorf("%s: got occurred=%d msg=%d id=%q type=%q", body, ev.OccurredAtMs, ev.MsgTimeMs, ev.MsgID, ev.PlatformType)
		}
	}
}

func TestNeteaseEventIDWithoutMsgIDIsBodyHash(t *testing.T) {
	a, _ := normalize.Netease("a", []byte(`{"eventType":"48","body":"x","time":1}`), receivedAt)
	b, _ := normalize.Netease("a", []byte(`{ "time":1, "body":"x",  "eventType":"48" }`), receivedAt.Add(time.Hour))
	c, _ := normalize.Netease("a", []byte(`{"eventType":"48","body":"y","time":1}`), receivedAt)
	if a.EventID == "" || a.EventID != b.EventID {
		t.Errorf("same payload, other spacing and order: ids %q and %q differ", a.EventID, b.EventID)
	}
	if a.EventID == c.EventID {
		t.Errorf("different bodies share id %q", a.EventID)
	}
}

func TestNeteaseBadBodies(t *testing.T) {
	for _, body := range []string{``, `[]`, `null`, `{"eventType":"48"`, `{"eventType":"48"} {}`, `{"eventType":"48","time":"soon"}`, `{"eventType":"999"}`} {
		if _, err := normalize.Netease("a", []byte(body), receivedAt); err == nil {
			t.Errorf("%q: want an error", body)
		}
	}
}

// TestNeteaseManualVariantsAreOneEvent: the manual prints the login copy twice, as the HTTP example
// and as the detailed example, differing only in white space ("eventType": "47"). They are one
// delivery, so one event: the same event_id and the same content.
func TestNeteaseManualVariantsAreOneEvent(t *testing.T) {
	a, err := normalize.Netease("app1", readFile(t, "testdata/variants/netease_47_http_example.json"), receivedAt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := normalize.Netease("app1", readFile(t, "testdata/netease/47_1_login.json"), receivedAt)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("the two printings differ:\n%+v\n%+v", a, b)
	}
}
