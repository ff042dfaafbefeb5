package queries_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/queries"
	"github.com/imarchive/imarchive/queries/querytest"
)

// rollupMsg is one message of TestRollupsCountEachMessageOnce, as the consumer would write it into
// messages_data.
type rollupMsg struct {
	id, source, app, sender, client, server, channel, group, to string
	sent, received                                              time.Time // sent zero: the platform gave no time
}

// at is the effective send time, as the messages_as_sent view defines it.
func (m rollupMsg) at() time.Time {
	if m.sent.IsZero() {
		return m.received
	}
	return m.sent
}

// rollupMessages: three days of messages in two QChat channels of two servers, an iLink group,
// one-to-one iLink messages, Maxim messages without a platform time, and a few messages without a
// sender; some near midnight, so a range's partial days matter.
func rollupMessages(d0 time.Time) []rollupMsg {
	var ms []rollupMsg
	clients := []string{"AOS", "IOS", "WEB", "PC", ""}
	for i := 0; i < 72; i++ {
		sent := d0.Add(time.Duration(i) * time.Hour).Add(time.Duration(i%7) * 7 * time.Minute)
		m := rollupMsg{id: fmt.Sprintf("ev-%03d", i), sender: fmt.Sprintf("u%d", i%5), client: clients[i%5],
			sent: sent, received: sent.Add(time.Second)}
		switch i % 4 {
		case 0, 1:
			m.source, m.app, m.server = "netease_qchat", "nim", fmt.Sprintf("S%d", i%3)
			m.channel = m.server + "-C" + strconv.Itoa(i%2)
		case 2:
			m.source, m.app, m.group = "ilink", "il", "G"+strconv.Itoa(i%3)
		default:
			m.source, m.app, m.to = "ilink", "il", "peer"
		}
		if i%11 == 0 {
			m.sender = ""
		}
		ms = append(ms, m)
	}
	// A sender and a group of the first day only: a whole month must not count them when the range
	// starts after that day.
	ms = append(ms, rollupMsg{id: "ev-early", source: "ilink", app: "il", sender: "u-early", client: "PC", group: "G-early",
		sent: d0.Add(2*time.Hour + 30*time.Minute), received: d0.Add(2*time.Hour + 31*time.Minute)})
	for i := 0; i < 6; i++ { // Maxim without a platform time: shown at the receive time
		ms = append(ms, rollupMsg{id: fmt.Sprintf("mx-%d", i), source: "maxim", app: "mx", sender: "m" + strconv.Itoa(i%2),
			to: "peer", received: d0.Add(time.Duration(5+i*11) * time.Hour)})
	}
	return ms
}

func insertRollupMsgs(t *testing.T, conn driver.Conn, ms []rollupMsg, insertedAt time.Time, offset int) {
	t.Helper()
	ts := func(x time.Time) string {
		if x.IsZero() {
			return "0"
		}
		return strconv.FormatInt(x.UnixMilli(), 10)
	}
	var rows []string
	for i, m := range ms {
		conv := "account:" + m.sender
		switch {
		case m.channel != "":
			conv = "channel:" + m.server + "/" + m.channel
		case m.group != "":
			conv = "group:" + m.group
		case m.to != "":
			conv = "conv:" + min(m.sender, m.to) + "/" + max(m.sender, m.to)
		}
		rows = append(rows, fmt.Sprintf("('%s','%s','%s','send','%s',fromUnixTimestamp64Milli(%s,'UTC'),fromUnixTimestamp64Milli(%s,'UTC'),"+
			"'%s','%s','%s','%s','%s','%s','msg-%s','body of %s',%d,fromUnixTimestamp64Milli(%d,'UTC'))",
			m.id, m.source, m.app, conv, ts(m.sent), ts(m.received), m.sender, m.client, m.server, m.channel, m.group, m.to,
			m.id, m.id, offset+i, insertedAt.UnixMilli()))
	}
	sql := "INSERT INTO messages_data (event_id, source, app, op, conversation, msg_time, received_at, sender, sender_client_type, " +
		"server_id, channel_id, group_id, to_account, msg_id, body, kafka_offset, inserted_at) VALUES " + strings.Join(rows, ",")
	if err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("insert: %v", err)
	}
}

// TestRollupsCountEachMessageOnce: the queries served by the daily rollups (schema 0105:
// message_totals, daily_active_senders, monthly_active_senders), and the message counts read from the
// storage beside them (top_channels, top_servers, client_type_mix), give the same answers after
// messages are delivered again, each repeat in an insert of its own (a platform
// re-send past ingest's dedupe window; a consumer re-inserting a batch after a crash), and their
// counts agree with a model computed here from the messages (monthly_active_senders' months too: the
// whole months are read from message_app_months), over ranges of whole days, of partial days at
// both edges, of no whole day and of whole months.
func TestRollupsCountEachMessageOnce(t *testing.T) {
	conn := migrated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	ms := rollupMessages(d0)
	loaded := d0.Add(100 * 24 * time.Hour)
	// Delivered first in three inserts, so the rollup has several parts.
	insertRollupMsgs(t, conn, ms[:30], loaded, 0)
	insertRollupMsgs(t, conn, ms[30:60], loaded, 100)
	insertRollupMsgs(t, conn, ms[60:], loaded, 200)

	ranges := [][2]time.Time{
		{d0, d0.Add(72 * time.Hour)},                                                     // three whole days
		{d0.Add(6 * time.Hour), d0.Add(66 * time.Hour)},                                  // partial first and last day, one whole day
		{d0.Add(24 * time.Hour), d0.Add(48 * time.Hour)},                                 // one whole day
		{d0.Add(12 * time.Hour), d0.Add(36 * time.Hour)},                                 // 24 hours, no whole day
		{d0.Add(-48 * time.Hour), d0.Add(30 * 24 * time.Hour)},                           // beyond the data
		{d0, d0.AddDate(0, 1, 0)},                                                        // one whole month
		{d0.Add(-16*24*time.Hour + 6*time.Hour), d0.AddDate(0, 1, 9).Add(6 * time.Hour)}, // partial days, whole days, a whole month
		{d0.Add(24 * time.Hour), d0.AddDate(0, 2, 0)},                                    // whole days of a month, then a whole month
	}
	answers := func() map[string]string { return rollupAnswers(t, conn, ranges, nil) }
	before := answers()

	// The model: each message once, at its effective time.
	for _, r := range ranges {
		key := r[0].Format(time.RFC3339) + " " + r[1].Format(time.RFC3339)
		n, senders, daily, monthly := 0, map[string]bool{}, map[string][2]map[string]bool{}, map[string][2]map[string]bool{}
		servers, channels, groups := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, m := range ms {
			if m.at().Before(r[0]) || !m.at().Before(r[1]) {
				continue
			}
			n++
			if m.server != "" {
				servers[m.app+"/"+m.server] = true
			}
			if m.channel != "" {
				channels[m.app+"/"+m.server+"/"+m.channel] = true
			}
			if m.group != "" {
				groups[m.source+"/"+m.app+"/"+m.group] = true
			}
			if m.sender != "" {
				senders[m.source+"/"+m.app+"/"+m.sender] = true
				day := m.at().Format("2006-01-02")
				if daily[day][0] == nil {
					daily[day] = [2]map[string]bool{{}, {}}
				}
				daily[day][0][m.source+"/"+m.app+"/"+m.sender] = true
				daily[day][1][m.id] = true
				month := m.at().Format("2006-01") + "-01"
				if monthly[month][0] == nil {
					monthly[month] = [2]map[string]bool{{}, {}}
				}
				monthly[month][0][m.source+"/"+m.app+"/"+m.sender] = true
				monthly[month][1][m.id] = true
			}
		}
		if got, want := before["message_totals "+key], fmt.Sprintf("%d|%d|%d|%d|%d", n, len(senders), len(servers), len(channels), len(groups)); got != want {
			t.Errorf("message_totals %s: %s, model %s (messages|senders|servers|channels|groups)", key, got, want)
		}
		for _, line := range strings.Split(before["daily_active_senders "+key], "\n") {
			f := strings.Split(line, "|")
			if len(f) != 3 {
				continue
			}
			day := f[0][:min(10, len(f[0]))]
			want := fmt.Sprintf("%d|%d", len(daily[day][0]), len(daily[day][1]))
			if f[1]+"|"+f[2] != want {
				t.Errorf("daily_active_senders %s day %s: %s|%s, model %s", key, day, f[1], f[2], want)
			}
		}
		months := 0
		for _, line := range strings.Split(before["monthly_active_senders "+key], "\n") {
			f := strings.Split(line, "|")
			if len(f) != 3 {
				continue
			}
			months++
			month := f[0][:min(10, len(f[0]))]
			want := fmt.Sprintf("%d|%d", len(monthly[month][0]), len(monthly[month][1]))
			if f[1]+"|"+f[2] != want {
				t.Errorf("monthly_active_senders %s month %s: %s|%s, model %s", key, month, f[1], f[2], want)
			}
		}
		if months == 0 {
			t.Errorf("monthly_active_senders %s: no month", key)
		}
	}

	// Every message of the second and third day again, each in an insert of its own, later, at other
	// offsets; a Maxim message without a platform time arrives a minute later the second time.
	var again []rollupMsg
	for _, m := range ms {
		if !m.at().Before(d0.Add(24 * time.Hour)) {
			if m.sent.IsZero() && m.received.Hour() < 23 {
				m.received = m.received.Add(time.Minute)
			}
			again = append(again, m)
		}
	}
	if len(again) < 40 {
		t.Fatalf("only %d repeats", len(again))
	}
	// First with the repeats unmerged (each a part of its own in the rollups), then merged.
	rollups := []string{"messages_data", "message_daily", "message_daily_apps", "message_app_months"}
	for _, tbl := range rollups {
		if err := conn.Exec(ctx, "SYSTEM STOP MERGES "+tbl); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range again {
		insertRollupMsgs(t, conn, []rollupMsg{m}, loaded.Add(time.Duration(i+1)*time.Second), 1000+i)
	}
	var parts uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'message_daily' AND active").Scan(&parts); err != nil {
		t.Fatal(err)
	}
	timed := 0
	for _, m := range again {
		if !m.sent.IsZero() {
			timed++ // a message without a platform time is not in the rollups
		}
	}
	if parts < uint64(timed) {
		t.Errorf("message_daily has %d active parts after %d repeats: they did not reach it as rows of their own", parts, timed)
	}
	assertUnchangedByRepeats(t, conn, rollups, before, answers)
}

// assertUnchangedByRepeats checks that the answers, taken now with the repeats unmerged, and again
// once merges of tables are started and forced, are still before's.
func assertUnchangedByRepeats(t *testing.T, conn driver.Conn, tables []string, before map[string]string, answers func() map[string]string) {
	t.Helper()
	unmerged := answers()
	for _, tbl := range tables {
		if err := conn.Exec(context.Background(), "SYSTEM START MERGES "+tbl); err != nil {
			t.Fatal(err)
		}
		if err := conn.Exec(context.Background(), "OPTIMIZE TABLE "+tbl+" FINAL"); err != nil {
			t.Fatal(err)
		}
	}
	merged := answers()
	for _, k := range slices.Sorted(maps.Keys(before)) {
		if before[k] != unmerged[k] {
			t.Errorf("%s changed after the repeats:\n%s\nbefore:\n%s", k, unmerged[k], before[k])
		}
		if before[k] != merged[k] {
			t.Errorf("%s changed after the repeats merged:\n%s\nbefore:\n%s", k, merged[k], before[k])
		}
	}
}

// rollupAnswers runs the queries the rollups serve (and the storage's counts beside them) over each
// range, keyed "name from to" (a name with /S1 is the query for server S1); only, when not nil, names
// the ones to run.
func rollupAnswers(t *testing.T, conn driver.Conn, ranges [][2]time.Time, only map[string]bool) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, r := range ranges {
		from, to := r[0].Format(time.RFC3339), r[1].Format(time.RFC3339)
		all := map[string]string{"from": from, "to": to, "source": "", "app": "", "server_id": "", "channel_id": ""}
		for name, p := range map[string]map[string]string{
			"message_totals":         all,
			"daily_active_senders":   all,
			"monthly_active_senders": all,
			"message_totals/S1":      {"from": from, "to": to, "source": "", "app": "", "server_id": "S1", "channel_id": ""},
			"top_channels":           {"from": from, "to": to, "source": "", "app": "", "server_id": "", "limit": "10"},
			"top_servers":            {"from": from, "to": to, "source": "", "app": "", "limit": "10"},
			"client_type_mix":        {"from": from, "to": to, "source": "", "app": ""},
		} {
			if only != nil && !only[name] {
				continue
			}
			q, err := queries.Get(strings.Split(name, "/")[0])
			if err != nil {
				t.Fatal(err)
			}
			bound, err := q.Bind(p)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, row := range querytest.Run(t, conn, q.SQL, bound).Rows {
				lines = append(lines, strings.Join(row, "|"))
			}
			got[name+" "+from+" "+to] = strings.Join(lines, "\n")
		}
	}
	return got
}

// TestRollupCountsOutliveRetention: retention deletes messages from the storage (a lightweight
// DELETE, compliance/retention) and leaves the rollups, whose counts outlive it (schema 0105). Over
// whole days and months, which the rollups serve, message_totals, daily_active_senders,
// monthly_active_senders and client_type_mix answer after the delete as before it: messages and
// senders alike. (A message count taken from the storage fell with the delete while the senders
// beside it stayed.) The messages without a platform time are read from the storage on every day and
// are left in place.
func TestRollupCountsOutliveRetention(t *testing.T) {
	conn := migrated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	insertRollupMsgs(t, conn, rollupMessages(d0), d0.Add(100*24*time.Hour), 0)
	ranges := [][2]time.Time{
		{d0, d0.Add(72 * time.Hour)},                     // three whole days
		{d0.Add(24 * time.Hour), d0.Add(48 * time.Hour)}, // one whole day, all of it deleted
		{d0, d0.AddDate(0, 1, 0)},                        // one whole month
	}
	only := map[string]bool{"message_totals": true, "message_totals/S1": true, "daily_active_senders": true,
		"monthly_active_senders": true, "client_type_mix": true}
	before := rollupAnswers(t, conn, ranges, only)
	three := "message_totals " + d0.Format(time.RFC3339) + " " + d0.Add(72*time.Hour).Format(time.RFC3339)
	if before[three] == "" || strings.HasPrefix(before[three], "0|") {
		t.Fatalf("%s before the delete: %q, want messages", three, before[three])
	}
	if err := conn.Exec(ctx, "DELETE FROM messages_data WHERE msg_time != toDateTime64(0, 3, 'UTC') AND msg_time < ?", d0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var left uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM messages_data WHERE msg_time != toDateTime64(0, 3, 'UTC') AND msg_time < ?", d0.Add(48*time.Hour)).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d messages of the first two days left after the delete", left)
	}
	after := rollupAnswers(t, conn, ranges, only)
	for _, k := range slices.Sorted(maps.Keys(before)) {
		if before[k] != after[k] {
			t.Errorf("%s changed when retention deleted the messages:\n%s\nbefore:\n%s", k, after[k], before[k])
		}
	}
}
