package loadgen_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/internal/loadgen"
	"github.com/imarchive/imarchive/normalize"
)

// normalizingServer runs ingest's own normalizers on every body (400 when one fails, as serve would
// dead-letter it) and keeps what they made.
type normalizingServer struct {
	mu     sync.Mutex
	events []event.Event
	bodies map[string]int // distinct bodies accepted → sends
	bad    []string
}

func (s *normalizingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	norm := map[string]normalize.Func{"netease": normalize.Netease, "ilink": normalize.ILink, "maxim": normalize.Maxim}[parts[1]]
	ev, err := norm(parts[2], body, time.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.bad = append(s.bad, err.Error()+": "+string(body))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if s.bodies[r.URL.Path+string(body)]++; s.bodies[r.URL.Path+string(body)] == 1 {
		s.events = append(s.events, ev)
	}
}

// TestEveryKindIsWhatIngestUnderstands: each kind of the mix makes bodies ingest's normalizers read as
// the event the kind stands for — edits, recalls and deletions as message updates of an earlier message
// of the run, notifications, community events of every family, quick comments, Maxim edits — so the
// demo fills every dashboard and compliance view.
func TestEveryKindIsWhatIngestUnderstands(t *testing.T) {
	srv := &normalizingServer{bodies: map[string]int{}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	cfg := baseConfig(hs.URL)
	cfg.Count, cfg.Duplicates = 3000, 0
	cfg.Mix = map[string]int{}
	for _, k := range loadgen.AllKinds {
		cfg.Mix[k] = 1
	}
	rep, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range srv.bad[:min(len(srv.bad), 5)] {
		t.Errorf("ingest cannot read a body: %s", b)
	}
	sent := map[string]bool{} // msg ids of messages sent
	got := map[string]int{}   // kind/op → events
	for _, e := range srv.events {
		got[e.Kind+"/"+e.Op]++
		if e.Kind == event.KindMessage {
			sent[e.MsgID] = true
		}
	}
	for _, e := range srv.events {
		if (e.Kind == event.KindMessageUpdate || e.Kind == event.KindQuickComment) && !sent[e.MsgID] {
			t.Errorf("%s/%s about message %s, which the run did not send", e.Kind, e.Op, e.MsgID)
		}
	}
	for _, want := range []string{
		"message/send", "presence/login", "message_update/update", "message_update/recall", "message_update/delete",
		"notification/send", "server/create", "server/update", "member/invite", "member/accept_invite", "member/apply",
		"member/accept_apply", "member/leave", "member/kick", "channel/create", "channel/update", "role/create",
		"role/add_members", "permission/create", "quick_comment/add", "quick_comment/remove",
	} {
		if got[want] == 0 {
			t.Errorf("no %s event in %d callbacks of every kind (got %v)", want, cfg.Count, got)
		}
	}
	maximEdits := 0
	for _, e := range srv.events {
		if e.Source == "maxim" && e.Kind == event.KindMessageUpdate {
			maximEdits++
		}
	}
	if maximEdits == 0 {
		t.Error("no Maxim edit")
	}
	for k, c := range rep.ByKind {
		if c.Callbacks == 0 || c.Delivered != c.Callbacks {
			t.Errorf("%s: %d callbacks, %d delivered", k, c.Callbacks, c.Delivered)
		}
	}
}

// TestCountsSeparateFirstDeliveriesFromResends: with deliberate re-sends, "delivered" is the number of
// distinct callbacks the receiver accepted — what the archive holds — and the re-sends are counted
// apart, as the receiver saw them.
func TestCountsSeparateFirstDeliveriesFromResends(t *testing.T) {
	srv := &normalizingServer{bodies: map[string]int{}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	cfg := baseConfig(hs.URL)
	cfg.Count, cfg.Duplicates = 500, 0.3
	rep, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	repeats := 0
	for _, n := range srv.bodies {
		repeats += n - 1
	}
	tot := rep.Total
	if tot.Callbacks != 500 || tot.Delivered != len(srv.bodies) || tot.Undelivered != 0 {
		t.Errorf("callbacks %d, delivered %d, undelivered %d; the receiver accepted %d distinct bodies of 500", tot.Callbacks, tot.Delivered, tot.Undelivered, len(srv.bodies))
	}
	if tot.Resent != repeats || tot.Resent == 0 || tot.Sent != tot.Callbacks+tot.Resent {
		t.Errorf("re-sent %d, requests %d; the receiver saw %d repeats", tot.Resent, tot.Sent, repeats)
	}
	var sum strings.Builder
	rep.WriteSummary(&sum)
	for _, want := range []string{"delivered", "re-sent (dup)", "answers: 200 ×", "the archive should hold each of the 500 delivered callbacks once"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
}

// TestCheckFailureShare: Check fails a run in which more than the allowed share of callbacks was never
// accepted, and says why by status.
func TestCheckFailureShare(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/maxim/") {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer hs.Close()
	cfg := baseConfig(hs.URL)
	cfg.Count, cfg.Duplicates = 400, 0
	rep, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	share := rep.Total.FailureShare()
	if share <= 0 || rep.Total.Undelivered != rep.Statuses[401] {
		t.Fatalf("undelivered %d, 401s %d", rep.Total.Undelivered, rep.Statuses[401])
	}
	err = rep.Check(0)
	if !errors.Is(err, loadgen.ErrTooManyFailures) || !strings.Contains(err.Error(), "401 ×") || !strings.Contains(err.Error(), "serve refused the signatures") {
		t.Errorf("Check(0) = %v", err)
	}
	if err := rep.Check(share); err != nil {
		t.Errorf("Check(%.3f), the share itself: %v", share, err)
	}
	if err := (&loadgen.Report{}).Check(1); !errors.Is(err, loadgen.ErrTooManyFailures) {
		t.Errorf("a run that sent nothing passed: %v", err)
	}
}
