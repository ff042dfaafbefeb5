package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/connectors/ilink/ilinktest"
	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/kafka"
)

// TestILinkSubscribeCommand (issue 16 item 1): msg_type 4 pushes come only for what the UID
// subscribed to. The platform (ilinktest) pushes to serve's real receiver (over an in-process Kafka):
// before imarchive ilink subscribe, a user's status change reaches nobody; after it, it is archived as
// a presence event, and a subscribed topic's message as a message of that topic; after unsubscribe,
// nothing more. The platform's codes are printed with their meaning.
func TestILinkSubscribeCommand(t *testing.T) {
	tc := kafka.DefaultConfig()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, tc.All()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	tc.Brokers = cluster.ListenAddrs()
	prod, err := kgo.NewClient(kgo.SeedBrokers(tc.Brokers...), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	cfg := ingest.DefaultConfig()
	cfg.ILinkApps = map[string]ingest.ILinkApp{cliAppKey: {Token: "tok123", Secret: "pathsecret9-abcdefg"}}
	r, err := ingest.New(cfg, tc, prod, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	r.Register(mux)
	serve := httptest.NewServer(mux)
	defer serve.Close()

	platform := ilinktest.New(cliAppKey, cliSecretKey, cliUID, "414", "415")
	defer platform.Close()
	platform.Register(cliUID, serve.URL+"/v1/ilink/"+cliAppKey+"/pathsecret9-abcdefg", "tok123")
	ilinkEnv(t, platform.URL)

	events := func() []event.Event {
		t.Helper()
		cl, err := kgo.NewClient(kgo.SeedBrokers(tc.Brokers...), kgo.ConsumeTopics(tc.Events()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		var out []event.Event
		for ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(func(rec *kgo.Record) {
				var e event.Event
				if err := json.Unmarshal(rec.Value, &e); err != nil {
					t.Fatal(err)
				}
				out = append(out, e)
			})
		}
		return out
	}

	platform.SetState("414", 1)
	if n := len(platform.Pushes()); n != 0 {
		t.Fatalf("%d pushes before any subscription", n)
	}

	code, out, errOut := runCLI(t, "ilink", "subscribe", "--users", "414", "--topic", "asda")
	if code != 0 {
		t.Fatalf("subscribe: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"ham_user subscribe 414 (action_type 2, type 1): code 0 — 正确返回: success",
		`ham_topic subscribe "asda" (action_type 1, type 1, qos 1): code 0`, "pushes these users' online/offline changes (msg_type 4)"} {
		if !strings.Contains(out, want) {
			t.Errorf("subscribe output lacks %q:\n%s", want, out)
		}
	}
	platform.SetState("414", 0)
	platform.Publish("415", "asda", "hello")
	for _, p := range platform.Pushes() {
		if p.Status != http.StatusOK {
			t.Errorf("serve answered a push %d: %s", p.Status, p.Body)
		}
	}
	got := events()
	if len(got) != 2 {
		t.Fatalf("%d events archived, want the status change and the topic message: %+v", len(got), got)
	}
	if e := got[0]; e.Kind != event.KindPresence || e.Op != event.OpOffline || e.Actor != "414" {
		t.Errorf("status push archived as %+v", e)
	}
	if e := got[1]; e.Kind != event.KindMessage || e.Target.Group != "asda" || e.Body != "hello" || e.Actor != "415" {
		t.Errorf("topic push archived as %+v", e)
	}

	code, out, errOut = runCLI(t, "ilink", "unsubscribe", "--users", "414", "--topic", "asda")
	if code != 0 || !strings.Contains(out, "ham_user unsubscribe 414 (action_type 2, type 0): code 0") ||
		!strings.Contains(out, `ham_topic unsubscribe "asda" (action_type 1, type 0): code 0`) {
		t.Fatalf("unsubscribe: exit %d\n%s%s", code, out, errOut)
	}
	platform.SetState("414", 1)
	platform.Publish("415", "asda", "again")
	if n := len(events()); n != 2 {
		t.Errorf("%d events after unsubscribe, want still 2", n)
	}

	// The platform's limit: 1011 with its meaning, exit 1.
	platform.SubscriptionLimit(1)
	code, out, errOut = runCLI(t, "ilink", "subscribe", "--users", "414,415")
	if code != 1 || !strings.Contains(out, "code 1011 — 超过最大订阅数目限制") {
		t.Errorf("over the limit: exit %d\n%s%s", code, out, errOut)
	}
	// What the manual forbids is refused before anything is sent, every problem at once.
	before := len(platform.Requests())
	code, _, errOut = runCLI(t, "ilink", "subscribe", "--topic", "a#b,c+d", "--qos", "3")
	for _, want := range []string{`topic "a#b"`, `topic "c+d"`, "--qos 3"} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("bad topics: exit %d, want %q in\n%s", code, want, errOut)
		}
	}
	if code, _, errOut := runCLI(t, "ilink", "unsubscribe"); code != 1 || !strings.Contains(errOut, "nothing to (un)subscribe") {
		t.Errorf("unsubscribe without --users or --topic: exit %d\n%s", code, errOut)
	}
	if n := len(platform.Requests()) - before; n != 0 {
		t.Errorf("%d requests sent for refused commands", n)
	}
	noSecrets(t, out, errOut)
}
