package querytest_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/queries/querytest"
	"github.com/imarchive/imarchive/schema"
)

// TestLoad: the seed goes through the real writers into the real tables, each event once in the views
// analysts read (m1 is delivered twice), and the presence processor marks exactly the two late events
// stale.
func TestLoad(t *testing.T) {
	dsn, conn := testenv.Database(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := schema.Migrate(ctx, conn, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	querytest.Load(t, conn)
	t.Logf("seeded %s", dsn)
	for _, c := range []struct {
		sql  string
		want uint64
	}{
		{"SELECT count() FROM messages", 9},
		{"SELECT count() FROM message_updates", 3},
		{"SELECT count() FROM presence_events", 27},
		{"SELECT countIf(stale) FROM presence_events", 2},
		{"SELECT count() FROM community_events", 13},
		{"SELECT count() FROM quick_comments", 5},
		{"SELECT count() FROM raw_callbacks", 6},
		{"SELECT count() FROM legal_holds_active", 1},
	} {
		var got uint64
		if err := conn.QueryRow(ctx, c.sql).Scan(&got); err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		if got != c.want {
			t.Errorf("%s = %d, want %d", c.sql, got, c.want)
		}
	}
}
