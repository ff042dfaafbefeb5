package ingest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/imarchive/imarchive/kafka"
)

// BenchmarkReceiver: one signed NetEase message per iteration through the HTTP handler, verified,
// normalized, deduplicated and produced with acks=all to an in-process kfake cluster; every body is a
// new message, so nothing is a duplicate.
func BenchmarkReceiver(b *testing.B) { benchReceive(b, newFixture(b, nil)) }

// BenchmarkReceiverSigned is BenchmarkReceiver with record keys set: each callback's raw and event
// records are signed (HMAC-SHA256), the cost serve pays for the events topic's forgery defence.
func BenchmarkReceiverSigned(b *testing.B) {
	tc, cl := kfakeCluster(b)
	tc.Auth = kafka.NewRecordAuth("k1="+strings.Repeat("0123456789abcdef", 4), "")
	benchReceive(b, newFixtureWith(b, tc, cl, nil))
}

// benchReceive sends signed NetEase messages, each a new event, one at a time.
func benchReceive(b *testing.B, f *fixture) {
	seed := readFile(b, "../normalize/testdata/netease/48_message.json")
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
