package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/pipeline"
)

// golden is one seed example: the platform's body (NAME.json) and the canonical event ingest makes of
// it (NAME.event.json), from normalize/testdata.
type golden struct {
	name  string
	body  []byte
	event event.Event
}

func loadGoldens(t *testing.T) []golden {
	t.Helper()
	paths, err := filepath.Glob("../normalize/testdata/*/*.event.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no golden events in normalize/testdata")
	}
	var out []golden
	for _, p := range paths {
		g := golden{name: strings.TrimPrefix(strings.TrimSuffix(p, ".event.json"), "../normalize/testdata/")}
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(text, &g.event); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if g.body, err = os.ReadFile(strings.TrimSuffix(p, ".event.json") + ".json"); err != nil {
			t.Fatal(err)
		}
		out = append(out, g)
	}
	return out
}

// loginTime is NetEase's loginTime of a presence copy, 0 where absent.
func loginTime(e *event.Event) int64 {
	ms, _ := strconv.ParseInt(e.Attrs["loginTime"], 10, 64)
	return ms
}

// priorities prints a role_priorities map as the query below does: id:n pairs, sorted, comma-separated.
func priorities(m map[string]int64) string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, k+":"+strconv.FormatInt(v, 10))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func fmtTime(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000") }

// expected is, per analysts' view, the columns a golden event must show and the values it must have,
// written from the event contract (event/doc.go) independently of the pipeline's own mapping.
var expected = map[string]func(e *event.Event) map[string]string{
	"messages": func(e *event.Event) map[string]string {
		sent := e.MsgTimeMs
		if sent == 0 {
			sent = e.OccurredAtMs
		}
		if sent == 0 {
			sent = e.ReceivedAtMs // the platform gives no time (Maxim)
		}
		return map[string]string{"op": e.Op, "sender": e.Actor, "sender_nick": e.ActorNick, "sender_client_type": e.ActorClientType,
			"sender_device_id": e.ActorDeviceID, "sender_ip": e.ActorIP, "server_id": e.Target.Server, "channel_id": e.Target.Channel,
			"group_id": e.Target.Group, "to_account": e.Target.Account, "msg_id": e.MsgID, "client_msg_id": e.ClientMsgID,
			"msg_type": e.MsgType, "original_body": e.Body, "msg_time": fmtTime(sent), "occurred_at": fmtTime(e.OccurredAtMs),
			"reply_to_msg_id": e.Reply.MsgID, "reply_to_client_msg_id": e.Reply.ClientMsgID, "reply_to_sender": e.Reply.From,
			"reply_to_msg_time": fmtTime(e.Reply.MsgTimeMs), "thread_msg_id": e.Thread.MsgID,
			"thread_client_msg_id": e.Thread.ClientMsgID, "thread_sender": e.Thread.From, "thread_msg_time": fmtTime(e.Thread.MsgTimeMs)}
	},
	"message_updates": func(e *event.Event) map[string]string {
		return map[string]string{"op": e.Op, "actor": e.Actor, "actor_client_type": e.ActorClientType, "actor_ip": e.ActorIP,
			"server_id": e.Target.Server, "channel_id": e.Target.Channel, "msg_id": e.MsgID, "body": e.Body,
			"antispam": strconv.FormatBool(e.Antispam), "antispam_detail": e.AntispamDetail, "occurred_at": fmtTime(e.OccurredAtMs)}
	},
	"notifications": func(e *event.Event) map[string]string {
		return map[string]string{"kind": e.Kind, "op": e.Op, "sender": e.Actor, "sender_nick": e.ActorNick,
			"sender_client_type": e.ActorClientType, "server_id": e.Target.Server, "channel_id": e.Target.Channel,
			"to_account": e.Target.Account, "msg_id": e.MsgID, "client_msg_id": e.ClientMsgID, "body": e.Body,
			"occurred_at": fmtTime(e.OccurredAtMs)}
	},
	"presence_events": func(e *event.Event) map[string]string {
		online, _ := e.PresenceOnline()
		reason := e.Op
		if online {
			reason = ""
		}
		return map[string]string{"account": e.Actor, "op": e.Op, "online": strconv.FormatBool(online), "reason": reason,
			"device_id": e.ActorDeviceID, "client_type": e.ActorClientType, "client_ip": e.ActorIP,
			"occurred_at": fmtTime(e.OccurredAtMs), "connection_id": e.ActorConnectionID,
			"client_port": e.Attrs["clientPort"], "sdk_version": e.Attrs["sdkVersion"], "login_time": fmtTime(loginTime(e))}
	},
	"community_events": func(e *event.Event) map[string]string {
		accounts := []string{}
		if e.Target.Account != "" {
			accounts = append(accounts, e.Target.Account)
		}
		for _, a := range e.Target.Accounts {
			if a != e.Target.Account {
				accounts = append(accounts, a)
			}
		}
		return map[string]string{"kind": e.Kind, "op": e.Op, "actor": e.Actor, "actor_nick": e.ActorNick,
			"server_id": e.Target.Server, "channel_id": e.Target.Channel, "target_account": e.Target.Account,
			"accounts": strings.Join(accounts, ","), "role_id": e.Target.Role, "role_ids": strings.Join(e.Target.Roles, ","),
			"name": e.Attrs["name"], "occurred_at": fmtTime(e.OccurredAtMs), "inviter": e.Inviter, "member_type": e.Target.MemberType,
			"channel_type": e.Target.ChannelType, "channel_view_mode": e.Target.ChannelViewMode,
			"role_priorities": priorities(e.Target.RolePriorities)}
	},
	"quick_comments": func(e *event.Event) map[string]string {
		return map[string]string{"op": e.Op, "actor": e.Actor, "actor_nick": e.ActorNick, "actor_device_id": e.ActorDeviceID,
			"server_id": e.Target.Server, "channel_id": e.Target.Channel, "msg_id": e.MsgID, "msg_sender": e.Target.Account,
			"msg_time": fmtTime(e.MsgTimeMs), "comment_type": e.Attrs["quickCommentType"], "occurred_at": fmtTime(e.OccurredAtMs)}
	},
}

// checkGoldenRows asserts that every golden event is in the view its kind belongs to, once, with the
// expected values, its attrs as received, and in archive_events.
func checkGoldenRows(t *testing.T, h *harness, goldens []golden) {
	t.Helper()
	ctx := context.Background()
	for _, g := range goldens {
		e := &g.event
		_, view, ok := pipeline.TableFor(e.Kind)
		if !ok {
			t.Errorf("%s: kind %q has no table", g.name, e.Kind)
			continue
		}
		exp, ok := expected[view]
		if !ok {
			t.Errorf("%s: no expectations for view %s", g.name, view)
			continue
		}
		want := exp(e)
		want["event_id"], want["source"], want["app"], want["platform_type"] = e.EventID, e.Source, e.App, e.PlatformType
		want["platform_subtype"], want["received_at"] = e.PlatformSubtype, fmtTime(e.ReceivedAtMs)
		if view == "message_updates" || view == "presence_events" || view == "quick_comments" || view == "community_events" {
			delete(want, "platform_subtype")
			want["platform_subtype"] = e.PlatformSubtype
		}
		cols := make([]string, 0, len(want))
		for c := range want {
			cols = append(cols, c)
		}
		sort.Strings(cols)
		exprs := make([]string, len(cols))
		for i, c := range cols {
			switch c {
			case "accounts", "role_ids":
				exprs[i] = "arrayStringConcat(" + c + ", ',')"
			case "role_priorities":
				exprs[i] = "arrayStringConcat(arraySort(arrayMap((k, v) -> concat(k, ':', toString(v)), mapKeys(" + c + "), mapValues(" + c + "))), ',')"
			default:
				exprs[i] = "toString(" + c + ")"
			}
		}
		rows, err := h.conn.Query(ctx, "SELECT "+strings.Join(exprs, ", ")+", attrs FROM "+view+" WHERE event_id = ?", e.EventID)
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		n := 0
		for rows.Next() {
			n++
			got := make([]string, len(cols))
			dest := make([]any, len(cols)+1)
			for i := range got {
				dest[i] = &got[i]
			}
			var attrs map[string]string
			dest[len(cols)] = &attrs
			if err := rows.Scan(dest...); err != nil {
				t.Fatalf("%s: %v", g.name, err)
			}
			for i, c := range cols {
				if got[i] != want[c] {
					t.Errorf("%s (%s): %s = %q, want %q", g.name, view, c, got[i], want[c])
				}
			}
			if !reflect.DeepEqual(attrs, e.Attrs) && !(len(attrs) == 0 && len(e.Attrs) == 0) {
				t.Errorf("%s (%s): attrs %v, want %v", g.name, view, attrs, e.Attrs)
			}
		}
		rows.Close()
		if n != 1 {
			t.Errorf("%s: %d rows in %s, want 1", g.name, n, view)
		}
		if c := h.count("SELECT count() FROM archive_events WHERE event_id = ? AND kind = ?", e.EventID, e.Kind); c != 1 {
			t.Errorf("%s: %d rows in archive_events, want 1", g.name, c)
		}
	}
}

// TestEverySeedExampleInItsTable: every canonical event ingest makes of the manuals' examples (the
// goldens present in normalize/testdata, whatever they are when the test runs) lands in the table of its
// kind with the right values. A golden whose kind has no table fails the test.
func TestEverySeedExampleInItsTable(t *testing.T) {
	goldens := loadGoldens(t)
	h := newHarness(t)
	var evs []event.Event
	for _, g := range goldens {
		if _, _, ok := pipeline.TableFor(g.event.Kind); !ok {
			t.Errorf("%s: kind %q has no table", g.name, g.event.Kind)
			continue
		}
		evs = append(evs, g.event)
	}
	h.produceEvents(evs...)
	h.start("events", h.config()).waitWritten(t, float64(len(evs)), 60*time.Second)
	checkGoldenRows(t, h, goldens)
	t.Logf("%d seed examples checked", len(goldens))
}

// TestReplayRebuildsFromRaw: the manuals' examples as raw records (the body as received and ingest's
// headers) are replayed into the events topic with ingest's normalizers, giving exactly the golden
// events; records that cannot be normalized are dead-lettered with the reason; a second replay changes
// nothing that analysts see.
func TestReplayRebuildsFromRaw(t *testing.T) {
	goldens := loadGoldens(t)
	h := newHarness(t)
	var recs []*kgo.Record
	for _, g := range goldens {
		recs = append(recs, &kgo.Record{Topic: h.tc.Raw(), Key: []byte(g.event.EventID), Value: g.body, Headers: []kgo.RecordHeader{
			{Key: kafka.HeaderSource, Value: []byte(g.event.Source)},
			{Key: kafka.HeaderApp, Value: []byte(g.event.App)},
			{Key: kafka.HeaderReceivedAt, Value: []byte(strconv.FormatInt(g.event.ReceivedAtMs, 10))},
			{Key: kafka.HeaderEventID, Value: []byte(g.event.EventID)},
		}})
	}
	recs = append(recs,
		&kgo.Record{Topic: h.tc.Raw(), Key: []byte("bad1"), Value: []byte(`{"eventType":"999"}`), Headers: []kgo.RecordHeader{
			{Key: kafka.HeaderSource, Value: []byte(event.SourceNetease)}, {Key: kafka.HeaderApp, Value: []byte("app1")}}},
		&kgo.Record{Topic: h.tc.Raw(), Key: []byte("bad2"), Value: []byte(`{}`), Headers: []kgo.RecordHeader{
			{Key: kafka.HeaderSource, Value: []byte("pager")}, {Key: kafka.HeaderApp, Value: []byte("x")}}})
	h.produce(recs...)

	var out bytes.Buffer
	st, err := pipeline.Replay(context.Background(), h.tc, pipeline.ReplayConfig{Progress: time.Millisecond}, h.log, &out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != int64(len(recs)) || st.Records != int64(len(recs)) || st.Events != int64(len(goldens)) || st.DeadLetters != 2 {
		t.Fatalf("replay stats %+v, want %d records, %d events, 2 dead letters", st, len(recs), len(goldens))
	}
	if !strings.Contains(out.String(), "records/s") || !strings.Contains(out.String(), "replay: done") {
		t.Errorf("progress output:\n%s", out.String())
	}
	dead := h.readDeadLetters(2)
	for _, d := range dead {
		if header(d, pipeline.HeaderDLStage) != pipeline.StageReplay || header(d, pipeline.HeaderDLReason) == "" {
			t.Errorf("dead letter headers %v", d.Headers)
		}
	}

	// The events topic now holds exactly the golden events (with the raw record named).
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.tc.Brokers...), kgo.ConsumeTopics(h.tc.Events()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	byID := map[string]event.Event{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(byID) < len(goldens) && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var e event.Event
			if err := event.Unmarshal(r.Value, &e); err != nil {
				t.Fatal(err)
			}
			if string(r.Key) != e.Key() {
				t.Errorf("%s: key %q, want %q", e.EventID, r.Key, e.Key())
			}
			byID[e.EventID] = e
		})
	}
	for _, g := range goldens {
		got, ok := byID[g.event.EventID]
		want := g.event
		want.RawKey = g.event.EventID
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: replayed event\n%+v\nwant\n%+v", g.name, got, want)
		}
	}

	// The consumer rebuilds the tables; a second replay folds into them.
	c := h.start("events", h.config())
	c.waitWritten(t, float64(len(goldens)), 60*time.Second)
	if _, err := pipeline.Replay(context.Background(), h.tc, pipeline.ReplayConfig{}, h.log, &out); err != nil {
		t.Fatal(err)
	}
	c.waitWritten(t, float64(2*len(goldens)), 60*time.Second)
	checkGoldenRows(t, h, goldens)

	// Dry run: counts, produces nothing.
	out.Reset()
	st, err = pipeline.Replay(context.Background(), h.tc, pipeline.ReplayConfig{DryRun: true}, h.log, &out)
	if err != nil || st.Events != int64(len(goldens)) || !strings.Contains(out.String(), "dry run") {
		t.Fatalf("dry run: %+v %v\n%s", st, err, out.String())
	}
	time.Sleep(500 * time.Millisecond)
	if got := c.written(); got != float64(2*len(goldens)) {
		t.Errorf("a dry run produced events: the consumer wrote %v, want %d", got, 2*len(goldens))
	}
}

// TestVersion1EventsWrittenAsVersion2: events version 1 of the envelope (made by the build before
// schema version 2, normalize/testdata/v1_events.jsonl), still on the events topic when the consumer is
// upgraded, are written exactly as this build's events of the same payloads: the 54/55 inviter in
// inviter rather than target_account, 79's roles in numeric order, the promoted fields filled.
func TestVersion1EventsWrittenAsVersion2(t *testing.T) {
	current := map[string]golden{}
	for _, g := range loadGoldens(t) {
		current[g.name] = g
	}
	text, err := os.ReadFile("../normalize/testdata/v1_events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var old []event.Event
	var want []golden
	for _, line := range bytes.Split(bytes.TrimSpace(text), []byte("\n")) {
		var v struct {
			Name  string      `json:"name"`
			Event event.Event `json:"event"`
		}
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatal(err)
		}
		g, ok := current[v.Name]
		if !ok {
			t.Fatalf("%s: no golden of this version", v.Name)
		}
		if v.Event.SchemaVersion != 1 || v.Event.EventID != g.event.EventID {
			t.Fatalf("%s: version %d, event_id %s (golden %s)", v.Name, v.Event.SchemaVersion, v.Event.EventID, g.event.EventID)
		}
		old = append(old, v.Event)
		want = append(want, g)
	}
	h := newHarness(t)
	h.produceEvents(old...)
	h.start("events", h.config()).waitWritten(t, float64(len(old)), 60*time.Second)
	checkGoldenRows(t, h, want)
}
