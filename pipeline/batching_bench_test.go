package pipeline

// Benchmarks of the consumer's work on a batch before ClickHouse sees it: decoding an events-topic
// record into its row, and the batch's deduplication token. go test -run '^$' -bench BatchBuild
// -benchmem ./pipeline; imarchive-dev bench puts them in its table.

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/normalize"
)

// batchBenchBody is the NetEase manual's message copy (eventType 48).
const batchBenchBody = `{"fromNick":"yx","ext":"ext-2022-03-08T20:58:28.721","msgType":"TEXT",
"msgIdClient":"852b7e2c-21f9-44ca-ae12-ad28eba35b7d","fromAccount":"yx","fromClientType":"AOS",
"fromDeviceId":"test70b132ee-6342-4683-9285-b7ad8b2651df","eventType":"48","body":"文本消息ygy-2022-03-08T20:58:28.721",
"serverId":"1492674","msgIdServer":"1541869","msgTimestamp":"1646744308787","clientIp":"115.236.119.135",
"clientPort":7260,"time":1646744308834,"channelId":"1394678"}`

func BenchmarkBatchBuild(b *testing.B) {
	ev, err := normalize.Netease("app1", []byte(batchBenchBody), time.UnixMilli(1646744309000))
	if err != nil {
		b.Fatal(err)
	}
	ev.RawKey = ev.EventID
	v, err := json.Marshal(&ev)
	if err != nil {
		b.Fatal(err)
	}
	rec := &kgo.Record{Topic: "imarchive.events", Partition: 1, Offset: 42, Key: []byte(ev.Key()), Value: v}
	sink := &EventSink{}

	b.Run("decode_and_row", func(b *testing.B) {
		b.SetBytes(int64(len(v)))
		for b.Loop() {
			row, err := sink.Decode(rec)
			if err != nil {
				b.Fatal(err)
			}
			it := Item[EventRow]{Row: row, Partition: rec.Partition, Offset: rec.Offset}
			if vals := row.table.row(&it); len(vals) != len(row.table.columns) {
				b.Fatalf("row of %d values for %d columns", len(vals), len(row.table.columns))
			}
		}
	})
	b.Run("token", func(b *testing.B) {
		// The token hashes every record's content: 5000 records of the manual's message, as the
		// events topic carries them (key, canonical JSON, a header).
		recs := make([]*kgo.Record, 5000)
		ids := make([]string, len(recs))
		size := 0
		for i := range recs {
			recs[i] = &kgo.Record{Topic: "imarchive.events", Partition: int32(i % 4), Offset: int64(1000 + i/4),
				Timestamp: time.UnixMilli(1646744309000), Key: rec.Key, Value: v,
				Headers: []kgo.RecordHeader{{Key: "imarchive.event_id", Value: []byte(ev.EventID)}}}
			ids[i] = "r2r1kVPLR7GMtzEoPYIvNA"
			size += len(rec.Key) + len(v)
		}
		b.SetBytes(int64(size))
		for b.Loop() {
			if tok := batchToken(recs, ids); len(tok) != 32 {
				b.Fatalf("token %q", tok)
			}
		}
	})
}
