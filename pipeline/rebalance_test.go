package pipeline_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/imarchive/imarchive/event"
)

// TestPresenceStateFollowsPartitionsAcrossMembers: presence states are cached per member and reset
// whenever partitions move, so a partition that goes to another member and comes back is read afresh.
// Member A reads every account's login at t=1000; member B joins and takes partitions, and writes a
// login at t=3000 of the accounts it now reads (A the others'); B leaves and its partitions come back
// to A, which then reads a logout at t=2000 of every account. By the rule (a copy older than its
// connection's stamp is stale) each logout is stale, the connection's state still the login at 3000,
// and it is
// each account's third arrival — whichever member read the second copy. A member that kept the
// states it cached before its partitions moved would apply the logouts (stamp 1000 < 2000) and number
// them 2 again.
func TestPresenceStateFollowsPartitionsAcrossMembers(t *testing.T) {
	h := newHarness(t)
	cfg := h.config()
	cfg.InsertInterval = 50 * time.Millisecond
	const accounts = 24
	copyOf := func(phase, i int, op string, at int64) event.Event {
		e := presence(fmt.Sprintf("e-%d-%02d", phase, i), fmt.Sprintf("acct%02d", i), op, t0+at)
		e.ActorConnectionID = "con-" + e.Actor
		return e
	}
	phase := func(n int, op string, at int64) {
		var evs []event.Event
		for i := range accounts {
			evs = append(evs, copyOf(n, i, op, at))
		}
		h.produceEvents(evs...)
	}
	a := h.start("events", cfg)
	h.waitGroup(cfg.Group, 1)
	phase(1, event.OpLogin, 1000)
	a.waitWritten(t, accounts, 30*time.Second)

	b := h.start("events", cfg)
	h.waitGroup(cfg.Group, 2)
	phase(2, event.OpLogin, 3000)
	h.waitCount("the second logins", 2*accounts, 30*time.Second, "SELECT count() FROM presence_events")
	if b.written() == 0 {
		t.Fatal("the second member wrote nothing: no partition moved")
	}
	b.stop(t)
	h.waitGroup(cfg.Group, 1)
	phase(3, event.OpLogout, 2000)
	h.waitCount("the logouts", 3*accounts, 30*time.Second, "SELECT count() FROM presence_events")

	rows, err := h.conn.Query(t.Context(), `SELECT account, stale, arrival FROM presence_events WHERE startsWith(event_id, 'e-3-') ORDER BY account`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var acct string
		var stale bool
		var arrival uint64
		if err := rows.Scan(&acct, &stale, &arrival); err != nil {
			t.Fatal(err)
		}
		if !stale || arrival != 3 {
			t.Errorf("%s: the logout at 2000 after a login at 3000 has stale=%v arrival=%d, want stale, the third arrival", acct, stale, arrival)
		}
	}
	// Each connection's state is still the login at 3000 (an online copy; t0 is long past, so the
	// view reads it expired, which is beside the point here).
	if n := h.count(`SELECT count() FROM presence_connections WHERE state_op = 'login' AND toUnixTimestamp64Milli(state_time) = ?`, t0+3000); n != accounts {
		t.Errorf("%d of %d connections with their state set by the login at 3000", n, accounts)
	}
	t.Logf("member B wrote %v of the second logins; moves seen by A: %v", b.written(), metricOr(a, "imarchive_pipeline_partition_moves_total"))
}

func metricOr(r *running, name string) float64 {
	v, _ := r.metric(name)
	return v
}
