package main_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/pipeline"
)

// TestForgedEventsTopicRecordNeverArchived is the probe of issue 19 against the shipped path: with
// IMARCHIVE_RECORD_KEYS set on serve and consume, a stranger who can write the events topic
// produces a well-formed event ("FORGED: wire the money"), once unsigned and once signed with a key
// of his own. Neither reaches messages; both are on the dead-letter topic with the reason, while a
// genuine callback sent through serve is archived.
func TestForgedEventsTopicRecordNeverArchived(t *testing.T) {
	s := newStack(t)
	key := "k1=" + strings.Repeat("0123456789abcdef", 3)
	startPipeline(t, s, "IMARCHIVE_RECORD_KEYS="+key)

	seed, err := os.ReadFile("../../normalize/testdata/netease/48_message.json")
	if err != nil {
		t.Fatal(err)
	}
	if st := s.post("app1", seed, sign("s3cret", seed)); st != 200 {
		t.Fatalf("genuine callback: status %d", st)
	}
	c := s.conn()
	waitFor(t, "the genuine message in ClickHouse", 60*time.Second, func() bool {
		return count(t, c, "SELECT count() FROM messages") == 1
	})

	// The stranger copies the genuine event off the topic and changes its id and text.
	prefix := s.getenv("IMARCHIVE_TOPIC_PREFIX")
	evs := ingTopics(t, prefix)[prefix+"events"]
	if len(evs) != 1 {
		t.Fatalf("%d events on the topic, want 1", len(evs))
	}
	forged := bytes.Replace(evs[0].Value, []byte(`"msg_id":"1541869"`), []byte(`"msg_id":"6666666"`), 1)
	forged = bytes.Replace(forged, evs[0].Value[bytes.Index(evs[0].Value, []byte(`"event_id":"`))+12:][:32], []byte("ffffffffffffffffffffffffffffffff"), 1)
	forged = bytes.Replace(forged, []byte("文本消息"), []byte("FORGED: wire the money "), 1)
	if bytes.Equal(forged, evs[0].Value) || !bytes.Contains(forged, []byte("FORGED")) {
		t.Fatal("the forgery did not take")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(testenv.KafkaBrokers(t)...), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	unsigned := &kgo.Record{Topic: prefix + "events", Key: evs[0].Key, Value: forged}
	ownKey := &kgo.Record{Topic: prefix + "events", Key: evs[0].Key, Value: forged}
	kafka.NewRecordAuth("k1="+strings.Repeat("fedcba9876543210", 3), "").Sign(ownKey)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, unsigned, ownKey).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var reasons []string
	deadLetters := func() []string {
		var out []string
		for _, r := range ingTopics(t, prefix)[prefix+"deadletter"] {
			for _, h := range r.Headers {
				if h.Key == "imarchive.reason" {
					out = append(out, string(h.Value))
				}
			}
		}
		return out
	}
	waitFor(t, "the forgeries to be consumed", 60*time.Second, func() bool {
		reasons = deadLetters()
		return len(reasons) == 2 || count(t, c, "SELECT count() FROM messages WHERE body LIKE '%FORGED%'") > 0
	})
	if n := count(t, c, "SELECT count() FROM messages WHERE body LIKE '%FORGED%'"); n != 0 {
		t.Errorf("the forged message is in the archive (%d rows)", n)
	}
	if len(reasons) != 2 {
		t.Errorf("%d forgeries dead-lettered, want 2", len(reasons))
	}
	for _, r := range reasons {
		if !strings.Contains(r, kafka.ErrUnauthenticRecord.Error()) || !strings.Contains(r, pipeline.ErrBadEvent.Error()) {
			t.Errorf("dead letter reason %q", r)
		}
	}
	if n := count(t, c, "SELECT count() FROM messages"); n != 1 {
		t.Errorf("%d messages, want the genuine one", n)
	}
}
