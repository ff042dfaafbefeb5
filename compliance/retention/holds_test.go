package retention_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/compliance/retention"
	"github.com/imarchive/imarchive/internal/testenv/archivetest"
)

// TestHoldsRecordTheDatabaseUser: a hold placed or released, and a retention pass, carry the
// ClickHouse user of the connection that recorded them, set by the server; an INSERT that tries to
// give another user is refused, so the record of who changed a hold does not rest on --by alone.
func TestHoldsRecordTheDatabaseUser(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	ctx := context.Background()
	now := archivetest.T0
	id, err := retention.Place(ctx, conn, retention.Hold{App: "a", Scope: "account", Subject: "alice", Actor: "claims to be the CEO", Reason: "r"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := retention.Release(ctx, conn, id, "someone", "done", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	var me string
	if err := conn.QueryRow(ctx, "SELECT currentUser()").Scan(&me); err != nil || me == "" {
		t.Fatalf("currentUser(): %q, %v", me, err)
	}
	rows, err := conn.Query(ctx, "SELECT action, actor, db_user FROM legal_holds ORDER BY at")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var action, actor, user string
		if err := rows.Scan(&action, &actor, &user); err != nil {
			t.Fatal(err)
		}
		n++
		if user != me {
			t.Errorf("%s by %q recorded as ClickHouse user %q, want %q", action, actor, user, me)
		}
	}
	rows.Close()
	if n != 2 {
		t.Fatalf("%d hold rows, want 2", n)
	}
	for _, forge := range []string{
		"INSERT INTO legal_holds (hold_id, action, app, scope, subject, actor, reason, at, db_user) VALUES ('h-x', 'release', 'a', 'account', 'alice', 'x', 'x', now64(3), 'imarchive_auditor')",
		"INSERT INTO retention_runs (run_id, table_name, actor, db_user) VALUES ('r-x', 'messages_data', 'x', 'imarchive_admin')",
	} {
		if err := conn.Exec(ctx, forge); err == nil || !strings.Contains(err.Error(), "MATERIALIZED") {
			t.Errorf("an INSERT naming db_user: %v, want it refused (MATERIALIZED)", err)
		}
	}
	policy, err := retention.ParsePolicy("messages=30")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := retention.Apply(ctx, conn, retention.Pass{Policy: policy, Actor: "ops", Now: now}, archivetest.Discard()); err != nil {
		t.Fatal(err)
	}
	var runs, mine uint64
	if err := conn.QueryRow(ctx, "SELECT count(), countIf(db_user = currentUser()) FROM retention_runs").Scan(&runs, &mine); err != nil || runs == 0 || mine != runs {
		t.Errorf("retention runs: %d, %d recorded with this ClickHouse user; %v", runs, mine, err)
	}
}
