package queries_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/internal/testenv/archivetest"
	"github.com/imarchive/imarchive/queries"
)

// TestRawPayloadFoldsRewrites: raw_payload reads raw_callbacks_data without FINAL, so it folds the
// copies of a receipt itself. A receipt written again in another insert (a consumer's re-delivery
// after a crash: same position, a later inserted_at) is still one receipt, and an older write of it
// (inserted before the row kept) loses to the newer one, as FINAL would have it.
func TestRawPayloadFoldsRewrites(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	archivetest.Seed(t, conn)
	id := archivetest.M1
	before := runJSON(t, conn, "raw_payload", map[string]string{"event_id": id})
	if len(before) != 2 {
		t.Fatalf("M1 was received twice (a retry): got %d receipts", len(before))
	}
	cols := "source, app, received_at, event_id, raw_key, body, body_sha256, path, remote_addr, http_headers, meta, raw_partition, raw_offset, raw_topic_id"
	// The first receipt again, newer: the same row. Then an older write of it with another body: not shown.
	mustExec(t, conn, "INSERT INTO raw_callbacks_data ("+cols+", inserted_at) SELECT "+cols+", inserted_at + INTERVAL 1 SECOND FROM raw_callbacks_data WHERE event_id = {id:String} ORDER BY received_at LIMIT 1", "id", id)
	mustExec(t, conn, "INSERT INTO raw_callbacks_data ("+cols+", inserted_at) SELECT "+strings.Replace(cols, "body,", "'stale write',", 1)+", inserted_at - INTERVAL 1 DAY FROM raw_callbacks_data WHERE event_id = {id:String} ORDER BY received_at LIMIT 1", "id", id)
	after := runJSON(t, conn, "raw_payload", map[string]string{"event_id": id})
	check(t, "M1 after a receipt was written twice more", project(after, "received_at", "raw_partition", "raw_offset", "body", "intact", "chain_hash"),
		project(before, "received_at", "raw_partition", "raw_offset", "body", "intact", "chain_hash"))
}

// TestPagesJoinUp: a paged query read one row a page, each page after the previous one's last
// msg_time and event_id, gives the rows of one read without paging, in order. flagged_messages
// chooses its page among the candidates before it reads the messages: the cursor and the limit
// must be applied there as they were to the whole.
func TestPagesJoinUp(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	archivetest.Seed(t, conn)
	for _, tc := range []struct {
		query  string
		params map[string]string
	}{
		{"flagged_messages", with(wide, "app", archivetest.NeteaseApp)},
		{"flagged_messages", with(wide, "app", "")},
		{"message_history", with(wide, "app", archivetest.NeteaseApp, "channel_id", archivetest.C1)},
		{"message_search", with(wide, "app", "", "text", "private")},
	} {
		whole := project(runJSON(t, conn, tc.query, tc.params), "msg_time", "event_id")
		if len(whole) < 2 {
			t.Fatalf("%s: %d rows, too few to page", tc.query, len(whole))
		}
		var paged []string
		after := []string{"1970-01-01 00:00:00", ""}
		for i := 0; i <= len(whole); i++ {
			page := runJSON(t, conn, tc.query, with(tc.params, "limit", "1", "after_time", after[0], "after_event_id", after[1]))
			if len(page) == 0 {
				break
			}
			if len(page) != 1 {
				t.Fatalf("%s: a page of limit 1 has %d rows", tc.query, len(page))
			}
			paged = append(paged, project(page, "msg_time", "event_id")...)
			after = []string{page[0]["msg_time"], page[0]["event_id"]}
		}
		check(t, tc.query+" one row a page", paged, whole)
	}
}

// TestMessageThreadAcrossDays: message_thread (and message_edit_history) finds the thread's messages by their key prefix first
// (source, app, day, conversation); a reply sent days after its root, in another month, and a
// message without a platform time (shown at its receive time) asked about alone, are still found.
func TestMessageThreadAcrossDays(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	mustExec(t, conn, `INSERT INTO messages_data (event_id, source, app, conversation, msg_time, occurred_at, received_at, sender, server_id, channel_id, msg_id, thread_msg_id, body, attrs) VALUES
		('t-root', 'netease_qchat', 'tapp', 'channel:s/c', '2026-02-27 10:00:00', '2026-02-27 10:00:00', '2026-02-27 10:00:01', 'alice', 's', 'c', 'r1', '', 'root', map()),
		('t-reply', 'netease_qchat', 'tapp', 'channel:s/c', '2026-03-02 09:00:00', '2026-03-02 09:00:00', '2026-03-02 09:00:01', 'bob', 's', 'c', 'r2', 'r1', 'reply', map()),
		('t-other', 'netease_qchat', 'tapp', 'channel:s/c', '2026-03-02 09:30:00', '2026-03-02 09:30:00', '2026-03-02 09:30:01', 'bob', 's', 'c', 'r3', 'x9', 'elsewhere', map()),
		('t-maxim', 'maxim', 'tapp', 'group:7', '1970-01-01 00:00:00', '1970-01-01 00:00:00', '2026-03-05 08:00:00', '501', '', '', 'm1', '', 'no time', map()),
		('t-late', 'netease_qchat', 'tapp', 'channel:s/c', '2026-03-01 23:59:59', '2026-03-01 23:59:59', '2026-03-02 00:00:05', 'carol', 's', 'c', 'r4', '', 'before midnight', map())`)
	run := func(msgID string) []string {
		return project(runJSON(t, conn, "message_thread", map[string]string{"app": "tapp", "msg_id": msgID}), "msg_time", "part", "body", "event_id")
	}
	thread := []string{"2026-02-27 10:00:00.000 | root | root | t-root", "2026-03-02 09:00:00.000 | reply | reply | t-reply"}
	check(t, "thread of the root", run("r1"), thread)
	check(t, "thread of the reply", run("r2"), thread)
	check(t, "a message without a platform time", run("m1"), []string{"2026-03-05 08:00:00.000 | root | no time | t-maxim"})

	// message_edit_history reads the message by its key prefix the same way: its day is the day it
	// was sent, not the day it arrived.
	versions := project(runJSON(t, conn, "message_edit_history", map[string]string{"app": "tapp", "msg_id": "r4"}), "version", "at", "op", "body")
	check(t, "edit history of a message received the next day", versions, []string{"0 | 2026-03-01 23:59:59.000 | send | before midnight"})
}

// TestMessageSearchPagesAcrossDays: message_search reads 8 days from where the page starts, and the
// rest of its range only when those hold fewer than a page. Matches on both sides of that edge and
// of the range's, two at one instant, one found by its edit only, others outside the
// range, in another application or not matching: every page, of 1 row or all, from every
// cursor, is the one a plain sort of the matches gives (the model below, which reads no SQL).
func TestMessageSearchPagesAcrossDays(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	// The range starts and ends at 06:00: a bound on the day must keep its first and last days.
	from := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	to := from.Add(90 * 24 * time.Hour)
	day := 24 * time.Hour
	type msg struct {
		id, app, body string
		at            time.Time
	}
	msgs := []msg{
		{"s-before", "sapp", "a needle early", from.Add(-time.Millisecond)},
		{"s-start", "sapp", "needle at the start", from},
		{"s-5h", "sapp", "NEEDLE loud", from.Add(5 * time.Hour)},
		{"s-day-end", "sapp", "needle", from.Add(day - time.Millisecond)},
		{"s-day-b", "sapp", "needle at one day", from.Add(day)},
		{"s-day-a", "sapp", "needle at one day too", from.Add(day)},
		{"s-other-app", "other", "needle elsewhere", from.Add(30 * time.Hour)},
		{"s-hay", "sapp", "only hay", from.Add(31 * time.Hour)},
		{"s-edited", "sapp", "hay until edited", from.Add(2 * day)},
		{"s-week-end", "sapp", "needle", from.Add(8*day - time.Millisecond)},
		{"s-week", "sapp", "needle", from.Add(8 * day)},
		{"s-20d", "sapp", "needle", from.Add(20 * day)},
		{"s-89d", "sapp", "needle", from.Add(89 * day)},
		{"s-to-day", "sapp", "needle on the last day", to.Add(-time.Hour)},
		{"s-to", "sapp", "needle at the end", to},
	}
	var values []string
	for _, m := range msgs {
		at := m.at.Format(queries.TimeLayout)
		values = append(values, fmt.Sprintf("('%s', 'netease_qchat', '%s', 'channel:s/c', '%s', '%s', '%s', 'u1', 's', 'c', '%s', '%s', map())",
			m.id, m.app, at, at, at, "msg-"+m.id, m.body))
	}
	mustExec(t, conn, `INSERT INTO messages_data (event_id, source, app, conversation, msg_time, occurred_at, received_at, sender, server_id, channel_id, msg_id, body, attrs) VALUES `+strings.Join(values, ", "))
	mustExec(t, conn, `INSERT INTO message_updates_data (event_id, source, app, op, occurred_at, received_at, actor, msg_id, body, attrs) VALUES
		('u-edited', 'netease_qchat', 'sapp', 'update', '2026-03-04 00:00:00', '2026-03-04 00:00:01', 'u1', 'msg-s-edited', 'a needle now', map())`)

	// The model: the messages of the application in [from, to) whose text as sent or edit holds
	// "needle" in any case, by msg_time and event_id.
	var hits []keyed
	for _, m := range msgs {
		sent := strings.Contains(strings.ToLower(m.body), "needle")
		edit := m.id == "s-edited"
		if m.app != "sapp" || m.at.Before(from) || !m.at.Before(to) || !(sent || edit) {
			continue
		}
		hits = append(hits, keyed{m.at, m.id, map[bool]string{true: "sent", false: "edit"}[sent]})
	}
	params := map[string]string{"app": "sapp", "text": "Needle", "from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)}
	checkPages(t, "message_search", hits, []int{1, len(hits)}, func(limit int, cursor []string) []string {
		return project(runJSON(t, conn, "message_search", with(params, "limit", fmt.Sprint(limit), "after_time", cursor[0], "after_event_id", cursor[1])),
			"msg_time", "event_id", "matched_in")
	})
}

// keyed is a row of a paged query's model: its place in the order (at, then id) and what it shows.
type keyed struct {
	at        time.Time
	id, shown string
}

// checkPages sorts the model by (at, id) and checks that each page of every limit, from every cursor
// (none, then each row's at and id), is the model's next rows; run reads a page as "at | id | shown".
func checkPages(t *testing.T, what string, model []keyed, limits []int, run func(limit int, cursor []string) []string) {
	t.Helper()
	sort.Slice(model, func(i, j int) bool {
		if !model[i].at.Equal(model[j].at) {
			return model[i].at.Before(model[j].at)
		}
		return model[i].id < model[j].id
	})
	for _, limit := range limits {
		for c := -1; c < len(model); c++ {
			cursor := []string{"1970-01-01 00:00:00", ""}
			if c >= 0 {
				cursor = []string{model[c].at.Format(queries.TimeLayout), model[c].id}
			}
			want := []string{}
			for _, m := range model[c+1 : min(len(model), c+1+limit)] {
				want = append(want, m.at.Format(queries.TimeLayout)+" | "+m.id+" | "+m.shown)
			}
			check(t, fmt.Sprintf("%s, limit %d after %q", what, limit, cursor), run(limit, cursor), want)
		}
	}
}

// TestAccountHistoryPages: account_history pages by (at, event_id). Rows of an account in four
// tables on both sides of the range's edges, three at one instant, a message received (no platform
// time), a change made in the range to a message sent before it, and rows of others: every page, of
// 1, 2 or all rows, from every cursor, is the one a plain sort of the rows gives (the model below,
// which reads no SQL), and a message shows its current text.
func TestAccountHistoryPages(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	// The range ends at 06:00: a bound on the day must keep its last day.
	to := from.Add(90*24*time.Hour + 6*time.Hour)
	day := 24 * time.Hour
	type row struct {
		table, id, account, other string
		at                        time.Time
	}
	rows := []row{
		{"messages", "h-before", "h1", "x", from.Add(-time.Millisecond)},
		{"messages", "h-start", "h1", "x", from},
		{"messages", "h-tie-b", "h1", "x", from.Add(5 * time.Hour)},
		{"presence", "h-tie-a", "h1", "", from.Add(5 * time.Hour)},
		{"community", "h-tie-c", "h1", "x", from.Add(5 * time.Hour)},
		{"messages", "h-to-me", "x", "h1", from.Add(6 * time.Hour)},
		{"messages", "h-others", "x", "y", from.Add(7 * time.Hour)},
		{"presence", "h-edge-end", "h1", "", from.Add(3*day - time.Millisecond)},
		{"notifications", "h-edge", "h1", "x", from.Add(3 * day)},
		{"messages", "h-edited", "h1", "x", from.Add(3 * day)},
		{"messages", "h-20d", "x", "h1", from.Add(20 * day)},
		{"presence", "h-89d", "h1", "", from.Add(89 * day)},
		{"messages", "h-to-day", "h1", "x", to.Add(-time.Hour)},
		{"messages", "h-to", "h1", "x", to},
	}
	// h-old was sent before the range; bob edits it in the range: the edit is h1's (author). h-edited
	// is edited too: its row shows the text as edited.
	mustExec(t, conn, `INSERT INTO messages_data (event_id, source, app, conversation, msg_time, occurred_at, received_at, sender, to_account, msg_id, body, attrs) VALUES
		('h-old', 'netease_qchat', 'happ', 'conv:h1/x', '2026-01-10 00:00:00', '2026-01-10 00:00:00', '2026-01-10 00:00:00', 'h1', 'x', 'm-old', 'old', map()),
		('h-received', 'maxim', 'happ', 'conv:h1/x', '1970-01-01 00:00:00', '1970-01-01 00:00:00', '2026-03-01 05:00:00', 'h1', 'x', 'm-received', 'no time', map())`)
	mustExec(t, conn, `INSERT INTO message_updates_data (event_id, source, app, op, occurred_at, received_at, actor, msg_id, body, attrs) VALUES
		('h-old-edit', 'netease_qchat', 'happ', 'update', '2026-03-10 00:00:00', '2026-03-10 00:00:01', 'bob', 'm-old', 'old, edited', map()),
		('h-edited-edit', 'netease_qchat', 'happ', 'update', '2026-03-05 00:00:00', '2026-03-05 00:00:01', 'h1', 'm-h-edited', 'as edited', map())`)
	for _, r := range rows {
		at := r.at.Format(queries.TimeLayout)
		var stmt string
		switch r.table {
		case "messages":
			stmt = fmt.Sprintf(`INSERT INTO messages_data (event_id, source, app, conversation, msg_time, occurred_at, received_at, sender, to_account, msg_id, body, attrs)
				VALUES ('%s', 'netease_qchat', 'happ', 'conv:a/b', '%s', '%s', '%s', '%s', '%s', 'm-%s', 'as sent', map())`, r.id, at, at, at, r.account, r.other, r.id)
		case "presence":
			stmt = fmt.Sprintf(`INSERT INTO presence_events_data (event_id, source, app, account, op, occurred_at, received_at, attrs)
				VALUES ('%s', 'netease_qchat', 'happ', '%s', 'login', '%s', '%s', map())`, r.id, r.account, at, at)
		case "community":
			stmt = fmt.Sprintf(`INSERT INTO community_events_data (event_id, source, app, kind, op, occurred_at, received_at, actor, target_account, server_id, attrs)
				VALUES ('%s', 'netease_qchat', 'happ', 'member', 'kick', '%s', '%s', '%s', '%s', 's', map())`, r.id, at, at, r.account, r.other)
		case "notifications":
			stmt = fmt.Sprintf(`INSERT INTO notifications_data (event_id, source, app, kind, occurred_at, msg_time, received_at, sender, to_account, server_id, body, attrs)
				VALUES ('%s', 'netease_qchat', 'happ', 'notification', '%s', '%s', '%s', '%s', '%s', 's', 'note', map())`, r.id, at, at, at, r.account, r.other)
		}
		mustExec(t, conn, stmt)
	}

	// The model: h1's rows in [from, to) by (at, event_id), with the text a message shows; over 90
	// days (read in two stretches) and over 3 (read once).
	for _, to := range []time.Time{to, from.Add(3 * day)} {
		var model []keyed
		for _, w := range []keyed{
			{time.Date(2026, 3, 1, 5, 0, 0, 0, time.UTC), "h-received", "no time"},
			{time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), "h-old-edit", "old, edited"},
			{time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), "h-edited-edit", "as edited"},
		} {
			if w.at.Before(to) {
				model = append(model, w)
			}
		}
		for _, r := range rows {
			if (r.account != "h1" && r.other != "h1") || r.at.Before(from) || !r.at.Before(to) {
				continue
			}
			text := map[string]string{"messages": "as sent", "notifications": "note"}[r.table]
			if r.id == "h-edited" {
				text = "as edited"
			}
			model = append(model, keyed{r.at, r.id, text})
		}
		params := map[string]string{"account": "h1", "from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)}
		checkPages(t, "to "+to.Format(time.DateOnly), model, []int{1, 2, len(model)}, func(limit int, cursor []string) []string {
			return project(runJSON(t, conn, "account_history", with(params, "limit", fmt.Sprint(limit), "after_time", cursor[0], "after_event_id", cursor[1])),
				"at", "event_id", "text")
		})
		// Without a limit: the default page holds them all.
		check(t, "the default limit", project(runJSON(t, conn, "account_history", params), "event_id"),
			project(runJSON(t, conn, "account_history", with(params, "limit", fmt.Sprint(len(model)))), "event_id"))
	}
}

// TestFlaggedMessagesPagesAcrossDays: flagged_messages reads its candidates over the first day from
// where the page starts, the next 7 only when that day holds fewer than a page, the rest only when
// those 8 days do. Flagged messages on both sides of those edges and of the range's, two at one
// instant, one flagged by a recall made weeks later, one by an edit undone since, others unflagged, outside the range or in
// another application: every page, of 1 row or all, from every cursor, is the one a plain sort of
// the flagged messages gives (the model below, which reads no SQL).
func TestFlaggedMessagesPagesAcrossDays(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	// The range ends at 06:00: a bound on the day must keep its last day.
	to := from.Add(90*24*time.Hour + 6*time.Hour)
	day := 24 * time.Hour
	type msg struct {
		id, app string
		flagged bool
		at      time.Time
	}
	msgs := []msg{
		{"f-before", "fapp", true, from.Add(-time.Millisecond)},
		{"f-start", "fapp", true, from},
		{"f-clean", "fapp", false, from.Add(time.Hour)},
		{"f-day-end", "fapp", true, from.Add(day - time.Millisecond)},
		{"f-day-b", "fapp", true, from.Add(day)},
		{"f-day-a", "fapp", true, from.Add(day)},
		{"f-other-app", "other", true, from.Add(30 * time.Hour)},
		{"f-recalled", "fapp", false, from.Add(3 * day)},
		{"f-undone", "fapp", false, from.Add(5 * day)},
		{"f-week-end", "fapp", true, from.Add(8*day - time.Millisecond)},
		{"f-week", "fapp", true, from.Add(8 * day)},
		{"f-20d", "fapp", true, from.Add(20 * day)},
		{"f-89d", "fapp", true, from.Add(89 * day)},
		{"f-to-day", "fapp", true, to.Add(-time.Hour)},
		{"f-to", "fapp", true, to},
	}
	var values []string
	for _, m := range msgs {
		at := m.at.Format(queries.TimeLayout)
		values = append(values, fmt.Sprintf("('%s', 'netease_qchat', '%s', 'channel:s/c', '%s', '%s', '%s', 'u1', 's', 'c', '%s', 'text', %t, map())",
			m.id, m.app, at, at, at, "msg-"+m.id, m.flagged))
	}
	mustExec(t, conn, `INSERT INTO messages_data (event_id, source, app, conversation, msg_time, occurred_at, received_at, sender, server_id, channel_id, msg_id, body, antispam, attrs) VALUES `+strings.Join(values, ", "))
	mustExec(t, conn, `INSERT INTO message_updates_data (event_id, source, app, op, occurred_at, received_at, actor, msg_id, body, attrs) VALUES
		('u-recall', 'netease_qchat', 'fapp', 'recall', '2026-04-20 00:00:00', '2026-04-20 00:00:01', 'u1', 'msg-f-recalled', '', map())`)
	// f-undone: an edit flagged by content safety, then a clean one; its flag stays (it applied once).
	mustExec(t, conn, `INSERT INTO message_updates_data (event_id, source, app, op, occurred_at, received_at, actor, msg_id, body, antispam, attrs) VALUES
		('u-flag', 'netease_qchat', 'fapp', 'update', '2026-03-06 01:00:00', '2026-03-06 01:00:01', 'u1', 'msg-f-undone', 'bad', true, map()),
		('u-clean', 'netease_qchat', 'fapp', 'update', '2026-03-06 02:00:00', '2026-03-06 02:00:01', 'u1', 'msg-f-undone', 'good', false, map())`)

	var hits []keyed
	for _, m := range msgs {
		if m.app != "fapp" || m.at.Before(from) || !m.at.Before(to) || !(m.flagged || m.id == "f-recalled" || m.id == "f-undone") {
			continue
		}
		flags := map[string]string{"f-recalled": "recalled"}[m.id]
		if flags == "" {
			flags = "antispam"
		}
		hits = append(hits, keyed{m.at, m.id, `["` + flags + `"]`})
	}
	params := map[string]string{"app": "fapp", "from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)}
	checkPages(t, "flagged_messages", hits, []int{1, len(hits)}, func(limit int, cursor []string) []string {
		return project(runJSON(t, conn, "flagged_messages", with(params, "limit", fmt.Sprint(limit), "after_time", cursor[0], "after_event_id", cursor[1])),
			"msg_time", "event_id", "flags")
	})
}
