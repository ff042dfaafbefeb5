package queries_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/queries"
)

// monthly are the storage tables partitioned by month of their time: a query over a day must read
// only that month's parts of them.
var monthly = []string{
	"messages_data", "message_updates_data", "notifications_data", "presence_events_data",
	"community_events_data", "quick_comments_data", "raw_callbacks_data",
}

// allTime are the reads of a monthly table a query makes over the whole archive on purpose, by query
// and table, with the reason.
var allTime = map[string]map[string]string{
	// A channel's and a server's name now is its last rename, whenever that was.
	"top_channels": {"community_events_data": "the channels' current names"},
	"top_servers":  {"community_events_data": "the servers' current names"},
}

// readFromMergeTree is one read of a table in EXPLAIN indexes = 1: the table, and the parts it
// reads once every index has been applied.
var readFromMergeTree = regexp.MustCompile(`ReadFromMergeTree \([^.)]+\.([a-z_0-9]+)\)(?:\n[^\n]*){0,4}?\n[^\n]*? Parts: (\d+) \| Granules`)

// TestHotQueriesReadTheirRange: the queries analysts and the dashboards run most, over one day of an
// archive that spans seven months, read only that day's month of every storage table partitioned by
// time (EXPLAIN indexes = 1: the parts left once the partition, min-max, primary key and skip indexes
// have been applied), never the whole table. Before schema 0096 the messages view's msg_time was an
// expression the key did not know, and every read was of every part.
func TestHotQueriesReadTheirRange(t *testing.T) {
	conn, _ := seeded(t)
	// Filler outside the seed's app: 2,000 rows a month in each monthly table, September 2025 to
	// March 2026, one insert (at least one part) per month and table.
	for m := 0; m < 7; m++ {
		month := fmt.Sprintf("toDateTime64('2025-09-01 00:00:00', 3, 'UTC') + toIntervalMonth(%d) + toIntervalMinute(number * 20)", m)
		for _, stmt := range []string{
			`INSERT INTO messages_data (event_id, source, app, conversation, msg_time, occurred_at, received_at, sender, channel_id, body, attrs)
			 SELECT concat('fm', toString(number), '-%[1]d'), 'netease_qchat', 'filler', concat('channel:s/', toString(modulo(number, 9))), %[2]s, %[2]s, %[2]s,
			        concat('u', toString(modulo(number, 40))), toString(modulo(number, 9)), '预算 budget', map() FROM numbers(2000)`,
			`INSERT INTO message_updates_data (event_id, source, app, op, occurred_at, received_at, actor, msg_id, body, attrs)
			 SELECT concat('fu', toString(number), '-%[1]d'), 'netease_qchat', 'filler', 'update', %[2]s, %[2]s, 'u1', toString(number), 'budget', map() FROM numbers(2000)`,
			`INSERT INTO notifications_data (event_id, source, app, occurred_at, received_at, attrs)
			 SELECT concat('fn', toString(number), '-%[1]d'), 'netease_qchat', 'filler', %[2]s, %[2]s, map() FROM numbers(2000)`,
			`INSERT INTO presence_events_data (event_id, source, app, account, occurred_at, received_at, attrs)
			 SELECT concat('fp', toString(number), '-%[1]d'), 'netease_qchat', 'filler', concat('u', toString(modulo(number, 40))), %[2]s, %[2]s, map() FROM numbers(2000)`,
			`INSERT INTO community_events_data (event_id, source, app, occurred_at, received_at, server_id, attrs)
			 SELECT concat('fc', toString(number), '-%[1]d'), 'netease_qchat', 'filler', %[2]s, %[2]s, 's', map() FROM numbers(2000)`,
			`INSERT INTO quick_comments_data (event_id, source, app, occurred_at, received_at, msg_id, attrs)
			 SELECT concat('fq', toString(number), '-%[1]d'), 'netease_qchat', 'filler', %[2]s, %[2]s, toString(number), map() FROM numbers(2000)`,
			`INSERT INTO raw_callbacks_data (source, app, received_at, event_id, raw_key, raw_partition, raw_offset)
			 SELECT 'netease_qchat', 'filler', %[2]s, concat('fr', toString(number), '-%[1]d'), '', 99, %[1]d * 10000 + number FROM numbers(2000)`,
		} {
			mustExec(t, conn, fmt.Sprintf(stmt, m, month))
		}
	}
	day := map[string]string{"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}
	cases := []struct {
		query  string
		params map[string]string
	}{
		{"daily_active_senders", nil},
		{"monthly_active_senders", nil},
		{"message_totals", nil},
		{"message_volume", map[string]string{"by": "channel", "step_seconds": "3600"}},
		{"top_channels", map[string]string{"limit": "10"}},
		{"top_servers", map[string]string{"limit": "10"}},
		{"client_type_mix", nil},
		{"antispam_hits", map[string]string{"step_seconds": "3600"}},
		{"message_history", map[string]string{"app": "filler", "channel_id": "1"}},
		{"group_history", map[string]string{"app": "filler", "group_id": "g"}},
		{"direct_conversation", map[string]string{"app": "filler", "account_a": "u1", "account_b": "u2"}},
		{"flagged_messages", map[string]string{"app": ""}},
		{"message_search", map[string]string{"app": "", "text": "budget"}},
		{"message_changes", map[string]string{"step_seconds": "3600"}},
		{"recent_message_changes", map[string]string{"limit": "50"}},
		{"duplicates_discarded", map[string]string{"step_seconds": "3600"}},
		{"stale_presence", map[string]string{"step_seconds": "3600"}},
		{"presence_reasons", nil},
		{"community_activity", map[string]string{"step_seconds": "3600"}},
		{"community_ops", nil},
		{"membership_changes", map[string]string{"step_seconds": "3600"}},
		{"quick_comment_counts", nil},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			q, err := queries.Get(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			given := with(day)
			for k, v := range tc.params {
				given[k] = v
			}
			bound, err := q.Bind(given)
			if err != nil {
				t.Fatal(err)
			}
			// The sets a query reads (… IN (SELECT …), its candidate CTEs) are not expanded by
			// EXPLAIN: each CTE is explained as the query it is (with the CTEs before it that it
			// may read), as well as the whole.
			plans := []string{explain(t, conn, q.SQL, bound)}
			for _, body := range cteQueries(q.SQL) {
				plans = append(plans, explain(t, conn, body, bound))
			}
			reads := 0
			for _, plan := range plans {
				for _, m := range readFromMergeTree.FindAllStringSubmatch(plan, -1) {
					table, parts := m[1], m[2]
					if !isMonthly(table) {
						continue
					}
					if why, ok := allTime[tc.query][table]; ok {
						t.Logf("%s: every month of %s on purpose (%s)", tc.query, table, why)
						continue
					}
					reads++
					n, _ := strconv.Atoi(parts)
					march := partsOf(t, conn, table, "partition = '202603'")
					if n > march {
						t.Errorf("%s reads %d parts of %s for one day of March 2026; March has %d, the table %d:\n%s",
							tc.query, n, table, march, partsOf(t, conn, table, "1"), plan)
					}
				}
			}
			if reads == 0 {
				t.Errorf("%s: no read of a monthly storage table in its plans:\n%s", tc.query, strings.Join(plans, "\n"))
			}
		})
	}
}

func isMonthly(table string) bool {
	for _, m := range monthly {
		if m == table {
			return true
		}
	}
	return false
}

// partsOf counts the active parts of table in the current database that match where.
func partsOf(t *testing.T, conn driver.Conn, table, where string) int {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM system.parts WHERE database = currentDatabase() AND active AND table = '"+table+"' AND "+where).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return int(n)
}
