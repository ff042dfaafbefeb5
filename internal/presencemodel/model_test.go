package presencemodel

import (
	"testing"
	"time"

	"github.com/imarchive/imarchive/event"
)

// TestModelAgreesWithTheScenarios: the oracle, replaying each scenario, gives the verdicts and states
// written by hand from the manual; an oracle that does not is no oracle.
func TestModelAgreesWithTheScenarios(t *testing.T) {
	now := time.Now().UnixMilli()
	for _, sc := range Scenarios("m-", now) {
		t.Run(sc.Name, func(t *testing.T) {
			m := New(ExpiryMs)
			for i, cb := range sc.Callbacks {
				e, err := cb.Normalize(time.UnixMilli(now))
				if err != nil {
					t.Fatal(err)
				}
				c, err := Read(&e)
				if err != nil {
					t.Fatal(err)
				}
				if v := m.Arrive(c); v.Stale != sc.Stale[i] {
					t.Errorf("callback %d: stale %v, want %v", i, v.Stale, sc.Stale[i])
				}
				if again := m.Arrive(c); again != m.verdicts[c.EventID] {
					t.Errorf("callback %d arriving again: %+v", i, again)
				}
			}
			for _, w := range sc.Accounts {
				src := w.Source
				if src == "" {
					src = event.SourceNetease
				}
				g := m.Of(m.Account(src, App, w.Account), now)
				if g.Status != w.Status || g.DevicesOnline != w.DevicesOnline || g.ConnectionsOnline != w.ConnectionsOnline {
					t.Errorf("account %s: %+v, want %+v", w.Account, g, w)
				}
			}
			for _, w := range sc.Devices {
				g := m.Of(m.Device(event.SourceNetease, App, w.Account, w.Device, w.ClientType), now)
				if g.Status != w.Status || g.ConnectionsOnline != w.ConnectionsOnline {
					t.Errorf("device %s %s: %+v, want %+v", w.Account, w.Device, g, w)
				}
			}
			for _, w := range sc.Connections {
				found := false
				for _, c := range m.Account(event.SourceNetease, App, w.Account) {
					if c.ConsID == w.ConsID {
						found = true
						if st := m.Status(c, now); st != w.Status {
							t.Errorf("connection %s %s: %s, want %s", w.Account, w.ConsID, st, w.Status)
						}
					}
				}
				if !found {
					t.Errorf("connection %s %s: none", w.Account, w.ConsID)
				}
			}
		})
	}
}
