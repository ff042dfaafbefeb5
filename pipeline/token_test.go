package pipeline

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestBatchTokenNamesContent: the token of a batch is the same for the same records, in any order,
// and changes when anything of any record changes — its content as much as its place.
func TestBatchTokenNamesContent(t *testing.T) {
	batch := func() ([]*kgo.Record, []string) {
		var recs []*kgo.Record
		var ids []string
		for i := range 6 {
			recs = append(recs, &kgo.Record{Topic: "imarchive.raw", Partition: int32(i % 2), Offset: int64(100 + i/2),
				Timestamp: time.UnixMilli(1_700_000_000_000 + int64(i)), Key: []byte{'k', byte('0' + i)}, Value: []byte{'v', byte('0' + i)},
				Headers: []kgo.RecordHeader{{Key: "imarchive.app", Value: []byte("app")}}})
			ids = append(ids, "r2r1kVPLR7GMtzEoPYIvNA")
		}
		return recs, ids
	}
	recs, ids := batch()
	base := batchToken(recs, ids)
	if again := batchToken(batch()); again != base {
		t.Fatalf("the same records: %s, then %s", base, again)
	}
	// Polled in another order (partitions interleave differently): the same records, the same token.
	rev, revIDs := slices.Clone(recs), slices.Clone(ids)
	slices.Reverse(rev)
	if got := batchToken(rev, revIDs); got != base {
		t.Errorf("reordered: %s, want %s", got, base)
	}
	for name, change := range map[string]func(recs []*kgo.Record, ids []string){
		"topic ID (the topic recreated)": func(_ []*kgo.Record, ids []string) { ids[3] = "AAAAAAAAAAAAAAAAAAAAAA" },
		"value at the same offset":       func(recs []*kgo.Record, _ []string) { recs[2].Value = []byte("other") },
		"key":                            func(recs []*kgo.Record, _ []string) { recs[0].Key = nil },
		"a header":                       func(recs []*kgo.Record, _ []string) { recs[5].Headers[0].Value = []byte("app2") },
		"a header's name":                func(recs []*kgo.Record, _ []string) { recs[5].Headers[0].Key = "imarchive.apq" },
		"another header": func(recs []*kgo.Record, _ []string) {
			recs[1].Headers = append(recs[1].Headers, kgo.RecordHeader{Key: "x"})
		},
		"timestamp": func(recs []*kgo.Record, _ []string) { recs[4].Timestamp = recs[4].Timestamp.Add(time.Millisecond) },
		"offset":    func(recs []*kgo.Record, _ []string) { recs[4].Offset++ },
		"partition": func(recs []*kgo.Record, _ []string) { recs[4].Partition = 7 },
		"topic":     func(recs []*kgo.Record, _ []string) { recs[0].Topic = "imarchive.events" },
		// Length prefixes: bytes moved from the key to the value are another record.
		"key and value boundary": func(recs []*kgo.Record, _ []string) { recs[0].Key, recs[0].Value = []byte("k0v"), []byte("0") },
		"one record fewer":       func(recs []*kgo.Record, ids []string) { recs[5] = recs[4] },
	} {
		recs, ids := batch()
		change(recs, ids)
		if got := batchToken(recs, ids); got == base {
			t.Errorf("%s changed: the token did not (%s)", name, got)
		}
	}
}
