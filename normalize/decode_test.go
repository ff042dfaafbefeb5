package normalize_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/normalize"
)

// TestNeteaseDecodingSurvivesThePlatform: the forms the manual's own examples mix — numbers as strings
// and strings as numbers, lists and objects as JSON or inside strings, fields missing — decode alike.
func TestNeteaseDecodingSurvivesThePlatform(t *testing.T) {
	cases := []struct {
		name  string
		body  string
		check func(e event.Event) bool
	}{
		{"list as array", `{"eventType":"53","inviteAccids":["a","b"]}`, func(e event.Event) bool { return slices.Equal(e.Target.Accounts, []string{"a", "b"}) }},
		{"list inside a string", `{"eventType":"53","inviteAccids":"[\"a\",\"b\"]"}`, func(e event.Event) bool { return slices.Equal(e.Target.Accounts, []string{"a", "b"}) }},
		{"list of numbers inside a string", `{"eventType":78,"memberAccids":"[161117553, 7]"}`, func(e event.Event) bool { return slices.Equal(e.Target.Accounts, []string{"161117553", "7"}) }},
		{"list of numbers", `{"eventType":"70","roleids":[1344655,9007199254740993]}`, func(e event.Event) bool {
			return slices.Equal(e.Target.Roles, []string{"1344655", "9007199254740993"}) // no float rounding
		}},
		{"a lone account instead of a list", `{"eventType":"60","kickAccids":"wmtest210"}`, func(e event.Event) bool { return slices.Equal(e.Target.Accounts, []string{"wmtest210"}) }},
		{"empty list string", `{"eventType":"60","kickAccids":""}`, func(e event.Event) bool { return e.Target.Accounts == nil }},
		{"roleIdPriority as object", `{"eventType":"79","roleIdPriority":{"2":1,"10":2}}`, func(e event.Event) bool {
			return slices.Equal(e.Target.Roles, []string{"2", "10"}) && e.Target.RolePriorities["10"] == 2 && e.Target.RolePriorities["2"] == 1
		}},
		{"roleIdPriority inside a string", `{"eventType":"79","roleIdPriority":"{\"2\":1,\"10\":2}"}`, func(e event.Event) bool {
			return slices.Equal(e.Target.Roles, []string{"2", "10"}) && e.Target.RolePriorities["10"] == 2 && e.Target.RolePriorities["2"] == 1
		}},
		{"eventType, ids and time as numbers", `{"eventType":63,"serverId":1492597,"channelId":1394628,"time":1646741992447}`, func(e event.Event) bool {
			return e.PlatformType == "63" && e.Target.Server == "1492597" && e.Target.Channel == "1394628" && e.OccurredAtMs == 1646741992447
		}},
		{"time as a string, clientPort as a number", `{"eventType":"47","type":"1","accid":"u","time":"1646792622618","clientPort":51662}`, func(e event.Event) bool {
			return e.OccurredAtMs == 1646792622618 && e.Attrs["clientPort"] == "51662" && e.Op == event.OpLogin
		}},
		{"type as a number", `{"eventType":47,"type":8,"accid":"u","time":1}`, func(e event.Event) bool { return e.Op == event.OpHeartbeat && e.PlatformSubtype == "8" }},
		{"msgType as a number", `{"eventType":"80","opeType":2,"msgType":0}`, func(e event.Event) bool { return e.MsgType == "0" && e.Op == event.OpRemove }},
		{"antispam as a string", `{"eventType":"48","msgIdServer":"1","antispam":"true","yidunRes":"{\"a\":1}"}`, func(e event.Event) bool { return e.Antispam && e.AntispamDetail == `{"a":1}` }},
		{"antispam as a boolean, yidunRes as an object", `{"eventType":"81","msgId":"1","antispam":true,"yidunRes":{"a":1}}`, func(e event.Event) bool { return e.Antispam && e.AntispamDetail == `{"a":1}` }},
		{"auths and pushPayload inside strings kept verbatim", `{"eventType":"69","auths":"{\"1\":1}","pushPayload":"{\"p\":\"x\"}"}`, func(e event.Event) bool {
			return e.Attrs["auths"] == `{"1":1}` && e.Attrs["pushPayload"] == `{"p":"x"}`
		}},
		{"almost nothing sent", `{"eventType":"50"}`, func(e event.Event) bool {
			return e.Kind == event.KindServer && e.Op == event.OpCreate && e.Actor == "" && e.OccurredAtMs == 0 && len(e.EventID) == 32
		}},
		{"null fields", `{"eventType":"48","msgIdServer":null,"body":null,"time":null}`, func(e event.Event) bool { return e.MsgID == "" && e.Body == "" && e.OccurredAtMs == 0 }},
		{"integral float time", `{"eventType":"52","time":1646730793117.0}`, func(e event.Event) bool { return e.OccurredAtMs == 1646730793117 }},
		{"recall", `{"eventType":"81","msgId":"9","status":"1","time":"5"}`, func(e event.Event) bool { return e.Op == event.OpRecall && e.PlatformSubtype == "1" && e.MsgID == "9" }},
		{"delete", `{"eventType":"82","msgId":"9","status":2,"time":"5"}`, func(e event.Event) bool { return e.Op == event.OpDelete && e.Kind == event.KindNotifyUpdate }},
		{"custom status is an update", `{"eventType":"81","msgId":"9","status":"10001","time":"5"}`, func(e event.Event) bool { return e.Op == event.OpUpdate && e.PlatformSubtype == "10001" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := normalize.Netease("app1", []byte(c.body), receivedAt)
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(e) {
				t.Errorf("%s\nnormalized to %+v", c.body, e)
			}
		})
	}
}

func TestNeteaseNormalizeErrors(t *testing.T) {
	for _, c := range []struct {
		body string
		want error
	}{
		{`{"eventType":"46"}`, normalize.ErrUnsupportedType},
		{`{"time":1}`, normalize.ErrUnsupportedType},
		{`{"eventType":"47","type":"9","accid":"u"}`, normalize.ErrUnsupportedType},
		{`{"eventType":"47","type":"1"}`, normalize.ErrMissingField},
		{`{"eventType":"53","inviteAccids":"[broken"}`, normalize.ErrBadField},
		{`{"eventType":"79","roleIdPriority":"[1,2]"}`, normalize.ErrBadField},
		{`{"eventType":"48","antispam":"perhaps"}`, normalize.ErrBadField},
		{`{"eventType":"48","msgTimestamp":"yesterday"}`, normalize.ErrBadField},
		{`{"eventType":"48","time":-5}`, normalize.ErrBadField},
		{`{"eventType":"66","opetype":"3"}`, normalize.ErrUnsupportedType},
		{`{"eventType":"80","opeType":"7"}`, normalize.ErrUnsupportedType},
		{`{"eventType":"48"} x`, normalize.ErrNotObject},
		{`{"eventType":"48"}]`, normalize.ErrNotObject},
	} {
		_, err := normalize.Netease("app1", []byte(c.body), receivedAt)
		if !errors.Is(err, c.want) || !normalize.IsError(err) {
			t.Errorf("%s: error %v, want %v", c.body, err, c.want)
		}
	}
}

// TestNeteaseUpdateEventIDs: updates of one message are told apart by their time; a retry of one is not.
func TestNeteaseUpdateEventIDs(t *testing.T) {
	id := func(body string) string {
		e, err := normalize.Netease("app1", []byte(body), receivedAt)
		if err != nil {
			t.Fatal(err)
		}
		return e.EventID
	}
	a := id(`{"eventType":"81","msgId":"6211501","time":"1648815229304","body":"v1"}`)
	if a != event.ID(event.SourceNetease, "app1", "81", "6211501", "1648815229304") {
		t.Errorf("81 event_id is not eventType, msgId, time")
	}
	if b := id(`{"eventType":"81","msgId":"6211501","time":"1648815229999","body":"v2"}`); a == b {
		t.Error("two updates of one message share an event_id")
	}
	if n := id(`{"eventType":"49","msgIdServer":"0","time":1,"body":"a"}`); n == id(`{"eventType":"49","msgIdServer":"0","time":1,"body":"b"}`) {
		t.Error("49 with msgIdServer 0: different notifications share an event_id")
	}
	if id(`{"eventType":"49","msgIdServer":"77","body":"a"}`) != event.ID(event.SourceNetease, "app1", "49", "77") {
		t.Error("49 with a real msgIdServer: event_id is not from it")
	}
}

func TestILinkDecoding(t *testing.T) {
	cases := []struct {
		name  string
		body  string
		check func(e event.Event) bool
	}{
		{"key \" time\" as in the manual's §4.3", `{"from_uid":"414","to_uid":"413","msg_type":4," time":1457408202,"type":0}`, func(e event.Event) bool {
			return e.Kind == event.KindPresence && e.Op == event.OpOffline && e.OccurredAtMs == 1457408202000 && e.Attrs[" time"] == "1457408202"
		}},
		{"everything as strings", `{"from_uid":"414","msg_type":"4","time":"1457408202","type":"1"}`, func(e event.Event) bool { return e.Op == event.OpOnline && e.OccurredAtMs == 1457408202000 }},
		{"uids as numbers", `{"from_uid":413,"to_uid":414,"create_time":1457408202,"msg_type":1,"content":"aGVsbG8="}`, func(e event.Event) bool { return e.Actor == "413" && e.Target.Account == "414" }},
		{"time already in ms", `{"from_uid":"1","msg_type":1,"create_time":1457408202123,"content":""}`, func(e event.Event) bool { return e.OccurredAtMs == 1457408202123 }},
		{"unpadded Base64", `{"from_uid":"1","msg_type":1,"content":"aGVsbG8"}`, func(e event.Event) bool { return e.Body == "hello" }},
		{"URL-safe Base64 with a line break", `{"from_uid":"1","msg_type":1,"content":"-_-_\naGk="}`, func(e event.Event) bool { return strings.HasSuffix(e.Body, "hi") }},
		{"binary content", `{"from_uid":"1","msg_type":2,"content":"/w=="}`, func(e event.Event) bool {
			return e.Body == "\uFFFD" && e.Attrs["content"] == "/w==" && e.MsgType == "FILE"
		}},
		{"topic with both time and content is a topic message", `{"from_uid":"1","msg_type":4,"group_id":"t","time":1,"type":1,"content":"aGk="}`, func(e event.Event) bool {
			return e.Kind == event.KindMessage && e.Target.Group == "t" && e.Body == "hi"
		}},
		{"msg_id, when sent, is the identity", `{"from_uid":"1","msg_type":1,"content":"aGk=","msg_id":"m1"}`, func(e event.Event) bool {
			return e.MsgID == "m1" && e.EventID == event.ID(event.SourceILink, "app1", "msg", "m1")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := normalize.ILink("app1", []byte(c.body), receivedAt)
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(e) {
				t.Errorf("%s\nnormalized to %+v", c.body, e)
			}
		})
	}
	for _, c := range []struct {
		body string
		want error
	}{
		{`{"from_uid":"1","msg_type":1,"content":"%%%"}`, normalize.ErrBadField},
		{`{"from_uid":"1","msg_type":5}`, normalize.ErrUnsupportedType},
		{`{"from_uid":"1","msg_type":4,"time":1,"type":2}`, normalize.ErrUnsupportedType},
		{`{"from_uid":"1","msg_type":4,"time":"soon","type":1}`, normalize.ErrBadField},
		{`{"msg_type":4,"time":1,"type":1}`, normalize.ErrMissingField},
		{`{"from_uid":"1","msg_type":1,"create_time":"noon"}`, normalize.ErrBadField},
		{`"aGVsbG8="`, normalize.ErrNotObject},
	} {
		if _, err := normalize.ILink("app1", []byte(c.body), receivedAt); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.body, err, c.want)
		}
	}
}

func TestMaximDecoding(t *testing.T) {
	norm := func(body string) event.Event {
		t.Helper()
		e, err := normalize.Maxim("app", []byte(body), receivedAt)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		return e
	}
	chat := norm(`{"msgId":3074681428834398209,"from":{"uid":2302128618880},"to":{"uid":"9"},"type":"CHAT","ctype":"IMAGE","content":"u","timestamp":1700000000123}`)
	if chat.MsgID != "3074681428834398209" || chat.Actor != "2302128618880" || chat.Target.Account != "9" || chat.MsgType != "IMAGE" ||
		chat.OccurredAtMs != 1700000000123 || chat.EventID != event.ID(event.SourceMaxim, "app", "msg", "3074681428834398209") {
		t.Errorf("chat: %+v", chat)
	}
	// A REPLACE and two APPENDs of that message are events of their own.
	ids := map[string]bool{chat.EventID: true}
	for _, b := range []string{
		`{"msgId":"3074681428834398209","type":"REPLACE","content":"v2"}`,
		`{"msgId":"3074681428834398209","type":"APPEND","content":"a"}`,
		`{"msgId":"3074681428834398209","type":"APPEND","content":"b"}`,
	} {
		e := norm(b)
		if e.MsgID != "3074681428834398209" || e.Kind != event.KindMessageUpdate || ids[e.EventID] {
			t.Errorf("%s: %+v (event_id seen before: %v)", b, e, ids[e.EventID])
		}
		ids[e.EventID] = true
	}
	if e := norm(`{"msgId":"1","type":"GROUPCHAT","from":"5","to":{"uid":7}}`); e.Target.Group != "7" || e.Actor != "5" {
		t.Errorf("groupchat with a bare from uid: %+v", e)
	}
	for _, c := range []struct {
		body string
		want error
	}{
		{`{"msgId":"1","type":"NOTICE"}`, normalize.ErrUnsupportedType},
		{`{"msgId":"1","type":"CHAT","from":["x"]}`, normalize.ErrBadField},
		{`{"msgId":"1","type":"CHAT","timestamp":"later"}`, normalize.ErrBadField},
	} {
		if _, err := normalize.Maxim("app", []byte(c.body), receivedAt); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.body, err, c.want)
		}
	}
}
