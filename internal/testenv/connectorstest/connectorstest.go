// Package connectorstest has test helpers for the connectors: a migrated ClickHouse database and the
// named queries run as an analyst would run them.
package connectorstest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/queries"
	"github.com/imarchive/imarchive/schema"
)

// Database returns a fresh ClickHouse database with every migration applied (testenv.Database; skips
// without IMARCHIVE_TEST_CLICKHOUSE_DSN), its DSN and a connection.
func Database(t testing.TB) (string, driver.Conn) {
	t.Helper()
	dsn, conn := testenv.Database(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := schema.Migrate(ctx, conn, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return dsn, conn
}

// Query runs a named query from queries/ with params and returns its rows as JSON objects (times as
// "2006-01-02 15:04:05.000" UTC text, as imarchive query --format json prints them).
func Query(t testing.TB, conn driver.Conn, name string, params map[string]string) []map[string]any {
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
	if _, err := queries.Run(context.Background(), conn, q, bound, "json", &buf); err != nil {
		t.Fatalf("query %s %v: %v", name, params, err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("query %s: %v", name, err)
		}
		out = append(out, row)
	}
	return out
}

// Column returns one column of rows as text.
func Column(rows []map[string]any, col string) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		switch v := r[col].(type) {
		case string:
			out = append(out, v)
		case nil:
			out = append(out, "")
		default:
			b, _ := json.Marshal(v)
			out = append(out, string(b))
		}
	}
	return out
}

// Time formats t as the queries print and take it.
func Time(t time.Time) string { return t.UTC().Format(queries.TimeLayout) }
