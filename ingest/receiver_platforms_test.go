package ingest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/kafka"
)

// do sends one request and returns the status and the answer's body.
func (f *fixture) do(t *testing.T, method, path string, body []byte, h http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func headerMap(r *kgo.Record) map[string]string {
	m := map[string]string{}
	for _, h := range r.Headers {
		m[h.Key] = string(h.Value)
	}
	return m
}

func maximHeaders(sig string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if sig != "" {
		h.Set("signature", sig)
	}
	return h
}

const ilinkPath = "/v1/ilink/app1/" + ilinkSecret

func TestILinkHandshake(t *testing.T) {
	f := newFixture(t, nil)
	sorted, concatenated := ingest.ILinkSignature(ilinkToken, "1457408202", "r4nd0m")
	cases := []struct {
		name, path, sig, echostr string
		status                   int
		body                     string
	}{
		{"sorted reading (manual's prose)", ilinkPath, sorted, "r4nd0m", 200, "r4nd0m"},
		{"concatenated reading (manual's Java/PHP)", ilinkPath, concatenated, "r4nd0m", 200, "r4nd0m"},
		{"upper-case hex", ilinkPath, strings.ToUpper(sorted), "r4nd0m", 200, "r4nd0m"},
		{"bad signature: empty body", ilinkPath, strings.Repeat("0", 32), "r4nd0m", 401, ""},
		{"signature of another echostr", ilinkPath, sorted, "other", 401, ""},
		{"no signature", ilinkPath, "", "r4nd0m", 401, ""},
		{"wrong path secret", "/v1/ilink/app1/guess", sorted, "r4nd0m", 403, ""},
		{"unknown app", "/v1/ilink/nope/" + ilinkSecret, sorted, "r4nd0m", 403, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := url.Values{"signature": {c.sig}, "timestamp": {"1457408202"}, "echostr": {c.echostr}}
			status, body := f.do(t, "GET", c.path+"?"+q.Encode(), nil, nil)
			if status != c.status {
				t.Fatalf("status %d, want %d", status, c.status)
			}
			if c.status != 403 && body != c.body {
				t.Fatalf("body %q, want %q", body, c.body)
			}
		})
	}
	if sorted == concatenated {
		t.Fatal("the two readings coincide for this input; the test would not tell them apart")
	}
	for topic, n := range f.endOffsets(t) {
		if n != 0 {
			t.Errorf("topic %s has %d records after handshakes only", topic, n)
		}
	}
}

// TestILinkAndMaximAccepted: every iLink and Maxim example POSTed the way the platform does is
// answered as the platform expects, once Kafka holds the raw body and the golden event.
func TestILinkAndMaximAccepted(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		file, path string
		h          http.Header
		answer     string
	}{
		{"../normalize/testdata/ilink/4.1_text.json", ilinkPath, nil, `{"code":0}`},
		{"../normalize/testdata/ilink/4.2_group.json", ilinkPath, nil, `{"code":0}`},
		{"../normalize/testdata/ilink/4.3_status_offline.json", ilinkPath, nil, `{"code":0}`},
		{"../normalize/testdata/ilink/4.4_topic.json", ilinkPath, nil, `{"code":0}`},
		{"../normalize/testdata/maxim/chat_text.json", "/v1/maxim/welovemaxim", maximHeaders(maximSecret), ""},
		{"../normalize/testdata/maxim/groupchat_text.json", "/v1/maxim/welovemaxim", maximHeaders(maximSecret), ""},
	}
	for _, c := range cases {
		status, answer := f.do(t, "POST", c.path, readFile(t, c.file), c.h)
		if status != 200 || answer != c.answer {
			t.Fatalf("%s: %d %q, want 200 %q", c.file, status, answer, c.answer)
		}
	}
	raw := f.records(t, f.tc.Raw())
	evs := f.records(t, f.tc.Events())
	if len(raw) != len(cases) || len(evs) != len(cases) {
		t.Fatalf("raw %d, events %d records; want %d each", len(raw), len(evs), len(cases))
	}
	if n := f.endOffsets(t)[f.tc.DeadLetter()]; n != 0 {
		t.Errorf("dead-letter topic has %d records", n)
	}
	byID := map[string]event.Event{}
	for _, r := range evs {
		var e event.Event
		if err := event.Unmarshal(r.Value, &e); err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != e.Key() {
			t.Errorf("event %s keyed %q, want %q", e.EventID, r.Key, e.Key())
		}
		if e.RawKey != e.EventID {
			t.Errorf("event %s names raw record %q", e.EventID, e.RawKey)
		}
		byID[e.EventID] = e
	}
	for _, c := range cases {
		var want event.Event
		if err := json.Unmarshal(readFile(t, strings.TrimSuffix(c.file, ".json")+".event.json"), &want); err != nil {
			t.Fatal(err)
		}
		got, ok := byID[want.EventID]
		if !ok {
			t.Errorf("%s: no event %s on the events topic", c.file, want.EventID)
			continue
		}
		got.ReceivedAtMs, got.RawKey = want.ReceivedAtMs, ""
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if !bytes.Equal(g, w) {
			t.Errorf("%s: event on the topic differs from the golden\n got %s\nwant %s", c.file, g, w)
		}
	}
	for _, r := range raw {
		h := headerMap(r)
		switch h[kafka.HeaderSource] {
		case event.SourceILink:
			if h[kafka.HeaderPath] != "/v1/ilink/app1/"+kafka.Redacted {
				t.Errorf("raw iLink path header %q: the path secret must not be archived", h[kafka.HeaderPath])
			}
		case event.SourceMaxim:
			if h["http.Signature"] != kafka.Redacted {
				t.Errorf("raw Maxim signature header %q: the secret must not be archived", h["http.Signature"])
			}
		}
		for k, v := range h {
			if strings.Contains(v, ilinkSecret) || strings.Contains(v, maximSecret) {
				t.Errorf("raw header %s carries a secret", k)
			}
		}
	}
}

// TestRejectedProduceNothing: every way a request is refused, for the three platforms, with the
// status the issue names, and not one record produced.
func TestRejectedProduceNothing(t *testing.T) {
	f := newFixture(t, func(c *ingest.Config) { c.MaxBodyBytes = 4096 })
	ilinkBody := readFile(t, "../normalize/testdata/ilink/4.1_text.json")
	maximBody := readFile(t, "../normalize/testdata/maxim/chat_text.json")
	big := bytes.Repeat([]byte("x"), 5000)
	neteaseBody := seedMessage(t)
	cases := []struct {
		name, method, path string
		body               []byte
		h                  http.Header
		status             int
	}{
		{"netease AppKey header of another app", "POST", "/v1/netease/app1", neteaseBody, func() http.Header {
			h := signedHeaders(secret, neteaseBody, f.now)
			h.Set("AppKey", "app2")
			return h
		}(), 401},
		{"netease PUT", "PUT", "/v1/netease/app1", neteaseBody, signedHeaders(secret, neteaseBody, f.now), 405},
		{"ilink wrong secret", "POST", "/v1/ilink/app1/guess", ilinkBody, nil, 403},
		{"ilink secret of another length", "POST", "/v1/ilink/app1/" + ilinkSecret + "x", ilinkBody, nil, 403},
		{"ilink no secret", "POST", "/v1/ilink/app1", ilinkBody, nil, 403},
		{"ilink empty secret", "POST", "/v1/ilink/app1/", ilinkBody, nil, 403},
		{"ilink unknown app", "POST", "/v1/ilink/nope/" + ilinkSecret, ilinkBody, nil, 403},
		{"ilink too large", "POST", ilinkPath, big, nil, 413},
		{"ilink DELETE", "DELETE", ilinkPath, ilinkBody, nil, 405},
		{"maxim no signature", "POST", "/v1/maxim/welovemaxim", maximBody, maximHeaders(""), 401},
		{"maxim wrong signature", "POST", "/v1/maxim/welovemaxim", maximBody, maximHeaders("guess"), 401},
		{"maxim signature of another app", "POST", "/v1/maxim/welovemaxim", maximBody, maximHeaders(secret), 401},
		{"maxim unknown app", "POST", "/v1/maxim/nope", maximBody, maximHeaders(maximSecret), 401},
		{"maxim body names another app", "POST", "/v1/maxim/welovemaxim",
			bytes.Replace(maximBody, []byte(`"welovemaxim"`), []byte(`"otherapp"`), 1), maximHeaders(maximSecret), 401},
		{"maxim too large", "POST", "/v1/maxim/welovemaxim", big, maximHeaders(maximSecret), 413},
		{"maxim GET", "GET", "/v1/maxim/welovemaxim", nil, maximHeaders(maximSecret), 405},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _ := f.do(t, c.method, c.path, c.body, c.h)
			if status != c.status {
				t.Fatalf("status %d, want %d", status, c.status)
			}
		})
	}
	for topic, n := range f.endOffsets(t) {
		if n != 0 {
			t.Errorf("topic %s has %d records after only rejected requests", topic, n)
		}
	}
	if n := metricValue(t, f, "imarchive_ingest_callbacks_total", nil); n != float64(len(cases)) {
		t.Errorf("callbacks counted %v, want %d", n, len(cases))
	}
}

func TestILinkAllowList(t *testing.T) {
	body := readFile(t, "../normalize/testdata/ilink/4.1_text.json")
	for _, c := range []struct {
		allow  string
		status int
	}{
		{"10.0.0.0/8, 192.0.2.7", 403}, // the test client is 127.0.0.1
		{"10.0.0.0/8,127.0.0.0/8", 200},
		{"127.0.0.1", 200},
	} {
		f := newFixture(t, func(cfg *ingest.Config) {
			var err error
			if cfg.ILinkAllowIPs, err = ingest.ParseAllowIPs(c.allow); err != nil {
				t.Fatal(err)
			}
		})
		status, _ := f.do(t, "POST", ilinkPath, body, nil)
		if status != c.status {
			t.Errorf("allow-list %q: status %d, want %d", c.allow, status, c.status)
		}
		want := int64(0)
		if c.status == 200 {
			want = 1
		}
		if n := f.endOffsets(t)[f.tc.Raw()]; n != want {
			t.Errorf("allow-list %q: raw topic has %d records, want %d", c.allow, n, want)
		}
	}
}

// TestDeadLetter: an authentic body that cannot be normalized is on the raw topic and the dead-letter
// topic with the reason, nothing on the events topic, and the platform has its success answer.
func TestDeadLetter(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		name, path string
		body       []byte
		h          func(body []byte) http.Header
		answer     string
		reason     string
	}{
		{"netease not JSON", "/v1/netease/app1", []byte(`{"eventType":"48",`), func(b []byte) http.Header { return signedHeaders(secret, b, f.now) }, "", "not a JSON object"},
		{"netease unknown eventType", "/v1/netease/app1", []byte(`{"eventType":"999","time":"1"}`), func(b []byte) http.Header { return signedHeaders(secret, b, f.now) }, "", `unsupported event type: eventType "999"`},
		{"netease unknown login type", "/v1/netease/app1", []byte(`{"eventType":"47","type":"9","accid":"a","time":"1"}`), func(b []byte) http.Header { return signedHeaders(secret, b, f.now) }, "", "login/logout type"},
		{"ilink bad Base64", ilinkPath, []byte(`{"from_uid":"1","to_uid":"2","msg_type":1,"create_time":1,"content":"%%%not base64"}`), func([]byte) http.Header { return nil }, `{"code":0}`, "content: not Base64"},
		{"ilink unknown msg_type", ilinkPath, []byte(`{"from_uid":"1","msg_type":9}`), func([]byte) http.Header { return nil }, `{"code":0}`, `msg_type "9"`},
		{"maxim unknown type", "/v1/maxim/welovemaxim", []byte(`{"appId":"welovemaxim","msgId":"1","type":"READ_ACK"}`), func([]byte) http.Header { return maximHeaders(maximSecret) }, "", `type "READ_ACK"`},
		{"maxim not an object", "/v1/maxim/welovemaxim", []byte(`[1,2]`), func([]byte) http.Header { return maximHeaders(maximSecret) }, "", "not a JSON object"},
	}
	for _, c := range cases {
		status, answer := f.do(t, "POST", c.path, c.body, c.h(c.body))
		if status != 200 || answer != c.answer {
			t.Fatalf("%s: %d %q, want 200 %q (archived; a retry would not help)", c.name, status, answer, c.answer)
		}
	}
	if n := f.endOffsets(t)[f.tc.Events()]; n != 0 {
		t.Errorf("events topic has %d records", n)
	}
	raw := f.records(t, f.tc.Raw())
	dl := f.records(t, f.tc.DeadLetter())
	if len(raw) != len(cases) || len(dl) != len(cases) {
		t.Fatalf("raw %d, dead-letter %d; want %d each", len(raw), len(dl), len(cases))
	}
	reasons := map[string]string{}
	for _, r := range dl {
		h := headerMap(r)
		if h[kafka.HeaderStage] != "ingest.normalize" || h[kafka.HeaderReason] == "" {
			t.Errorf("dead letter without stage or reason: %v", h)
		}
		reasons[string(r.Value)] = h[kafka.HeaderReason]
	}
	for _, c := range cases {
		got, ok := reasons[string(c.body)]
		if !ok {
			t.Errorf("%s: body not on the dead-letter topic as received", c.name)
		} else if !strings.Contains(got, c.reason) {
			t.Errorf("%s: reason %q, want it to say %q", c.name, got, c.reason)
		}
	}
	for _, r := range raw {
		if _, ok := reasons[string(r.Value)]; !ok {
			t.Errorf("raw record %q has no dead letter", r.Value)
		}
	}
}

// metricValue sums a metric family on the fixture's registry over the series whose labels include want.
func metricValue(t *testing.T, f *fixture, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue series
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}
