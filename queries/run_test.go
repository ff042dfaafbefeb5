package queries_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/queries"
)

// TestRunOutput: what imarchive query prints, on the real engine — a CSV of no rows still has its header,
// a table of none says "(0 rows)" under its column names, one row is "(1 row)", Chinese text is aligned by
// display width, and a Date column has no time.
func TestRunOutput(t *testing.T) {
	_, conn := testenv.Database(t)
	ctx := context.Background()
	q := queries.Query{Name: "t", Columns: []queries.Field{{Name: "day", Type: "Date"}, {Name: "at", Type: "DateTime64(3, 'UTC')"}, {Name: "body", Type: "String"}, {Name: "n", Type: "UInt64"}}}
	run := func(sql, format string) (string, int) {
		t.Helper()
		q.SQL = sql
		var buf bytes.Buffer
		n, err := queries.Run(ctx, conn, q, nil, format, &buf)
		if err != nil {
			t.Fatalf("%s as %s: %v", sql, format, err)
		}
		return buf.String(), n
	}
	const none = `SELECT toDate('2026-03-01') AS day, toDateTime64('2026-03-01 10:00:00', 3, 'UTC') AS at, 'x' AS body, toUInt64(1) AS n WHERE 0`
	if out, n := run(none, "csv"); n != 0 || out != "day,at,body,n\n" {
		t.Errorf("CSV of no rows = %q (%d rows), want the header alone", out, n)
	}
	if out, _ := run(none, "table"); out != "day  at  body  n\n---  --  ----  -\n(0 rows)\n" {
		t.Errorf("table of no rows =\n%s", out)
	}
	if out, _ := run(none, "json"); out != "" {
		t.Errorf("JSON lines of no rows = %q, want nothing", out)
	}

	one := strings.Replace(none, " WHERE 0", "", 1)
	if out, _ := run(one, "table"); !strings.HasSuffix(out, "\n(1 row)\n") || !strings.Contains(out, "2026-03-01  2026-03-01 10:00:00.000  x") {
		t.Errorf("table of one row =\n%s", out)
	}
	if out, _ := run(one, "csv"); out != "day,at,body,n\n2026-03-01,2026-03-01 10:00:00.000,x,1\n" {
		t.Errorf("CSV of one row = %q: a Date prints without a time, a DateTime64(3) with milliseconds", out)
	}

	const cjk = `SELECT * FROM values('day Date, at DateTime64(3, \'UTC\'), body String, n UInt64',
		('2026-03-01', '2026-03-01 10:00:00', '你好世界', 1), ('2026-03-02', '2026-03-02 10:00:00', 'hello', 22)) ORDER BY n`
	out, _ := run(cjk, "table")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 5 || lines[4] != "(2 rows)" {
		t.Fatalf("table =\n%s", out)
	}
	// The column after body starts at the same terminal column on every line: 你好世界 is 8 columns wide
	// (4 characters, 12 bytes).
	for _, l := range lines[2:4] {
		if w := displayCol(l, "  1"); w < 0 && displayCol(l, "  22") < 0 {
			t.Fatalf("no n column in %q", l)
		}
	}
	if a, b := displayCol(lines[2], "  1"), displayCol(lines[3], "  22"); a != b || a != displayCol(lines[0], "  n") {
		t.Errorf("n starts at display columns %d, %d and %d (header): not aligned\n%s", a, b, displayCol(lines[0], "  n"), out)
	}
}

// displayCol is the terminal column at which suffix starts in line (a CJK character counts two), or -1.
func displayCol(line, suffix string) int {
	if !strings.HasSuffix(line, suffix) {
		return -1
	}
	col := 0
	for _, r := range strings.TrimSuffix(line, suffix) {
		col++
		if r >= 0x2E80 { // CJK and beyond: wide (enough for this test's text)
			col++
		}
	}
	return col
}
