package retention_test

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/compliance/audit"
	"github.com/imarchive/imarchive/compliance/retention"
	"github.com/imarchive/imarchive/internal/testenv/archivetest"
	"github.com/imarchive/imarchive/queries"
)

func strings_(t *testing.T, conn driver.Conn, q string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func sorted(ids ...string) []string {
	out := append([]string{}, ids...)
	sort.Strings(out)
	return out
}

// TestRetentionKeepsHeldRows: with holds on an account, a channel and a group, a retention pass removes
// every other row of the same age, from every table and the raw archive, and records what it did; the
// held rows and their raw records survive; once the holds are released the next pass removes them too,
// and the hash chain still verifies (the removed raw records count as expired).
func TestRetentionKeepsHeldRows(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	seeded := archivetest.Seed(t, conn)
	ctx := context.Background()
	now := archivetest.T0.Add(40 * 24 * time.Hour) // every fixture row is 40 days old
	placed := map[string]string{}
	for _, h := range []retention.Hold{
		{App: archivetest.NeteaseApp, Scope: "account", Subject: "alice", Actor: "legal@example.com", Reason: "case 2026-17"},
		{App: archivetest.NeteaseApp, Scope: "channel", Subject: archivetest.C2, Actor: "legal@example.com", Reason: "case 2026-18"},
		{App: archivetest.ILinkApp, Scope: "group", Subject: archivetest.G1, Actor: "dpo@example.com", Reason: "regulator request"},
	} {
		id, err := retention.Place(ctx, conn, h, now)
		if err != nil {
			t.Fatal(err)
		}
		placed[h.Subject] = id
	}
	held := sorted(
		// alice's: her messages, her edits, her logins, a comment on her message, her notification,
		// the server events she did or was the subject of.
		archivetest.M1, archivetest.M4, archivetest.U2, archivetest.U4, archivetest.P1, archivetest.P2, archivetest.Q1, archivetest.N1,
		archivetest.CCreate, archivetest.CInvite, archivetest.CAcceptBob, archivetest.CModeApply, archivetest.CAcceptDave,
		archivetest.CKickCarol, archivetest.CModeInvite, archivetest.CInviteEve, archivetest.CUpdateOther,
		// channel c2: dave's message and bob's deletion of it.
		archivetest.M5, archivetest.U3,
		// group g1 of the iLink app.
		archivetest.I1, archivetest.I2)
	all := map[string]bool{}
	for _, e := range seeded.Events {
		all[e.EventID] = true
	}
	for _, id := range held {
		if !all[id] {
			t.Fatalf("held id %s is not a fixture event", id)
		}
	}
	if got := strings_(t, conn, "SELECT DISTINCT event_id FROM held_events"); !reflect.DeepEqual(got, held) {
		t.Fatalf("held_events:\n got  %v\n want %v", got, held)
	}

	policy, err := retention.ParsePolicy("all=30")
	if err != nil {
		t.Fatal(err)
	}
	// A dry run counts and deletes nothing.
	dry, err := retention.Apply(ctx, conn, retention.Pass{Policy: policy, Actor: "ops", DryRun: true, Now: now}, archivetest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings_(t, conn, "SELECT event_id FROM archive_events"); len(got) != len(seeded.Events) {
		t.Fatalf("a dry run deleted rows: %d events left of %d", len(got), len(seeded.Events))
	}
	var dryCandidates uint64
	for _, tr := range dry.Tables {
		dryCandidates += tr.Candidates
	}
	if dryCandidates != uint64(len(seeded.Events)+len(seeded.Raw)) {
		t.Errorf("dry run counted %d candidates, want every event and raw record (%d)", dryCandidates, len(seeded.Events)+len(seeded.Raw))
	}

	res, err := retention.Apply(ctx, conn, retention.Pass{Policy: policy, Actor: "ops", Now: now}, archivetest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings_(t, conn, "SELECT event_id FROM archive_events"); !reflect.DeepEqual(got, held) {
		t.Fatalf("events left after the pass:\n got  %v\n want the held ones %v", got, held)
	}
	var heldRaw []string
	for _, r := range seeded.Raw {
		for _, id := range held {
			if string(r.Key) == id {
				heldRaw = append(heldRaw, id)
			}
		}
	}
	sort.Strings(heldRaw)
	if got := strings_(t, conn, "SELECT event_id FROM raw_callbacks"); !reflect.DeepEqual(got, heldRaw) {
		t.Fatalf("raw records left:\n got  %v\n want %v (M1 twice: its retry is held too)", got, heldRaw)
	}
	var deleted, keptHeld uint64
	for _, tr := range res.Tables {
		if tr.Remaining != tr.Held || tr.Deleted != tr.Candidates-tr.Held {
			t.Errorf("%s: %d candidates, %d held, %d deleted, %d remaining", tr.Table, tr.Candidates, tr.Held, tr.Deleted, tr.Remaining)
		}
		deleted += tr.Deleted
		keptHeld += tr.Held
	}
	if want := uint64(len(seeded.Events) - len(held) + len(seeded.Raw) - len(heldRaw)); deleted != want {
		t.Errorf("pass reports %d deleted, want %d", deleted, want)
	}
	if keptHeld != uint64(len(held)+len(heldRaw)) {
		t.Errorf("pass reports %d held, want %d", keptHeld, len(held)+len(heldRaw))
	}
	// The pass is recorded per table, with who and the cutoff; the policy is in force.
	var runs, runsDeleted uint64
	if err := conn.QueryRow(ctx, "SELECT count(), sum(deleted) FROM retention_runs WHERE run_id = ? AND actor = 'ops' AND cutoff = ?",
		res.RunID, now.Add(-30*24*time.Hour)).Scan(&runs, &runsDeleted); err != nil {
		t.Fatal(err)
	}
	if runs != uint64(len(retention.Tables)) || runsDeleted != deleted {
		t.Errorf("retention_runs: %d rows, %d deleted; want %d rows, %d", runs, runsDeleted, len(retention.Tables), deleted)
	}
	if got := strings_(t, conn, "SELECT concat(table_name, '=', toString(seconds)) FROM schema_retention FINAL"); len(got) != len(retention.Tables) || got[0] != "community_events_data=2592000" {
		t.Errorf("schema_retention: %v", got)
	}
	// The named query shows the pass: messages_data had 11 messages, 5 held (alice's two, c2's one, g1's two); the raw archive 33 records, 22 held (21 events, M1 twice).
	rq, err := queries.Get("retention_runs")
	if err != nil {
		t.Fatal(err)
	}
	var runsOut strings.Builder
	if _, err := queries.Run(ctx, conn, rq, map[string]string{"since": "2000-01-01 00:00:00.000"}, "csv", &runsOut); err != nil {
		t.Fatal(err)
	}
	cutoff := now.Add(-30 * 24 * time.Hour).Format(queries.TimeLayout)
	for _, want := range []string{
		res.RunID + ",messages_data,30," + cutoff + ",11,5,6,false,ops,",
		res.RunID + ",raw_callbacks_data,30," + cutoff + ",33,22,11,false,ops,",
	} {
		if !strings.Contains(runsOut.String(), want) {
			t.Errorf("retention_runs does not show %q:\n%s", want, runsOut.String())
		}
	}
	// The chain still verifies: the raw records removed by the recorded pass are expired, not missing.
	rep, err := audit.Verify(ctx, conn, audit.Range{From: archivetest.T0.Add(-24 * time.Hour), To: archivetest.T0.Add(24 * time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	expired := 0
	for _, p := range rep.Partitions {
		expired += p.Expired
	}
	if !rep.OK() || expired != len(seeded.Raw)-len(heldRaw) {
		t.Errorf("verify after retention: breaks %v, %d expired (want %d)", rep.Breaks, expired, len(seeded.Raw)-len(heldRaw))
	}

	// Release the account hold: alice's rows go with the next pass, the other holds still keep theirs.
	if err := retention.Release(ctx, conn, placed["alice"], "legal@example.com", "case closed", now); err != nil {
		t.Fatal(err)
	}
	if err := retention.Release(ctx, conn, placed["alice"], "legal@example.com", "again", now); !errors.Is(err, retention.ErrNoHold) {
		t.Errorf("releasing a released hold: want ErrNoHold, got %v", err)
	}
	if _, err := retention.Apply(ctx, conn, retention.Pass{Policy: policy, Actor: "ops", Now: now}, archivetest.Discard()); err != nil {
		t.Fatal(err)
	}
	if got := strings_(t, conn, "SELECT event_id FROM archive_events"); !reflect.DeepEqual(got, sorted(archivetest.M5, archivetest.U3, archivetest.I1, archivetest.I2)) {
		t.Errorf("after releasing alice: %v", got)
	}

	// The holds' log: who placed and released what, and why.
	q, err := queries.Get("legal_holds")
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if _, err := queries.Run(clickhouse.Context(ctx), conn, q, map[string]string{"include_released": "1"}, "csv", &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), placed["alice"]+",0,nk1,account,alice,legal@example.com,") ||
		!strings.Contains(buf.String(), ",case 2026-17,legal@example.com,") || !strings.Contains(buf.String(), ",case closed\n") {
		t.Errorf("legal_holds with released ones:\n%s", buf.String())
	}
	buf.Reset()
	if _, err := queries.Run(ctx, conn, q, map[string]string{"include_released": "0"}, "csv", &buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), placed["alice"]) || !strings.Contains(buf.String(), placed[archivetest.C2]) || strings.Count(buf.String(), "\n") != 3 {
		t.Errorf("legal_holds in force:\n%s", buf.String())
	}
}

// TestRetentionOff: a table whose retention is off is not touched, whatever its age.
func TestRetentionOff(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	seeded := archivetest.Seed(t, conn)
	policy, err := retention.ParsePolicy("messages=30")
	if err != nil {
		t.Fatal(err)
	}
	res, err := retention.Apply(context.Background(), conn, retention.Pass{Policy: policy, Actor: "ops", Now: archivetest.T0.Add(400 * 24 * time.Hour)}, archivetest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings_(t, conn, "SELECT table_name FROM archive_events WHERE table_name = 'messages'"); len(got) != 0 {
		t.Errorf("messages left: %d", len(got))
	}
	if got := strings_(t, conn, "SELECT event_id FROM raw_callbacks"); len(got) != len(seeded.Raw) {
		t.Errorf("raw retention is off, but %d of %d raw records are left", len(got), len(seeded.Raw))
	}
	for _, tr := range res.Tables {
		if (tr.Table == "messages_data") != (tr.Days == 30) {
			t.Errorf("%s: days %d", tr.Table, tr.Days)
		}
	}
	if err := (retention.Pass{Policy: policy, Now: time.Now()}).Validate(); err == nil || !strings.Contains(err.Error(), "by: required") {
		t.Errorf("a pass without an actor: %v", err)
	}
}
