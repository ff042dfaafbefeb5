package maxim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/imarchive/imarchive/connectors"
	"github.com/imarchive/imarchive/connectors/maxim"
	"github.com/imarchive/imarchive/connectors/maxim/maximtest"
	"github.com/imarchive/imarchive/internal/testenv/connectorstest"
)

// BenchmarkDecodeMemberPage: decoding one member_list page of 1000 members.
func BenchmarkDecodeMemberPage(b *testing.B) {
	var data []map[string]any
	for i := 0; i < 1000; i++ {
		data = append(data, map[string]any{"user_id": owner + i, "join_time": 1569615417000 + i})
	}
	raw, _ := json.Marshal(data)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := maxim.DecodeMembers(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSyncGroupMembers: one sync of a 20,000-member group (20 pages of 1000) from the fake into
// ClickHouse, rosters off; reports members per second.
func BenchmarkSyncGroupMembers(b *testing.B) {
	_, conn := connectorstest.Database(b)
	fake := maximtest.New(appID, token)
	defer fake.Close()
	fake.SetGroup(groupID, 1, group(owner, 20000)...)
	c, err := maxim.NewClient(config(fake.URL), nil)
	if err != nil {
		b.Fatal(err)
	}
	st := connectors.NewStore(conn, "maxim", appID, nil)
	cfg := maxim.DefaultSyncConfig()
	cfg.Groups = []maxim.GroupRef{{ID: fmt.Sprint(groupID)}}
	cfg.FromArchive, cfg.Rosters, cfg.RefreshAfter, cfg.Resume = false, false, 0, false
	start := time.Now()
	members := 0
	for b.Loop() {
		sum, err := maxim.Sync(context.Background(), c, st, cfg, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		members += sum.Members
	}
	b.ReportMetric(float64(members)/time.Since(start).Seconds(), "members/s")
}
