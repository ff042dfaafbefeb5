package schema

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/imarchive/imarchive/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the cluster rendering's golden files (testdata/cluster)")

// TestClusterRenderCases: each kind of statement, rendered for cluster "c" and database "db"; the
// expected statements are written out by hand.
func TestClusterRenderCases(t *testing.T) {
	const on = " ON CLUSTER 'c'"
	dist := func(name, key string) string {
		return "CREATE TABLE IF NOT EXISTS " + name + on + " AS " + name + "_local\nENGINE = Distributed('c', 'db', '" + name + "_local', " + key + ")"
	}
	cases := []struct {
		name string
		in   []string // earlier statements first; the last one's rendering is checked
		want []string
	}{
		{"a ReplacingMergeTree written with tokens",
			[]string{"CREATE TABLE IF NOT EXISTS t (a String, v UInt64) ENGINE = ReplacingMergeTree(v) PARTITION BY a ORDER BY (a, v) SETTINGS non_replicated_deduplication_window = 1000, index_granularity = 8192 COMMENT 'T'"},
			[]string{
				"CREATE TABLE IF NOT EXISTS t_local" + on + " (a String, v UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', v) PARTITION BY a ORDER BY (a, v) SETTINGS replicated_deduplication_window = 1000, replicated_deduplication_window_seconds = 604800, index_granularity = 8192 COMMENT 'T'",
				dist("t", "cityHash64(a, v)") + "\nCOMMENT 'T'",
			}},
		{"an AggregatingMergeTree without arguments, keyed by one column",
			[]string{"CREATE TABLE agg (k String, s AggregateFunction(max, UInt8)) ENGINE = AggregatingMergeTree ORDER BY k"},
			[]string{
				"CREATE TABLE agg_local" + on + " (k String, s AggregateFunction(max, UInt8)) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') ORDER BY k",
				"CREATE TABLE agg" + on + " AS agg_local\nENGINE = Distributed('c', 'db', 'agg_local', cityHash64(k))",
			}},
		{"a MergeTree with no sorting key",
			[]string{"CREATE TABLE log (m String) ENGINE = MergeTree() ORDER BY tuple()"},
			[]string{
				"CREATE TABLE log_local" + on + " (m String) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') ORDER BY tuple()",
				"CREATE TABLE log" + on + " AS log_local\nENGINE = Distributed('c', 'db', 'log_local', rand())",
			}},
		{"a table of another engine",
			[]string{"CREATE TABLE IF NOT EXISTS buf (a String) ENGINE = Null"},
			[]string{"CREATE TABLE IF NOT EXISTS buf" + on + " (a String) ENGINE = Null"}},
		{"a copy of a storage table's structure",
			[]string{"CREATE TABLE t (a String) ENGINE = MergeTree ORDER BY a", "CREATE TABLE IF NOT EXISTS t2 AS t"},
			[]string{"CREATE TABLE IF NOT EXISTS t2_local" + on + " AS t_local", dist("t2", "cityHash64(a)")}},
		{"a view: ON CLUSTER, reading the Distributed tables",
			[]string{"CREATE TABLE t (a String) ENGINE = MergeTree ORDER BY a", "CREATE OR REPLACE VIEW v\n(\n    a String COMMENT 'x'\n)\nAS SELECT a FROM t FINAL"},
			[]string{"CREATE OR REPLACE VIEW v" + on + "\n(\n    a String COMMENT 'x'\n)\nAS SELECT a FROM t FINAL"}},
		{"a materialized view: into the local target, reading the local tables",
			[]string{"CREATE TABLE src (a String) ENGINE = MergeTree ORDER BY a", "CREATE TABLE agg (a String) ENGINE = AggregatingMergeTree ORDER BY a",
				"CREATE MATERIALIZED VIEW IF NOT EXISTS mv TO agg (a String) AS SELECT a FROM src AS s JOIN src AS o ON s.a = o.a WHERE a IN (SELECT a FROM src)"},
			[]string{"CREATE MATERIALIZED VIEW IF NOT EXISTS mv" + on + " TO agg_local (a String) AS SELECT a FROM src_local AS s JOIN src_local AS o ON s.a = o.a WHERE a IN (SELECT a FROM src_local)"}},
		{"ALTER: every command on the local tables, the column commands on the Distributed table too",
			[]string{"CREATE TABLE t (a String) ENGINE = MergeTree ORDER BY a",
				"ALTER TABLE t ADD COLUMN IF NOT EXISTS b Map(String, String) CODEC(ZSTD(3)) COMMENT 'b, c', ADD INDEX i b TYPE bloom_filter GRANULARITY 1, COMMENT COLUMN a 'the a', MODIFY SETTING non_replicated_deduplication_window = 10"},
			[]string{
				"ALTER TABLE t_local" + on + " ADD COLUMN IF NOT EXISTS b Map(String, String) CODEC(ZSTD(3)) COMMENT 'b, c', ADD INDEX i b TYPE bloom_filter GRANULARITY 1, COMMENT COLUMN a 'the a', MODIFY SETTING replicated_deduplication_window = 10",
				"ALTER TABLE t" + on + "\n    ADD COLUMN IF NOT EXISTS b Map(String, String) COMMENT 'b, c',\n    COMMENT COLUMN a 'the a'",
			}},
		{"ALTER of a storage table without column commands",
			[]string{"CREATE TABLE t (a String) ENGINE = MergeTree ORDER BY a", "ALTER TABLE t MATERIALIZE INDEX i"},
			[]string{"ALTER TABLE t_local" + on + " MATERIALIZE INDEX i"}},
		{"ALTER of a view",
			[]string{"ALTER TABLE v MODIFY COMMENT 'x'"},
			[]string{"ALTER TABLE v" + on + " MODIFY COMMENT 'x'"}},
		{"a lightweight DELETE",
			[]string{"CREATE TABLE t (a String) ENGINE = MergeTree ORDER BY a", "DELETE FROM t WHERE a = 'x'"},
			[]string{"DELETE FROM t_local" + on + " WHERE a = 'x'"}},
		{"INSERT … SELECT, once through the Distributed tables",
			[]string{"CREATE TABLE t (a String) ENGINE = MergeTree ORDER BY a", "INSERT INTO t SELECT a FROM t"},
			[]string{"INSERT INTO t SELECT a FROM t"}},
		{"DROP of a storage table: both",
			[]string{"CREATE TABLE t (a String) ENGINE = MergeTree ORDER BY a", "DROP TABLE IF EXISTS t"},
			[]string{"DROP TABLE IF EXISTS t" + on + " SYNC", "DROP TABLE IF EXISTS t_local" + on + " SYNC"}},
		{"DROP of a view",
			[]string{"DROP VIEW IF EXISTS v"},
			[]string{"DROP VIEW IF EXISTS v" + on + " SYNC"}},
		{"RENAME of a storage table: the local table moves, the Distributed one is made again",
			[]string{"CREATE TABLE t (a String) ENGINE = MergeTree ORDER BY a", "RENAME TABLE IF EXISTS t TO t_old, v TO v2"},
			[]string{"RENAME TABLE IF EXISTS t_local TO t_old_local" + on, "DROP TABLE IF EXISTS t" + on + " SYNC",
				"CREATE TABLE t_old" + on + " AS t_old_local\nENGINE = Distributed('c', 'db', 't_old_local', cityHash64(a))",
				"RENAME TABLE IF EXISTS v TO v2" + on}},
		{"EXCHANGE of two storage tables (a new sorting key)",
			[]string{"CREATE TABLE t (a String, b String) ENGINE = MergeTree ORDER BY a", "CREATE TABLE t_new (a String, b String) ENGINE = MergeTree ORDER BY (b, a)", "EXCHANGE TABLES t_new AND t"},
			[]string{"EXCHANGE TABLES t_new_local AND t_local" + on, "DROP TABLE IF EXISTS t_new" + on + " SYNC", "DROP TABLE IF EXISTS t" + on + " SYNC",
				"CREATE TABLE t_new" + on + " AS t_new_local\nENGINE = Distributed('c', 'db', 't_new_local', cityHash64(a))",
				"CREATE TABLE t" + on + " AS t_local\nENGINE = Distributed('c', 'db', 't_local', cityHash64(b, a))"}},
		{"comments and quotes do not confuse it",
			[]string{"CREATE TABLE `q` (a String COMMENT 'ENGINE = x -- ORDER BY'/* ORDER BY z */) ENGINE = MergeTree -- ENGINE = Log\nORDER BY a"},
			[]string{"CREATE TABLE q_local" + on + " (a String COMMENT 'ENGINE = x -- ORDER BY'/* ORDER BY z */) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') -- ENGINE = Log\nORDER BY a",
				"CREATE TABLE q" + on + " AS q_local\nENGINE = Distributed('c', 'db', 'q_local', cityHash64(a))"}},
	}
	for _, c := range cases {
		r, err := NewCluster("c", "db")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range c.in {
			if got, err = r.Render(s); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got: %q\nwant: %q", c.name, got, c.want)
		}
	}
}

// TestClusterRenderRefuses: what the rendering cannot do right is refused, naming the statement.
func TestClusterRenderRefuses(t *testing.T) {
	for _, s := range []string{
		"CREATE TABLE t ENGINE = MergeTree ORDER BY a AS SELECT 1 AS a",
		"CREATE MATERIALIZED VIEW mv ENGINE = MergeTree ORDER BY a AS SELECT 1 AS a",
		"CREATE TABLE t (a String) ENGINE = ReplicatedMergeTree('/p', 'r') ORDER BY a",
		"CREATE TABLE other.t (a String) ENGINE = MergeTree ORDER BY a",
		"ALTER TABLE t ON CLUSTER x DROP COLUMN a",
		"SYSTEM STOP MERGES",
		"GRANT SELECT ON db.* TO r",
	} {
		r, _ := NewCluster("c", "db")
		if _, err := r.Render(s); !errors.Is(err, ErrClusterUnsupported) || !strings.Contains(err.Error(), firstLine(s)) {
			t.Errorf("%s: got %v, want ErrClusterUnsupported naming it", s, err)
		}
	}
	if _, err := NewCluster("bad name", "db"); err == nil {
		t.Error("a cluster name with a space: want an error")
	}
	if _, err := NewCluster("c", "x{y}"); err == nil {
		t.Error("a database name with a macro: want an error")
	}
}

// clusterRendering is the embedded schema rendered for cluster "imarchive", database "imarchive".
func clusterRendering(t *testing.T) []Migration {
	t.Helper()
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := RenderCluster(ms, "imarchive", "imarchive")
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func goldenName(m Migration) string { return fmt.Sprintf("%04d_%s.sql", m.Version, m.Name) }

func goldenText(m Migration) string {
	return fmt.Sprintf("-- %04d_%s rendered for cluster 'imarchive', database imarchive (imarchive migrate --cluster).\n-- Generated by go test ./schema -run TestClusterGolden -update; do not edit.\n\n%s;\n",
		m.Version, m.Name, strings.Join(m.Statements, ";\n\n"))
}

// TestClusterGolden: the rendering of every migration is the one in testdata/cluster (go test
// ./schema -run TestClusterGolden -update rewrites them after a change is reviewed), and every
// golden file is a migration's.
func TestClusterGolden(t *testing.T) {
	dir := filepath.Join("testdata", "cluster")
	rs := clusterRendering(t)
	if *update {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{}
	for _, m := range rs {
		name := goldenName(m)
		want[name] = true
		path := filepath.Join(dir, name)
		if *update {
			if err := os.WriteFile(path, []byte(goldenText(m)), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (a new migration? review its rendering and run go test ./schema -run TestClusterGolden -update)", name, err)
			continue
		}
		if string(b) != goldenText(m) {
			t.Errorf("%s: the rendering differs from the golden file (review, then go test ./schema -run TestClusterGolden -update)", path)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("testdata/cluster/%s renders no migration", e.Name())
		}
	}
}

// TestClusterStatementsParse: every statement of the rendering parses with the engine's own parser
// (EXPLAIN AST), and — read against the single-server schema as the engine built it (system.tables
// of a migrated database, not this package's idea of it) — every storage table has a local table of
// the Replicated engine of its family and a Distributed table of its name sharded by its sorting key,
// and every view and materialized view is created on the cluster.
func TestClusterStatementsParse(t *testing.T) {
	_, conn := testenv.Database(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, conn, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, m := range clusterRendering(t) {
		all = append(all, m.Statements...)
	}
	formatted := make([]string, len(all))
	for i, stmt := range all {
		if err := conn.Exec(ctx, "EXPLAIN AST "+stmt); err != nil {
			t.Errorf("statement %d does not parse: %v\n%s", i+1, err, stmt)
			continue
		}
		// The engine's own formatting of the statement, to read it back below.
		lit := "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(stmt) + "'"
		if err := conn.QueryRow(ctx, "SELECT formatQuerySingleLine("+lit+")").Scan(&formatted[i]); err != nil {
			t.Errorf("statement %d: formatQuery: %v", i+1, err)
		}
	}
	text := strings.Join(formatted, "\n")
	for i, f := range formatted {
		if f != "" && !strings.HasPrefix(f, "INSERT") && !strings.HasPrefix(f, "SELECT") && !strings.Contains(f, " ON CLUSTER imarchive") {
			t.Errorf("statement %d is not ON CLUSTER: %s", i+1, f)
		}
	}

	rows, err := conn.Query(ctx, `SELECT name, engine, sorting_key FROM system.tables WHERE database = currentDatabase() ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name, engine, key string
		if err := rows.Scan(&name, &engine, &key); err != nil {
			t.Fatal(err)
		}
		n++
		switch {
		case strings.HasSuffix(engine, "MergeTree"):
			// Created as NAME_local, or created under another name and renamed to it.
			created := func(local string) bool {
				return regexp.MustCompile(`CREATE TABLE (IF NOT EXISTS )?` + regexp.QuoteMeta(local) + ` ON CLUSTER imarchive .*ENGINE = Replicated` + engine + `\('/clickhouse/tables/\{uuid\}/\{shard\}', '\{replica\}'`).MatchString(text)
			}
			ok := created(name + "_local")
			for _, m := range regexp.MustCompile(`RENAME TABLE (IF EXISTS )?(\w+) TO `+regexp.QuoteMeta(name)+`_local ON CLUSTER imarchive`).FindAllStringSubmatch(text, -1) {
				ok = ok || created(m[2])
			}
			if !ok {
				t.Errorf("%s (%s): no local table of engine Replicated%s", name, engine, engine)
			}
			shard := "rand()"
			if key != "" {
				shard = "cityHash64(" + key + ")"
			}
			distributed := `CREATE TABLE (IF NOT EXISTS )?` + regexp.QuoteMeta(name) + ` ON CLUSTER imarchive AS ` + regexp.QuoteMeta(name) + `_local ENGINE = Distributed\('imarchive', 'imarchive', '` + regexp.QuoteMeta(name) + `_local', ` + regexp.QuoteMeta(shard) + `\)`
			if !regexp.MustCompile(distributed).MatchString(text) {
				t.Errorf("%s: no Distributed table sharded by %s", name, shard)
			}
		case engine == "View" || engine == "MaterializedView":
			if !regexp.MustCompile(`CREATE (OR REPLACE )?(MATERIALIZED )?VIEW (IF NOT EXISTS )?` + regexp.QuoteMeta(name) + ` ON CLUSTER imarchive`).MatchString(text) {
				t.Errorf("%s (%s): not created on the cluster", name, engine)
			}
		default:
			t.Errorf("%s: engine %s, which the cluster rendering was not checked for", name, engine)
		}
	}
	if n == 0 {
		t.Fatal("the migrated database has no tables")
	}
	t.Logf("%d statements parsed; %d objects of the single-server schema checked", len(all), n)
}
