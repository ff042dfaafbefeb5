package ingest_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/kafka"
)

const (
	secret      = "s3cret"
	ilinkToken  = "abcdefg"
	ilinkSecret = "p4th-s3cret-0123456"
	maximSecret = "m4xim-s3cret"
)

type fixture struct {
	srv    *httptest.Server
	client *kgo.Client
	tc     kafka.Config
	now    time.Time
	reg    *prometheus.Registry
	clock  *atomic.Int64 // the receiver's clock, Unix ms; starts at now
}

// advance moves the receiver's clock (received_at, freshness, dedupe window) forward.
func (f *fixture) advance(d time.Duration) time.Time {
	return time.UnixMilli(f.clock.Add(d.Milliseconds()))
}

// newFixture runs a Receiver over an in-process kfake Kafka cluster.
func newFixture(t testing.TB, cfgFn func(*ingest.Config)) *fixture {
	t.Helper()
	tc, cl := kfakeCluster(t)
	return newFixtureWith(t, tc, cl, cfgFn)
}

// kfakeCluster starts an in-process Kafka cluster with the project's topics and a producer on it.
func kfakeCluster(t testing.TB) (kafka.Config, *kgo.Client) {
	t.Helper()
	tc := kafka.DefaultConfig()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, tc.All()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	tc.Brokers = cluster.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(tc.Brokers...), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return tc, cl
}

func newFixtureWith(t testing.TB, tc kafka.Config, prod ingest.Producer, cfgFn func(*ingest.Config)) *fixture {
	t.Helper()
	cfg := ingest.DefaultConfig()
	cfg.NeteaseApps = map[string]string{"app1": secret}
	cfg.ILinkApps = map[string]ingest.ILinkApp{"app1": {Token: ilinkToken, Secret: ilinkSecret}}
	cfg.MaximApps = map[string]string{"welovemaxim": maximSecret}
	if cfgFn != nil {
		cfgFn(&cfg)
	}
	now := time.UnixMilli(1646744309000)
	clock := &atomic.Int64{}
	clock.Store(now.UnixMilli())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	r, err := ingest.New(cfg, tc, prod, log, reg, ingest.WithClock(func() time.Time { return time.UnixMilli(clock.Load()) }))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	r.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, tc: tc, now: now, reg: reg, clock: clock}
	if cl, ok := prod.(*kgo.Client); ok {
		f.client = cl
	}
	return f
}

func (f *fixture) post(t *testing.T, path string, body []byte, h http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, bytes.NewReader(body))
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
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// records reads everything on a topic.
func (f *fixture) records(t *testing.T, topic string) []*kgo.Record {
	t.Helper()
	ends := f.endOffsets(t)[topic]
	if ends == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.tc.Brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for int64(len(out)) < ends {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: got %d of %d records", topic, len(out), ends)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// endOffsets sums the end offsets of each topic's partitions: the number of records ever produced.
func (f *fixture) endOffsets(t *testing.T) map[string]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.tc.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), f.tc.All()...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Topic] += o.Offset })
	return out
}

func seedMessage(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../normalize/testdata/netease/48_message.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReceiverAcceptsSignedMessage(t *testing.T) {
	f := newFixture(t, nil)
	body := seedMessage(t)
	h := signedHeaders(secret, body, f.now)
	h.Set("X-Extra", "kept")
	resp := f.post(t, "/v1/netease/app1", body, h)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}

	raw := f.records(t, f.tc.Raw())
	if len(raw) != 1 {
		t.Fatalf("raw topic has %d records, want 1", len(raw))
	}
	if !bytes.Equal(raw[0].Value, body) {
		t.Errorf("raw value is not the body as received")
	}
	hdr := map[string]string{}
	for _, rh := range raw[0].Headers {
		hdr[rh.Key] = string(rh.Value)
	}
	for k, want := range map[string]string{
		kafka.HeaderSource:     event.SourceNetease,
		kafka.HeaderApp:        "app1",
		kafka.HeaderReceivedAt: "1646744309000",
		kafka.HeaderPath:       "/v1/netease/app1",
		"http.Checksum":        h.Get("CheckSum"),
		"http.Curtime":         h.Get("CurTime"),
		"http.Md5":             h.Get("MD5"),
		"http.X-Extra":         "kept",
		kafka.HeaderEventID:    event.ID(event.SourceNetease, "app1", "48", "1541869"),
	} {
		if hdr[k] != want {
			t.Errorf("raw header %s = %q, want %q", k, hdr[k], want)
		}
	}

	evs := f.records(t, f.tc.Events())
	if len(evs) != 1 {
		t.Fatalf("events topic has %d records, want 1", len(evs))
	}
	var ev event.Event
	if err := event.Unmarshal(evs[0].Value, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.EventID != hdr[kafka.HeaderEventID] || ev.Body != "文本消息ygy-2022-03-08T20:58:28.721" || ev.Target.Channel != "1394678" {
		t.Errorf("event: %+v", ev)
	}
	if string(evs[0].Key) != "netease_qchat/app1/channel:1492674/1394678" {
		t.Errorf("event key %q: want the channel, so one channel stays in order", evs[0].Key)
	}
}

func TestReceiverRejectsAndProducesNothing(t *testing.T) {
	f := newFixture(t, func(c *ingest.Config) { c.MaxBodyBytes = 4096 })
	body := seedMessage(t)
	good := func() http.Header { return signedHeaders(secret, body, f.now) }
	cases := []struct {
		name   string
		method string
		path   string
		body   []byte
		h      http.Header
		status int
	}{
		{"forged CheckSum", "POST", "/v1/netease/app1", body, func() http.Header { h := good(); h.Set("CheckSum", strings.Repeat("0", 40)); return h }(), 401},
		{"signed with another secret", "POST", "/v1/netease/app1", body, signedHeaders("guess", body, f.now), 401},
		{"tampered body", "POST", "/v1/netease/app1", bytes.Replace(body, []byte(`"yx"`), []byte(`"zz"`), 1), good(), 401},
		{"stale CurTime", "POST", "/v1/netease/app1", body, signedHeaders(secret, body, f.now.Add(-6*time.Minute)), 401},
		{"unknown app", "POST", "/v1/netease/nope", body, good(), 401},
		{"no signature headers", "POST", "/v1/netease/app1", body, http.Header{}, 401},
		{"too large", "POST", "/v1/netease/app1", bytes.Repeat([]byte("x"), 5000), good(), 413},
		{"wrong method", "GET", "/v1/netease/app1", nil, good(), 405},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, f.srv.URL+c.path, bytes.NewReader(c.body))
			req.Header = c.h
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
		})
	}
	for topic, n := range f.endOffsets(t) {
		if n != 0 {
			t.Errorf("topic %s has %d records after only rejected requests", topic, n)
		}
	}
}

func TestReceiverUnnormalizableBodyIsKeptRaw(t *testing.T) {
	f := newFixture(t, nil)
	body := []byte(`{"eventType":"48","time":"not a time"}`)
	resp := f.post(t, "/v1/netease/app1", body, signedHeaders(secret, body, f.now))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200 (authentic: archived, a retry would not help)", resp.StatusCode)
	}
	if raw := f.records(t, f.tc.Raw()); len(raw) != 1 || !bytes.Equal(raw[0].Value, body) {
		t.Fatalf("raw topic: want the body kept once, got %d records", len(raw))
	}
	if n := f.endOffsets(t)[f.tc.Events()]; n != 0 {
		t.Errorf("events topic has %d records for an unnormalizable body", n)
	}
}

func TestReceiverKafkaDownAnswers503(t *testing.T) {
	tc := kafka.DefaultConfig()
	tc.Brokers = []string{"127.0.0.1:1"} // nothing listens there
	cl, err := kgo.NewClient(kgo.SeedBrokers(tc.Brokers...), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	f := newFixtureWith(t, tc, cl, func(c *ingest.Config) { c.AckTimeout = 300 * time.Millisecond })
	body := seedMessage(t)
	start := time.Now()
	resp := f.post(t, "/v1/netease/app1", body, signedHeaders(secret, body, f.now))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503 (NetEase does not retry a 500)", resp.StatusCode)
	}
	// The answer must come well inside the platform's 5 s, or the platform counts a timeout.
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("answered after %s with a 300ms ack timeout", took)
	}
}
