package pipeline

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// clickhousePresenceStore reads states and verdicts from presence_events_data (every row of an event
// carries the same verdict, so FINAL is not needed).
type clickhousePresenceStore struct{ conn driver.Conn }

// lookupChunk bounds the values in one IN list.
const lookupChunk = 1000

func (s clickhousePresenceStore) states(ctx context.Context, accounts []accountRef) (map[accountRef]presenceKey, error) {
	type app struct{ source, app string }
	byApp := map[app][]any{}
	for _, r := range accounts {
		a := app{r.Source, r.App}
		byApp[a] = append(byApp[a], r.Account)
	}
	out := map[accountRef]presenceKey{}
	for a, accts := range byApp {
		for lo := 0; lo < len(accts); lo += lookupChunk {
			chunk := accts[lo:min(lo+lookupChunk, len(accts))]
			rows, err := s.conn.Query(ctx, `SELECT account, toUnixTimestamp64Milli(tupleElement(k, 1)), tupleElement(k, 2), tupleElement(k, 3)
FROM (SELECT account, max(tuple(occurred_at, online, event_id)) AS k FROM presence_events_data
      WHERE source = ? AND app = ? AND account IN ? GROUP BY account)`, a.source, a.app, clickhouse.GroupSet{Value: chunk})
			if err != nil {
				return nil, fmt.Errorf("load presence states: %w", err)
			}
			for rows.Next() {
				var acct string
				var k presenceKey
				if err := rows.Scan(&acct, &k.AtMs, &k.Online, &k.EventID); err != nil {
					rows.Close()
					return nil, fmt.Errorf("scan presence state: %w", err)
				}
				out[accountRef{a.source, a.app, acct}] = k
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, fmt.Errorf("load presence states: %w", err)
			}
		}
	}
	return out, nil
}

func (s clickhousePresenceStore) verdicts(ctx context.Context, events map[accountRef][]string) (map[string]bool, error) {
	type app struct{ source, app string }
	type pair struct{ account, id string }
	pairs := map[app][]pair{}
	for r, evs := range events {
		a := app{r.Source, r.App}
		for _, id := range evs {
			pairs[a] = append(pairs[a], pair{r.Account, id})
		}
	}
	out := map[string]bool{}
	for a, ps := range pairs {
		for lo := 0; lo < len(ps); lo += lookupChunk {
			var accts, ids []any
			seen := map[string]bool{}
			for _, p := range ps[lo:min(lo+lookupChunk, len(ps))] {
				ids = append(ids, p.id)
				if !seen[p.account] {
					seen[p.account] = true
					accts = append(accts, p.account)
				}
			}
			rows, err := s.conn.Query(ctx, `SELECT event_id, toUInt8(min(stale)) FROM presence_events_data
WHERE source = ? AND app = ? AND account IN ? AND event_id IN ? GROUP BY event_id`,
				a.source, a.app, clickhouse.GroupSet{Value: accts}, clickhouse.GroupSet{Value: ids})
			if err != nil {
				return nil, fmt.Errorf("load presence verdicts: %w", err)
			}
			for rows.Next() {
				var id string
				var stale uint8
				if err := rows.Scan(&id, &stale); err != nil {
					rows.Close()
					return nil, fmt.Errorf("scan presence verdict: %w", err)
				}
				out[id] = stale != 0
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, fmt.Errorf("load presence verdicts: %w", err)
			}
		}
	}
	return out, nil
}
