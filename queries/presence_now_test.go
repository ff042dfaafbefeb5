package queries_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/imarchive/imarchive/queries"
	"github.com/imarchive/imarchive/queries/querytest"
)

// viewOnlineNow is accounts_online_now as it read before schema 0110: through the presence_state view
// (schema/0075). The named query now reads presence_connection_last (schema 0125); both must agree.
const viewOnlineNow = `SELECT source, app,
    countIf(status = 'online'), countIf(status = 'expired'), countIf(status = 'offline'), count(),
    sum(devices_online), sum(connections_online)
FROM presence_state
GROUP BY source, app
ORDER BY source, app`

// TestAccountsOnlineNowRepeats checks that accounts_online_now gives the answer of the presence_state
// view on the seed, and that every presence copy inserted again — in separate inserts, in the reverse
// order of platform time (a platform re-send past ingest's dedupe window, a consumer re-inserting a
// batch after a crash) — changes nothing: presence_connection_last keeps the last applied copy by
// (occurred_at, arrival), not the last row inserted. Merges are stopped meanwhile, so the repeats stay
// in parts of their own, as on a busy server: the answer must not depend on a merge having run.
func TestAccountsOnlineNowRepeats(t *testing.T) {
	conn, _ := seeded(t)
	q, err := queries.Get("accounts_online_now")
	if err != nil {
		t.Fatal(err)
	}
	all := params(appFilters)
	before := querytest.Run(t, conn, q.SQL, all).Rows
	if len(before) == 0 {
		t.Fatal("accounts_online_now: no rows on the seed")
	}
	if view := querytest.Run(t, conn, viewOnlineNow, nil).Rows; !slices.EqualFunc(before, view, slices.Equal) {
		t.Fatalf("accounts_online_now %v, the presence_state view %v", before, view)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := conn.Exec(ctx, `SYSTEM STOP MERGES presence_connection_last`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), `SYSTEM START MERGES presence_connection_last`)
	for _, half := range []string{"0", "1"} {
		// Newest first: a state kept by insertion order would end on the oldest copy.
		if err := conn.Exec(ctx, `INSERT INTO presence_events_data SELECT * FROM presence_events_data
			WHERE cityHash64(event_id) % 2 = `+half+` ORDER BY occurred_at DESC, arrival DESC`); err != nil {
			t.Fatal(err)
		}
	}
	// Two copies of a new connection at the same platform time: the later arrival (a logout) is applied
	// after the earlier (a login), whichever is inserted first; here the login is inserted last.
	at := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
	for _, c := range []struct{ online, op, arrival string }{{"false", "logout", "2"}, {"true", "login", "1"}} {
		if err := conn.Exec(ctx, `INSERT INTO presence_events_data SELECT * REPLACE (
				concat('eq-', `+c.arrival+`) AS event_id, 'eq' AS account, 'consid:eq' AS connection, 'eq' AS connection_id,
				`+c.online+` AS online, '`+c.op+`' AS op, false AS stale, `+c.arrival+` AS arrival,
				toDateTime64('`+at.Format("2006-01-02 15:04:05.000")+`', 3, 'UTC') AS occurred_at,
				toDateTime64('`+at.Add(35*time.Minute).Format("2006-01-02 15:04:05.000")+`', 3, 'UTC') AS expires_at)
			FROM presence_events_data WHERE app = 'nimnow' LIMIT 1`); err != nil {
			t.Fatal(err)
		}
	}
	after := querytest.Run(t, conn, q.SQL, all).Rows
	want := querytest.Run(t, conn, viewOnlineNow, nil).Rows
	if got := after[len(after)-1]; got[0] != "netease_qchat" || got[1] != "nimnow" || got[4] != "2" {
		t.Errorf("nimnow after the repeats and the equal-time logout: %v, want offline 2 (n3 and eq)", got)
	}
	if !slices.EqualFunc(after, want, slices.Equal) {
		t.Errorf("after the repeats: accounts_online_now %v, the presence_state view %v", after, want)
	}
}
