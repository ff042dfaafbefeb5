package access_test

// What the analyst may not read, checked on the real engine as far as it goes. chDB cannot enforce
// a grant, so these tests use what it can tell: which columns a query reads from each table
// (EXPLAIN PLAN's read steps, after ClickHouse prunes what the query does not need), and which
// tables a view reads (its definition). Enforcement — that the server checks the same columns — is
// ClickHouse's and runs only with a real server (docker compose).

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/queries"
)

// auditorOnlyObjects: who is under a legal hold and why.
var auditorOnlyObjects = map[string]bool{"legal_holds": true, "legal_holds_active": true, "held_events": true}

// auditorQueries need what the analyst may not read: raw payloads, attrs, the legal holds.
var auditorQueries = map[string]bool{
	"raw_payload":       true, // the payload as received
	"legal_holds":       true, // who is held and why
	"server_members_at": true, // the servers' invitemode, applymode and owner, from attrs
}

// withheld names the columns no analyst grant may cover: every payload field verbatim (attrs, and
// since schema 0096 its storage attrs_rest, attrs_promoted and the attrs_full, attrs_columns built
// from them), and client IP addresses.
var withheld = regexp.MustCompile(`^(attrs|attrs_[a-z]+|[a-z_]*_ip)$`)

var revokeRe = regexp.MustCompile("^REVOKE SELECT\\((.+)\\) ON `[^`]+`\\.([A-Za-z0-9_]+) FROM `([^`]+)`$")

// analystColumns returns, per object granted to the analyst, the columns revoked from that grant
// (or, for a column-limited grant, every column not granted).
func analystAccess(t *testing.T, conn driver.Conn, db string) (granted map[string]bool, denied map[string]map[string]bool) {
	t.Helper()
	stmts, err := testConfig(db).Statements()
	if err != nil {
		t.Fatal(err)
	}
	granted, denied = map[string]bool{}, map[string]map[string]bool{}
	cols := columnsOf(t, conn, db)
	for _, s := range stmts {
		if m := grantRe.FindStringSubmatch(s.SQL); m != nil && m[3] == "imarchive_role_analyst" {
			granted[m[2]] = true
			if c := columnsRe.FindStringSubmatch(m[1]); c != nil {
				allowed := map[string]bool{}
				for _, name := range strings.Split(c[1], ",") {
					allowed[strings.TrimSpace(name)] = true
				}
				for _, name := range cols[m[2]] {
					if !allowed[name] {
						deny(denied, m[2], name)
					}
				}
			}
		}
		if m := revokeRe.FindStringSubmatch(s.SQL); m != nil && m[3] == "imarchive_role_analyst" {
			for _, name := range strings.Split(m[1], ",") {
				deny(denied, m[2], strings.TrimSpace(name))
			}
		}
	}
	return granted, denied
}

func deny(denied map[string]map[string]bool, obj, col string) {
	if denied[obj] == nil {
		denied[obj] = map[string]bool{}
	}
	denied[obj][col] = true
}

func columnsOf(t *testing.T, conn driver.Conn, db string) map[string][]string {
	t.Helper()
	ctx := clickhouse.Context(context.Background(), clickhouse.WithParameters(map[string]string{"db": db}))
	rows, err := conn.Query(ctx, "SELECT table, name FROM system.columns WHERE database = {db:String} ORDER BY table, position")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, name string
		if err := rows.Scan(&table, &name); err != nil {
			t.Fatal(err)
		}
		out[table] = append(out[table], name)
	}
	return out
}

// readColumns is every column a query reads from a table, from the read steps of its plan.
func readColumns(t *testing.T, conn driver.Conn, sql string, params map[string]string) ([]string, error) {
	t.Helper()
	// Without PREWHERE, so that a column read only to filter shows in the read step's header.
	ctx := clickhouse.Context(context.Background(), clickhouse.WithParameters(params), clickhouse.WithSettings(clickhouse.Settings{
		"optimize_move_to_prewhere": 0, "query_plan_optimize_prewhere": 0, "optimize_trivial_count_query": 0}))
	rows, err := conn.Query(ctx, "EXPLAIN PLAN header = 1 "+sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	inRead, inHeader := false, false
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		body := strings.TrimLeft(line, " │└─├")
		switch {
		case strings.HasPrefix(body, "ReadFrom"), strings.HasPrefix(body, "ReadNothing"):
			inRead, inHeader = true, false
		case strings.Contains(line, "──"): // the next step
			inRead, inHeader = false, false
		case inRead && strings.HasPrefix(body, "Header: "):
			inHeader = true
			out = append(out, strings.Fields(strings.TrimPrefix(body, "Header: "))[0])
		case inHeader && len(strings.Fields(body)) >= 2 && !strings.Contains(body, ": "):
			out = append(out, strings.Fields(body)[0])
		default:
			inHeader = false
		}
	}
	return out, rows.Err()
}

// TestAnalystWithheldColumns: in every object the analyst may read, attrs and every *_ip column are
// withheld; a view column the analyst may read does not read them either (under the invoker's rights
// a column computed from attrs would need attrs: the plan shows what it reads); a view the analyst
// may read reads only objects the analyst may read; and a withheld view column really needs a
// withheld one (nothing is withheld for nothing).
func TestAnalystWithheldColumns(t *testing.T) {
	db, conn := migrated(t)
	granted, denied := analystAccess(t, conn, db)
	cols := columnsOf(t, conn, db)
	ctx := clickhouse.Context(context.Background(), clickhouse.WithParameters(map[string]string{"db": db}))
	rows, err := conn.Query(ctx, "SELECT name, engine, as_select FROM system.tables WHERE database = {db:String}")
	if err != nil {
		t.Fatal(err)
	}
	views := map[string]string{}
	for rows.Next() {
		var name, engine, as string
		if err := rows.Scan(&name, &engine, &as); err != nil {
			t.Fatal(err)
		}
		if engine == "View" {
			views[name] = as
		}
	}
	rows.Close()
	checked := 0
	for obj := range granted {
		for _, col := range cols[obj] {
			if withheld.MatchString(col) && !denied[obj][col] {
				t.Errorf("the analyst may read %s.%s", obj, col)
			}
			as, isView := views[obj]
			if !isView || withheld.MatchString(col) {
				continue
			}
			read, err := readColumns(t, conn, "SELECT `"+col+"` FROM `"+db+"`.`"+obj+"`", nil)
			if err != nil {
				if strings.Contains(as, "{") { // a parameterized view
					continue
				}
				t.Fatalf("%s.%s: %v", obj, col, err)
			}
			checked++
			needs := ""
			for _, r := range read {
				if withheld.MatchString(r) {
					needs = r
				}
			}
			switch {
			case needs != "" && !denied[obj][col]:
				t.Errorf("view column %s.%s reads %s: revoke it from the analyst", obj, col, needs)
			case needs == "" && denied[obj][col] && !strings.HasPrefix(obj, "raw_callbacks"):
				t.Errorf("view column %s.%s is withheld, but reads nothing withheld (%v)", obj, col, read)
			}
		}
		if as, ok := views[obj]; ok {
			for _, m := range regexp.MustCompile("(?:FROM|JOIN) `?"+regexp.QuoteMeta(db)+"`?\\.`?([A-Za-z0-9_]+)").FindAllStringSubmatch(as, -1) {
				if !granted[m[1]] {
					t.Errorf("view %s, granted to the analyst, reads %s, which is not", obj, m[1])
				}
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d view columns checked: the plan reader no longer reads the plans", checked)
	}
	t.Logf("%d view columns checked; withheld: %v", checked, denied)
}

// TestAnalystQueriesReadNoWithheldColumn: every named query but the auditors' (and so every
// dashboard panel, which runs these files as the analyst) reads no withheld column and names only
// objects the analyst may read; each auditor query does need something the analyst may not read
// (else it should be the analyst's too).
func TestAnalystQueriesReadNoWithheldColumn(t *testing.T) {
	db, conn := migrated(t)
	granted, _ := analystAccess(t, conn, db)
	all, err := queries.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range all {
		// Twice, with empty and with given filters and a range that is not empty, so that no branch
		// of the query is folded away as a constant before its columns are counted.
		var read []string
		for _, filled := range []bool{false, true} {
			params := map[string]string{}
			for _, p := range q.Params {
				params[p.Name] = planParam(p.Name, p.Type, filled)
			}
			bound, err := q.Bind(params)
			if err != nil {
				t.Fatalf("%s: %v", q.Name, err)
			}
			r, err := readColumns(t, conn, q.SQL, bound)
			if err != nil {
				t.Fatalf("%s: %v", q.Name, err)
			}
			read = append(read, r...)
		}
		var bad []string
		for _, r := range read {
			if withheld.MatchString(r) {
				bad = append(bad, r)
			}
		}
		for _, m := range regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*)`).FindAllStringSubmatch(q.SQL, -1) {
			if !granted[m[1]] && isObject(t, conn, db, m[1]) {
				bad = append(bad, m[1])
			}
		}
		sort.Strings(bad)
		switch {
		case auditorQueries[q.Name] && len(bad) == 0 && q.Name != "raw_payload":
			t.Errorf("%s is listed as the auditors', but reads nothing the analyst may not", q.Name)
		case !auditorQueries[q.Name] && len(bad) > 0:
			t.Errorf("%s reads what the analyst may not: %v", q.Name, bad)
		}
	}
}

func isObject(t *testing.T, conn driver.Conn, db, name string) bool {
	t.Helper()
	var n uint64
	ctx := clickhouse.Context(context.Background(), clickhouse.WithParameters(map[string]string{"db": db, "n": name}))
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = {db:String} AND name = {n:String}").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// planParam is a parameter value for planning a query: a range from 2026 to 2027, and filters
// either empty (all) or given.
func planParam(name, typ string, filled bool) string {
	switch {
	case strings.HasPrefix(typ, "DateTime") && (name == "to" || strings.HasSuffix(name, "_to")):
		return "2027-01-01 00:00:00"
	case strings.HasPrefix(typ, "DateTime"):
		return "2026-01-01 00:00:00"
	case strings.HasPrefix(typ, "UInt"), strings.HasPrefix(typ, "Int"):
		if filled || typ == "UInt8" || typ == "Int8" {
			return "1" // a flag, or a value the query's type can hold
		}
		return "3600"
	case strings.HasPrefix(typ, "Array"):
		if filled {
			return "['x']"
		}
		return "[]"
	case filled:
		return "x"
	}
	return ""
}

// TestHoldChangesOnlyByAuditor: a hold is placed or released by an INSERT into legal_holds; of the
// roles, only the auditor may do it — the writer's INSERT on the database is revoked there (and on
// the retention log), the analyst has no INSERT at all. (The statements are checked; that the server
// enforces them needs a real server.)
func TestHoldChangesOnlyByAuditor(t *testing.T) {
	stmts, err := testConfig("imarchive").Statements()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, s := range stmts {
		have[s.SQL] = true
		if strings.Contains(s.SQL, "INSERT") && strings.HasSuffix(s.SQL, "TO `imarchive_role_analyst`") {
			t.Errorf("the analyst may insert: %s", s.SQL)
		}
	}
	for _, want := range []string{
		"REVOKE INSERT ON `imarchive`.legal_holds FROM `imarchive_role_writer`",
		"REVOKE INSERT ON `imarchive`.retention_runs FROM `imarchive_role_writer`",
		"GRANT INSERT ON `imarchive`.legal_holds TO `imarchive_role_auditor`",
	} {
		if !have[want] {
			t.Errorf("roles.sql lacks %s", want)
		}
	}
}
