package queries_test

import (
	"strings"
	"testing"

	"github.com/imarchive/imarchive/internal/testenv/archivetest"
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
