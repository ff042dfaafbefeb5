package normalize_test

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/normalize"
)

// The tests of this file read the manuals' own examples (testdata/netease, the QChat copy manual 002)
// and check the readings of issue 16, each independent of the golden files.

// normalizeFile normalizes testdata/netease/NAME.json, edited by the replacements old→new (in pairs).
func normalizeFile(t *testing.T, name string, replace ...string) event.Event {
	t.Helper()
	body := string(readFile(t, "testdata/netease/"+name+".json"))
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(body, replace[i]) {
			t.Fatalf("%s: %q not in the example", name, replace[i])
		}
		body = strings.Replace(body, replace[i], replace[i+1], 1)
	}
	e, err := normalize.Netease("app1", []byte(body), receivedAt)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return e
}

// TestNeteaseInviteAnswerNamesTheInviter (54, 55): inviteAccid is the inviter. The manual's 53 copy
// has accid "yx" inviting into server 1492590; its 55 copy, of the same server, has accid "wmtest315"
// rejecting with inviteAccid "yx". The invitee answering is the actor; the inviter is not acted upon,
// so it is Inviter and neither target_account nor accounts.
func TestNeteaseInviteAnswerNamesTheInviter(t *testing.T) {
	invite := normalizeFile(t, "53_member_invite")
	reject := normalizeFile(t, "55_member_reject_invite")
	if invite.Target.Server != reject.Target.Server || invite.Actor != reject.Inviter {
		t.Fatalf("the manual's evidence: 53 by %q in server %s, 55 inviter %q in server %s",
			invite.Actor, invite.Target.Server, reject.Inviter, reject.Target.Server)
	}
	for name, c := range map[string]struct {
		e                         event.Event
		actor, inviter, body, err string
	}{
		"54 accept": {normalizeFile(t, "54_member_accept_invite"), "yx1", "yx", "", ""},
		"55 reject": {reject, "wmtest315", "yx", "拒绝邀请b984fb5d-38bc-4ce7-adf7-2552e842b444", ""},
	} {
		if c.e.Actor != c.actor || c.e.Inviter != c.inviter || c.e.Body != c.body {
			t.Errorf("%s: actor %q inviter %q body %q, want %q %q %q", name, c.e.Actor, c.e.Inviter, c.e.Body, c.actor, c.inviter, c.body)
		}
		if c.e.Target.Account != "" || len(c.e.Target.Accounts) != 0 {
			t.Errorf("%s: the inviter is not acted upon, yet target is %+v", name, c.e.Target)
		}
	}
	// 61, 62 and 76 name the member's inviter ("inviter": 邀请者accid) and its type (0 member, 1 owner).
	for name, want := range map[string][3]string{
		"61_member_update_self":       {"wm1update64dd3485-693c-45a0-9a65-3fb5351f56fe", "wm1", "1"},
		"62_member_update_other":      {"wmtest210", "wm1", "0"},
		"76_member_permission_update": {"yx11", "yx10", "0"},
	} {
		e := normalizeFile(t, name)
		if got := [3]string{e.Target.Account, e.Inviter, e.Target.MemberType}; got != want {
			t.Errorf("%s: account, inviter, member type %q, want %q", name, got, want)
		}
	}
}

// TestNeteaseRolePriorities (79): roleIdPriority {"181786":1,"181785":2} keeps its priorities, and the
// role ids sort as numbers ("9" before "10"); the table's "优先级1" spelling (strings) reads the same.
func TestNeteaseRolePriorities(t *testing.T) {
	e := normalizeFile(t, "79_role_priority")
	if want := []string{"181785", "181786"}; !slices.Equal(e.Target.Roles, want) {
		t.Errorf("roles %v, want %v", e.Target.Roles, want)
	}
	if want := map[string]int64{"181786": 1, "181785": 2}; !maps.Equal(e.Target.RolePriorities, want) {
		t.Errorf("priorities %v, want %v", e.Target.RolePriorities, want)
	}
	e = normalizeFile(t, "79_role_priority", `{\"181786\":1,\"181785\":2}`, `{\"10\":\"3\",\"9\":2,\"181786\":1,\"0100\":4}`)
	if want := []string{"9", "10", "0100", "181786"}; !slices.Equal(e.Target.Roles, want) {
		t.Errorf("roles %v, want numeric order %v", e.Target.Roles, want)
	}
	if want := map[string]int64{"10": 3, "9": 2, "181786": 1, "0100": 4}; !maps.Equal(e.Target.RolePriorities, want) {
		t.Errorf("priorities %v, want %v", e.Target.RolePriorities, want)
	}
	// As a JSON object rather than inside a string.
	e = normalizeFile(t, "79_role_priority", `"{\"181786\":1,\"181785\":2}"`, `{"181786":1,"181785":2}`)
	if !slices.Equal(e.Target.Roles, []string{"181785", "181786"}) || e.Target.RolePriorities["181785"] != 2 {
		t.Errorf("object form: roles %v priorities %v", e.Target.Roles, e.Target.RolePriorities)
	}
	// 68 and 69 give one role's priority.
	if e := normalizeFile(t, "68_server_role_create"); !maps.Equal(e.Target.RolePriorities, map[string]int64{"1345348": 3}) {
		t.Errorf("68 priorities %v", e.Target.RolePriorities)
	}
	body := strings.Replace(string(readFile(t, "testdata/netease/79_role_priority.json")), `\"181785\":2`, `\"181785\":\"high\"`, 1)
	if _, err := normalize.Netease("app1", []byte(body), receivedAt); !errors.Is(err, normalize.ErrBadField) {
		t.Errorf("a priority that is not a number: %v, want ErrBadField", err)
	}
}

// TestNeteaseUpdateIDFromNormalizedTime (81, 82): the event_id of an update takes its time as read,
// so the manual's "time":"1648815229304" and its number and "….0" spellings are one update.
func TestNeteaseUpdateIDFromNormalizedTime(t *testing.T) {
	for _, c := range []struct{ file, time string }{
		{"81_message_update", `"time":"1648815229304"`},
		{"82_notification_update", `"time":"1648817811771"`},
	} {
		want := normalizeFile(t, c.file)
		ms := strings.TrimSuffix(strings.TrimPrefix(c.time, `"time":"`), `"`)
		for _, spelling := range []string{`"time":` + ms, `"time":"` + ms + `.0"`, `"time":` + ms + `.0`, `"time":" ` + ms + `"`} {
			if got := normalizeFile(t, c.file, c.time, spelling); got.EventID != want.EventID {
				t.Errorf("%s with %s: event_id %s, want %s (the same update)", c.file, spelling, got.EventID, want.EventID)
			}
		}
		if later := normalizeFile(t, c.file, c.time, `"time":"`+ms[:len(ms)-1]+`5"`); later.EventID == want.EventID {
			t.Errorf("%s: another update time, same event_id", c.file)
		}
	}
}

// TestNeteaseNotificationUpdateLink (49, 82): an 82 names the notification it changed by msgId only
// ("msgId | String | 消息ID"); a 49 names itself by msgIdServer ("服务器 ID") and msgIdClient. So a 49
// with a real msgIdServer and its 82 share msg_id, while the manual's 49 with msgIdServer "0" shares no
// field with any 82: the 82 example carries no msgIdClient, serverId, channelId or msgTimestamp that
// could stand in. Such a 49 stays unlinked (msg_id empty), as ingest/doc.go explains.
func TestNeteaseNotificationUpdateLink(t *testing.T) {
	update := normalizeFile(t, "82_notification_update")
	if update.MsgID != "967868" {
		t.Fatalf("82 msg_id %q", update.MsgID)
	}
	linked := normalizeFile(t, "49_custom_notification", `"msgIdServer":"0"`, `"msgIdServer":"967868"`)
	if linked.MsgID != update.MsgID {
		t.Errorf("49 with msgIdServer 967868: msg_id %q, its 82 has %q", linked.MsgID, update.MsgID)
	}
	unlinked := normalizeFile(t, "49_custom_notification")
	if unlinked.MsgID != "" {
		t.Errorf("49 with msgIdServer \"0\": msg_id %q, want none (\"0\" names nothing)", unlinked.MsgID)
	}
	var fields82 map[string]json.RawMessage
	if err := json.Unmarshal(readFile(t, "testdata/netease/82_notification_update.json"), &fields82); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"msgIdServer", "msgIdClient", "serverId", "channelId", "msgTimestamp", "toType"} {
		if _, ok := fields82[k]; ok {
			t.Errorf("the 82 example has %s: a 49 without msgIdServer could be linked by it; revise the reading", k)
		}
	}
}

// TestNeteasePromotedFields (schema version 2): the fields analysts ask for are typed fields of the
// event, read from the manual's examples and tables: 48 reply and thread, 63/65 channel type and view
// mode; attrs keep them too.
func TestNeteasePromotedFields(t *testing.T) {
	m := normalizeFile(t, "48_message_derived_reply_in_thread")
	wantReply := event.MsgRef{MsgID: "1541872", ClientMsgID: "5f1d4c0a-3f7e-4d7b-a5e2-0d7f0c9c6e11", From: "yx1", MsgTimeMs: 1646744330021}
	wantThread := event.MsgRef{MsgID: "1541869", ClientMsgID: "852b7e2c-21f9-44ca-ae12-ad28eba35b7d", From: "yx", MsgTimeMs: 1646744308787}
	if m.Reply != wantReply || m.Thread != wantThread {
		t.Errorf("reply %+v thread %+v", m.Reply, m.Thread)
	}
	if plain := normalizeFile(t, "48_message"); !plain.Reply.IsZero() || !plain.Thread.IsZero() {
		t.Errorf("the manual's 48 example names no reply or thread, got %+v %+v", plain.Reply, plain.Thread)
	}
	if _, err := normalize.Netease("app1", []byte(`{"eventType":"48","msgIdServer":"1","replyMsgTime":"yesterday"}`), receivedAt); !errors.Is(err, normalize.ErrBadField) {
		t.Errorf("a reply time that is not a number: %v, want ErrBadField", err)
	}
	c := normalizeFile(t, "63_channel_create")
	if c.Target.ChannelType != "0" || c.Target.ChannelViewMode != "0" {
		t.Errorf("63: channel type %q view mode %q, want 0 and 0", c.Target.ChannelType, c.Target.ChannelViewMode)
	}
	c = normalizeFile(t, "65_channel_update", `"topic":"#test-ii",`, `"topic":"#test-ii","type":"100","viewmode":"1",`)
	if c.Target.ChannelType != "100" || c.Target.ChannelViewMode != "1" {
		t.Errorf("65 with the table's type and viewmode: %q %q", c.Target.ChannelType, c.Target.ChannelViewMode)
	}
	if m.SchemaVersion != 2 || event.SchemaVersion != 2 {
		t.Errorf("schema version %d (build %d): these fields are version 2", m.SchemaVersion, event.SchemaVersion)
	}
	if !reflect.DeepEqual(m.Attrs["replyMsgIdServer"], "1541872") {
		t.Errorf("attrs lost replyMsgIdServer: %v", m.Attrs)
	}
}

// TestStatusWithoutTimeIsKept (issue 16 item 4): one rule for a status copy without its time, on both
// platforms that send one: it is kept, with occurred_at 0, which the online-state rule orders before
// every timed event (it sets a state only where none is known). Built from iLink §4.3's example and
// NetEase 47's login example, each without its time.
func TestStatusWithoutTimeIsKept(t *testing.T) {
	ilinkBody := strings.Replace(string(readFile(t, "testdata/ilink/4.3_status_offline.json")), `"time": 1457408202,`, ``, 1)
	if strings.Contains(ilinkBody, "time") {
		t.Fatalf("the edit left a time: %s", ilinkBody)
	}
	il, err := normalize.ILink("app1", []byte(ilinkBody), receivedAt)
	if err != nil {
		t.Fatalf("iLink status without time: %v, want it kept", err)
	}
	ne := normalizeFile(t, "47_1_login", `"time":"1646792622618"`, `"x":""`)
	for name, e := range map[string]event.Event{"ilink 4.3": il, "netease 47": ne} {
		if _, ok := e.PresenceOnline(); !ok || e.Kind != event.KindPresence {
			t.Errorf("%s: kind %q op %q, want a presence event", name, e.Kind, e.Op)
		}
		if e.OccurredAtMs != 0 || e.ReceivedAtMs != receivedAt.UnixMilli() {
			t.Errorf("%s: occurred_at %d received_at %d, want 0 (no time: never the arrival time)", name, e.OccurredAtMs, e.ReceivedAtMs)
		}
	}
	if il.Op != event.OpOffline || il.Actor != "414" {
		t.Errorf("iLink: op %q actor %q, want offline 414", il.Op, il.Actor)
	}
	// A time that is there but not a number is not guessed at: dead-lettered, on both.
	if _, err := normalize.ILink("app1", []byte(strings.Replace(string(readFile(t, "testdata/ilink/4.3_status_offline.json")), `1457408202`, `"soon"`, 1)), receivedAt); !errors.Is(err, normalize.ErrBadField) {
		t.Errorf("iLink time \"soon\": %v, want ErrBadField", err)
	}
	body := strings.Replace(string(readFile(t, "testdata/netease/47_1_login.json")), `"time":"1646792622618"`, `"time":"soon"`, 1)
	if _, err := normalize.Netease("app1", []byte(body), receivedAt); !errors.Is(err, normalize.ErrBadField) {
		t.Errorf("NetEase time \"soon\": %v, want ErrBadField", err)
	}
}

// TestILinkIdentityIsThePush (issue 16 item 3): iLink pushes carry no message id (§4.1–4.4 list
// from_uid, to_uid or group_id, msg_type, create_time "精确到秒" and content), and the platform resends
// a push it got no answer to (§2.1 "五秒内收不到响应会断掉连接,并且重新发起请求,总共重试三次"). The
// push is its own identity: a resend, byte for byte or re-spaced, is the same event; a push to another
// recipient (a group message copied per to_uid), in another second, or with other text is another.
func TestILinkIdentityIsThePush(t *testing.T) {
	id := func(body string) string {
		t.Helper()
		e, err := normalize.ILink("app1", []byte(body), receivedAt)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		return e.EventID
	}
	text := string(readFile(t, "testdata/ilink/4.1_text.json"))
	first := id(text)
	if resend := id(text); resend != first {
		t.Errorf("the same push twice: %s and %s", first, resend)
	}
	if respaced := id(strings.Join(strings.Fields(text), "")); respaced != first {
		t.Errorf("the push re-encoded without white space: %s, want %s", respaced, first)
	}
	group := string(readFile(t, "testdata/ilink/4.2_group.json"))
	copyTo := func(uid string) string {
		return strings.Replace(group, `"group_id"`, `"to_uid":"`+uid+`","group_id"`, 1)
	}
	others := map[string]string{
		"another recipient":    strings.Replace(text, `"414"`, `"415"`, 1),
		"another second":       strings.Replace(text, `1457408202`, `1457408203`, 1),
		"another text":         strings.Replace(text, `"aGVsbG8="`, `"aGk="`, 1),
		"group copy to 414":    copyTo("414"),
		"group copy to 415":    copyTo("415"),
		"the group push as is": group,
	}
	seen := map[string]string{first: "the §4.1 example"}
	for name, body := range others {
		got := id(body)
		if prev, dup := seen[got]; dup {
			t.Errorf("%s has the event_id of %s", name, prev)
		}
		seen[got] = name
	}
}
