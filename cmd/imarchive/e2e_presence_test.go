package main_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/internal/presencemodel"
)

const presenceILinkSecret = "presence-path-secret-0123456789"

// postPresence delivers one callback to serve as its platform does and expects 200.
func postPresence(t *testing.T, s *stack, cb presencemodel.Callback) {
	t.Helper()
	path, h := "/v1/netease/"+presencemodel.App, sign("s3cret", cb.Body)
	if cb.Source == event.SourceILink {
		path, h = "/v1/ilink/"+presencemodel.App+"/"+url.PathEscape(presenceILinkSecret), http.Header{"Content-Type": {"application/json"}}
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.listen+path, bytes.NewReader(cb.Body))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s callback %s: status %d", cb.Source, cb.Body, resp.StatusCode)
	}
}

// TestEndToEndPresenceScenarios: the manual's presence cases (a reconnect closing the old connection
// with type 7, multi-device and server kicks, equal times on NetEase and in iLink's seconds, heartbeat
// expiry, a renewal without login, a type 7 of a connection never seen, copies without consid, late
// copies) are POSTed, signed, to a running serve, one callback at a time in each case's order, while
// consume runs, is stopped, restarted, and killed (kill -9, whatever it had not committed is delivered
// again) and started again between them; every copy's verdict
// and every account, device and connection state the cases name come out as written by hand, in the
// views and through imarchive query.
func TestEndToEndPresenceScenarios(t *testing.T) {
	s := newStack(t)
	startPipeline(t, s, "IMARCHIVE_ILINK_APPS="+presencemodel.App+"=token:"+presenceILinkSecret)
	c := s.conn()
	scs := presencemodel.Scenarios("e2e-", time.Now().UnixMilli())

	// Three rounds: each sends the next third of every case's callbacks, so that every account's copies
	// are split across consumer lifetimes, and its state is reloaded from ClickHouse in between.
	sent := 0
	for round := range 3 {
		switch round {
		case 1: // consume stopped cleanly; the round's callbacks wait in Kafka
			s.stop("consume")
		case 2: // consume started again, and killed (kill -9) right after this round's callbacks
			s.start("consume")
		}
		for _, sc := range scs {
			n := len(sc.Callbacks)
			for _, cb := range sc.Callbacks[round*n/3 : (round+1)*n/3] {
				postPresence(t, s, cb)
				sent++
			}
		}
	}
	p := s.procs["consume"]
	p.Process.Kill()
	p.Wait()
	s.start("consume")
	waitFor(t, fmt.Sprintf("%d presence copies archived", sent), 90*time.Second, func() bool {
		return count(t, c, "SELECT count() FROM presence_events") >= uint64(sent)
	})
	presencemodel.CheckScenarios(t, c, scs)

	// The analysts' query says the same: per platform, the accounts of each status the cases expect.
	want := map[string]map[string]int{}
	for _, sc := range scs {
		for _, w := range sc.Accounts {
			src := w.Source
			if src == "" {
				src = event.SourceNetease
			}
			if want[src] == nil {
				want[src] = map[string]int{}
			}
			want[src][w.Status]++
			want[src]["accounts"]++
			want[src]["connections_online"] += w.ConnectionsOnline
		}
	}
	rows := s.queryJSON("accounts_online_now", "source=", "app="+presencemodel.App)
	if len(rows) != len(want) {
		t.Errorf("accounts_online_now: %d rows, want %d: %v", len(rows), len(want), rows)
	}
	for _, r := range rows {
		w := want[fmt.Sprint(r["source"])]
		for _, col := range []string{"online", "expired", "offline", "accounts", "connections_online"} {
			if got := fmt.Sprint(r[col]); got != fmt.Sprint(w[col]) {
				t.Errorf("accounts_online_now %s: %s = %s, want %d", r["source"], col, got, w[col])
			}
		}
	}
	s.stop("serve")
	s.stop("consume")
}
