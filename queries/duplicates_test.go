package queries_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"
)

// rawReceipt is a row of raw_callbacks_data: one record of the raw topic.
type rawReceipt struct {
	insert    int // the INSERT it is written in (each its own statement)
	source    string
	key       string // event_id; empty: an unreadable body, counted by rawKey
	rawKey    string
	at        time.Duration // received, after dupT0
	partition int32
	offset    int64
}

// presenceVersion is a row of presence_events_data: a version of a presence copy (a copy written
// again is another row with the same sorting key and a later inserted_at).
type presenceVersion struct {
	insert   int
	eventID  string
	account  string
	occurred time.Duration
	at       time.Duration // received
	stale    bool
}

var dupT0 = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

// TestDuplicatesAndStaleRepeats: duplicates_discarded and stale_presence count each raw receipt and
// each presence copy once, however often and in whichever inserts they were written, against a model
// written here (sort each key's distinct receipts by received time, partition and offset: all but the
// first repeat; the last written version of each presence copy decides whether it is stale). Rows
// are inserted straight into the storage tables, each group in its own INSERT, as a consumer's
// re-delivery or a platform's re-send writes them.
func TestDuplicatesAndStaleRepeats(t *testing.T) {
	conn := migrated(t)
	m := func(h, min int) time.Duration { return time.Duration(h)*time.Hour + time.Duration(min)*time.Minute }
	const nim, ilink = "netease_qchat", "ilink"
	receipts := []rawReceipt{
		{1, nim, "A", "A", m(0, 10), 0, 1},
		{1, nim, "A", "A", m(1, 20), 0, 3}, // a retry: repeats A
		{1, nim, "B", "B", m(1, 5), 1, 1},
		{2, nim, "A", "A", m(1, 20), 0, 3}, // the retry written again (re-delivery): the same receipt
		{2, nim, "", "raw-C", m(2, 0), 2, 1},
		{3, nim, "B", "B", m(2, 30), 1, 7},    // B again in a later insert
		{3, nim, "", "raw-C", m(2, 10), 2, 2}, // an unreadable body received twice: repeats by its raw key
		{4, nim, "D", "D", m(3, 30), 0, 9},
		{5, nim, "D", "D", m(2, 50), 0, 10}, // written after, received before: the 03:30 receipt repeats it
		{6, nim, "A", "A", m(0, 10), 0, 1},  // A's first receipt written again
		{6, nim, "E", "E", -m(1, 0), 3, 1},  // first received before the range
		{7, nim, "E", "E", m(3, 0), 3, 2},   // repeats it inside the range
		{7, ilink, "F", "F", m(0, 30), 4, 1},
		{8, ilink, "F", "F", m(0, 31), 4, 2},
		{8, ilink, "F", "F", m(0, 31), 4, 2}, // in one insert twice
		{2, nim, "G", "G", m(3, 40), 5, 1},
		{4, nim, "G", "G", m(3, 20), 5, 2},  // written after 03:40, received before it: 03:40 repeats it
		{9, nim, "G", "G", m(3, 5), 5, 3},   // earlier still and written last: 03:20, first when written, repeats it
		{10, nim, "G", "G", m(3, 20), 5, 2}, // 03:20 written again after it became a repeat
		{1, nim, "H", "H", m(2, 0), 6, 1},
		{3, nim, "H", "H", m(2, 5), 6, 2},
		{9, nim, "H", "H", -m(0, 30), 6, 3}, // received before the range, written last: both receipts in it repeat it
	}
	// Keys as imarchive makes them (event.ID) are 32 lowercase hex digits, held as 128 bits; any other
	// key is held whole (schema 0161). A, B, E, G and raw-C take the first form, the others the second.
	for i, r := range receipts {
		switch r.rawKey {
		case "A", "B", "E", "G", "raw-C":
			sum := sha256.Sum256([]byte(r.rawKey))
			h := hex.EncodeToString(sum[:16])
			receipts[i].rawKey = h
			if r.key != "" {
				receipts[i].key = h
			}
		}
	}
	versions := []presenceVersion{
		{1, "px", "a1", m(0, 0), m(1, 40), true},
		{2, "px", "a1", m(0, 0), m(1, 40), true}, // the same stale copy written again
		{1, "py", "a2", m(0, 5), m(2, 15), false},
		{3, "py", "a2", m(0, 5), m(2, 15), true}, // its last version is stale
		{1, "pz", "a3", m(0, 7), m(3, 20), true},
		{3, "pz", "a3", m(0, 7), m(3, 20), false},  // its last version is not
		{1, "pw", "a4", -m(2, 0), -m(0, 30), true}, // received before the range
		{2, "pv", "a5", m(0, 50), m(0, 55), false},
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(dupT0.Add(d).UnixMilli(), 10) }
	inserts := 0
	for _, r := range receipts {
		inserts = max(inserts, r.insert)
	}
	for insert := 1; insert <= inserts; insert++ {
		// The version of every row of an insert: later inserts are later versions.
		version := ms(time.Duration(insert) * time.Second)
		values := ""
		for _, r := range receipts {
			if r.insert == insert {
				values += fmt.Sprintf("('%s', 'dup', fromUnixTimestamp64Milli(%s, 'UTC'), '%s', '%s', %d, %d, fromUnixTimestamp64Milli(%s, 'UTC')),",
					r.source, ms(r.at), r.key, r.rawKey, r.partition, r.offset, version)
			}
		}
		if values != "" {
			mustExec(t, conn, "INSERT INTO raw_callbacks_data (source, app, received_at, event_id, raw_key, raw_partition, raw_offset, inserted_at) VALUES "+values[:len(values)-1])
		}
		values = ""
		for _, v := range versions {
			if v.insert == insert {
				values += fmt.Sprintf("('%s', 'netease_qchat', 'dup', '%s', fromUnixTimestamp64Milli(%s, 'UTC'), fromUnixTimestamp64Milli(%s, 'UTC'), %t, fromUnixTimestamp64Milli(%s, 'UTC'), map()),",
					v.eventID, v.account, ms(v.occurred), ms(v.at), v.stale, version)
			}
		}
		if values != "" {
			mustExec(t, conn, "INSERT INTO presence_events_data (event_id, source, app, account, occurred_at, received_at, stale, inserted_at, attrs) VALUES "+values[:len(values)-1])
		}
	}

	// The model. Buckets: the four hours from dupT0.
	type bucket struct {
		hour   int
		source string
	}
	type counts struct{ receipts, duplicates, stale int }
	want := map[bucket]*counts{}
	sources := map[string]bool{}
	inRange := func(d time.Duration) (int, bool) { return int(d / time.Hour), d >= 0 && d < 4*time.Hour }
	type position struct {
		source, key string
		at          time.Duration
		partition   int32
		offset      int64
	}
	distinct := map[position]bool{}
	byKey := map[string][]position{}
	for _, r := range receipts {
		key := r.key
		if key == "" {
			key = r.rawKey
		}
		p := position{r.source, key, r.at, r.partition, r.offset}
		if !distinct[p] {
			distinct[p] = true
			byKey[r.source+"/"+key] = append(byKey[r.source+"/"+key], p)
		}
	}
	add := func(d time.Duration, source string) *counts {
		h, _ := inRange(d)
		b := bucket{h, source}
		if want[b] == nil {
			want[b] = &counts{}
		}
		return want[b]
	}
	for _, ps := range byKey {
		sort.Slice(ps, func(i, j int) bool {
			a, b := ps[i], ps[j]
			if a.at != b.at {
				return a.at < b.at
			}
			if a.partition != b.partition {
				return a.partition < b.partition
			}
			return a.offset < b.offset
		})
		for i, p := range ps {
			if _, ok := inRange(p.at); !ok {
				continue
			}
			sources[p.source] = true
			c := add(p.at, p.source)
			c.receipts++
			if i > 0 {
				c.duplicates++
			}
		}
	}
	last := map[string]presenceVersion{}
	for _, v := range versions {
		if l, ok := last[v.eventID]; !ok || v.insert > l.insert {
			last[v.eventID] = v
		}
	}
	presenceSources := map[string]bool{}
	for _, v := range last {
		if _, ok := inRange(v.at); !ok {
			continue
		}
		presenceSources[nim] = true
		if v.stale {
			add(v.at, nim).stale++
		}
	}
	rows := func(of map[string]bool, line func(h int, s string, c counts) string) []string {
		var out []string
		for h := 0; h < 4; h++ {
			for _, s := range []string{ilink, nim} {
				if !of[s] {
					continue
				}
				c := counts{}
				if p := want[bucket{h, s}]; p != nil {
					c = *p
				}
				out = append(out, line(h, s, c))
			}
		}
		return out
	}
	hourOf := func(h int) string { return dupT0.Add(time.Duration(h) * time.Hour).Format(time.DateTime) }
	params := map[string]string{"from": dupT0.Format(time.RFC3339), "to": dupT0.Add(4 * time.Hour).Format(time.RFC3339),
		"step_seconds": "3600", "source": "", "app": "dup"}

	check(t, "duplicates_discarded", project(runJSON(t, conn, "duplicates_discarded", params), "time", "source", "receipts", "duplicates", "stale_presence"),
		rows(sources, func(h int, s string, c counts) string {
			return fmt.Sprintf("%s | %s | %d | %d | %d", hourOf(h), s, c.receipts, c.duplicates, c.stale)
		}))
	// A range longer than eight days takes the query's other path (every key's first receipt, no
	// key set of the range): its first four hours must read the same.
	long := with(params, "to", dupT0.Add(9*24*time.Hour).Format(time.RFC3339))
	var first4 []string
	for _, r := range project(runJSON(t, conn, "duplicates_discarded", long), "time", "source", "receipts", "duplicates", "stale_presence") {
		if r < dupT0.Add(4*time.Hour).Format(time.DateTime) {
			first4 = append(first4, r)
		}
	}
	check(t, "duplicates_discarded over nine days, its first four hours", first4,
		rows(sources, func(h int, s string, c counts) string {
			return fmt.Sprintf("%s | %s | %d | %d | %d", hourOf(h), s, c.receipts, c.duplicates, c.stale)
		}))
	check(t, "stale_presence", project(runJSON(t, conn, "stale_presence", params), "time", "source", "stale_presence"),
		rows(presenceSources, func(h int, s string, c counts) string {
			return fmt.Sprintf("%s | %s | %d", hourOf(h), s, c.stale)
		}))
	// The model's own figures, so that a model that counts nothing cannot agree with a query that
	// counts nothing: 10 repeats in the range (A, B, C, D at 03:30, E, F, G at 03:40 and 03:20, H at
	// 02:00 and 02:05), 2 stale copies (px, py).
	total := counts{}
	for _, c := range want {
		total.receipts += c.receipts
		total.duplicates += c.duplicates
		total.stale += c.stale
	}
	if total != (counts{receipts: 16, duplicates: 10, stale: 2}) {
		t.Errorf("the model counts %+v", total)
	}

	// Retention purges the raw receipts of the first hour (A's and F's first receipts among them);
	// raw_first_receipts keeps their first receipts, so A's 01:20 retry still repeats. The purged
	// hour has no receipts left to tell repeats in: it counts none (it counted -1 per platform,
	// wrapped to 18446744073709551615, before the count was kept from going below zero).
	mustExec(t, conn, "DELETE FROM raw_callbacks_data WHERE app = 'dup' AND received_at < fromUnixTimestamp64Milli("+ms(time.Hour)+", 'UTC')")
	// iLink's receipts were all in that hour: it has none left in the range, and no rows.
	purged := rows(map[string]bool{nim: true}, func(h int, s string, c counts) string {
		if h == 0 {
			c.receipts, c.duplicates = 0, 0
		}
		return fmt.Sprintf("%s | %s | %d | %d | %d", hourOf(h), s, c.receipts, c.duplicates, c.stale)
	})
	check(t, "duplicates_discarded after the first hour's raw receipts were purged",
		project(runJSON(t, conn, "duplicates_discarded", params), "time", "source", "receipts", "duplicates", "stale_presence"), purged)
}
