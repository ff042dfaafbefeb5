package connectors_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/imarchive/imarchive/connectors"
	"github.com/imarchive/imarchive/internal/testenv/connectorstest"
)

func TestBackoffGrowsWithinBounds(t *testing.T) {
	p := connectors.Policy{Timeout: time.Second, Attempts: 10, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	for n, full := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 9: time.Second} {
		for i := 0; i < 200; i++ {
			if d := p.Backoff(n); d < full/2 || d > full {
				t.Fatalf("retry %d: wait %s outside [%s, %s]", n, d, full/2, full)
			}
		}
	}
}

func TestRetryable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&connectors.HTTPStatusError{Status: 500}, true},
		{&connectors.HTTPStatusError{Status: 503}, true},
		{&connectors.HTTPStatusError{Status: 429}, true},
		{&connectors.HTTPStatusError{Status: 408}, true},
		{&connectors.HTTPStatusError{Status: 400}, false},
		{&connectors.HTTPStatusError{Status: 401}, false},
		{fmt.Errorf("wrapped: %w", syscall.ECONNREFUSED), true},
		{fmt.Errorf("wrapped: %w", syscall.ECONNRESET), true},
		{io.ErrUnexpectedEOF, true},
		{&net.OpError{Op: "dial", Err: errors.New("x")}, true},
		{context.Canceled, false},
		{errors.New("decode: bad JSON"), false},
	} {
		if got := connectors.Retryable(c.err); got != c.want {
			t.Errorf("Retryable(%v) = %v", c.err, got)
		}
	}
}

// TestPolicyDo: retries while retryable, stops on a permanent error, gives up after Attempts, bounds
// each attempt by Timeout, and stops when the context ends.
func TestPolicyDo(t *testing.T) {
	p := connectors.Policy{Timeout: 50 * time.Millisecond, Attempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	ctx := context.Background()
	var n int
	var retries []int
	err := p.Do(ctx, func(context.Context) error {
		n++
		if n < 3 {
			return &connectors.HTTPStatusError{Status: 502}
		}
		return nil
	}, func(attempt int, _ time.Duration, _ error) { retries = append(retries, attempt) })
	if err != nil || n != 3 || len(retries) != 2 {
		t.Fatalf("err %v, %d calls, retries %v", err, n, retries)
	}
	n = 0
	err = p.Do(ctx, func(context.Context) error { n++; return errors.New("permanent") }, nil)
	if n != 1 || err == nil || errors.Is(err, connectors.ErrGaveUp) {
		t.Fatalf("permanent: %d calls, %v", n, err)
	}
	n = 0
	err = p.Do(ctx, func(context.Context) error { n++; return &connectors.HTTPStatusError{Status: 500} }, nil)
	var se *connectors.HTTPStatusError
	if n != 3 || !errors.Is(err, connectors.ErrGaveUp) || !errors.As(err, &se) {
		t.Fatalf("exhausted: %d calls, %v", n, err)
	}
	n = 0
	start := time.Now()
	err = p.Do(ctx, func(ctx context.Context) error { n++; <-ctx.Done(); return ctx.Err() }, nil)
	if n != 3 || !strings.Contains(err.Error(), "timed out after 50ms") || time.Since(start) > time.Second {
		t.Fatalf("timeouts: %d calls, %v after %s", n, err, time.Since(start))
	}
	cctx, cancel := context.WithCancel(ctx)
	n = 0
	err = p.Do(cctx, func(context.Context) error { n++; cancel(); return &connectors.HTTPStatusError{Status: 500} }, nil)
	if n != 1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %d calls, %v", n, err)
	}
}

// TestCallerRedactsAndRetries: the caller retries a failing server, and no registered secret reaches
// an error or a log line, not even one the server echoes or one in the URL's query.
func TestCallerRedactsAndRetries(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "bad token "+r.URL.Query().Get("access_token"), http.StatusBadGateway)
	}))
	defer srv.Close()
	var logs strings.Builder
	c := &connectors.Caller{Source: "test", Policy: connectors.Policy{Timeout: time.Second, Attempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
		Redact: connectors.NewRedactor("sekrit-token"), Log: slog.New(slog.NewTextHandler(&logs, nil))}
	err := c.Call(context.Background(), "op", func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/x?access_token=sekrit-token", nil)
	}, func(status int, body []byte) error {
		if status != 200 {
			return &connectors.HTTPStatusError{Status: status, Body: string(body)}
		}
		return nil
	})
	if calls.Load() != 2 || !errors.Is(err, connectors.ErrGaveUp) {
		t.Fatalf("%d calls, %v", calls.Load(), err)
	}
	if strings.Contains(err.Error(), "sekrit-token") || strings.Contains(logs.String(), "sekrit-token") {
		t.Errorf("secret shown:\n%v\n%s", err, logs.String())
	}
	srv.Close() // now a transport error, whose URL carries the token
	err = c.Call(context.Background(), "op", func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/x?access_token=sekrit-token", nil)
	}, func(int, []byte) error { return nil })
	if err == nil || strings.Contains(err.Error(), "sekrit-token") || !strings.Contains(err.Error(), "/x") {
		t.Errorf("transport error %v", err)
	}
}

func TestSecretAndMasking(t *testing.T) {
	s := connectors.Secret("hunter2-secret")
	b, _ := json.Marshal(struct{ S connectors.Secret }{s})
	for _, text := range []string{s.String(), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), string(b)} {
		if strings.Contains(text, "hunter2") {
			t.Errorf("shown: %s", text)
		}
	}
	if s.Reveal() != "hunter2-secret" || connectors.Secret("").String() != "" {
		t.Error("Reveal or empty")
	}
	for in, want := range map[string]string{
		"https://a.example.com/v1/ilink/app/pathsecret":   "https://a.example.com/v1/ilink/app/***",
		"https://u:pw@a.example.com/x?access_token=t&b=1": "https://u:***@a.example.com/x?access_token=***&b=***",
		"http://xxx.com": "http://xxx.com",
		"https://h/prefix/v1/ilink/app/s3cret?x=1": "https://h/prefix/v1/ilink/app/***?x=***",
		"": "",
	} {
		if got := connectors.MaskURL(in); got != want {
			t.Errorf("MaskURL(%q) = %q, want %q", in, got, want)
		}
	}
	r := connectors.NewRedactor("ab", "token-1", "token-1-long")
	if got := r.String("x token-1-long y token-1 z ab"); got != "x *** y *** z ab" {
		t.Errorf("redacted %q", got)
	}
	base := errors.New("call with token-1 failed")
	if err := r.Error(base); err.Error() != "call with *** failed" || !errors.Is(err, base) {
		t.Errorf("Error: %v", err)
	}
}

func TestFlexValues(t *testing.T) {
	var s struct {
		A connectors.FlexString `json:"a"`
		B connectors.FlexString `json:"b"`
		C connectors.FlexInt    `json:"c"`
		D connectors.FlexInt    `json:"d"`
		E connectors.FlexString `json:"e"`
	}
	if err := json.Unmarshal([]byte(`{"a": 2302128618880, "b": "414", "c": "7", "d": 1.0, "e": null}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.A != "2302128618880" || s.B != "414" || s.C != 7 || s.D != 1 || s.E != "" {
		t.Errorf("%+v", s)
	}
	for _, bad := range []string{`{"a": true}`, `{"c": "x"}`, `{"c": 1.5}`} {
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
	if got := connectors.Attrs(map[string]json.RawMessage{"s": json.RawMessage(`"x"`), "n": json.RawMessage(`5`), "o": json.RawMessage(`{"a":1}`)}); got["s"] != "x" || got["n"] != "5" || got["o"] != `{"a":1}` {
		t.Errorf("Attrs %v", got)
	}
}

func FuzzJSONList(f *testing.F) {
	for _, s := range []string{`["a",1]`, `"[\"a\"]"`, `null`, `""`, `{}`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := connectors.JSONList[connectors.FlexString](b)
		if err == nil {
			for _, v := range out {
				_ = string(v)
			}
		}
	})
}

// TestStoreRuns: run and item rows on the real engine — a new run, a resumed one keeping its complete
// items and counts, status rows that replace each other in order even within one millisecond, and
// LastComplete counting only complete items of complete runs.
func TestStoreRuns(t *testing.T) {
	_, conn := connectorstest.Database(t)
	ctx := context.Background()
	frozen := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	st := connectors.NewStore(conn, "maxim", "app1", nil)
	st.Now = func() time.Time { return frozen } // every row in the same millisecond
	run, err := st.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if run.Resumed {
		t.Fatal("nothing to resume yet")
	}
	snap := func(status, id string) connectors.Item {
		return connectors.Item{Kind: connectors.KindGroupMembers, ID: id, RunID: run.ID, SnapshotID: "s-" + id, Status: status, StartedAt: frozen, SyncedAt: frozen}
	}
	b := &connectors.Batch{Items: []connectors.Item{snap(connectors.ItemPartial, "g1"), snap(connectors.ItemComplete, "g1"), snap(connectors.ItemPartial, "g2")}}
	run.Counts.Groups = 1
	if err := st.Flush(ctx, b); err != nil {
		t.Fatal(err)
	}
	if !b.Empty() {
		t.Error("Flush must empty the batch")
	}
	if err := st.Finish(ctx, run, errors.New("boom")); err != nil {
		t.Fatal(err)
	}
	last, err := st.LastComplete(ctx, connectors.KindGroupMembers)
	if err != nil || len(last) != 0 {
		t.Fatalf("a failed run's items count as complete: %v %v", last, err)
	}
	again, err := st.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Resumed || again.ID != run.ID || again.Resumes != 1 || again.Counts.Groups != 1 {
		t.Fatalf("resume: %+v", again)
	}
	if it, ok := again.Item(connectors.KindGroupMembers, "g1"); !ok || it.Status != connectors.ItemComplete {
		t.Errorf("g1: %+v", it)
	}
	if it, ok := again.Item(connectors.KindGroupMembers, "g2"); !ok || it.Status != connectors.ItemPartial {
		t.Errorf("g2: %+v", it)
	}
	if err := st.Finish(ctx, again, nil); err != nil {
		t.Fatal(err)
	}
	last, err = st.LastComplete(ctx, connectors.KindGroupMembers)
	if err != nil || len(last) != 1 || !last["g1"].Equal(frozen) {
		t.Fatalf("LastComplete %v %v", last, err)
	}
	rows := connectorstest.Query(t, conn, "sync_runs", map[string]string{"source": "maxim", "app": "app1", "since": "2000-01-01 00:00:00"})
	if len(rows) != 1 || rows[0]["status"] != "complete" {
		t.Errorf("the last status row must win within one millisecond: %v", rows)
	}
	next, err := st.Begin(ctx, true)
	if err != nil || next.Resumed || next.ID == run.ID {
		t.Errorf("after a complete run, a new one: %+v %v", next, err)
	}
}

// TestFinishRunFlushesAfterFailure: a failed run (even one whose context was cancelled, as by
// Ctrl-C) writes what it read before it records itself failed, so a resumed run keeps those items;
// a successful run has already flushed and FinishRun does not flush again.
func TestFinishRunFlushesAfterFailure(t *testing.T) {
	_, conn := connectorstest.Database(t)
	st := connectors.NewStore(conn, "maxim", "app1", nil)
	run, err := st.Begin(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	b := &connectors.Batch{Items: []connectors.Item{{Kind: connectors.KindGroupMembers, ID: "g1", RunID: run.ID, SnapshotID: "s-g1", Status: connectors.ItemComplete, StartedAt: now, SyncedAt: now}}}
	flushes := 0
	end := connectors.RunEnd{Flush: func(ctx context.Context) error { flushes++; return st.Flush(ctx, b) }}
	var out strings.Builder
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	boom := errors.New("boom")
	if err := st.FinishRun(ctx, run, boom, end, connectors.NewProgress(&out, "", nil), slog.New(slog.DiscardHandler)); !errors.Is(err, boom) {
		t.Fatalf("FinishRun must return the run's error: %v", err)
	}
	if flushes != 1 {
		t.Fatalf("a failed run flushed %d times, want 1", flushes)
	}
	if !strings.Contains(out.String(), "failed") {
		t.Errorf("progress: %q", out.String())
	}
	again, err := st.Begin(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if it, ok := again.Item(connectors.KindGroupMembers, "g1"); !again.Resumed || !ok || it.Status != connectors.ItemComplete {
		t.Fatalf("the failed run's items were not written before it was recorded: resumed %v, g1 %+v %v", again.Resumed, it, ok)
	}
	if err := st.FinishRun(context.Background(), again, nil, end, nil, slog.New(slog.DiscardHandler)); err != nil || flushes != 1 {
		t.Fatalf("a successful run: err %v, flushes %d (want 1: no flush after success)", err, flushes)
	}
}
