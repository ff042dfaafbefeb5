package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/internal/testenv"
)

const (
	ingToken       = "abcdefg"
	ingILinkSecret = "p4th-s3cret-0123456"
	ingMaximSecret = "m4xim-s3cret"
)

// ingStack is a running serve with apps of all three platforms, on a real Kafka broker.
func ingStack(t *testing.T) (*stack, string) {
	t.Helper()
	s := newStack(t)
	s.env = append(s.env,
		"IMARCHIVE_ILINK_APPS=app1="+ingToken+":"+ingILinkSecret,
		"IMARCHIVE_MAXIM_APPS=welovemaxim="+ingMaximSecret,
	)
	prefix := ""
	for _, kv := range s.env {
		if v, ok := strings.CutPrefix(kv, "IMARCHIVE_TOPIC_PREFIX="); ok {
			prefix = v
		}
	}
	s.start("serve")
	waitFor(t, "serve /readyz", 60*time.Second, func() bool {
		resp, err := http.Get("http://" + s.ops + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s, prefix
}

// ingDo sends one request to serve and returns the status and answer.
func ingDo(t *testing.T, s *stack, method, path string, body []byte, h http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.listen+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if h != nil {
		req.Header = h
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// ingTopics reads everything on the three topics of prefix from the real broker.
func ingTopics(t *testing.T, prefix string) map[string][]*kgo.Record {
	t.Helper()
	brokers := testenv.KafkaBrokers(t)
	names := []string{prefix + "raw", prefix + "events", prefix + "deadletter"}
	adm, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ends, err := kadm.NewClient(adm).ListEndOffsets(context.Background(), names...)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	ends.Each(func(o kadm.ListedOffset) { want[o.Topic] += o.Offset })
	out := map[string][]*kgo.Record{}
	for _, topic := range names {
		if want[topic] == 0 {
			continue
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		for int64(len(out[topic])) < want[topic] && ctx.Err() == nil {
			out[topic] = append(out[topic], cl.PollFetches(ctx).Records()...)
		}
		cancel()
		cl.Close()
		if int64(len(out[topic])) != want[topic] {
			t.Fatalf("read %d of %d records of %s", len(out[topic]), want[topic], topic)
		}
	}
	return out
}

type ingCase struct {
	file, method, path string
	h                  func(body []byte) http.Header
	answer             string
}

// ingSeedCases is every example payload of normalize/testdata, as its platform delivers it.
func ingSeedCases(t *testing.T) []ingCase {
	t.Helper()
	var cases []ingCase
	add := func(dir, path string, h func([]byte) http.Header, answer string) {
		files, _ := filepath.Glob("../../normalize/testdata/" + dir + "/*.json")
		for _, f := range files {
			if !strings.HasSuffix(f, ".event.json") {
				cases = append(cases, ingCase{f, "POST", path, h, answer})
			}
		}
	}
	add("netease", "/v1/netease/app1", func(b []byte) http.Header { return sign("s3cret", b) }, "")
	add("ilink", "/v1/ilink/app1/"+ingILinkSecret, func([]byte) http.Header { return http.Header{} }, `{"code":0}`)
	add("maxim", "/v1/maxim/welovemaxim", func([]byte) http.Header {
		h := http.Header{}
		h.Set("signature", ingMaximSecret)
		return h
	}, "")
	if len(cases) < 43+4+1 {
		t.Fatalf("found %d seed payloads", len(cases))
	}
	return cases
}

// TestEndToEndIngestEveryPlatform drives the real binary on a real Kafka broker: every example payload
// of the three platforms delivered as its platform does, each delivered three times (twice at once,
// then once more), the iLink handshake, forgeries of each platform and one body that cannot be
// normalized. Afterwards the events topic holds exactly the golden event of every example once, the
// raw topic each body once as received, the dead-letter topic the bad body with its reason, and
// nothing of the forgeries.
func TestEndToEndIngestEveryPlatform(t *testing.T) {
	s, prefix := ingStack(t)
	cases := ingSeedCases(t)

	// The handshake first, as the platform's set_config does.
	sig, _ := ingest.ILinkSignature(ingToken, "1457408202", "e2e-echo")
	q := url.Values{"signature": {sig}, "timestamp": {"1457408202"}, "echostr": {"e2e-echo"}}
	if status, body := ingDo(t, s, "GET", "/v1/ilink/app1/"+ingILinkSecret+"?"+q.Encode(), nil, nil); status != 200 || body != "e2e-echo" {
		t.Fatalf("handshake: %d %q", status, body)
	}
	waitFor(t, "topics to be created", 30*time.Second, func() bool {
		b, _ := os.ReadFile(cases[0].file)
		status, _ := ingDo(t, s, cases[0].method, cases[0].path, b, cases[0].h(b))
		return status == 200
	})

	var wg sync.WaitGroup
	for _, c := range cases {
		body, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			wg.Go(func() {
				if status, answer := ingDo(t, s, c.method, c.path, body, c.h(body)); status != 200 || answer != c.answer {
					t.Errorf("%s: %d %q, want 200 %q", c.file, status, answer, c.answer)
				}
			})
		}
	}
	wg.Wait()
	for _, c := range cases { // the platform retries once more, later
		body, _ := os.ReadFile(c.file)
		if status, _ := ingDo(t, s, c.method, c.path, body, c.h(body)); status != 200 {
			t.Errorf("%s retry: status %d", c.file, status)
		}
	}

	forged := []byte(`{"eventType":"48","msgIdServer":"666","body":"FORGED"}`)
	for _, r := range []struct {
		method, path string
		body         []byte
		h            http.Header
		status       int
	}{
		{"POST", "/v1/netease/app1", forged, sign("guess", forged), 401},
		{"POST", "/v1/ilink/app1/guess", []byte(`{"from_uid":"1","msg_type":1,"content":"Rk9SR0VE"}`), nil, 403},
		{"POST", "/v1/maxim/welovemaxim", []byte(`{"appId":"welovemaxim","msgId":"666","type":"CHAT"}`), http.Header{"Signature": {"guess"}}, 401},
		{"POST", "/v1/netease/app1", bytes.Repeat([]byte("x"), 2<<20), sign("s3cret", bytes.Repeat([]byte("x"), 2<<20)), 413},
	} {
		if status, _ := ingDo(t, s, r.method, r.path, r.body, r.h); status != r.status {
			t.Errorf("%s %s: status %d, want %d", r.method, r.path, status, r.status)
		}
	}
	bad := []byte(`{"eventType":"999","time":"1"}`)
	if status, _ := ingDo(t, s, "POST", "/v1/netease/app1", bad, sign("s3cret", bad)); status != 200 {
		t.Fatalf("unnormalizable body: status %d, want 200 (archived, dead-lettered)", status)
	}

	recs := ingTopics(t, prefix)
	raw, evs, dead := recs[prefix+"raw"], recs[prefix+"events"], recs[prefix+"deadletter"]
	if len(evs) != len(cases) || len(raw) != len(cases)+1 || len(dead) != 1 {
		t.Fatalf("events %d, raw %d, dead letters %d; want %d, %d, 1", len(evs), len(raw), len(dead), len(cases), len(cases)+1)
	}
	if string(dead[0].Value) != string(bad) {
		t.Errorf("dead letter %q, want the body as received", dead[0].Value)
	}
	rawByKey := map[string][]byte{}
	for _, r := range raw {
		rawByKey[string(r.Key)] = r.Value
		if strings.Contains(string(r.Value), "FORGED") {
			t.Errorf("a forged body reached the raw topic")
		}
	}
	got := map[string]event.Event{}
	for _, r := range evs {
		var e event.Event
		if err := event.Unmarshal(r.Value, &e); err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != e.Key() {
			t.Errorf("event %s keyed %q, want %q", e.EventID, r.Key, e.Key())
		}
		got[e.EventID] = e
	}
	for _, c := range cases {
		var want event.Event
		b, _ := os.ReadFile(strings.TrimSuffix(c.file, ".json") + ".event.json")
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		e, ok := got[want.EventID]
		if !ok {
			t.Errorf("%s: event %s not on the events topic", c.file, want.EventID)
			continue
		}
		if time.Since(time.UnixMilli(e.ReceivedAtMs)) > 10*time.Minute {
			t.Errorf("%s: received_at %d is not now", c.file, e.ReceivedAtMs)
		}
		body, _ := os.ReadFile(c.file)
		if !bytes.Equal(rawByKey[e.RawKey], body) {
			t.Errorf("%s: raw record %q is not the body as received", c.file, e.RawKey)
		}
		e.ReceivedAtMs, e.RawKey = want.ReceivedAtMs, ""
		e.App, want.App = "", "" // the goldens use their own app names; the same here except Maxim's
		ge, _ := json.Marshal(e)
		we, _ := json.Marshal(want)
		if !bytes.Equal(ge, we) {
			t.Errorf("%s: event differs from its golden\n got %s\nwant %s", c.file, ge, we)
		}
	}

	resp, err := http.Get("http://" + s.ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"imarchive_ingest_duplicates_total", "imarchive_ingest_ack_latency_seconds_bucket",
		`outcome="dead_letter"`, `outcome="rejected_forbidden"`, `outcome="handshake_ok"`} {
		if !strings.Contains(string(m), want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
	s.stop("serve")
	if log := s.logs["serve"].String(); strings.Contains(log, ingILinkSecret) || strings.Contains(log, ingMaximSecret) || strings.Contains(log, "s3cret") {
		t.Errorf("serve logged a secret:\n%s", log)
	}
}

// TestEndToEndIngestGracefulShutdown: a callback still being received when serve is told to stop is
// finished — read, acknowledged by Kafka, answered 200 — before serve exits cleanly.
func TestEndToEndIngestGracefulShutdown(t *testing.T) {
	s, prefix := ingStack(t)
	body, err := os.ReadFile("../../normalize/testdata/ilink/4.1_text.json")
	if err != nil {
		t.Fatal(err)
	}
	path := "http://" + s.listen + "/v1/ilink/app1/" + ingILinkSecret
	waitFor(t, "topics to be created", 30*time.Second, func() bool {
		resp, err := http.Post(path, "application/json", bytes.NewReader(body))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	slow := []byte(`{"from_uid":"413","to_uid":"414","create_time":1457408300,"msg_type":1,"content":"c2xvdw=="}`)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", path, pr)
	req.ContentLength = int64(len(slow))
	done := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	pw.Write(slow[:10]) // the request is in flight: headers and part of the body sent
	time.Sleep(200 * time.Millisecond)
	s.procs["serve"].Process.Signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	pw.Write(slow[10:])
	pw.Close()
	if status := <-done; status != 200 {
		t.Fatalf("in-flight request: status %d, want 200", status)
	}
	s.stop("serve") // SIGTERM again is harmless; expects a clean exit
	recs := ingTopics(t, prefix)
	found := false
	for _, r := range recs[prefix+"raw"] {
		found = found || bytes.Equal(r.Value, slow)
	}
	if !found || len(recs[prefix+"events"]) != 2 {
		t.Fatalf("in-flight body on the raw topic: %v; events %d, want 2", found, len(recs[prefix+"events"]))
	}
}
