package pipeline

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// clickhousePresenceStore reads stamps, states and verdicts from presence_events_data. Every row of a
// copy carries the verdict it was first given (re-deliveries are written with it), so FINAL is not
// needed; where rows of a copy could differ (a migration's rewrite not yet merged), the newest wins.
type clickhousePresenceStore struct{ conn driver.Conn }

// lookupChunk bounds the values in one IN list.
const lookupChunk = 1000

type appRef struct{ source, app string }

func (s clickhousePresenceStore) arrivals(ctx context.Context, accounts []accountRef) (map[accountRef]uint64, error) {
	byApp := map[appRef][]any{}
	for _, r := range accounts {
		a := appRef{r.Source, r.App}
		byApp[a] = append(byApp[a], r.Account)
	}
	out := map[accountRef]uint64{}
	for a, accts := range byApp {
		for lo := 0; lo < len(accts); lo += lookupChunk {
			chunk := accts[lo:min(lo+lookupChunk, len(accts))]
			rows, err := s.conn.Query(ctx, `SELECT account, max(arrival) FROM presence_events_data
WHERE source = ? AND app = ? AND account IN ? GROUP BY account`, a.source, a.app, clickhouse.GroupSet{Value: chunk})
			if err != nil {
				return nil, fmt.Errorf("load presence arrivals: %w", err)
			}
			for rows.Next() {
				var acct string
				var n uint64
				if err := rows.Scan(&acct, &n); err != nil {
					rows.Close()
					return nil, fmt.Errorf("scan presence arrival: %w", err)
				}
				out[accountRef{a.source, a.app, acct}] = n
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, fmt.Errorf("load presence arrivals: %w", err)
			}
		}
	}
	return out, nil
}

// connections: the stamp is the greatest time of any recorded copy of the connection (a stale copy
// never holds it); the state is the applied copy greatest by (time, arrival).
func (s clickhousePresenceStore) connections(ctx context.Context, conns []connRef) (map[connRef]connState, error) {
	byApp := map[appRef][]connRef{}
	for _, c := range conns {
		a := appRef{c.Source, c.App}
		byApp[a] = append(byApp[a], c)
	}
	out := map[connRef]connState{}
	for a, cs := range byApp {
		for lo := 0; lo < len(cs); lo += lookupChunk {
			chunk := cs[lo:min(lo+lookupChunk, len(cs))]
			want := make(map[connRef]bool, len(chunk))
			var accts, keys []any
			seenA, seenK := map[string]bool{}, map[string]bool{}
			for _, c := range chunk {
				want[c] = true
				if !seenA[c.Account] {
					seenA[c.Account] = true
					accts = append(accts, c.Account)
				}
				if !seenK[c.Conn] {
					seenK[c.Conn] = true
					keys = append(keys, c.Conn)
				}
			}
			rows, err := s.conn.Query(ctx, `SELECT account, connection, toUnixTimestamp64Milli(max(occurred_at)),
    argMaxIf(online, tuple(occurred_at, arrival), NOT stale),
    toUnixTimestamp64Milli(argMaxIf(since, tuple(occurred_at, arrival), NOT stale))
FROM presence_events_data
WHERE source = ? AND app = ? AND account IN ? AND connection IN ?
GROUP BY account, connection`, a.source, a.app, clickhouse.GroupSet{Value: accts}, clickhouse.GroupSet{Value: keys})
			if err != nil {
				return nil, fmt.Errorf("load presence connections: %w", err)
			}
			for rows.Next() {
				var acct, key string
				st := connState{has: true}
				if err := rows.Scan(&acct, &key, &st.stampMs, &st.online, &st.sinceMs); err != nil {
					rows.Close()
					return nil, fmt.Errorf("scan presence connection: %w", err)
				}
				c := connRef{accountRef{a.source, a.app, acct}, key}
				if want[c] {
					out[c] = st
				}
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, fmt.Errorf("load presence connections: %w", err)
			}
		}
	}
	return out, nil
}

func (s clickhousePresenceStore) verdicts(ctx context.Context, events map[accountRef][]string) (map[string]presenceVerdict, error) {
	type pair struct{ account, id string }
	pairs := map[appRef][]pair{}
	for r, evs := range events {
		a := appRef{r.Source, r.App}
		for _, id := range evs {
			pairs[a] = append(pairs[a], pair{r.Account, id})
		}
	}
	out := map[string]presenceVerdict{}
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
			rows, err := s.conn.Query(ctx, `SELECT event_id, tupleElement(v, 1), tupleElement(v, 2), toUnixTimestamp64Milli(tupleElement(v, 3))
FROM (SELECT event_id, argMax(tuple(stale, arrival, since), inserted_at) AS v FROM presence_events_data
      WHERE source = ? AND app = ? AND account IN ? AND event_id IN ? GROUP BY event_id)`,
				a.source, a.app, clickhouse.GroupSet{Value: accts}, clickhouse.GroupSet{Value: ids})
			if err != nil {
				return nil, fmt.Errorf("load presence verdicts: %w", err)
			}
			for rows.Next() {
				var id string
				var v presenceVerdict
				if err := rows.Scan(&id, &v.Stale, &v.Arrival, &v.SinceMs); err != nil {
					rows.Close()
					return nil, fmt.Errorf("scan presence verdict: %w", err)
				}
				out[id] = v
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
