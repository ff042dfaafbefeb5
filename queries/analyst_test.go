package queries_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/queries"
	"github.com/imarchive/imarchive/queries/querytest"
	"github.com/imarchive/imarchive/schema"
)

// analystQueries are the analysts' named queries (issue 5) and the dashboards' variable queries; every
// one has cases in TestAnalystQueries.
var analystQueries = []string{
	"accounts_online_now", "antispam_hits", "app_list", "callback_delay", "channel_list", "client_type_mix",
	"community_activity", "community_ops", "daily_active_senders", "duplicates_discarded", "membership_changes",
	"message_changes", "message_totals", "message_volume", "monthly_active_senders", "online_accounts_over_time", "online_connections",
	"presence_reasons", "quick_comment_counts", "recent_message_changes", "server_list", "server_membership",
	"stale_presence", "top_channels", "top_servers",
}

// seeded returns a connection to a fresh migrated database holding querytest's seed, and the seed.
func seeded(t *testing.T) (driver.Conn, querytest.Seed) {
	t.Helper()
	conn := migrated(t)
	seed := querytest.Load(t, conn)
	return conn, seed
}

// migrated returns a connection to a fresh database with every migration applied and no rows.
func migrated(t *testing.T) driver.Conn {
	t.Helper()
	_, conn := testenv.Database(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := schema.Migrate(ctx, conn, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	return conn
}

// params builds a parameter map from "name=value" pairs; every filter not given is empty (all).
func params(filters []string, kv ...string) map[string]string {
	m := map[string]string{}
	for _, f := range filters {
		m[f] = ""
	}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	return m
}

var (
	msgFilters  = []string{"source", "app", "server_id", "channel_id"}
	appFilters  = []string{"source", "app"}
	commFilters = []string{"source", "app", "server_id"}
)

const (
	day1  = "from=2026-03-02T00:00:00Z"
	days2 = "to=2026-03-04T00:00:00Z"
	hour  = "step_seconds=3600"
)

// TestAnalystQueries runs every analyst query on the seed (queries/querytest: read it beside the
// expectations) and compares every value of every row, and the column names and types with the
// query's header.
func TestAnalystQueries(t *testing.T) {
	conn, seed := seeded(t)
	ago := func(d time.Duration) string { return seed.Now.Add(-d).Format("2006-01-02 15:04:05.000") }
	never := "1970-01-01 00:00:00.000"
	cases := []struct {
		query  string
		name   string
		params map[string]string
		want   []string // rows, values joined by |
	}{
		// Messages: m1 (sent once, delivered twice), m2, m5 in hour 01 on NetEase, m7 on iLink; m3 (NetEase)
		// and m8 (iLink) in hour 02; m4, m9 (Maxim) and m6 on day 2.
		{"message_volume", "per hour by platform", params(msgFilters, day1, "to=2026-03-02T04:00:00Z", hour, "by=platform"), []string{
			"2026-03-02 00:00:00.000|ilink|0", "2026-03-02 00:00:00.000|netease_qchat|0",
			"2026-03-02 01:00:00.000|ilink|1", "2026-03-02 01:00:00.000|netease_qchat|3",
			"2026-03-02 02:00:00.000|ilink|1", "2026-03-02 02:00:00.000|netease_qchat|1",
			"2026-03-02 03:00:00.000|ilink|0", "2026-03-02 03:00:00.000|netease_qchat|0",
		}},
		{"message_volume", "per day by channel", params(msgFilters, day1, days2, "step_seconds=86400", "by=channel"), []string{
			"2026-03-02 00:00:00.000|(direct)|1", "2026-03-02 00:00:00.000|C1|3", "2026-03-02 00:00:00.000|C2|1",
			"2026-03-02 00:00:00.000|C3|0", "2026-03-02 00:00:00.000|group:G1|1",
			"2026-03-03 00:00:00.000|(direct)|1", "2026-03-03 00:00:00.000|C1|1", "2026-03-03 00:00:00.000|C2|0",
			"2026-03-03 00:00:00.000|C3|1", "2026-03-03 00:00:00.000|group:G1|0",
		}},
		// The busiest series by their messages of the range (C1 4, (direct) 2), the rest as (other);
		// C2, C3 and group:G1 tie at 1 and the third place goes to the first name.
		{"message_volume", "per day by channel, the busiest two", params(msgFilters, day1, days2, "step_seconds=86400", "by=channel", "series_limit=2"), []string{
			"2026-03-02 00:00:00.000|(direct)|1", "2026-03-02 00:00:00.000|(other)|2", "2026-03-02 00:00:00.000|C1|3",
			"2026-03-03 00:00:00.000|(direct)|1", "2026-03-03 00:00:00.000|(other)|1", "2026-03-03 00:00:00.000|C1|1",
		}},
		{"message_volume", "per day by channel, the busiest three", params(msgFilters, day1, days2, "step_seconds=86400", "by=channel", "series_limit=3"), []string{
			"2026-03-02 00:00:00.000|(direct)|1", "2026-03-02 00:00:00.000|(other)|1", "2026-03-02 00:00:00.000|C1|3", "2026-03-02 00:00:00.000|C2|1",
			"2026-03-03 00:00:00.000|(direct)|1", "2026-03-03 00:00:00.000|(other)|1", "2026-03-03 00:00:00.000|C1|1", "2026-03-03 00:00:00.000|C2|0",
		}},
		{"message_volume", "per day by server of one app", params(msgFilters, day1, days2, "step_seconds=86400", "by=server", "app=nim1"), []string{
			"2026-03-02 00:00:00.000|S1|4", "2026-03-02 00:00:00.000|S2|0",
			"2026-03-03 00:00:00.000|S1|1", "2026-03-03 00:00:00.000|S2|1",
		}},
		{"message_volume", "by app, one channel", params(msgFilters, day1, days2, "step_seconds=86400", "by=app", "channel_id=C1"), []string{
			"2026-03-02 00:00:00.000|nim1|3", "2026-03-03 00:00:00.000|nim1|1",
		}},
		{"message_volume", "nothing in range", params(msgFilters, "from=2025-01-01T00:00:00Z", "to=2025-01-02T00:00:00Z", hour, "by=platform"), nil},
		{"daily_active_senders", "all", params(msgFilters, day1, days2), []string{
			"2026-03-02 00:00:00.000|4|6", "2026-03-03 00:00:00.000|3|3",
		}},
		{"daily_active_senders", "server S1, days without messages listed", params(msgFilters, day1, "to=2026-03-05T00:00:00Z", "server_id=S1"), []string{
			"2026-03-02 00:00:00.000|2|4", "2026-03-03 00:00:00.000|1|1", "2026-03-04 00:00:00.000|0|0",
		}},
		{"monthly_active_senders", "all", params(msgFilters, "from=2026-02-15T00:00:00Z", "to=2026-04-01T00:00:00Z"), []string{
			"2026-02-01 00:00:00.000|0|0", "2026-03-01 00:00:00.000|7|9",
		}},
		{"message_totals", "all", params(msgFilters, day1, days2), []string{"9|7|2|3|1"}},
		{"message_totals", "iLink", params(msgFilters, day1, days2, "source=ilink"), []string{"2|2|0|0|1"}},
		{"top_channels", "top 2", params(commFilters, day1, days2, "limit=2"), []string{
			"netease_qchat|nim1|S1|C1|general-chat|4|3|2026-03-03 01:00:00.000",
			"netease_qchat|nim1|S1|C2|random|1|1|2026-03-02 01:30:00.000",
		}},
		{"top_channels", "server S2", params(commFilters, day1, days2, "server_id=S2", "limit=10"), []string{
			"netease_qchat|nim1|S2|C3||1|1|2026-03-03 02:00:00.000",
		}},
		{"top_servers", "all", params(appFilters, day1, days2, "limit=10"), []string{
			"netease_qchat|nim1|S1|Alpha|5|3|2", "netease_qchat|nim1|S2|Beta|1|1|1",
		}},
		{"top_servers", "the busiest", params(appFilters, day1, days2, "limit=1"), []string{
			"netease_qchat|nim1|S1|Alpha|5|3|2",
		}},
		// Presence now (app nimnow, relative to the load): n1 online, n2 expired, n3 logged out, n4 online
		// (its older logout arrived late), n5 online on its new connection (type 7 closed the old one),
		// n6 online on its phone (its PC logged out). nim1 (history): alice logged out, bob kicked, carol
		// and dave expired. il1: u1 offline, u2 online (iLink states do not expire).
		{"accounts_online_now", "all", params(appFilters), []string{
			"ilink|il1|1|0|1|2|1|1", "netease_qchat|nim1|0|2|2|4|0|0", "netease_qchat|nimnow|4|1|1|6|4|4",
		}},
		{"accounts_online_now", "one app", params(appFilters, "app=nimnow"), []string{"netease_qchat|nimnow|4|1|1|6|4|4"}},
		// Newest session first; n1 and n4 copies name no consid (their device is their connection).
		{"online_connections", "now", params([]string{"source", "account"}, "app=nimnow", "limit=10"), []string{
			"netease_qchat|nimnow|n5|n5-new|n5-d|AOS|||" + never + "|" + ago(3*time.Minute) + "|" + ago(3*time.Minute) + "|" + ago(3*time.Minute-35*time.Minute),
			"netease_qchat|nimnow|n4||dev-n4|WEB|||" + never + "|" + ago(5*time.Minute) + "|" + ago(5*time.Minute) + "|" + ago(5*time.Minute-35*time.Minute),
			"netease_qchat|nimnow|n6|n6-phone|n6-p|IOS|||" + never + "|" + ago(6*time.Minute) + "|" + ago(6*time.Minute) + "|" + ago(6*time.Minute-35*time.Minute),
			"netease_qchat|nimnow|n1||dev-n1|AOS|||" + never + "|" + ago(10*time.Minute) + "|" + ago(10*time.Minute) + "|" + ago(10*time.Minute-35*time.Minute),
		}},
		{"online_connections", "one account, iLink", params([]string{"app"}, "source=ilink", "account=u2", "limit=10"), []string{
			"ilink|il1|u2||||||" + never + "|2026-03-02 03:00:00.000|2026-03-02 03:00:00.000|" + never,
		}},
		{"online_connections", "limit", params([]string{"source", "account"}, "app=nimnow", "limit=1"), []string{
			"netease_qchat|nimnow|n5|n5-new|n5-d|AOS|||" + never + "|" + ago(3*time.Minute) + "|" + ago(3*time.Minute) + "|" + ago(3*time.Minute-35*time.Minute),
		}},
		// 00: bob (late login of 00:30); 01: alice, bob, carol, u1; 02: bob (renewed, kicked 02:30), u1;
		// 03: dave, u1, u2; 04: u2 (u1 offline at 04:00; dave's PC lapsed at 03:45).
		{"online_accounts_over_time", "hourly", params(appFilters, day1, "to=2026-03-02T05:00:00Z", hour), []string{
			"2026-03-02 00:00:00.000|ilink|0", "2026-03-02 00:00:00.000|netease_qchat|1",
			"2026-03-02 01:00:00.000|ilink|1", "2026-03-02 01:00:00.000|netease_qchat|3",
			"2026-03-02 02:00:00.000|ilink|1", "2026-03-02 02:00:00.000|netease_qchat|1",
			"2026-03-02 03:00:00.000|ilink|2", "2026-03-02 03:00:00.000|netease_qchat|1",
			"2026-03-02 04:00:00.000|ilink|1", "2026-03-02 04:00:00.000|netease_qchat|0",
		}},
		{"online_accounts_over_time", "10-minute buckets around carol's expiry", params(appFilters, "from=2026-03-02T01:20:00Z", "to=2026-03-02T01:50:00Z", "step_seconds=600", "app=nim1"), []string{
			"2026-03-02 01:20:00.000|netease_qchat|3", "2026-03-02 01:30:00.000|netease_qchat|3", "2026-03-02 01:40:00.000|netease_qchat|2",
		}},
		// dave: online from 03:00 on his phone, from 03:10 on his PC too; the phone's logout at 03:20 leaves
		// him online on the PC until its renewal deadline, 03:45.
		{"online_accounts_over_time", "10-minute buckets, dave's two devices", params(appFilters, "from=2026-03-02T03:00:00Z", "to=2026-03-02T04:00:00Z", "step_seconds=600", "app=nim1"), []string{
			"2026-03-02 03:00:00.000|netease_qchat|1", "2026-03-02 03:10:00.000|netease_qchat|1", "2026-03-02 03:20:00.000|netease_qchat|1",
			"2026-03-02 03:30:00.000|netease_qchat|1", "2026-03-02 03:40:00.000|netease_qchat|1", "2026-03-02 03:50:00.000|netease_qchat|0",
		}},
		{"presence_reasons", "history", params(appFilters, day1, "to=2026-03-02T05:00:00Z"), []string{
			"login|online|6|4|1", "heartbeat|online|3|2|0", "logout|offline|2|2|0", "online|online|2|2|0",
			"kicked_by_server|offline|1|1|0", "offline|offline|1|1|0",
		}},
		{"client_type_mix", "two days", params(appFilters, day1, days2), []string{
			"unknown|2|2|3|3", "AOS|2|2|2|1", "IOS|2|1|2|1", "PC|1|1|1|1", "WEB|1|1|1|1",
		}},
		{"quick_comment_counts", "all", params(msgFilters, day1, days2), []string{"1|3|1|2|2|3", "2|1|0|1|1|1"}},
		{"quick_comment_counts", "channel C3", params(msgFilters, day1, days2, "channel_id=C3"), []string{"1|1|0|1|1|1"}},
		{"membership_changes", "hourly", params(commFilters, day1, "to=2026-03-02T03:00:00Z", hour), []string{
			"2026-03-02 00:00:00.000|2|0|0", "2026-03-02 01:00:00.000|0|0|2", "2026-03-02 02:00:00.000|0|0|0",
		}},
		{"server_membership", "two days", params(commFilters, day1, days2), []string{
			"nim1|S1|Alpha|2|0|2|2|0", "nim1|S2|Beta|0|1|0|0|-1",
		}},
		{"community_activity", "hourly", params(commFilters, day1, "to=2026-03-02T02:00:00Z", hour), []string{
			"2026-03-02 00:00:00.000|channel|2", "2026-03-02 00:00:00.000|member|3", "2026-03-02 00:00:00.000|permission|1",
			"2026-03-02 00:00:00.000|role|2", "2026-03-02 00:00:00.000|server|2",
			"2026-03-02 01:00:00.000|channel|0", "2026-03-02 01:00:00.000|member|1", "2026-03-02 01:00:00.000|permission|0",
			"2026-03-02 01:00:00.000|role|0", "2026-03-02 01:00:00.000|server|0",
		}},
		{"community_ops", "two days", params(commFilters, day1, days2), []string{
			"channel|create|2|1|0", "channel|update|1|1|0",
			"member|accept_apply|1|1|1", "member|accept_invite|1|1|0", "member|invite|1|1|2", "member|kick|1|1|2", "member|leave|1|1|0",
			"permission|update|1|1|0", "role|add_members|1|1|2", "role|create|1|1|0", "server|create|2|1|0",
		}},
		{"antispam_hits", "hourly", params(msgFilters, day1, "to=2026-03-02T04:00:00Z", hour), []string{
			"2026-03-02 00:00:00.000|0|0", "2026-03-02 01:00:00.000|0|0", "2026-03-02 02:00:00.000|1|0", "2026-03-02 03:00:00.000|0|1",
		}},
		{"message_changes", "per day", params(msgFilters, day1, days2, "step_seconds=86400"), []string{
			"2026-03-02 00:00:00.000|1|1|0", "2026-03-03 00:00:00.000|0|0|1",
		}},
		{"recent_message_changes", "newest two", params(msgFilters, day1, days2, "limit=2"), []string{
			"2026-03-03 01:10:00.000|delete|admin|netease_qchat|nim1|S1|C1|msg-m4|removed by moderator|false|" + eventID("nim1", "d-m4"),
			"2026-03-02 03:10:00.000|recall|bob|netease_qchat|nim1|S1|C2|msg-m5||false|" + eventID("nim1", "r-m5"),
		}},
		// Delays: one second for every event, but m7 2 s, m8 4 s and bob's late login 2 h 10 min.
		{"callback_delay", "per day", params(appFilters, day1, days2, "step_seconds=86400"), []string{
			"2026-03-02 00:00:00.000|ilink|5|1|4|4|4",
			"2026-03-02 00:00:00.000|netease_qchat|34|1|1|7800|7800",
			"2026-03-03 00:00:00.000|maxim|1|1|1|1|1",
			"2026-03-03 00:00:00.000|netease_qchat|5|1|1|1|1",
		}},
		// Raw: m7 received twice in hour 01, m8 and an unreadable body in hour 02 (iLink); m1 in hour 01 and
		// again in hour 02 (NetEase); bob's late login received at 02:40.
		{"duplicates_discarded", "hourly", params(appFilters, day1, "to=2026-03-02T03:00:00Z", hour), []string{
			"2026-03-02 00:00:00.000|ilink|0|0|0", "2026-03-02 00:00:00.000|netease_qchat|0|0|0",
			"2026-03-02 01:00:00.000|ilink|2|1|0", "2026-03-02 01:00:00.000|netease_qchat|1|0|0",
			"2026-03-02 02:00:00.000|ilink|2|0|0", "2026-03-02 02:00:00.000|netease_qchat|1|1|1",
		}},
		{"duplicates_discarded", "a range that starts after the first receipt", params(appFilters, "from=2026-03-02T02:00:00Z", "to=2026-03-02T03:00:00Z", hour, "source=netease_qchat"), []string{
			"2026-03-02 02:00:00.000|netease_qchat|1|1|1",
		}},
		// The stale column of duplicates_discarded alone, for the platforms with presence copies in the range.
		{"stale_presence", "hourly", params(appFilters, day1, "to=2026-03-02T03:00:00Z", hour), []string{
			"2026-03-02 00:00:00.000|ilink|0", "2026-03-02 00:00:00.000|netease_qchat|0",
			"2026-03-02 01:00:00.000|ilink|0", "2026-03-02 01:00:00.000|netease_qchat|0",
			"2026-03-02 02:00:00.000|ilink|0", "2026-03-02 02:00:00.000|netease_qchat|1",
		}},
		{"app_list", "all", params([]string{"source"}), []string{"il1", "mx1", "nim1", "nimnow"}},
		{"app_list", "NetEase", params([]string{"source"}, "source=netease_qchat"), []string{"nim1", "nimnow"}},
		{"server_list", "all", params(appFilters), []string{"S1|Alpha (S1)", "S2|Beta (S2)"}},
		{"channel_list", "all", params(commFilters), []string{"C3|C3", "C1|general-chat (C1)", "C2|random (C2)"}},
		{"channel_list", "server S1", params(commFilters, "server_id=S1"), []string{"C1|general-chat (C1)", "C2|random (C2)"}},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.query] = true
		t.Run(c.query+"/"+c.name, func(t *testing.T) {
			q, err := queries.Get(c.query)
			if err != nil {
				t.Fatal(err)
			}
			bound, err := q.Bind(c.params)
			if err != nil {
				t.Fatal(err)
			}
			res := querytest.Run(t, conn, q.SQL, bound)
			checkHeader(t, q, res)
			var got []string
			for _, r := range res.Rows {
				got = append(got, strings.Join(r, "|"))
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
	for _, name := range analystQueries {
		if !covered[name] {
			t.Errorf("query %s has no case", name)
		}
	}
}

// checkHeader: the result has exactly the header's columns, in order, with the declared types.
func checkHeader(t *testing.T, q queries.Query, res querytest.Result) {
	t.Helper()
	if len(res.Columns) != len(q.Columns) {
		t.Fatalf("columns %v, header declares %d", res.Columns, len(q.Columns))
	}
	for i, c := range q.Columns {
		if res.Columns[i] != c.Name || res.Types[i] != c.Type {
			t.Errorf("column %d is %s %s, header says %s %s", i+1, res.Columns[i], res.Types[i], c.Name, c.Type)
		}
	}
}

func eventID(app, name string) string {
	return querytest.EventID("netease_qchat", app, name)
}

// TestMessageVolumeRankedFirst: by channel over more than 100 buckets, message_volume ranks the series
// before it counts their buckets (the other way, every bucket of every series at once, is the one the
// daily cases above take). The same series are kept, ties by name, the rest summed as (other), and
// every bucket is listed: C1 4, (direct) 2, then C2, C3 and group:G1 at 1 each.
func TestMessageVolumeRankedFirst(t *testing.T) {
	conn, _ := seeded(t)
	q, err := queries.Get("message_volume")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		limit string
		want  map[string]int
	}{
		{"2", map[string]int{"(direct)": 2, "(other)": 3, "C1": 4}},
		{"3", map[string]int{"(direct)": 2, "(other)": 2, "C1": 4, "C2": 1}},
		{"0", map[string]int{"(direct)": 2, "C1": 4, "C2": 1, "C3": 1, "group:G1": 1}},
	} {
		// 20-minute buckets over two days: 144 of them.
		bound, err := q.Bind(params(msgFilters, day1, days2, "step_seconds=1200", "by=channel", "series_limit="+c.limit))
		if err != nil {
			t.Fatal(err)
		}
		res := querytest.Run(t, conn, q.SQL, bound)
		got, buckets := map[string]int{}, map[string]int{}
		for _, r := range res.Rows {
			n, err := strconv.Atoi(r[2])
			if err != nil {
				t.Fatal(err)
			}
			got[r[1]] += n
			buckets[r[1]]++
		}
		if !maps.Equal(got, c.want) {
			t.Errorf("series_limit=%s: messages per series %v, want %v", c.limit, got, c.want)
		}
		for series, n := range buckets {
			if n != 144 {
				t.Errorf("series_limit=%s: %s has %d buckets, want 144", c.limit, series, n)
			}
		}
	}
}

// TestAnalystQueriesRefuseBadInput: a wrong series name is a clear ClickHouse error, not an empty chart.
func TestAnalystQueriesRefuseBadInput(t *testing.T) {
	conn, _ := seeded(t)
	q, err := queries.Get("message_volume")
	if err != nil {
		t.Fatal(err)
	}
	bound, err := q.Bind(params(msgFilters, day1, days2, hour, "by=colour"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = querytest.RunErr(conn, q.SQL, bound)
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) || !strings.Contains(ex.Message, "by must be platform, app, server or channel") {
		t.Errorf("by=colour: got %v, want the query's own error", err)
	}
}

// TestAnalystQueryList: the list above names only existing queries, sorted (so a new one is added in
// its place).
func TestAnalystQueryList(t *testing.T) {
	if !sort.StringsAreSorted(analystQueries) {
		t.Error("analystQueries is not sorted")
	}
	for _, name := range analystQueries {
		if _, err := queries.Get(name); err != nil {
			t.Error(err)
		}
	}
}
