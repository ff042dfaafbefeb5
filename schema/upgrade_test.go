package schema

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/internal/testenv"
)

// TestUpgradeFromSkeleton: a database where only 0001 was applied and messages were written (as in
// the field) is migrated forward: the rows move to messages_data and show in the messages view with
// the new columns derived, once each, even after the copy is repeated (a re-run of 0003).
// migratedBelow returns a fresh database with every migration numbered below version applied, and
// all the migrations.
func migratedBelow(t *testing.T, version uint32) (context.Context, driver.Conn, *slog.Logger, []Migration) {
	t.Helper()
	_, conn := testenv.Database(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var before []Migration
	for _, m := range ms {
		if m.Version < version {
			before = append(before, m)
		}
	}
	if _, err := apply(ctx, conn, before, log); err != nil {
		t.Fatal(err)
	}
	return ctx, conn, log, ms
}

func TestUpgradeFromSkeleton(t *testing.T) {
	ctx, conn, log, ms := migratedBelow(t, 2)
	if ms[0].Version != 1 {
		t.Fatalf("first migration is %d", ms[0].Version)
	}
	insert := `INSERT INTO messages (event_id, source, app, platform_type, msg_time, occurred_at, received_at, sender, sender_nick,
		server_id, channel_id, group_id, to_account, msg_id, msg_type, body, attrs, kafka_partition, kafka_offset) VALUES
		('e1', 'netease_qchat', 'app1', '48', '2022-03-08 12:58:28.787', '2022-03-08 12:58:28.834', '2022-03-08 12:58:29', 'yx', 'yx',
		 '1492674', '1394678', '', '', '1541869', 'TEXT', 'hello', map('antispam', 'true', 'yidunRes', '{}'), 0, 7),
		('e2', 'ilink', 'ik', '1', '2016-03-08 03:36:42', '2016-03-08 03:36:42', '2022-03-08 12:58:29', '414', '',
		 '', '', '', '413', '', 'TEXT', 'hi', map(), 1, 3)`
	if err := conn.Exec(ctx, insert); err != nil {
		t.Fatal(err)
	}
	// The skeleton's consumer re-delivered one row (ReplacingMergeTree, not yet merged).
	if err := conn.Exec(ctx, insert); err != nil {
		t.Fatal(err)
	}
	if _, err := Migrate(ctx, conn, log); err != nil {
		t.Fatal(err)
	}
	// 0003 again, as after a run interrupted before it was recorded.
	for _, m := range ms {
		if m.Version == 3 {
			for _, stmt := range m.Statements {
				if err := conn.Exec(ctx, stmt); err != nil {
					t.Fatalf("re-running 0003: %v", err)
				}
			}
		}
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM messages").Scan(&n); err != nil || n != 2 {
		t.Fatalf("messages after the upgrade: %d rows (%v), want 2", n, err)
	}
	for id, want := range map[string]string{
		"e1": "channel:1492674/1394678|send|true|{}|hello|sent|2022-03-08 12:58:28.787",
		"e2": "conv:413/414|send|false||hi|sent|2016-03-08 03:36:42.000",
	} {
		var got string
		if err := conn.QueryRow(ctx, `SELECT concat(conversation, '|', op, '|', toString(antispam), '|', antispam_detail, '|', body, '|', status, '|', toString(msg_time))
			FROM messages WHERE event_id = ?`, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
}
