package queries_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/imarchive/imarchive/internal/testenv/archivetest"
)

// TestAccountHistoryReadsAsFarAsThePage: account_history reads its messages only 8 or 32 days from
// where the page starts when the account's messages and logins of those days (counted beforehand)
// fill the page. Rows of the account at the edges of both stretches (8 days less a millisecond and
// exactly 8 days from the range's start, exactly 32), a message and a login at one instant, a message
// and a login delivered twice (two inserts, another Kafka offset, merges stopped: one row of history
// each, counted once), rows in tables the count does not read, a row of another account and one
// after the range: every page of every limit, from every cursor, is the one a plain sort of the rows
// gives (the model below, which reads no SQL).
func TestAccountHistoryReadsAsFarAsThePage(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(90*24*time.Hour + 6*time.Hour)
	day := 24 * time.Hour
	type row struct {
		table, id, account, other string
		at                        time.Time
	}
	rows := []row{
		{"messages", "k-0", "k1", "x", from},
		{"presence", "k-1", "k1", "", from.Add(time.Hour)},
		{"presence", "k-1", "k1", "", from.Add(time.Hour)}, // delivered again
		{"messages", "k-2a", "k1", "x", from.Add(2 * day)},
		{"presence", "k-2b", "k1", "", from.Add(2 * day)},
		{"messages", "k-2a", "k1", "x", from.Add(2 * day)}, // delivered again, in another insert
		{"messages", "k-8a", "x", "k1", from.Add(8*day - time.Millisecond)},
		{"messages", "k-8b", "k1", "", from.Add(8 * day)},
		{"messages", "k-9", "x", "k1", from.Add(9 * day)},
		{"messages", "k-11", "k1", "x", from.Add(11 * day)},
		{"messages", "k-20", "x", "k1", from.Add(20 * day)},
		{"notifications", "k-21", "k1", "x", from.Add(21 * day)},
		{"presence", "k-32", "k1", "", from.Add(32 * day)},
		{"messages", "k-33", "k1", "x", from.Add(33 * day)},
		{"community", "k-34", "k1", "x", from.Add(34 * day)},
		{"messages", "k-60", "k1", "x", from.Add(60 * day)},
		{"messages", "k-others", "x", "y", from.Add(5 * day)},
		{"messages", "k-after", "k1", "x", to},
	}
	// Merges stopped: each repeat stays a part of its own, as a re-delivery past the dedupe window is
	// until the parts merge.
	mustExec(t, conn, "SYSTEM STOP MERGES messages_data")
	mustExec(t, conn, "SYSTEM STOP MERGES presence_events_data")
	for i, r := range rows {
		at := r.at.Format("2006-01-02 15:04:05.000")
		var stmt string
		switch r.table {
		case "messages":
			stmt = fmt.Sprintf(`INSERT INTO messages_data (event_id, source, app, conversation, msg_time, occurred_at, received_at, sender, to_account, msg_id, body, kafka_offset, attrs)
				VALUES ('%s', 'netease_qchat', 'kapp', 'conv:a/b', '%s', '%s', '%s', '%s', '%s', 'm-%s', 'as sent', %d, map())`, r.id, at, at, at, r.account, r.other, r.id, i)
		case "presence":
			stmt = fmt.Sprintf(`INSERT INTO presence_events_data (event_id, source, app, account, op, occurred_at, received_at, kafka_offset, attrs)
				VALUES ('%s', 'netease_qchat', 'kapp', '%s', 'login', '%s', '%s', %d, map())`, r.id, r.account, at, at, i)
		case "community":
			stmt = fmt.Sprintf(`INSERT INTO community_events_data (event_id, source, app, kind, op, occurred_at, received_at, actor, target_account, server_id, attrs)
				VALUES ('%s', 'netease_qchat', 'kapp', 'member', 'kick', '%s', '%s', '%s', '%s', 's', map())`, r.id, at, at, r.account, r.other)
		case "notifications":
			stmt = fmt.Sprintf(`INSERT INTO notifications_data (event_id, source, app, kind, occurred_at, msg_time, received_at, sender, to_account, server_id, body, attrs)
				VALUES ('%s', 'netease_qchat', 'kapp', 'notification', '%s', '%s', '%s', '%s', '%s', 's', 'note', map())`, r.id, at, at, at, r.account, r.other)
		}
		mustExec(t, conn, stmt)
	}
	var model []keyed
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r.id] || (r.account != "k1" && r.other != "k1") || r.at.Before(from) || !r.at.Before(to) {
			continue
		}
		seen[r.id] = true
		model = append(model, keyed{r.at, r.id, map[string]string{"messages": "as sent", "notifications": "note"}[r.table]})
	}
	params := map[string]string{"account": "k1", "from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)}
	checkPages(t, "k1 over 90 days", model, []int{1, 4, 6, len(model)}, func(limit int, cursor []string) []string {
		return project(runJSON(t, conn, "account_history", with(params, "limit", fmt.Sprint(limit), "after_time", cursor[0], "after_event_id", cursor[1])),
			"at", "event_id", "text")
	})
}
