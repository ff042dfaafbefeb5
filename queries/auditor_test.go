package queries_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/compliance/audit"
	"github.com/imarchive/imarchive/internal/testenv/archivetest"
	"github.com/imarchive/imarchive/queries"
	"github.com/imarchive/imarchive/queries/querytest"
)

// runJSON runs a named query as imarchive query does (Bind, then Run with --format json) and returns
// the rows, each column as its JSON text.
func runJSON(t *testing.T, conn driver.Conn, name string, params map[string]string) []map[string]string {
	t.Helper()
	q, err := queries.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	bound, err := q.Bind(params)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := queries.Run(context.Background(), conn, q, bound, "json", &buf)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []map[string]string
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("%s: line %q: %v", name, sc.Text(), err)
		}
		row := map[string]string{}
		for k, v := range raw {
			var s string
			if json.Unmarshal(v, &s) == nil {
				row[k] = s
			} else {
				row[k] = string(v)
			}
		}
		if len(row) != len(q.Columns) {
			t.Errorf("%s: %d columns in a row, the header lists %d", name, len(row), len(q.Columns))
		}
		for _, c := range q.Columns {
			if _, ok := row[c.Name]; !ok {
				t.Errorf("%s: column %s of the header is not in the result", name, c.Name)
			}
		}
		out = append(out, row)
	}
	if n != len(out) {
		t.Fatalf("%s: Run said %d rows, wrote %d", name, n, len(out))
	}
	return out
}

// project keeps some columns of each row, joined by " | ", for comparison with a want list.
func project(rows []map[string]string, cols ...string) []string {
	out := []string{}
	for _, r := range rows {
		vals := make([]string, len(cols))
		for i, c := range cols {
			vals[i] = r[c]
		}
		out = append(out, strings.Join(vals, " | "))
	}
	return out
}

func ts(d time.Duration) string { return archivetest.T0.Add(d).Format(queries.TimeLayout) }

func check(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

var (
	wide = map[string]string{"from": archivetest.T0.Add(-24 * time.Hour).Format(time.RFC3339), "to": archivetest.T0.Add(24 * time.Hour).Format(time.RFC3339)}
)

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestAuditorQueries runs every auditor query on the seeded archive and checks the rows' values.
func TestAuditorQueries(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	seeded := archivetest.Seed(t, conn)
	A := archivetest.NeteaseApp

	t.Run("message_history", func(t *testing.T) {
		rows := runJSON(t, conn, "message_history", with(wide, "app", A, "channel_id", archivetest.C1))
		check(t, "channel c1", project(rows, "msg_time", "sender", "body", "status", "original_body", "event_id"), []string{
			ts(time.Minute) + " | alice | Hello 世界 team (edited: 加油) | updated | Hello 世界 team | " + archivetest.M1,
			ts(2*time.Minute) + " | bob | budget numbers FINAL | updated | budget numbers attached | " + archivetest.M2,
			ts(3*time.Minute) + " | carol | buy cheap pills now | sent | buy cheap pills now | " + archivetest.M3,
			ts(4*time.Minute) + " | alice | oops wrong channel | recalled | oops wrong channel | " + archivetest.M4,
		})
		rows = runJSON(t, conn, "message_history", with(wide, "app", A, "channel_id", archivetest.C1,
			"from", ts(2*time.Minute), "to", ts(4*time.Minute)))
		check(t, "range [2m, 4m)", project(rows, "sender"), []string{"bob", "carol"})
	})

	t.Run("group_history", func(t *testing.T) {
		rows := runJSON(t, conn, "group_history", with(wide, "app", archivetest.ILinkApp, "group_id", archivetest.G1))
		check(t, "group g1", project(rows, "msg_time", "sender", "body", "status", "source", "event_id"), []string{
			ts(time.Minute) + " | u1 | 早上好 everyone | sent | ilink | " + archivetest.I1,
			ts(2*time.Minute) + " | u2 | meeting at 3 | sent | ilink | " + archivetest.I2,
		})
		rows = runJSON(t, conn, "group_history", with(wide, "app", archivetest.MaximApp, "group_id", "77"))
		check(t, "maxim group 77", project(rows, "sender", "body", "msg_id"), []string{"501 | maxim group text | 9001"})
	})

	t.Run("direct_conversation", func(t *testing.T) {
		want := []string{
			ts(3*time.Minute) + " | u1 | u2 | private hello | " + archivetest.I3,
			ts(4*time.Minute) + " | u2 | u1 | private reply | " + archivetest.I4,
		}
		for _, order := range [][2]string{{"u1", "u2"}, {"u2", "u1"}} {
			rows := runJSON(t, conn, "direct_conversation", with(wide, "app", archivetest.ILinkApp, "account_a", order[0], "account_b", order[1]))
			check(t, "u1/u2 as "+order[0]+","+order[1], project(rows, "msg_time", "sender", "to_account", "body", "event_id"), want)
		}
	})

	t.Run("account_history", func(t *testing.T) {
		rows := runJSON(t, conn, "account_history", with(wide, "account", "alice"))
		check(t, "alice", project(rows, "at", "view", "op", "role", "counterpart", "text", "event_id"), []string{
			ts(-60*time.Minute) + " | community_events | create | operator |  | Team | " + archivetest.CCreate,
			ts(-50*time.Minute) + " | community_events | invite | operator | bob,carol |  | " + archivetest.CInvite,
			ts(-40*time.Minute) + " | community_events | accept_invite | inviter | bob |  | " + archivetest.CAcceptBob,
			ts(-25*time.Minute) + " | community_events | update | operator |  | Team | " + archivetest.CModeApply,
			ts(-15*time.Minute) + " | community_events | accept_apply | operator | dave |  | " + archivetest.CAcceptDave,
			ts(-5*time.Minute) + " | community_events | update_other | operator | gina |  | " + archivetest.CUpdateOther,
			ts(0) + " | presence_events | login | self |  |  | " + archivetest.P1,
			ts(time.Minute) + " | messages | send | sender |  | Hello 世界 team (edited: 加油) | " + archivetest.M1,
			ts(150*time.Second) + " | quick_comments | add | author | bob | 1 | " + archivetest.Q1,
			ts(3*time.Minute) + " | notifications | send | sender |  | maintenance tonight | " + archivetest.N1,
			ts(4*time.Minute) + " | messages | send | sender |  | oops wrong channel | " + archivetest.M4,
			ts(270*time.Second) + " | message_updates | recall | editor |  |  | " + archivetest.U2,
			ts(8*time.Minute) + " | community_events | kick | operator | carol |  | " + archivetest.CKickCarol,
			ts(495*time.Second) + " | message_updates | update | editor |  | Hello 世界 team (edited: 加油) | " + archivetest.U4,
			ts(510*time.Second) + " | community_events | update | operator |  | Team | " + archivetest.CModeInvite,
			ts(9*time.Minute) + " | community_events | invite | operator | eve |  | " + archivetest.CInviteEve,
			ts(10*time.Minute) + " | presence_events | logout | self |  | logout | " + archivetest.P2,
		})
		// Across platforms: u1 is an iLink account; an edit by someone else of bob's message counts for bob.
		rows = runJSON(t, conn, "account_history", with(wide, "account", "u1"))
		check(t, "u1", project(rows, "source", "view", "op", "role", "place", "counterpart"), []string{
			"ilink | presence_events | online | self |  | ",
			"ilink | messages | send | sender | group:g1 | ",
			"ilink | messages | send | sender | conv:u1/u2 | u2",
			"ilink | messages | send | recipient | conv:u1/u2 | u2",
			"ilink | messages | send | recipient | conv:u1/u3 | u3",
		})
		rows = runJSON(t, conn, "account_history", with(wide, "account", "dave", "from", ts(0)))
		check(t, "dave since T0", project(rows, "view", "op", "role", "counterpart", "event_id"), []string{
			"messages | send | sender |  | " + archivetest.M5,
			"message_updates | delete | author | bob | " + archivetest.U3,
		})
	})

	t.Run("message_edit_history", func(t *testing.T) {
		rows := runJSON(t, conn, "message_edit_history", map[string]string{"app": A, "msg_id": "1002"})
		check(t, "1002", project(rows, "version", "at", "op", "actor", "body", "note", "event_id"), []string{
			"0 | " + ts(2*time.Minute) + " | send | bob | budget numbers attached |  | " + archivetest.M2,
			"1 | " + ts(5*time.Minute) + " | update | bob | budget numbers FINAL | typo | " + archivetest.U1,
		})
		rows = runJSON(t, conn, "message_edit_history", map[string]string{"app": A, "msg_id": "1003"})
		check(t, "1003 antispam as sent", project(rows, "version", "op", "antispam", "antispam_detail"), []string{
			`0 | send | true | {"action":2,"label":"ad"}`,
		})
		rows = runJSON(t, conn, "message_edit_history", map[string]string{"app": A, "msg_id": "1005"})
		check(t, "1005 deleted", project(rows, "version", "op", "actor", "note"), []string{"0 | send | dave | ", "1 | delete | bob | policy"})
	})

	t.Run("raw_payload", func(t *testing.T) {
		m1, _ := seeded.EventByID(archivetest.M1)
		body := string(archivetest.Body(m1))
		rows := runJSON(t, conn, "raw_payload", map[string]string{"event_id": archivetest.M1})
		if len(rows) != 2 {
			t.Fatalf("M1 was received twice (a retry): got %d receipts", len(rows))
		}
		wantSHA := audit.PayloadDigest([]byte(body))
		for i, r := range rows {
			if r["body"] != body || r["body_sha256"] != wantSHA || r["stored_sha256"] != wantSHA || r["chained_sha256"] != wantSHA || r["intact"] != "1" {
				t.Errorf("receipt %d: body %q sha %s stored %s chained %s intact %s; want the body as sent and %s everywhere",
					i, r["body"], r["body_sha256"], r["stored_sha256"], r["chained_sha256"], r["intact"], wantSHA)
			}
			if len(r["chain_hash"]) != 64 || r["path"] != "/v1/netease/nk1" || !strings.Contains(r["http_headers"], `"Content-Type":"application/json"`) {
				t.Errorf("receipt %d: chain_hash %q path %q headers %s", i, r["chain_hash"], r["path"], r["http_headers"])
			}
		}
		if rows[0]["received_at"] != ts(time.Minute+170*time.Millisecond) || rows[1]["received_at"] != ts(time.Minute+5170*time.Millisecond) {
			t.Errorf("receipts at %s and %s", rows[0]["received_at"], rows[1]["received_at"])
		}
		// An altered body is shown as such: intact 0, the hash computed now differs from the chained one.
		mustExec(t, conn, "ALTER TABLE raw_callbacks_data UPDATE body = 'forged' WHERE event_id = {id:String} SETTINGS mutations_sync = 2", "id", archivetest.M1)
		rows = runJSON(t, conn, "raw_payload", map[string]string{"event_id": archivetest.M1})
		for i, r := range rows {
			if r["intact"] != "0" || r["chained_sha256"] != wantSHA || r["body"] != "forged" {
				t.Errorf("after tampering, receipt %d: intact %s body %q chained %s", i, r["intact"], r["body"], r["chained_sha256"])
			}
		}
	})

	t.Run("flagged_messages", func(t *testing.T) {
		rows := runJSON(t, conn, "flagged_messages", with(wide, "app", A))
		check(t, "nk1", project(rows, "sender", "flags", "status", "antispam_detail", "event_id"), []string{
			`carol | ["antispam"] | sent | {"action":2,"label":"ad"} | ` + archivetest.M3,
			`alice | ["recalled"] | recalled |  | ` + archivetest.M4,
			`dave | ["deleted"] | deleted |  | ` + archivetest.M5,
		})
		rows = runJSON(t, conn, "flagged_messages", with(wide, "app", archivetest.ILinkApp))
		check(t, "ik1 has none", project(rows, "event_id"), []string{})
	})

	t.Run("server_members_at", func(t *testing.T) {
		members := func(at time.Duration) []string {
			rows := runJSON(t, conn, "server_members_at", map[string]string{"app": A, "server_id": archivetest.S1, "at": ts(at)})
			return project(rows, "account", "member_since", "joined_by", "operator", "event_id")
		}
		types := func(at time.Duration) []string {
			return project(runJSON(t, conn, "server_members_at", map[string]string{"app": A, "server_id": archivetest.S1, "at": ts(at)}),
				"account", "member_type")
		}
		// gina's member type is the 62 copy's (a version 1 event, upgraded by the consumer); no copy
		// said the others'.
		check(t, "member types at T0", types(0), []string{"alice | ", "bob | ", "carol | ", "dave | ", "gina | 0"})
		check(t, "before bob accepted", members(-45*time.Minute), []string{
			"alice | " + ts(-60*time.Minute) + " | create | alice | " + archivetest.CCreate,
		})
		check(t, "at T0", members(0), []string{
			"alice | " + ts(-60*time.Minute) + " | create | alice | " + archivetest.CCreate,
			"bob | " + ts(-40*time.Minute) + " | accept_invite | bob | " + archivetest.CAcceptBob,
			"carol | " + ts(-30*time.Minute) + " | apply | carol | " + archivetest.CApplyCarol,
			"dave | " + ts(-15*time.Minute) + " | accept_apply | alice | " + archivetest.CAcceptDave,
			"gina | " + ts(-5*time.Minute) + " | update_other | alice | " + archivetest.CUpdateOther,
		})
		check(t, "dave's application waits for approval", members(-18*time.Minute), []string{
			"alice | " + ts(-60*time.Minute) + " | create | alice | " + archivetest.CCreate,
			"bob | " + ts(-40*time.Minute) + " | accept_invite | bob | " + archivetest.CAcceptBob,
			"carol | " + ts(-30*time.Minute) + " | apply | carol | " + archivetest.CApplyCarol,
		})
		check(t, "after carol's kick and eve's invitation", members(10*time.Minute), []string{
			"alice | " + ts(-60*time.Minute) + " | create | alice | " + archivetest.CCreate,
			"bob | " + ts(-40*time.Minute) + " | accept_invite | bob | " + archivetest.CAcceptBob,
			"dave | " + ts(-15*time.Minute) + " | accept_apply | alice | " + archivetest.CAcceptDave,
			"eve | " + ts(9*time.Minute) + " | invite | alice | " + archivetest.CInviteEve,
			"gina | " + ts(-5*time.Minute) + " | update_other | alice | " + archivetest.CUpdateOther,
		})
	})

	t.Run("chain_heads", func(t *testing.T) {
		rows := runJSON(t, conn, "chain_heads", map[string]string{})
		var got []string
		for _, r := range rows {
			got = append(got, fmt.Sprintf("%s %s %s %s %d", r["raw_partition"], r["first_offset"], r["head_offset"], r["records"], len(r["head_hash"])))
		}
		// Seed spreads its raw records round-robin over 3 partitions.
		n := len(seeded.Raw)
		var want []string
		for p := 0; p < archivetest.Partitions; p++ {
			k := (n - p + archivetest.Partitions - 1) / archivetest.Partitions
			want = append(want, fmt.Sprintf("%d 0 %d %d 64", p, k-1, k))
		}
		check(t, "heads", got, want)

		// The heads come from raw_chain's chain_heads projection (schema 0160), not from every chain
		// row, and are the heads the rows give.
		q, err := queries.Get("chain_heads")
		if err != nil {
			t.Fatal(err)
		}
		if plan := explain(t, conn, q.SQL, nil); !strings.Contains(plan, "ReadFromMergeTree (chain_heads)") {
			t.Errorf("chain_heads does not read raw_chain's chain_heads projection:\n%s", plan)
		}
		projected := querytest.Run(t, conn, stripHeader(q.SQL), nil)
		fromRows := querytest.Run(t, conn, stripHeader(q.SQL)+"SETTINGS optimize_use_projections = 0", nil)
		if fmt.Sprint(projected.Rows) != fmt.Sprint(fromRows.Rows) {
			t.Errorf("chain_heads from the projection:\n%v\nfrom the rows:\n%v", projected.Rows, fromRows.Rows)
		}
	})
}

// TestMessageSearch: the text search finds messages by their text as sent and by their edits,
// case-insensitively and in Chinese, and ClickHouse answers it with the n-gram index.
func TestMessageSearch(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	archivetest.Seed(t, conn)
	for _, tc := range []struct {
		app, text string
		want      []string
	}{
		{"", "世界", []string{"alice | sent,edit | " + archivetest.M1}},
		{"nk1", "final", []string{"bob | edit | " + archivetest.M2}},
		{"nk1", "BUDGET", []string{"bob | sent,edit | " + archivetest.M2}},
		{"", "加油", []string{"alice | edit | " + archivetest.M1}},
		{"", "早上好", []string{"u1 | sent | " + archivetest.I1}},
		{"ik1", "private", []string{"u1 | sent | " + archivetest.I3, "u2 | sent | " + archivetest.I4}},
		{"nk1", "private", []string{}},
		{"", "no such words", []string{}},
		{"", "", []string{}},
	} {
		rows := runJSON(t, conn, "message_search", with(wide, "app", tc.app, "text", tc.text))
		check(t, fmt.Sprintf("search %q in %q", tc.text, tc.app), project(rows, "sender", "matched_in", "event_id"), tc.want)
	}

	// The skip index is what answers it: the candidates (sent_hits, edit_hits) are read through
	// idx_body_ngram on both tables. They are sets of the main query (IN), which EXPLAIN does not
	// expand, so each is explained as the query it is.
	q, err := queries.Get("message_search")
	if err != nil {
		t.Fatal(err)
	}
	bound, err := q.Bind(with(wide, "app", "", "text", "budget"))
	if err != nil {
		t.Fatal(err)
	}
	ctes := cteQueries(q.SQL)
	for _, name := range []string{"sent_hits", "edit_hits"} {
		body, ok := ctes[name]
		if !ok {
			t.Fatalf("message_search has no %s", name)
		}
		plan := explain(t, conn, body, bound)
		if !strings.Contains(plan, "idx_body_ngram") {
			t.Errorf("%s is not read through idx_body_ngram:\n%s", name, plan)
		}
	}
}

// cte is one "name AS [MATERIALIZED]\n(\n…\n)" of a query's WITH clause, indented as queries/
// writes them.
var cte = regexp.MustCompile(`(?ms)^\s+([a-z_]+) AS( MATERIALIZED)?\n\s+\(\n(.*?)\n\s{4}\)`)

// cteQueries returns the queries of a WITH clause by name, each runnable alone: a query that reads an
// earlier CTE of the clause is given the CTEs before it in a WITH of its own.
func cteQueries(sql string) map[string]string {
	out := map[string]string{}
	var before []string
	for _, m := range cte.FindAllStringSubmatch(stripHeader(sql), -1) {
		query := m[3]
		if len(before) > 0 {
			query = "WITH " + strings.Join(before, ",\n") + "\n" + query
		}
		out[m[1]] = query
		before = append(before, m[1]+" AS"+m[2]+" (\n"+m[3]+"\n)")
	}
	return out
}

// explain returns EXPLAIN indexes = 1 of sql with the parameters bound.
func explain(t *testing.T, conn driver.Conn, sql string, params map[string]string) string {
	t.Helper()
	ctx := clickhouse.Context(context.Background(), clickhouse.WithParameters(params))
	rows, err := conn.Query(ctx, "EXPLAIN indexes = 1 "+stripHeader(sql))
	if err != nil {
		t.Fatalf("EXPLAIN: %v\n%s", err, sql)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}

func stripHeader(sql string) string {
	var b strings.Builder
	for _, l := range strings.Split(sql, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func mustExec(t *testing.T, conn driver.Conn, sql string, kv ...string) {
	t.Helper()
	params := clickhouse.Parameters{}
	for i := 0; i+1 < len(kv); i += 2 {
		params[kv[i]] = kv[i+1]
	}
	if err := conn.Exec(clickhouse.Context(context.Background(), clickhouse.WithParameters(params)), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestStatements: every compliance statement parses, and declares exactly the parameters it uses.
func TestStatements(t *testing.T) {
	all, err := queries.Statements()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no statements embedded")
	}
	for _, q := range all {
		declared := map[string]string{}
		for _, p := range q.Params {
			declared[p.Name] = p.Type
		}
		used := map[string]bool{}
		for _, m := range placeholder.FindAllStringSubmatch(q.SQL, -1) {
			used[m[1]] = true
			if want, ok := declared[m[1]]; !ok || want != strings.TrimSpace(m[2]) {
				t.Errorf("%s: SQL uses {%s:%s}, header says %q", q.Name, m[1], m[2], want)
			}
		}
		for name := range declared {
			if !used[name] {
				t.Errorf("%s: header declares %s, the SQL never uses it", q.Name, name)
			}
		}
	}
	// Statements are not named queries: imarchive query must not run a DELETE.
	if _, err := queries.Get("retention_delete"); err == nil {
		t.Error("retention_delete is reachable as a named query")
	}
}
