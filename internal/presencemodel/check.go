package presencemodel

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/event"
)

func (w Want) source() string {
	if w.Source == "" {
		return event.SourceNetease
	}
	return w.Source
}

// CheckScenarios compares what the presence views behind conn show with each scenario's hand-written
// expectations: every callback's verdict (presence_events.stale), and the accounts (presence_state),
// devices (presence_devices) and connections (presence_connections) the scenario names.
func CheckScenarios(t testing.TB, conn driver.Conn, scs []Scenario) {
	t.Helper()
	ctx := context.Background()
	for _, sc := range scs {
		for i, cb := range sc.Callbacks {
			e, err := cb.Normalize(time.Now())
			if err != nil {
				t.Fatalf("%s: callback %d: %v", sc.Name, i, err)
			}
			var stale bool
			if err := conn.QueryRow(ctx, "SELECT stale FROM presence_events WHERE event_id = ?", e.EventID).Scan(&stale); err != nil {
				t.Errorf("%s: callback %d (%s): %v", sc.Name, i, e.EventID, err)
			} else if stale != sc.Stale[i] {
				t.Errorf("%s: callback %d (%s %s at %d): stale = %v, want %v", sc.Name, i, e.Actor, e.Op, e.OccurredAtMs, stale, sc.Stale[i])
			}
		}
		for _, w := range sc.Accounts {
			var status, reason string
			var devices, conns uint64
			err := conn.QueryRow(ctx, `SELECT status, devices_online, connections_online, offline_reason FROM presence_state
				WHERE source = ? AND app = ? AND account = ?`, w.source(), App, w.Account).Scan(&status, &devices, &conns, &reason)
			got := fmt.Sprintf("%s devices_online=%d connections_online=%d reason=%q", status, devices, conns, reason)
			want := fmt.Sprintf("%s devices_online=%d connections_online=%d reason=%q", w.Status, w.DevicesOnline, w.ConnectionsOnline, w.Reason)
			if err != nil || got != want {
				t.Errorf("%s: account %s: %s (%v), want %s", sc.Name, w.Account, got, err, want)
			}
		}
		for _, w := range sc.Devices {
			var status, reason string
			var conns uint64
			err := conn.QueryRow(ctx, `SELECT status, connections_online, offline_reason FROM presence_devices
				WHERE source = ? AND app = ? AND account = ? AND device_id = ? AND client_type = ?`,
				w.source(), App, w.Account, w.Device, w.ClientType).Scan(&status, &conns, &reason)
			got := fmt.Sprintf("%s connections_online=%d reason=%q", status, conns, reason)
			want := fmt.Sprintf("%s connections_online=%d reason=%q", w.Status, w.ConnectionsOnline, w.Reason)
			if err != nil || got != want {
				t.Errorf("%s: device %s %s/%s: %s (%v), want %s", sc.Name, w.Account, w.ClientType, w.Device, got, err, want)
			}
		}
		for _, w := range sc.Connections {
			var status, op string
			err := conn.QueryRow(ctx, `SELECT status, state_op FROM presence_connections
				WHERE source = ? AND app = ? AND account = ? AND connection_id = ?`, w.source(), App, w.Account, w.ConsID).Scan(&status, &op)
			if err != nil || status != w.Status || op != w.Reason {
				t.Errorf("%s: connection %s %s: %s %s (%v), want %s %s", sc.Name, w.Account, w.ConsID, status, op, err, w.Status, w.Reason)
			}
		}
	}
}

// CheckModel compares the presence views behind conn, for the accounts whose names start with prefix,
// with the model: every copy's verdict and arrival, and the status, since and counts of every
// connection, device and account at the moment of the query. It returns the number of problems.
func CheckModel(t testing.TB, conn driver.Conn, m *Model, prefix string) int {
	t.Helper()
	ctx := context.Background()
	problems := 0
	bad := func(format string, args ...any) {
		problems++
		if problems <= 20 {
			t.Errorf(format, args...)
		}
	}
	ms := func(v time.Time) int64 { return v.UnixMilli() }

	rows, err := conn.Query(ctx, "SELECT event_id, stale, arrival FROM presence_events WHERE startsWith(account, ?)", prefix)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for rows.Next() {
		var id string
		var v Verdict
		if err := rows.Scan(&id, &v.Stale, &v.Arrival); err != nil {
			t.Fatal(err)
		}
		seen[id] = true
		if want, ok := m.verdicts[id]; !ok {
			bad("copy %s in presence_events never arrived", id)
		} else if v != want {
			bad("copy %s: stale=%v arrival=%d, the rule says stale=%v arrival=%d", id, v.Stale, v.Arrival, want.Stale, want.Arrival)
		}
	}
	rows.Close()
	for id := range m.verdicts {
		if !seen[id] {
			bad("copy %s arrived but is not in presence_events", id)
		}
	}

	now := time.Now().UnixMilli()
	rows, err = conn.Query(ctx, `SELECT source, app, account, connection_id, device_id, client_type, status, since, state_time
		FROM presence_connections WHERE startsWith(account, ?)`, prefix)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var src, app, acct, consid, device, ct, status string
		var since, stamp time.Time
		if err := rows.Scan(&src, &app, &acct, &consid, &device, &ct, &status, &since, &stamp); err != nil {
			t.Fatal(err)
		}
		n++
		var c *Conn
		for _, o := range m.Account(src, app, acct) {
			if o.ConsID == consid && (consid != "" || (o.Device == device && o.ClientType == ct)) {
				c = o
			}
		}
		switch {
		case c == nil:
			bad("connection %s %q %s/%s in presence_connections: the rule has none", acct, consid, ct, device)
		case status != m.Status(c, now) || ms(since) != m.Since(c, now) || ms(stamp) != c.Stamp:
			bad("connection %s %q %s/%s: %s since %d stamp %d, the rule says %s since %d stamp %d", acct, consid, ct, device,
				status, ms(since), ms(stamp), m.Status(c, now), m.Since(c, now), c.Stamp)
		}
	}
	rows.Close()
	want := 0
	for _, c := range m.conns {
		if len(c.Account) >= len(prefix) && c.Account[:len(prefix)] == prefix {
			want++
		}
	}
	if n != want {
		bad("%d connections in presence_connections, the rule has %d", n, want)
	}

	rows, err = conn.Query(ctx, `SELECT source, app, account, device_id, client_type, status, since, connections_online, connections
		FROM presence_devices WHERE startsWith(account, ?)`, prefix)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var src, app, acct, device, ct, status string
		var since time.Time
		var on, all uint64
		if err := rows.Scan(&src, &app, &acct, &device, &ct, &status, &since, &on, &all); err != nil {
			t.Fatal(err)
		}
		g := m.Of(m.Device(src, app, acct, device, ct), now)
		if status != g.Status || ms(since) != g.Since || int(on) != g.ConnectionsOnline || int(all) != g.Connections {
			bad("device %s %s/%s: %s since %d, %d of %d connections online; the rule says %+v", acct, ct, device, status, ms(since), on, all, g)
		}
	}
	rows.Close()

	rows, err = conn.Query(ctx, `SELECT source, app, account, status, since, devices_online, connections_online, connections
		FROM presence_state WHERE startsWith(account, ?)`, prefix)
	if err != nil {
		t.Fatal(err)
	}
	accounts := 0
	for rows.Next() {
		var src, app, acct, status string
		var since time.Time
		var dOn, cOn, all uint64
		if err := rows.Scan(&src, &app, &acct, &status, &since, &dOn, &cOn, &all); err != nil {
			t.Fatal(err)
		}
		accounts++
		g := m.Of(m.Account(src, app, acct), now)
		if status != g.Status || ms(since) != g.Since || int(dOn) != g.DevicesOnline || int(cOn) != g.ConnectionsOnline || int(all) != g.Connections {
			bad("account %s/%s: %s since %d, %d devices and %d of %d connections online; the rule says %+v", src, acct, status, ms(since), dOn, cOn, all, g)
		}
	}
	rows.Close()
	wantAccounts := map[string]bool{}
	for _, c := range m.conns {
		if len(c.Account) >= len(prefix) && c.Account[:len(prefix)] == prefix {
			wantAccounts[c.Source+" "+c.Account] = true
		}
	}
	if accounts != len(wantAccounts) {
		bad("%d accounts in presence_state, the rule has %d", accounts, len(wantAccounts))
	}
	return problems
}
