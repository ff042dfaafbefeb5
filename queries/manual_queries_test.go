package queries_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/normalize"
	"github.com/imarchive/imarchive/pipeline"
	"github.com/imarchive/imarchive/queries"
	"github.com/imarchive/imarchive/queries/querytest"
)

// TestQueriesOfPromotedFields runs the named queries built on the fields of event schema version 2
// (message_thread: 48's reply and thread ids; channel_settings: 63/65 channel type and view mode) on
// the NetEase manual's own examples (normalize/testdata/netease), written by the real consumer's sink.
func TestQueriesOfPromotedFields(t *testing.T) {
	conn := migrated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	example := func(name string, replace ...string) event.Event {
		t.Helper()
		b, err := os.ReadFile("../normalize/testdata/netease/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		body := string(b)
		for i := 0; i+1 < len(replace); i += 2 {
			if !strings.Contains(body, replace[i]) {
				t.Fatalf("%s: %q not in the example", name, replace[i])
			}
			body = strings.Replace(body, replace[i], replace[i+1], 1)
		}
		e, err := normalize.Netease("app1", []byte(body), time.UnixMilli(1646744309000))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return e
	}
	evs := []event.Event{
		// The thread of 1541869 (the manual's 48): 1541872 replies to it, 1541874 (the derived example)
		// replies to 1541872. 1541880 is in another thread.
		example("48_message"),
		example("48_message_derived_reply_in_thread", `"msgIdServer":"1541874"`, `"msgIdServer":"1541872"`,
			`"msgTimestamp":"1646744342114"`, `"msgTimestamp":"1646744330021"`, `"fromAccount":"yx"`, `"fromAccount":"yx1"`,
			`"replyMsgIdServer":"1541872"`, `"replyMsgIdServer":"1541869"`, `"replyMsgFromAccount":"yx1"`, `"replyMsgFromAccount":"yx"`,
			`"replyMsgTime":"1646744330021"`, `"replyMsgTime":"1646744308787"`),
		example("48_message_derived_reply_in_thread"),
		example("48_message_derived_reply_in_thread", `"msgIdServer":"1541874"`, `"msgIdServer":"1541880"`,
			`"threadMsgIdServer":"1541869"`, `"threadMsgIdServer":"1541800"`),
		// Channel 1394628 of server 1492597: created (63), changed to a private custom channel (65, with
		// the type and viewmode of its table), deleted (64, which names no server).
		example("63_channel_create"),
		example("65_channel_update", `"channelId":"1443137"`, `"channelId":"1394628"`, `"serverId":"1541497"`, `"serverId":"1492597"`,
			`"topic":"#test-ii",`, `"topic":"#test-ii","type":"100","viewmode":"1",`),
		example("64_channel_delete", `"channelId":"1443128"`, `"channelId":"1394628"`),
	}
	sink := pipeline.NewEventSink(conn, pipeline.DefaultConfig(), prometheus.NewRegistry())
	items := make([]pipeline.Item[pipeline.EventRow], 0, len(evs))
	for i := range evs {
		b, err := json.Marshal(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		row, err := sink.Decode(&kgo.Record{Value: b})
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, pipeline.Item[pipeline.EventRow]{Row: row, Offset: int64(i)})
	}
	if err := sink.Write(ctx, items, "manual-queries"); err != nil {
		t.Fatal(err)
	}
	run := func(name string, params map[string]string) []string {
		t.Helper()
		q, err := queries.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		bound, err := q.Bind(params)
		if err != nil {
			t.Fatal(err)
		}
		res := querytest.Run(t, conn, q.SQL, bound)
		checkHeader(t, q, res)
		var out []string
		for _, r := range res.Rows {
			out = append(out, strings.Join(r, "|"))
		}
		return out
	}
	thread := []string{
		"2022-03-08 12:58:28.787|root|yx|yx|文本消息ygy-2022-03-08T20:58:28.721|sent|1541869|||1970-01-01 00:00:00.000||1492674|1394678|" + evs[0].EventID,
		"2022-03-08 12:58:50.021|reply|yx1|yx|回复ygy-2022-03-08T20:59:02.114|sent|1541872|1541869|yx|2022-03-08 12:58:28.787|1541869|1492674|1394678|" + evs[1].EventID,
		"2022-03-08 12:59:02.114|reply|yx|yx|回复ygy-2022-03-08T20:59:02.114|sent|1541874|1541872|yx1|2022-03-08 12:58:50.021|1541869|1492674|1394678|" + evs[2].EventID,
	}
	for _, asked := range []string{"1541869", "1541872", "1541874"} {
		if got := run("message_thread", map[string]string{"app": "app1", "msg_id": asked}); strings.Join(got, "\n") != strings.Join(thread, "\n") {
			t.Errorf("message_thread of %s:\n%s\nwant:\n%s", asked, strings.Join(got, "\n"), strings.Join(thread, "\n"))
		}
	}
	if got := run("message_thread", map[string]string{"app": "app1", "msg_id": "404"}); len(got) != 0 {
		t.Errorf("message_thread of a message not archived: %v, want nothing", got)
	}
	channels := []string{"1492597|1394628|SDK修改chl-1541497-uv|#test-ii|100|1|2022-03-08 12:19:52.447|2022-03-11 08:18:59.947|2022-03-11 08:13:39.318|3"}
	for _, server := range []string{"1492597", ""} {
		if got := run("channel_settings", map[string]string{"app": "app1", "server_id": server}); strings.Join(got, "\n") != strings.Join(channels, "\n") {
			t.Errorf("channel_settings of server %q:\n%s\nwant:\n%s", server, strings.Join(got, "\n"), strings.Join(channels, "\n"))
		}
	}
	if got := run("channel_settings", map[string]string{"app": "app1", "server_id": "1541497"}); len(got) != 0 {
		t.Errorf("channel_settings of another server: %v", got)
	}
}
