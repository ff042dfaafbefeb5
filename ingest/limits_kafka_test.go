package ingest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/kafka"
)

// padTo grows a JSON body to exactly n bytes by lengthening the string value that starts at marker
// with filler, which must be one byte per character.
func padTo(t *testing.T, body []byte, marker, filler string, n int) []byte {
	t.Helper()
	i := bytes.Index(body, []byte(marker))
	if i < 0 || len(body) > n {
		t.Fatalf("marker %q not in the body, or the body is over %d bytes", marker, n)
	}
	i += len(marker)
	out := append(append(append([]byte{}, body[:i]...), bytes.Repeat([]byte(filler), n-len(body))...), body[i:]...)
	if len(out) != n {
		t.Fatalf("padded to %d, want %d", len(out), n)
	}
	return out
}

// TestLimitsAgreeAtTheLimit, on the real broker: the body limit, the producer's batch limit and the
// topics' max.message.bytes agree. Topics are created with max.message.bytes = the record limit;
// a validly signed body of exactly the body limit made of '<' (six bytes each under HTML escaping,
// and repeated in attrs, before) is archived as an event; an iLink body at the limit whose decoded
// text grows past the record limit is kept raw, dead-lettered with the reason and answered as
// delivered — its retry is a duplicate, not another refusal; one byte more is 413.
func TestLimitsAgreeAtTheLimit(t *testing.T) {
	const bodyLimit = 256 << 10
	tc := kafka.DefaultConfig()
	tc.Brokers = testenv.KafkaBrokers(t)
	tc.Prefix = testenv.Unique(t) + "."
	tc.Partitions = 1
	tc.MaxMessageBytes = 640 << 10
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cl, err := kgo.NewClient(append(tc.ClientOptions(log), tc.ProducerOptions()...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := tc.Ensure(ctx, cl); err != nil {
		t.Fatal(err)
	}
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, tc.All()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			if c.Key == "max.message.bytes" && (c.Value == nil || *c.Value != fmt.Sprint(tc.MaxMessageBytes)) {
				t.Errorf("%s: max.message.bytes %v, want %d", rc.Name, c.Value, tc.MaxMessageBytes)
			}
		}
	}
	f := newFixtureWith(t, tc, cl, func(c *ingest.Config) { c.MaxBodyBytes = bodyLimit; c.AckTimeout = 20 * time.Second })

	lt := padTo(t, seedMessage(t), `"body":"`, "<", bodyLimit)
	if st, answer := f.do(t, "POST", "/v1/netease/app1", lt, signedHeaders(secret, lt, f.now)); st != 200 {
		t.Fatalf("a signed body of %d bytes of '<': %d %q, want 200", len(lt), st, answer)
	}
	// iLink content is Base64: control bytes (0x01) decode to text that JSON writes in six bytes each (\u0001), beside the Base64 in attrs.
	prefix, suffix := `{"from_uid":"413","to_uid":"414","create_time":1457408202,"msg_type":1,"content":"`, `"}`
	n := bodyLimit - len(prefix) - len(suffix)
	prefix = strings.Replace(prefix, "{", "{"+strings.Repeat(" ", n%4), 1) // JSON white space, so the Base64 is whole
	n -= n % 4
	il := []byte(prefix + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x01}, n/4*3)) + suffix)
	t.Logf("iLink body of %d bytes", len(il))
	for range 2 { // the second is the platform's retry
		if st, answer := f.do(t, "POST", ilinkPath, il, nil); st != 200 || answer != `{"code":0}` {
			t.Fatalf("an iLink body at the limit whose event cannot fit: %d %q, want 200 {\"code\":0}", st, answer)
		}
	}
	over := padTo(t, readFile(t, "../normalize/testdata/maxim/chat_text.json"), `"content":"`, "x", bodyLimit+1)
	if st, _ := f.do(t, "POST", "/v1/maxim/welovemaxim", over, maximHeaders(maximSecret)); st != http.StatusRequestEntityTooLarge {
		t.Errorf("one byte over the limit: status %d, want 413", st)
	}
	f.wantCounts(t, 2, 1, 1)
	for _, r := range f.records(t, tc.Events()) {
		if n := len(r.Value); n < bodyLimit-1000 || n > bodyLimit+4000 {
			t.Errorf("the event of a %d-byte body takes %d bytes", bodyLimit, n)
		}
	}
	for _, r := range f.records(t, tc.DeadLetter()) {
		if reason := headerMap(r)[kafka.HeaderReason]; !strings.Contains(reason, "over the record limit") {
			t.Errorf("dead letter reason %q", reason)
		}
		if len(r.Value) != len(il) {
			t.Errorf("the dead letter holds %d bytes, want the body's %d", len(r.Value), len(il))
		}
	}
}
