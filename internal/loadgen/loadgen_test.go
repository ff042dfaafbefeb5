package loadgen_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/internal/loadgen"
	"github.com/imarchive/imarchive/normalize"
)

// platformServer checks each request the way imarchive does (NetEase CheckSum, iLink path secret, Maxim
// signature header) and counts, independently of loadgen, what it saw.
type platformServer struct {
	mu        sync.Mutex
	requests  int
	accepted  int
	seen      map[string]bool
	repeats   int
	latePres  int
	byPath    map[string]int
	rejectAll string // a path prefix answered 401
}

func (s *platformServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	ok := false
	switch {
	case s.rejectAll != "" && strings.HasPrefix(r.URL.Path, s.rejectAll):
	case len(parts) == 3 && parts[1] == "netease":
		ok = ingest.VerifyNetease(parts[2], "ns", r.Header, body, time.Now(), time.Minute) == nil
	case len(parts) == 4 && parts[1] == "ilink":
		ok = parts[2] == "il" && parts[3] == "path-secret"
	case len(parts) == 3 && parts[1] == "maxim":
		ok = r.Header.Get("signature") == "ms"
	}
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	s.accepted++
	s.byPath[parts[1]]++
	key := r.URL.Path + string(body)
	if s.seen[key] {
		s.repeats++
	} else {
		s.seen[key] = true
		var m map[string]any
		json.Unmarshal(body, &m)
		switch {
		case m["eventType"] == "47":
			t, _ := strconv.ParseInt(m["time"].(string), 10, 64)
			if time.Now().UnixMilli()-t > 900 {
				s.latePres++
			}
		case m["msg_type"] == float64(4) && m["time"] != nil:
			if time.Now().UnixMilli()-int64(m["time"].(float64))*1000 > 1500 {
				s.latePres++
			}
		}
	}
	w.WriteHeader(http.StatusOK)
}

func newServer(t *testing.T) (*platformServer, *httptest.Server) {
	ps := &platformServer{seen: map[string]bool{}, byPath: map[string]int{}}
	srv := httptest.NewServer(ps)
	t.Cleanup(srv.Close)
	return ps, srv
}

func baseConfig(target string) loadgen.Config {
	return loadgen.Config{
		Target:      target,
		Count:       400,
		Duration:    time.Minute,
		Concurrency: 8,
		Duplicates:  0.3,
		OutOfOrder:  0.3,
		Seed:        42,
		NeteaseApps: map[string]string{"na": "ns"},
		ILinkApps:   map[string]loadgen.ILinkApp{"il": {Token: "tok", PathSecret: "path-secret"}},
		MaximApps:   map[string]string{"ma": "ms"},
	}
}

func TestRunSendsSignedCallbacksWithRetriesAndLatePresence(t *testing.T) {
	ps, srv := newServer(t)
	var log bytes.Buffer
	cfg := baseConfig(srv.URL)
	cfg.AcceptedLog = &log
	rep, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tot := rep.Total
	if tot.Sent != ps.requests || tot.Accepted != ps.accepted {
		t.Fatalf("report says sent %d accepted %d; server saw %d requests, %d accepted", tot.Sent, tot.Accepted, ps.requests, ps.accepted)
	}
	if tot.Rejected != 0 || tot.Failed != 0 {
		t.Fatalf("every callback is correctly signed, yet %d rejected and %d failed (statuses %v)", tot.Rejected, tot.Failed, rep.Statuses)
	}
	if tot.Sent-tot.Retries != 400 {
		t.Errorf("first sends = %d, want the count 400", tot.Sent-tot.Retries)
	}
	if tot.Retries != ps.repeats {
		t.Errorf("report counts %d retries; the server saw %d repeated bodies", tot.Retries, ps.repeats)
	}
	if tot.Retries < 60 || tot.Retries > 180 {
		t.Errorf("%d retries for a 0.3 share of 400", tot.Retries)
	}
	if tot.Late == 0 || tot.Late != ps.latePres {
		t.Errorf("report counts %d late presence events; the server saw %d with an old time", tot.Late, ps.latePres)
	}
	for _, p := range []string{"netease", "ilink", "maxim"} {
		if ps.byPath[p] == 0 {
			t.Errorf("no %s callbacks in the default mix", p)
		}
	}
	// The accepted log has one line per accepted send, and first sends have distinct ids.
	lines, firstIDs := 0, map[string]bool{}
	sc := bufio.NewScanner(&log)
	for sc.Scan() {
		var rec loadgen.AcceptedRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		lines++
		if rec.ID == "" || rec.App == "" || rec.Platform == "" {
			t.Errorf("incomplete record %+v", rec)
		}
		if !rec.Retry {
			if firstIDs[rec.ID] {
				t.Errorf("two first sends share id %s", rec.ID)
			}
			firstIDs[rec.ID] = true
		}
	}
	if lines != tot.Accepted {
		t.Errorf("accepted log has %d lines, %d accepted", lines, tot.Accepted)
	}
	if rep.Latency.P50 <= 0 || rep.Latency.Max < rep.Latency.P99 {
		t.Errorf("latency quantiles %+v", rep.Latency)
	}
	var sum bytes.Buffer
	rep.WriteSummary(&sum)
	if !strings.Contains(sum.String(), "total") || !strings.Contains(sum.String(), "p99") {
		t.Errorf("summary:\n%s", sum.String())
	}
}

func TestRunCountsRejectionsAndStopsOnDuration(t *testing.T) {
	ps, srv := newServer(t)
	ps.rejectAll = "/v1/maxim/"
	cfg := baseConfig(srv.URL)
	cfg.Count = 0
	cfg.Duration = 700 * time.Millisecond
	cfg.Rate = 200
	cfg.Duplicates = 0
	start := time.Now()
	rep, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("a 700ms run took %s", took)
	}
	if rep.ByKind[loadgen.MaximMessage].Rejected+rep.ByKind[loadgen.MaximGroup].Rejected == 0 {
		t.Errorf("maxim callbacks answered 401 not counted as rejected: %+v", rep.ByKind)
	}
	if rep.Total.Accepted+rep.Total.Rejected != rep.Total.Sent || rep.Total.Sent != ps.requests {
		t.Errorf("counts do not add up: %+v, server saw %d", rep.Total, ps.requests)
	}
	// About 140 at 200/s for 0.7s: the rate is honoured, not exceeded.
	if rep.Total.Sent > 160 {
		t.Errorf("sent %d in 0.7s at 200/s", rep.Total.Sent)
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := loadgen.ParseMix("netease_message=2,bogus=1"); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := loadgen.ParseMix("netease_message=0"); err == nil {
		t.Error("zero total accepted")
	}
	cfg := loadgen.Config{Target: "localhost:8080", Duplicates: 2, Mix: map[string]int{loadgen.ILinkStatus: 1}, NeteaseApps: map[string]string{"a": "b"}}
	_, err := loadgen.Run(context.Background(), cfg)
	for _, want := range []string{"target", "would not end", "between 0 and 1", "ilink_status but no app"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}

// flakyServer answers 503 to the first send of every body and 200 to the next: a receiver whose
// Kafka was away a moment.
type flakyServer struct {
	mu    sync.Mutex
	tries map[string]int
}

func (f *flakyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.tries[r.URL.Path+string(body)]++
	n := f.tries[r.URL.Path+string(body)]
	f.mu.Unlock()
	if n == 1 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// TestRunRetriesFailedSendsAndLogsEventIDs: with FailedRetries, a send answered 503 is sent again as a
// platform would, so every callback ends up accepted; the accepted log carries the event_id imarchive
// computes for each body, the same for a callback and its retries, distinct between callbacks.
func TestRunRetriesFailedSendsAndLogsEventIDs(t *testing.T) {
	fs := &flakyServer{tries: map[string]int{}}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	var log bytes.Buffer
	cfg := baseConfig(srv.URL)
	cfg.Count, cfg.Duplicates, cfg.FailedRetries, cfg.RetryBackoff = 120, 0, 3, 10*time.Millisecond
	cfg.AcceptedLog = &log
	rep, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total.Failed != 120 || rep.Total.Accepted != 120 || rep.Total.Retries != 120 {
		t.Fatalf("failed %d, accepted %d, retries %d; want 120 each (one 503, then a retry accepted)", rep.Total.Failed, rep.Total.Accepted, rep.Total.Retries)
	}
	ids := map[string]string{}
	sc := bufio.NewScanner(&log)
	for sc.Scan() {
		var rec loadgen.AcceptedRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.EventID == "" {
			t.Fatalf("no event_id in %+v", rec)
		}
		if prev, ok := ids[rec.EventID]; ok && prev != rec.ID {
			t.Errorf("callbacks %s and %s share event_id %s", prev, rec.ID, rec.EventID)
		}
		ids[rec.EventID] = rec.ID
	}
	if len(ids) != 120 {
		t.Errorf("%d distinct event_ids for 120 callbacks", len(ids))
	}
}

// TestEventIDIsIngests: the accepted log's event_id is the one ingest's normalizer computes for the
// body that was sent.
func TestEventIDIsIngests(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{} // event_id computed here from what arrived
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		norm := map[string]normalize.Func{"netease": normalize.Netease, "ilink": normalize.ILink, "maxim": normalize.Maxim}[parts[1]]
		ev, err := norm(parts[2], body, time.Now())
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		got[ev.EventID] = r.URL.Path
		mu.Unlock()
	}))
	defer srv.Close()
	var log bytes.Buffer
	cfg := baseConfig(srv.URL)
	cfg.Count, cfg.Duplicates = 150, 0
	cfg.AcceptedLog = &log
	if _, err := loadgen.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(&log)
	for sc.Scan() {
		var rec loadgen.AcceptedRecord
		json.Unmarshal(sc.Bytes(), &rec)
		if _, ok := got[rec.EventID]; !ok {
			t.Errorf("%s %s: event_id %s is not what ingest computes for the body sent", rec.Kind, rec.ID, rec.EventID)
		}
		n++
	}
	if n != 150 {
		t.Errorf("%d accepted", n)
	}
}
