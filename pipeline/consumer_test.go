package pipeline_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/pipeline"
)

const t0 = int64(1_700_000_000_000) // 2023-11-14T22:13:20Z

func base(kind, op, id string, at int64) event.Event {
	return event.Event{SchemaVersion: 1, EventID: id, Source: event.SourceNetease, App: "app", Kind: kind, Op: op,
		OccurredAtMs: at, ReceivedAtMs: at + 50, Attrs: map[string]string{"k": "v-" + id}}
}

func message(id, channel, sender, body string, at int64) event.Event {
	e := base(event.KindMessage, event.OpSend, id, at)
	e.PlatformType, e.Actor, e.MsgID, e.MsgType, e.Body, e.MsgTimeMs = "48", sender, "m-"+id, "TEXT", body, at-10
	e.Target = event.Target{Server: "s1", Channel: channel}
	return e
}

func presence(id, account, op string, at int64) event.Event {
	e := base(event.KindPresence, op, id, at)
	e.PlatformType, e.Actor, e.ActorDeviceID, e.ActorClientType = "47", account, "dev-"+account, "AOS"
	return e
}

// TestConsumerWritesEveryKind: one event of every kind reaches its view once with its values; records
// that can never be written go to the dead-letter topic with the reason, and the rest is written.
func TestConsumerWritesEveryKind(t *testing.T) {
	h := newHarness(t)
	msg := message("e-msg", "c1", "alice", "hello", t0)
	msg.Antispam, msg.AntispamDetail = true, `{"suggestion":2}`
	ilinkGroup := event.Event{SchemaVersion: 1, EventID: "e-ilink", Source: event.SourceILink, App: "ik", Kind: event.KindMessage,
		Op: event.OpSend, PlatformType: "3", OccurredAtMs: t0, ReceivedAtMs: t0, MsgTimeMs: t0, Actor: "413", Body: "hi group",
		Target: event.Target{Group: "g1"}}
	maxim := event.Event{SchemaVersion: 1, EventID: "e-maxim", Source: event.SourceMaxim, App: "mx", Kind: event.KindMessage,
		Op: event.OpSend, PlatformType: "CHAT", ReceivedAtMs: t0 + 5, Actor: "b", MsgID: "mx1", Body: "你好",
		Target: event.Target{Account: "a"}}
	upd := base(event.KindMessageUpdate, event.OpUpdate, "e-upd", t0+1000)
	upd.PlatformType, upd.MsgID, upd.Body, upd.Actor = "81", msg.MsgID, "hello, edited", "alice"
	note := base(event.KindNotification, event.OpSend, "e-note", t0)
	note.PlatformType, note.PlatformSubtype, note.Actor, note.Body, note.Target = "49", "100", "alice", "notice", event.Target{Server: "s1"}
	noteUpd := base(event.KindNotifyUpdate, event.OpUpdate, "e-noteupd", t0+10)
	noteUpd.PlatformType, noteUpd.MsgID, noteUpd.Body = "82", "n1", "notice v2"
	pres := presence("e-pres", "bob", event.OpLogin, t0)
	server := base(event.KindServer, event.OpCreate, "e-server", t0)
	server.PlatformType, server.Actor, server.Target = "50", "alice", event.Target{Server: "s1"}
	server.Attrs["name"] = "the server"
	member := base(event.KindMember, event.OpInvite, "e-member", t0)
	member.PlatformType, member.Actor, member.Target = "53", "alice", event.Target{Server: "s1", Accounts: []string{"x", "y"}}
	channel := base(event.KindChannel, event.OpCreate, "e-channel", t0)
	channel.PlatformType, channel.Actor, channel.Target = "63", "alice", event.Target{Server: "s1", Channel: "c9"}
	role := base(event.KindRole, event.OpDelete, "e-role", t0)
	role.PlatformType, role.Actor, role.Target = "70", "alice", event.Target{Server: "s1", Roles: []string{"r1", "r2"}}
	perm := base(event.KindPermission, event.OpCreate, "e-perm", t0)
	perm.PlatformType, perm.Actor, perm.Target = "74", "alice", event.Target{Server: "s1", Channel: "c1", Account: "yx1", Role: "476868"}
	qc := base(event.KindQuickComment, event.OpAdd, "e-qc", t0)
	qc.PlatformType, qc.Actor, qc.MsgID, qc.MsgTimeMs, qc.Target = "80", "carol", msg.MsgID, msg.MsgTimeMs, event.Target{Server: "s1", Channel: "c1", Account: "alice"}
	qc.Attrs["quickCommentType"] = "113"
	good := []event.Event{msg, ilinkGroup, maxim, upd, note, noteUpd, pres, server, member, channel, role, perm, qc}
	h.produceEvents(good...)

	// Poison: not JSON, an unknown kind, a presence event the rule cannot place, no event_id.
	unknown := base("weather", "", "e-unknown", t0)
	badPresence := presence("e-badpres", "bob", "teleported", t0)
	noID := message("", "c1", "alice", "no id", t0)
	h.produce(&kgo.Record{Topic: h.tc.Events(), Key: []byte("k"), Value: []byte("{not json")})
	h.produceEvents(unknown, badPresence, noID)

	h.start("events", h.config())
	h.waitCount("archived events", uint64(len(good)), 30*time.Second, "SELECT count() FROM archive_events")

	dead := h.readDeadLetters(4)
	reasons := map[string]bool{}
	for _, r := range dead {
		reasons[header(r, pipeline.HeaderDLReason)] = true
		if header(r, pipeline.HeaderDLStage) != pipeline.StageConsume || header(r, pipeline.HeaderDLTopic) != h.tc.Events() {
			t.Errorf("dead letter headers %v", r.Headers)
		}
	}
	for _, want := range []string{"not a canonical event", `no table for this event kind: "weather"`, `presence op "teleported"`, "no event_id"} {
		found := false
		for r := range reasons {
			found = found || strings.Contains(r, want)
		}
		if !found {
			t.Errorf("no dead letter with reason %q; got %v", want, reasons)
		}
	}

	checks := []struct {
		query string
		want  string
	}{
		// The edit replaced the flagged text: the current content is not flagged; the original was.
		{"SELECT concat(sender, '|', body, '|', original_body, '|', status, '|', toString(antispam), '|', conversation, '|', toString(msg_time), '|', attrs['k']) FROM messages WHERE event_id = 'e-msg'",
			"alice|hello, edited|hello|updated|false|channel:s1/c1|2023-11-14 22:13:19.990|v-e-msg"},
		{"SELECT concat(toString(antispam), '|', antispam_detail) FROM messages_data FINAL WHERE event_id = 'e-msg'", `true|{"suggestion":2}`},
		{"SELECT concat(source, '|', group_id, '|', conversation, '|', body) FROM messages WHERE event_id = 'e-ilink'", "ilink|g1|group:g1|hi group"},
		{"SELECT concat(source, '|', conversation, '|', body, '|', toString(msg_time)) FROM messages WHERE event_id = 'e-maxim'", "maxim|conv:a/b|你好|2023-11-14 22:13:20.005"},
		{"SELECT concat(op, '|', msg_id, '|', body) FROM message_updates WHERE event_id = 'e-upd'", "update|m-e-msg|hello, edited"},
		{"SELECT concat(kind, '|', platform_subtype, '|', server_id, '|', body) FROM notifications WHERE event_id = 'e-note'", "notification|100|s1|notice"},
		{"SELECT concat(kind, '|', op, '|', msg_id, '|', body) FROM notifications WHERE event_id = 'e-noteupd'", "notification_update|update|n1|notice v2"},
		{"SELECT concat(account, '|', op, '|', toString(online), '|', toString(stale), '|', device_id) FROM presence_events WHERE event_id = 'e-pres'", "bob|login|true|false|dev-bob"},
		// Online in 2023, never renewed since: expired.
		{"SELECT concat(status, '|', state_event_id, '|', toString(state_time)) FROM presence_state WHERE account = 'bob'", "expired|e-pres|2023-11-14 22:13:20.000"},
		{"SELECT concat(kind, '|', op, '|', name) FROM community_events WHERE event_id = 'e-server'", "server|create|the server"},
		{"SELECT concat(kind, '|', op, '|', arrayStringConcat(accounts, ',')) FROM community_events WHERE event_id = 'e-member'", "member|invite|x,y"},
		{"SELECT concat(kind, '|', channel_id) FROM community_events WHERE event_id = 'e-channel'", "channel|c9"},
		{"SELECT concat(kind, '|', arrayStringConcat(role_ids, ',')) FROM community_events WHERE event_id = 'e-role'", "role|r1,r2"},
		{"SELECT concat(kind, '|', target_account, '|', arrayStringConcat(accounts, ','), '|', role_id) FROM community_events WHERE event_id = 'e-perm'", "permission|yx1|yx1|476868"},
		{"SELECT concat(op, '|', actor, '|', msg_id, '|', msg_sender, '|', comment_type) FROM quick_comments WHERE event_id = 'e-qc'", "add|carol|m-e-msg|alice|113"},
		{"SELECT concat(msg_id, '|', actor, '|', comment_type) FROM quick_comments_current", "m-e-msg|carol|113"},
	}
	for _, c := range checks {
		var got string
		if err := h.conn.QueryRow(context.Background(), c.query).Scan(&got); err != nil {
			t.Errorf("%s: %v", c.query, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.query, got, c.want)
		}
	}
}

// TestConsumerRedeliveryFoldsOnce: the same records consumed twice (a second group re-reads the
// topic from the start, in different batches, as after a crash) double the stored rows but not what
// the views show, and the presence verdicts are the same on the second pass.
func TestConsumerRedeliveryFoldsOnce(t *testing.T) {
	h := newHarness(t)
	var evs []event.Event
	for i := range 200 {
		evs = append(evs, message(fmt.Sprintf("m%03d", i), fmt.Sprintf("c%d", i%7), "alice", fmt.Sprint("text ", i), t0+int64(i)))
	}
	// bob: logout (t0+5) arrives before the older login (t0+1): the login is stale.
	evs = append(evs, presence("p-logout", "bob", event.OpLogout, t0+5), presence("p-login", "bob", event.OpLogin, t0+1))
	h.produceEvents(evs...)
	// A platform retry of one message, produced again.
	h.produceEvents(evs[3])

	cfg := h.config()
	first := h.start("events", cfg)
	h.waitCount("messages", 200, 30*time.Second, "SELECT count() FROM messages")
	h.waitCount("presence events", 2, 30*time.Second, "SELECT count() FROM presence_events")
	first.waitWritten(t, float64(len(evs)+1), 30*time.Second)
	for name, want := range map[string]float64{
		"imarchive_pipeline_rows_written_total":          float64(len(evs) + 1),
		"imarchive_pipeline_presence_events_total":       2,
		"imarchive_pipeline_presence_stale_events_total": 1,
		"imarchive_pipeline_consumer_lag_records":        0,
		"imarchive_pipeline_dead_letters_total":          0,
		"imarchive_pipeline_insert_retries_total":        0,
		"imarchive_pipeline_commit_errors_total":         0,
		"imarchive_pipeline_batch_rows":                  -1, // a histogram: at least one batch
		"imarchive_pipeline_batch_bytes":                 -1,
		"imarchive_pipeline_insert_latency_seconds":      -1,
		"imarchive_pipeline_presence_state_loads_total":  -1,
	} {
		got, ok := first.metric(name)
		if !ok || (want >= 0 && got != want) || (want < 0 && got < 1) {
			t.Errorf("metric %s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	first.stop(t)

	cfg.Group, cfg.BatchRows = "g-again", 37
	again := h.start("events", cfg)
	again.waitWritten(t, float64(len(evs)+1), 30*time.Second)
	if n := h.count("SELECT count() FROM messages"); n != 200 {
		t.Errorf("messages view: %d rows, want 200", n)
	}
	if n := h.count("SELECT count() FROM archive_events"); n != 202 {
		t.Errorf("archive_events: %d rows, want 202", n)
	}
	if n := h.count("SELECT count() FROM presence_events WHERE event_id = 'p-login' AND stale"); n != 1 {
		t.Errorf("the overtaken login: %d stale rows in the view, want 1", n)
	}
	if n := h.count("SELECT count() FROM presence_events_data WHERE event_id = 'p-login' AND NOT stale"); n != 0 {
		t.Errorf("the overtaken login was written %d times as not stale on a re-delivery", n)
	}
	if n := h.count("SELECT count() FROM presence_events_data WHERE event_id = 'p-logout' AND stale"); n != 0 {
		t.Errorf("the deciding logout was flagged stale %d times on its second pass", n)
	}
	if n := h.count("SELECT count() FROM presence_state WHERE account = 'bob' AND status = 'offline' AND state_event_id = 'p-logout'"); n != 1 {
		t.Error("bob's state is not offline by p-logout")
	}
}

// TestMessagesCurrentVersion: updates, appends and a recall give the current version in the messages
// view and every change in message_updates.
func TestMessagesCurrentVersion(t *testing.T) {
	h := newHarness(t)
	m := message("m1", "c1", "alice", "v1", t0)
	up := func(id, op, body string, at int64) event.Event {
		e := base(event.KindMessageUpdate, op, id, at)
		e.PlatformType, e.MsgID, e.Body, e.Actor = "81", m.MsgID, body, "alice"
		return e
	}
	// Delivered out of order: the later update first.
	h.produceEvents(m, up("u2", event.OpUpdate, "v3", t0+3000), up("u1", event.OpUpdate, "v2", t0+2000),
		up("a1", event.OpAppend, "+tail", t0+4000), up("a0", event.OpAppend, "+old", t0+2500))
	// An untouched message.
	h.produceEvents(message("m2", "c1", "bob", "plain", t0+1))
	h.start("events", h.config())
	h.waitCount("updates", 4, 30*time.Second, "SELECT count() FROM message_updates")
	var body, orig, status string
	var n uint64
	row := h.conn.QueryRow(context.Background(), "SELECT body, original_body, status, update_count FROM messages WHERE event_id = 'm1'")
	if err := row.Scan(&body, &orig, &status, &n); err != nil {
		t.Fatal(err)
	}
	// v3 is the latest replacement; only the append after it (+tail) follows it.
	if body != "v3+tail" || orig != "v1" || status != "updated" || n != 4 {
		t.Errorf("current version: body %q original %q status %q changes %d", body, orig, status, n)
	}
	h.produceEvents(up("r1", event.OpRecall, "", t0+5000))
	h.waitCount("recall", 1, 30*time.Second, "SELECT count() FROM messages WHERE event_id = 'm1' AND status = 'recalled'")
	if n := h.count("SELECT count() FROM messages WHERE event_id = 'm2' AND status = 'sent' AND body = 'plain' AND update_count = 0"); n != 1 {
		t.Error("an unchanged message is not shown as sent")
	}
}

// TestRawArchive: raw-topic records land in raw_callbacks byte for byte, with their headers, once
// each even when consumed twice.
func TestRawArchive(t *testing.T) {
	h := newHarness(t)
	body := []byte("{\"eventType\":\"48\",\"body\":\"x\"}\n\xff\x00 not utf-8")
	rec := &kgo.Record{Topic: h.tc.Raw(), Key: []byte("evid1"), Value: body, Headers: []kgo.RecordHeader{
		{Key: kafka.HeaderSource, Value: []byte("netease_qchat")},
		{Key: kafka.HeaderApp, Value: []byte("app1")},
		{Key: kafka.HeaderReceivedAt, Value: []byte("1646744309123")},
		{Key: kafka.HeaderPath, Value: []byte("/v1/netease/app1")},
		{Key: kafka.HeaderRemoteAddr, Value: []byte("10.0.0.1:5555")},
		{Key: kafka.HeaderEventID, Value: []byte("evid1")},
		{Key: "http.Checksum", Value: []byte("abc")},
		{Key: "http.X-Forwarded-For", Value: []byte("1.1.1.1")},
		{Key: "http.X-Forwarded-For", Value: []byte("2.2.2.2")},
		{Key: "imarchive.future", Value: []byte("kept")},
	}}
	unnormalized := &kgo.Record{Topic: h.tc.Raw(), Key: []byte("rawkey2"), Value: []byte("garbage"), Headers: []kgo.RecordHeader{
		{Key: kafka.HeaderSource, Value: []byte("netease_qchat")}, {Key: kafka.HeaderApp, Value: []byte("app1")}}}
	h.produce(rec, unnormalized)
	cfg := h.config()
	first := h.start("raw", cfg)
	h.waitCount("raw rows", 2, 30*time.Second, "SELECT count() FROM raw_callbacks")
	first.stop(t)
	cfg.RawGroup = "another-raw-group"
	h.start("raw", cfg).waitWritten(t, 2, 30*time.Second)
	if n := h.count("SELECT count() FROM raw_callbacks"); n != 2 {
		t.Errorf("raw_callbacks: %d rows after a re-delivery, want 2", n)
	}
	var gotBody, sum, hdrs, meta, received, eventID, path string
	if err := h.conn.QueryRow(context.Background(), `SELECT body, body_sha256, concat(http_headers['Checksum'], '|', http_headers['X-Forwarded-For']),
		meta['imarchive.future'], toString(received_at), event_id, path FROM raw_callbacks WHERE raw_key = 'evid1'`).Scan(&gotBody, &sum, &hdrs, &meta, &received, &eventID, &path); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(body)
	if gotBody != string(body) || sum != hex.EncodeToString(want[:]) {
		t.Errorf("body %q (sha %s), want the bytes as received", gotBody, sum)
	}
	if hdrs != "abc|1.1.1.1, 2.2.2.2" || meta != "kept" || received != "2022-03-08 12:58:29.123" || eventID != "evid1" || path != "/v1/netease/app1" {
		t.Errorf("headers %q meta %q received %q event_id %q path %q", hdrs, meta, received, eventID, path)
	}
}

// TestCheck lists what makes an event impossible to write.
func TestCheck(t *testing.T) {
	ok := message("id", "c", "a", "b", t0)
	if err := pipeline.Check(&ok); err != nil {
		t.Fatalf("a good message: %v", err)
	}
	cases := map[string]func(e *event.Event){
		"no event_id":        func(e *event.Event) { e.EventID = "" },
		"no source":          func(e *event.Event) { e.Source = "" },
		"newer envelope":     func(e *event.Event) { e.SchemaVersion = event.SchemaVersion + 1 },
		"year 2300":          func(e *event.Event) { e.OccurredAtMs = 10413792000000 },
		"year 1899":          func(e *event.Event) { e.MsgTimeMs = -2208988800001 },
		"presence, no actor": func(e *event.Event) { e.Kind, e.Op, e.Actor = event.KindPresence, event.OpLogin, "" },
		"presence, bad op":   func(e *event.Event) { e.Kind, e.Op = event.KindPresence, "login2" },
		"unknown kind":       func(e *event.Event) { e.Kind = "unknown" },
	}
	for name, mutate := range cases {
		e := message("id", "c", "a", "b", t0)
		mutate(&e)
		err := pipeline.Check(&e)
		if !errors.Is(err, pipeline.ErrBadEvent) && !errors.Is(err, pipeline.ErrNoTable) {
			t.Errorf("%s: %v, want ErrBadEvent or ErrNoTable", name, err)
		}
	}
}

// TestPoisonRowOnClickHouse: the real engine refuses one row of a batch for its data (a constraint an
// operator put on messages_data); the other rows of the batch land, the refused one is in the
// dead-letter topic with ClickHouse's own words, and the consumer keeps up with what comes after.
func TestPoisonRowOnClickHouse(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if err := h.conn.Exec(ctx, "ALTER TABLE messages_data ADD CONSTRAINT no_forbidden_words CHECK NOT positionCaseInsensitive(body, 'forbidden')"); err != nil {
		t.Fatal(err)
	}
	var evs []event.Event
	for i := range 40 {
		body := fmt.Sprint("message ", i)
		if i == 17 {
			body = "a FORBIDDEN message"
		}
		evs = append(evs, message(fmt.Sprintf("pm%02d", i), "c1", "alice", body, t0+int64(i)))
	}
	h.produceEvents(evs...)
	cfg := h.config()
	cfg.BatchWait = time.Second // the forty in one batch, or a few
	c := h.start("events", cfg)
	h.waitCount("the good messages", 39, 30*time.Second, "SELECT count() FROM messages")
	dead := h.readDeadLetters(1)
	reason := header(dead[0], pipeline.HeaderDLReason)
	if !strings.Contains(reason, "ClickHouse refused the row: code 469 VIOLATED_CONSTRAINT") || !strings.Contains(reason, "no_forbidden_words") {
		t.Errorf("dead letter reason %q: want ClickHouse's code and words", reason)
	}
	var got event.Event
	if err := json.Unmarshal(dead[0].Value, &got); err != nil || got.EventID != "pm17" {
		t.Errorf("dead letter holds %s (%v), want the refused event pm17", dead[0].Value, err)
	}
	if header(dead[0], pipeline.HeaderDLOffset) == "" || header(dead[0], pipeline.HeaderDLTopic) != h.tc.Events() {
		t.Errorf("dead letter headers %v", dead[0].Headers)
	}
	if n := h.count("SELECT count() FROM messages WHERE event_id = 'pm17'"); n != 0 {
		t.Errorf("the refused row is in messages")
	}
	// The partition moved on: what comes after is written, nothing is behind.
	h.produceEvents(message("pm-after", "c1", "bob", "after the poison", t0+100))
	h.waitCount("the message after", 40, 30*time.Second, "SELECT count() FROM messages")
	c.waitWritten(t, 40, 30*time.Second)
	for name, want := range map[string]float64{
		"imarchive_pipeline_refused_rows_total":   1,
		"imarchive_pipeline_dead_letters_total":   1,
		"imarchive_pipeline_consumer_lag_records": 0,
	} {
		if got, _ := c.metric(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if n := h.count("SELECT count() FROM messages_data WHERE event_id != 'pm17'"); n < 40 {
		t.Errorf("messages_data holds %d rows", n)
	}
}

// TestEveryTokenTableDeduplicates: every table a consumer writes with an insert deduplication token
// has a deduplication window; without one, ClickHouse ignores the token (a plain MergeTree does not
// deduplicate) and a re-sent batch is written twice.
func TestEveryTokenTableDeduplicates(t *testing.T) {
	h := newHarness(t)
	tables := map[string]bool{"raw_callbacks_data": true, "raw_chain": true}
	for _, kind := range pipeline.Kinds() {
		storage, _, _ := pipeline.TableFor(kind)
		tables[storage] = true
	}
	for table := range tables {
		var engine string
		if err := h.conn.QueryRow(context.Background(), "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = ?", table).Scan(&engine); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if !strings.Contains(engine, "non_replicated_deduplication_window = ") || strings.Contains(engine, "non_replicated_deduplication_window = 0,") {
			t.Errorf("%s has no deduplication window: %s", table, engine)
		}
	}
}
