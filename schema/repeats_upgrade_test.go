package schema

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// TestRepeatsFromAnArchive: 0140 applied to an archive already written (and partly purged by
// retention) marks in raw_repeats exactly the archived receipts that repeat an earlier receipt of
// their key, the purged first receipts counted (raw_first_receipts kept them), and receipts written
// after it are decided by the view against those keys. The model sorts every receipt ever written of
// each key; all but the least repeat.
func TestRepeatsFromAnArchive(t *testing.T) {
	ctx, conn, log, ms := migratedBelow(t, 140)
	type receipt struct {
		key       string
		minute    int // received at 2026-03-10 00:00 plus this many minutes
		partition int32
		offset    int64
	}
	write := func(rs ...receipt) {
		t.Helper()
		var values []string
		for _, r := range rs {
			values = append(values, fmt.Sprintf("('netease_qchat', 'up', toDateTime64('2026-03-10 00:00:00', 3, 'UTC') + toIntervalMinute(%d), '%s', '%s', %d, %d)",
				r.minute, r.key, r.key, r.partition, r.offset))
		}
		if err := conn.Exec(ctx, "INSERT INTO raw_callbacks_data (source, app, received_at, event_id, raw_key, raw_partition, raw_offset) VALUES "+strings.Join(values, ", ")); err != nil {
			t.Fatal(err)
		}
	}
	var all []receipt // every receipt written, purged or not
	purged := map[receipt]bool{}
	before := [][]receipt{
		{{"A", 10, 0, 1}, {"B", 20, 0, 2}},
		{{"A", 30, 0, 3}, {"C", 50, 1, 1}},
		{{"C", 40, 1, 2}, {"A", 30, 0, 3}}, // C received before its first-written receipt; A's 00:30 again
		{{"D", 5, 2, 1}, {"D", 6, 2, 2}},
	}
	for _, rs := range before {
		write(rs...)
		all = append(all, rs...)
	}
	// Retention purges A's first receipt and D's (a lightweight DELETE, as compliance/retention does).
	if err := conn.Exec(ctx, "DELETE FROM raw_callbacks_data WHERE received_at < toDateTime64('2026-03-10 00:10:30', 3, 'UTC')"); err != nil {
		t.Fatal(err)
	}
	purged[receipt{"A", 10, 0, 1}] = true
	purged[receipt{"D", 5, 2, 1}] = true
	purged[receipt{"D", 6, 2, 2}] = true
	if _, err := apply(ctx, conn, ms, log); err != nil {
		t.Fatal(err)
	}
	after := [][]receipt{
		{{"A", 60, 0, 4}},                 // a repeat of a purged first
		{{"B", 15, 0, 5}},                 // earlier than B's first: B's 00:20 repeats now
		{{"D", 90, 2, 3}, {"E", 1, 3, 1}}, // D's receipts all purged: still a repeat
		{{"E", 1, 3, 1}, {"C", 45, 1, 3}}, // E written again; C between its two
	}
	for _, rs := range after {
		write(rs...)
		all = append(all, rs...)
	}

	byKey := map[string][]receipt{}
	seen := map[receipt]bool{}
	for _, r := range all {
		if !seen[r] {
			seen[r] = true
			byKey[r.key] = append(byKey[r.key], r)
		}
	}
	var want []string
	for _, rs := range byKey {
		sort.Slice(rs, func(i, j int) bool {
			a, b := rs[i], rs[j]
			if a.minute != b.minute {
				return a.minute < b.minute
			}
			if a.partition != b.partition {
				return a.partition < b.partition
			}
			return a.offset < b.offset
		})
		for _, r := range rs[1:] {
			if !purged[r] {
				want = append(want, fmt.Sprintf("%d/%d/%d", r.minute, r.partition, r.offset))
			}
		}
	}
	sort.Strings(want)

	rows, err := conn.Query(ctx, `SELECT DISTINCT toUInt32(dateDiff('minute', toDateTime64('2026-03-10 00:00:00', 3, 'UTC'), received_at)), raw_partition, raw_offset
		FROM raw_repeats WHERE app = 'up'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var minute uint32
		var partition int32
		var offset int64
		if err := rows.Scan(&minute, &partition, &offset); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d/%d/%d", minute, partition, offset))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("raw_repeats (minute/partition/offset):\n got  %v\n want %v", got, want)
	}
	// The model's own answer: A 00:30 and 01:00, B 00:20, C 00:45 and 00:50, D 01:30.
	if len(want) != 6 {
		t.Errorf("the model finds %d repeats: %v", len(want), want)
	}
}
