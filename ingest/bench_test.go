package ingest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/topics"
)

func BenchmarkNormalize(b *testing.B) {
	for _, c := range []struct {
		name, file string
		fn         ingest.Normalizer
	}{
		{"netease_48_message", "testdata/netease/48_message.json", ingest.NormalizeNetease},
		{"netease_81_update", "testdata/netease/81_message_update.json", ingest.NormalizeNetease},
		{"netease_53_invite", "testdata/netease/53_member_invite.json", ingest.NormalizeNetease},
		{"ilink_text", "testdata/ilink/4.1_text.json", ingest.NormalizeILink},
		{"maxim_chat", "testdata/maxim/chat_text.json", ingest.NormalizeMaxim},
	} {
		body := readFile(b, c.file)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.fn("app1", body, receivedAt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReceiver: one signed NetEase message per iteration through the HTTP handler, verified,
// normalized, deduplicated and produced with acks=all to an in-process kfake cluster; every body is a
// new message, so nothing is a duplicate.
func BenchmarkReceiver(b *testing.B) { benchReceive(b, newFixture(b, nil)) }

// BenchmarkReceiverSigned is BenchmarkReceiver with record keys set: each callback's raw and event
// records are signed (HMAC-SHA256), the cost serve pays for the events topic's forgery defence.
func BenchmarkReceiverSigned(b *testing.B) {
	tc, cl := kfakeCluster(b)
	tc.Auth = topics.NewRecordAuth("k1="+strings.Repeat("0123456789abcdef", 4), "")
	benchReceive(b, newFixtureWith(b, tc, cl, nil))
}

// benchReceive sends signed NetEase messages, each a new event, one at a time.
func benchReceive(b *testing.B, f *fixture) {
	seed := readFile(b, "testdata/netease/48_message.json")
	client := &http.Client{}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		body := bytes.Replace(seed, []byte(`"1541869"`), fmt.Appendf(nil, `"%d"`, 10_000_000+i), 1)
		req, _ := http.NewRequest("POST", f.srv.URL+"/v1/netease/app1", bytes.NewReader(body))
		req.Header = signedHeaders(secret, body, f.now)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
