package queries_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/queries"
	"github.com/imarchive/imarchive/queries/querytest"
)

// TestTableParts: table_parts (Ingest health's parts per table) lists the seeded database's tables and
// no other database's, one row per table: exact numbers for a table whose merges are stopped, and for
// the seeded ones, whose parts move with background merges, numbers that hold together (a table with
// rows has a part, a part is in a partition, no partition holds more parts than the table, the rows
// are at least those FINAL reads: repeats not yet merged count too).
func TestTableParts(t *testing.T) {
	conn, _ := seeded(t)
	_, other := testenv.Database(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := other.Exec(ctx, "CREATE TABLE only_elsewhere (x UInt8) ENGINE = MergeTree ORDER BY x"); err != nil {
		t.Fatal(err)
	}
	if err := other.Exec(ctx, "INSERT INTO only_elsewhere VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	// A table whose parts are known: merges stopped, three inserts into two partitions.
	for _, stmt := range []string{
		"CREATE TABLE parts_probe (p UInt8) ENGINE = MergeTree PARTITION BY p ORDER BY p",
		"SYSTEM STOP MERGES parts_probe",
		"INSERT INTO parts_probe VALUES (1)", "INSERT INTO parts_probe VALUES (2)", "INSERT INTO parts_probe VALUES (2), (2)",
	} {
		if err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	q, err := queries.Get("table_parts")
	if err != nil {
		t.Fatal(err)
	}
	res := querytest.Run(t, conn, q.SQL, nil)
	checkHeader(t, q, res)
	tables := querytest.Run(t, conn, "SELECT name FROM system.tables WHERE database = currentDatabase()", nil)
	mine := map[string]bool{}
	for _, r := range tables.Rows {
		mine[r[0]] = true
	}
	num := func(s string) uint64 {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		return n
	}
	seen := map[string]bool{}
	for _, r := range res.Rows {
		table, parts, partitions, maxParts, rows, bytes := r[0], num(r[1]), num(r[2]), num(r[3]), num(r[4]), num(r[5])
		if !mine[table] || seen[table] {
			t.Errorf("table %s: not of this database, or listed twice", table)
		}
		seen[table] = true
		if table == "parts_probe" && (parts != 3 || partitions != 2 || maxParts != 2 || rows != 4) {
			t.Errorf("parts_probe: %d parts, %d partitions, at most %d in one, %d rows; want 3, 2, 2, 4", parts, partitions, maxParts, rows)
		}
		if parts < 1 || partitions < 1 || partitions > parts || maxParts < 1 || maxParts > parts || (rows > 0) != (bytes > 0) {
			t.Errorf("%s: %d parts, %d partitions, at most %d in one, %d rows, %d bytes: these do not hold together", table, parts, partitions, maxParts, rows, bytes)
		}
	}
	for _, table := range []string{"messages_data", "presence_events_data", "community_events_data", "raw_callbacks_data"} {
		if !seen[table] {
			t.Errorf("%s holds the seed but is not listed", table)
			continue
		}
		final := querytest.Run(t, conn, "SELECT count() FROM "+table+" FINAL", nil)
		for _, r := range res.Rows {
			if r[0] == table && num(r[4]) < num(final.Rows[0][0]) {
				t.Errorf("%s: %s rows in its parts, fewer than the %s FINAL reads", table, r[4], final.Rows[0][0])
			}
		}
	}
}
