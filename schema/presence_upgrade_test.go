package schema

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/internal/testenv"
)

// TestUpgradePresenceToConnections: a database written under 0006's per-account rule (ties to online,
// type 7 offline for the account, one stamp per account), with a re-delivered row not yet merged, is
// migrated by 0075: every verdict is recomputed by the per-connection rule in the order the copies
// were received, the old rows are gone, the views tell the new story, and running 0075 again (as
// after an interruption) changes nothing; the new layout (0095-0099) keeps every verdict.
func TestUpgradePresenceToConnections(t *testing.T) {
	_, conn := testenv.Database(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var before []Migration
	var m75 Migration
	for _, m := range ms {
		if m.Version < 75 {
			before = append(before, m)
		}
		if m.Version == 75 {
			m75 = m
		}
	}
	if _, err := apply(ctx, conn, before, log); err != nil {
		t.Fatal(err)
	}

	now := time.Now().UTC().Truncate(time.Second)
	at := func(d time.Duration) string { return now.Add(d).Format("2006-01-02 15:04:05.000") }
	never := "1970-01-01 00:00:00.000"
	type row struct {
		id, source, account, op string
		online, stale           bool // stale: 0006's verdict
		occurred, received      time.Duration
		device, consid          string
		offset                  int
	}
	rows := []row{
		// re: a reconnect; 0006 made the account offline by the type 7.
		{"re-1", "netease_qchat", "re", "login", true, false, -10 * time.Minute, -10 * time.Minute, "d1", "old", 1},
		{"re-2", "netease_qchat", "re", "login", true, false, -5 * time.Minute, -5 * time.Minute, "d1", "new", 2},
		{"re-3", "netease_qchat", "re", "replaced", false, false, -5*time.Minute + 300*time.Millisecond, -5*time.Minute + time.Second, "d1", "old", 3},
		// two: the phone's logout arrives after the PC's later login; 0006 flagged it stale.
		{"two-1", "netease_qchat", "two", "login", true, false, -3 * time.Minute, -3 * time.Minute, "dp", "phone", 4},
		{"two-2", "netease_qchat", "two", "login", true, false, -1 * time.Minute, -1 * time.Minute, "dc", "pc", 5},
		{"two-3", "netease_qchat", "two", "logout", false, true, -2 * time.Minute, -30 * time.Second, "dp", "phone", 6},
		// eq: login then logout at the same time; 0006 kept the login (online first) and flagged the logout.
		{"eq-1", "netease_qchat", "eq", "login", true, false, -4 * time.Minute, -4 * time.Minute, "d", "c", 7},
		{"eq-2", "netease_qchat", "eq", "logout", false, true, -4 * time.Minute, -4*time.Minute + time.Second, "d", "c", 8},
		// il: iLink online then offline in the same second.
		{"il-1", "ilink", "il", "online", true, false, -2 * time.Minute, -2 * time.Minute, "", "", 9},
		{"il-2", "ilink", "il", "offline", false, true, -2 * time.Minute, -2*time.Minute + time.Second, "", "", 10},
		// late: a login older than the logout already applied: stale under both rules.
		{"late-1", "netease_qchat", "late", "logout", false, false, -1 * time.Minute, -1 * time.Minute, "d", "c", 11},
		{"late-2", "netease_qchat", "late", "login", true, true, -2 * time.Minute, -50 * time.Second, "d", "c", 12},
	}
	var values []string
	for _, r := range rows {
		reason, expires := "", never
		if !r.online {
			reason = r.op
		} else if r.source == "netease_qchat" {
			expires = at(r.occurred + 35*time.Minute)
		}
		attrs := "map()"
		if r.consid != "" {
			attrs = fmt.Sprintf("map('consid', '%s', 'deviceId', '%s', 'loginTime', '%d', 'clientPort', '7044', 'sdkVersion', '250')",
				r.consid, r.device, now.Add(r.occurred).UnixMilli()-5)
		}
		clientType := ""
		if r.device != "" {
			clientType = "AOS"
		}
		values = append(values, fmt.Sprintf("('%s', '%s', 'app1', '%s', '%s', %v, '%s', %v, '47', '', '%s', '%s', '%s', '%s', '', '%s', %s, 0, %d)",
			r.id, r.source, r.account, r.op, r.online, reason, r.stale, at(r.occurred), at(r.received), r.device, clientType, expires, attrs, r.offset))
	}
	insert := `INSERT INTO presence_events_data (event_id, source, app, account, op, online, reason, stale, platform_type, platform_subtype,
		occurred_at, received_at, device_id, client_type, client_ip, expires_at, attrs, kafka_partition, kafka_offset) VALUES `
	if err := conn.Exec(ctx, insert+strings.Join(values, ", ")); err != nil {
		t.Fatal(err)
	}
	// A re-delivery of re-3, not yet merged.
	if err := conn.Exec(ctx, insert+values[2]); err != nil {
		t.Fatal(err)
	}

	check := func(when string) {
		t.Helper()
		for q, want := range map[string]string{
			"SELECT arrayStringConcat(groupArray(concat(event_id, ':', toString(stale), ':', toString(arrival))), ' ') FROM (SELECT * FROM presence_events ORDER BY event_id)":
			// Recomputed: per connection, equal times applied in order of receipt.
			"eq-1:false:1 eq-2:false:2 il-1:false:1 il-2:false:2 late-1:false:1 late-2:true:2 re-1:false:1 re-2:false:2 re-3:false:3 two-1:false:1 two-2:false:2 two-3:false:3",
			"SELECT arrayStringConcat(groupArray(concat(account, ':', status, ':', toString(connections_online), ':', offline_reason)), ' ') FROM (SELECT * FROM presence_state ORDER BY account)":                                                                    "eq:offline:0:logout il:offline:0:offline late:offline:0:logout re:online:1: two:online:1:",
			"SELECT arrayStringConcat(groupArray(concat(account, ':', connection_id, ':', status, ':', state_op, ':', client_port, ':', sdk_version)), ' ') FROM (SELECT * FROM presence_connections WHERE account IN ('re', 'two') ORDER BY account, connection_id)": "re:new:online:login:7044:250 re:old:offline:replaced:7044:250 two:pc:online:login:7044:250 two:phone:offline:logout:7044:250",
			"SELECT toString(count()) FROM presence_events_data WHERE arrival = 0":                                 "0",
			"SELECT toString(count()) FROM presence_events":                                                        "12",
			"SELECT toString(uniqExact(event_id, stale, arrival, since)) FROM presence_events_data":                "12",
			"SELECT toString(since = occurred_at) FROM presence_events WHERE event_id = 're-3'":                    "1",
			"SELECT toString(since) FROM presence_events WHERE event_id = 'late-2'":                                never,
			"SELECT toString(login_time) FROM presence_connections WHERE account = 're' AND connection_id = 'new'": at(-5*time.Minute - 5*time.Millisecond),
		} {
			var got string
			if err := conn.QueryRow(ctx, q).Scan(&got); err != nil {
				t.Fatalf("%s: %s: %v", when, q, err)
			}
			if got != want {
				t.Errorf("%s: %s\n got %s\nwant %s", when, q, got, want)
			}
		}
	}
	// Up to the layouts of 0095-0099, which keep the payload apart from its columns (0075 reads it
	// whole from the table), then 0075 again, then the rest: the verdicts survive the copy.
	var upTo95 []Migration
	for _, m := range ms {
		if m.Version < 95 {
			upTo95 = append(upTo95, m)
		}
	}
	if _, err := apply(ctx, conn, upTo95, log); err != nil {
		t.Fatal(err)
	}
	check("after 0075")
	for i, stmt := range m75.Statements {
		if err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("re-running 0075 statement %d: %v", i+1, err)
		}
	}
	check("after 0075 again")
	if _, err := Migrate(ctx, conn, log); err != nil {
		t.Fatal(err)
	}
	check("after the layout of 0096")
}
