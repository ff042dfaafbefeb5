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
