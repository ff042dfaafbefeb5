package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/compliance/audit"
	"github.com/imarchive/imarchive/internal/testenv/archivetest"
	"github.com/imarchive/imarchive/queries"
)

func exec(t *testing.T, conn driver.Conn, sql string, args ...any) {
	t.Helper()
	ctx := clickhouse.Context(context.Background(), clickhouse.WithSettings(clickhouse.Settings{"mutations_sync": 2}))
	if err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func verify(t *testing.T, conn driver.Conn, anchors ...audit.Anchor) audit.Report {
	t.Helper()
	rep, err := audit.Verify(context.Background(), conn, audit.Range{
		From: archivetest.T0.Add(-24 * time.Hour), To: archivetest.T0.Add(24 * time.Hour), Anchors: anchors, Window: 4,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func breaks(rep audit.Report) []string {
	out := []string{}
	for _, b := range rep.Breaks {
		out = append(out, fmt.Sprintf("%d/%d %s", b.Partition, b.Offset, b.Kind))
	}
	return out
}

// rec finds the seeded raw record at (partition, offset).
func rec(t *testing.T, s archivetest.Seeded, p int32, o int64) *kgo.Record {
	t.Helper()
	for _, r := range s.Raw {
		if r.Partition == p && r.Offset == o {
			return r
		}
	}
	t.Fatalf("no seeded record at %d/%d", p, o)
	return nil
}

// TestVerifyIntact: the seeded archive verifies: every record checked, every version matched, the
// heads reported.
func TestVerifyIntact(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	s := archivetest.Seed(t, conn)
	rep := verify(t, conn)
	if !rep.OK() {
		t.Fatalf("breaks in an untouched archive: %v", rep.Breaks)
	}
	if rep.Checked() != len(s.Raw) {
		t.Errorf("checked %d chain rows, seeded %d raw records", rep.Checked(), len(s.Raw))
	}
	matched := 0
	for _, p := range rep.Partitions {
		matched += p.Matched
	}
	if matched != len(s.Raw) || len(rep.Heads) != archivetest.Partitions {
		t.Errorf("matched %d of %d; %d heads", matched, len(s.Raw), len(rep.Heads))
	}
	// A range that holds nothing checks nothing and finds nothing.
	empty, err := audit.Verify(context.Background(), conn, audit.Range{From: archivetest.T0.Add(-48 * time.Hour), To: archivetest.T0.Add(-47 * time.Hour)}, nil)
	if err != nil || !empty.OK() || empty.Checked() != 0 {
		t.Errorf("empty range: %d checked, breaks %v, err %v", empty.Checked(), empty.Breaks, err)
	}
}

// TestVerifyFindsTampering: each way of tampering with the raw archive is found, at the right place,
// as the first break.
func TestVerifyFindsTampering(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	s := archivetest.Seed(t, conn)
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, conn driver.Conn, s archivetest.Seeded)
		want   []string
	}{
		{"body altered", func(t *testing.T, conn driver.Conn, s archivetest.Seeded) {
			exec(t, conn, "ALTER TABLE raw_callbacks_data UPDATE body = concat(body, ' ') WHERE raw_partition = 1 AND raw_offset = 2")
		}, []string{"1/2 altered"}},
		{"headers altered", func(t *testing.T, conn driver.Conn, s archivetest.Seeded) {
			exec(t, conn, "ALTER TABLE raw_callbacks_data UPDATE http_headers = mapUpdate(http_headers, map('Curtime', '1')) WHERE raw_partition = 2 AND raw_offset = 5")
		}, []string{"2/5 altered"}},
		{"event_id altered", func(t *testing.T, conn driver.Conn, s archivetest.Seeded) {
			exec(t, conn, "ALTER TABLE raw_callbacks_data UPDATE event_id = 'other' WHERE raw_partition = 0 AND raw_offset = 7")
		}, []string{"0/7 altered"}},
		{"raw record deleted", func(t *testing.T, conn driver.Conn, s archivetest.Seeded) {
			exec(t, conn, "DELETE FROM raw_callbacks_data WHERE raw_partition = 0 AND raw_offset = 3")
		}, []string{"0/3 removed"}},
		{"raw record and its chain row deleted", func(t *testing.T, conn driver.Conn, s archivetest.Seeded) {
			exec(t, conn, "DELETE FROM raw_callbacks_data WHERE raw_partition = 1 AND raw_offset = 4")
			exec(t, conn, "DELETE FROM raw_chain WHERE raw_partition = 1 AND raw_offset = 4")
		}, []string{"1/5 broken_link"}},
		{"first records and their chain rows deleted", func(t *testing.T, conn driver.Conn, s archivetest.Seeded) {
			exec(t, conn, "DELETE FROM raw_callbacks_data WHERE raw_partition = 2 AND raw_offset < 2")
			exec(t, conn, "DELETE FROM raw_chain WHERE raw_partition = 2 AND raw_offset < 2")
		}, []string{"2/2 broken_link"}},
		{"chain row deleted", func(t *testing.T, conn driver.Conn, s archivetest.Seeded) {
			exec(t, conn, "DELETE FROM raw_chain WHERE raw_partition = 0 AND raw_offset = 5")
		}, []string{"0/5 unchained", "0/6 broken_link"}},
		{"two records' bodies swapped", func(t *testing.T, conn driver.Conn, s archivetest.Seeded) {
			a, b := rec(t, s, 1, 1), rec(t, s, 1, 3)
			exec(t, conn, "ALTER TABLE raw_callbacks_data UPDATE body = ? WHERE raw_partition = 1 AND raw_offset = 1", string(b.Value))
			exec(t, conn, "ALTER TABLE raw_callbacks_data UPDATE body = ? WHERE raw_partition = 1 AND raw_offset = 3", string(a.Value))
		}, []string{"1/1 reordered", "1/3 reordered"}},
		{"two records moved: raw and chain rows swapped", func(t *testing.T, conn driver.Conn, s archivetest.Seeded) {
			// Move whole records: both the raw rows and their chain rows change places (key columns
			// cannot be updated in place: copy them out, delete, put them back swapped).
			for _, tbl := range []string{"raw_callbacks_data", "raw_chain"} {
				exec(t, conn, "CREATE TABLE moved_"+tbl+" AS "+tbl)
				exec(t, conn, "INSERT INTO moved_"+tbl+" SELECT * FROM "+tbl+" WHERE raw_partition = 0 AND raw_offset IN (2, 3)")
				exec(t, conn, "DELETE FROM "+tbl+" WHERE raw_partition = 0 AND raw_offset IN (2, 3)")
				exec(t, conn, "INSERT INTO "+tbl+" SELECT * REPLACE (if(raw_offset = 2, 3, 2) AS raw_offset) FROM moved_"+tbl)
			}
		}, []string{"0/2 broken_link", "0/2 bad_hash", "0/3 broken_link", "0/3 bad_hash", "0/4 broken_link"}},
		{"forged chain row beside the original", func(t *testing.T, conn driver.Conn, s archivetest.Seeded) {
			exec(t, conn, `INSERT INTO raw_chain (raw_partition, raw_offset, event_id, source, app, received_at, payload_sha256, headers_sha256, prev_hash, hash)
				SELECT raw_partition, raw_offset, event_id, source, app, received_at, lower(hex(SHA256('forged'))), headers_sha256, prev_hash, lower(hex(SHA256('x')))
				FROM raw_chain WHERE raw_partition = 2 AND raw_offset = 3`)
		}, []string{"2/3 forked"}},
		{"raw record inserted beside the original", func(t *testing.T, conn driver.Conn, s archivetest.Seeded) {
			exec(t, conn, `INSERT INTO raw_callbacks_data (source, app, received_at, event_id, raw_key, body, body_sha256, path, remote_addr, http_headers, meta, raw_partition, raw_offset)
				SELECT source, app, received_at + 1, event_id, raw_key, 'forged', body_sha256, path, remote_addr, http_headers, meta, raw_partition, raw_offset
				FROM raw_callbacks_data WHERE raw_partition = 0 AND raw_offset = 9`)
		}, []string{"0/9 altered"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The raw archive and its chain afresh, as seeded (the events tables are not touched).
			for _, tbl := range []string{"raw_callbacks_data", "raw_chain", "moved_raw_callbacks_data", "moved_raw_chain"} {
				exec(t, conn, "TRUNCATE TABLE IF EXISTS "+tbl)
			}
			archivetest.WriteRaw(t, conn, s.Raw...)
			archivetest.Chain(t, conn, s.Raw...)
			if rep := verify(t, conn); !rep.OK() || rep.Checked() != len(s.Raw) {
				t.Fatalf("before tampering: %d of %d records checked, breaks %v", rep.Checked(), len(s.Raw), rep.Breaks)
			}
			tc.tamper(t, conn, s)
			rep := verify(t, conn)
			got := breaks(rep)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("breaks %v, want %v\n%v", got, tc.want, rep.Breaks)
			}
			first, ok := rep.First()
			if !ok || fmt.Sprintf("%d/%d %s", first.Partition, first.Offset, first.Kind) != tc.want[0] || first.Detail == "" {
				t.Errorf("first break %+v, want %s with a detail", first, tc.want[0])
			}
		})
	}
}

// TestVerifyRetentionAndAnchors: raw records removed by a recorded retention pass are expired, not
// breaks; a chain recomputed from scratch after a forgery passes the internal checks but fails the
// anchor taken before.
func TestVerifyRetentionAndAnchors(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	s := archivetest.Seed(t, conn)
	before := verify(t, conn)
	var anchors []audit.Anchor
	for _, h := range before.Heads {
		anchors = append(anchors, audit.Anchor{Partition: h.Partition, Offset: h.Offset, Hash: h.Hash})
	}
	if rep := verify(t, conn, anchors...); !rep.OK() {
		t.Fatalf("anchors taken now fail now: %v", rep.Breaks)
	}

	// Retention removed the records received before T0 (the community events before it).
	cutoff := archivetest.T0
	exec(t, conn, "DELETE FROM raw_callbacks_data WHERE received_at < ?", cutoff)
	exec(t, conn, `INSERT INTO retention_runs (run_id, table_name, time_column, days, cutoff, candidates, held, deleted, dry_run, actor, started_at, finished_at)
		VALUES ('r-test', 'raw_callbacks_data', 'received_at', 30, ?, 0, 0, 0, false, 'tester', now64(3), now64(3))`, cutoff)
	rep := verify(t, conn, anchors...)
	expired := 0
	for _, p := range rep.Partitions {
		expired += p.Expired
	}
	if !rep.OK() || expired == 0 || rep.RetentionRun != "r-test" {
		t.Fatalf("after retention: breaks %v, expired %d, run %q", rep.Breaks, expired, rep.RetentionRun)
	}

	// A forger with write access rewrites a body and recomputes the whole chain.
	exec(t, conn, "TRUNCATE TABLE raw_chain")
	forged := make([]*kgo.Record, len(s.Raw))
	for i, r := range s.Raw {
		c := *r
		if r.Partition == 1 && r.Offset == 3 {
			c.Value = []byte(`{"body":"rewritten history"}`)
			exec(t, conn, "ALTER TABLE raw_callbacks_data UPDATE body = ? WHERE raw_partition = 1 AND raw_offset = 3", string(c.Value))
		}
		forged[i] = &c
	}
	archivetest.Chain(t, conn, forged...)
	if rep := verify(t, conn); !rep.OK() {
		t.Fatalf("a recomputed chain is consistent in itself; got %v", rep.Breaks)
	}
	rep = verify(t, conn, anchors...)
	got := breaks(rep)
	want := fmt.Sprintf("1/%d anchor", anchors[1].Offset)
	if len(got) != 1 || got[0] != want {
		t.Fatalf("with the anchors taken before: breaks %v, want [%s]", got, want)
	}
	// Partition 0 and 2 were not touched: their anchors still hold.
}

// TestVerifyReadsByIndex: the raw archive is sorted by time, verify reads it by position; the plan
// must use the position index (schema 0065), or a large archive is scanned whole for every window.
func TestVerifyReadsByIndex(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	archivetest.Seed(t, conn)
	q := queries.MustStatement("audit_raw_rows")
	ctx := clickhouse.Context(context.Background(), clickhouse.WithParameters(clickhouse.Parameters{"partition": "1", "first": "0", "last": "3"}))
	rows, err := conn.Query(ctx, "EXPLAIN indexes = 1 "+q.SQL)
	if err != nil {
		t.Fatal(err)
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
	if !strings.Contains(plan.String(), "idx_raw_position") {
		t.Errorf("audit_raw_rows does not use idx_raw_position:\n%s", plan.String())
	}
}
