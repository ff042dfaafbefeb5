package ilink_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imarchive/imarchive/connectors"
	"github.com/imarchive/imarchive/connectors/connectorstest"
	"github.com/imarchive/imarchive/connectors/ilink"
	"github.com/imarchive/imarchive/connectors/ilink/ilinktest"
)

// TestSyncAnswersWhoWasInAGroupWhen syncs a changing directory several times on the real ClickHouse
// engine and asks the named queries what an auditor would ask: who was in the group at T, which
// groups an account was in, what changed, the polled states. A run that fails part-way, and groups
// that are gone or unreadable, never show as snapshots.
func TestSyncAnswersWhoWasInAGroupWhen(t *testing.T) {
	_, conn := connectorstest.Database(t)
	ctx := context.Background()
	clk := newClock()
	fake, c, _ := fixture(t, ilink.WithClock(clk.Now))
	fake.SetClock(clk.Now)
	reg := prometheus.NewRegistry()
	metrics := connectors.NewMetrics(reg)
	st := connectors.NewStore(conn, "ilink", appKey, metrics)
	st.Now = clk.Now
	q := func(name string, params map[string]string) []map[string]any {
		p := map[string]string{"source": "ilink", "app": appKey}
		for k, v := range params {
			p[k] = v
		}
		return connectorstest.Query(t, conn, name, p)
	}
	members := func(group string, at time.Time) []string {
		return connectorstest.Column(q("group_members_at", map[string]string{"group_id": group, "at": connectorstest.Time(at)}), "account")
	}
	sync := func() (ilink.Summary, string, error) {
		var progress bytes.Buffer
		sum, err := ilink.Sync(ctx, c, st, ilink.DefaultSyncConfig(), connectors.NewProgress(&progress, "ilink sync: ", c.Redactor()), nil)
		return sum, progress.String(), err
	}

	// T0: two groups; the member list leaves out our own UID (100).
	t0 := clk.Now()
	fake.SetGroups(
		ilinktest.Group{ID: "g1", Name: "聊天群", CreateTime: "2014-12-13 13:13:13", Members: []string{uid, "414", "415"}},
		ilinktest.Group{ID: "g2", Name: "聊天2群", CreateTime: "2014-12-14 09:00:00", Members: []string{"416"}},
	)
	fake.SetState("414", 1)
	fake.SetState("415", 0)
	fake.SetState("416", 1)
	sum, progress, err := sync()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Groups != 2 || sum.Members != 3 || sum.Accounts != 3 || sum.Online != 2 {
		t.Errorf("summary %+v", sum)
	}
	for _, want := range []string{"group list: 2 groups", `group 1/2 g1 "聊天群": 2 members`, `group 2/2 g2 "聊天2群": 1 members`, "online states 1–3 of 3", "complete"} {
		if !strings.Contains(progress, want) {
			t.Errorf("progress lacks %q:\n%s", want, progress)
		}
	}
	if got := members("g1", t0.Add(time.Second)); !reflect.DeepEqual(got, []string{"414", "415"}) {
		t.Fatalf("g1 at T0: %v", got)
	}
	if got := members("g1", t0.Add(-time.Second)); len(got) != 0 {
		t.Errorf("g1 before any snapshot: %v", got)
	}

	// T1: 414 left g1, 416 joined.
	clk.Add(time.Hour)
	t1 := clk.Now()
	fake.SetGroups(
		ilinktest.Group{ID: "g1", Name: "聊天群", CreateTime: "2014-12-13 13:13:13", Members: []string{uid, "415", "416"}},
		ilinktest.Group{ID: "g2", Name: "聊天2群", CreateTime: "2014-12-14 09:00:00", Members: []string{"416"}},
	)
	fake.SetState("414", 0)
	if _, _, err := sync(); err != nil {
		t.Fatal(err)
	}
	if got := members("g1", t0.Add(30*time.Minute)); !reflect.DeepEqual(got, []string{"414", "415"}) {
		t.Errorf("g1 between T0 and T1: %v", got)
	}
	rows := q("group_members_at", map[string]string{"group_id": "g1", "at": connectorstest.Time(t0.Add(30 * time.Minute))})
	if rows[0]["snapshot_at"] != connectorstest.Time(t0) || rows[0]["next_snapshot_at"] != connectorstest.Time(t1) {
		t.Errorf("snapshot_at %v, next_snapshot_at %v: want T0 and T1", rows[0]["snapshot_at"], rows[0]["next_snapshot_at"])
	}
	if got := members("g1", t1.Add(time.Second)); !reflect.DeepEqual(got, []string{"415", "416"}) {
		t.Errorf("g1 after T1: %v", got)
	}
	groupsOf := func(account string, at time.Time) []map[string]any {
		return q("account_groups_at", map[string]string{"account": account, "at": connectorstest.Time(at)})
	}
	if got := connectorstest.Column(groupsOf("414", t0.Add(time.Second)), "group_id"); !reflect.DeepEqual(got, []string{"g1"}) {
		t.Errorf("414's groups at T0: %v", got)
	}
	if got := groupsOf("414", t1.Add(time.Second)); len(got) != 0 {
		t.Errorf("414's groups after it left: %v", got)
	}
	got416 := groupsOf("416", t1.Add(time.Second))
	if ids := connectorstest.Column(got416, "group_id"); !reflect.DeepEqual(ids, []string{"g1", "g2"}) || got416[0]["group_name"] != "聊天群" {
		t.Errorf("416's groups after T1: %v", got416)
	}
	hist := q("group_snapshot_history", map[string]string{"group_id": "g1", "from": connectorstest.Time(t0), "to": connectorstest.Time(t1.Add(time.Minute))})
	if len(hist) != 2 || !reflect.DeepEqual(hist[1]["joined"], []any{"416"}) || !reflect.DeepEqual(hist[1]["left"], []any{"414"}) ||
		!reflect.DeepEqual(hist[0]["joined"], []any{}) {
		t.Errorf("history: %v", hist)
	}
	states := q("user_state_snapshots", map[string]string{"account": "414", "from": connectorstest.Time(t0), "to": connectorstest.Time(t1.Add(time.Minute))})
	if got := connectorstest.Column(states, "online"); !reflect.DeepEqual(got, []string{"1", "0"}) {
		t.Errorf("414's polled states: %v", states)
	}

	// T2: the sync fails part-way: g1 is read (and changed), g2's members fail every attempt.
	clk.Add(time.Hour)
	t2 := clk.Now()
	fake.SetGroups(
		ilinktest.Group{ID: "g1", Name: "聊天群", Members: []string{uid, "999"}},
		ilinktest.Group{ID: "g2", Name: "聊天2群", Members: []string{"416"}},
	)
	before := fake.Count(ilinktest.GroupMembers)
	fake.Fail(ilinktest.GroupMembers, ilinktest.Fault{}, ilinktest.Fault{Status: 500}, ilinktest.Fault{Status: 503}, ilinktest.Fault{Drop: true})
	_, progress, err = sync()
	if !errors.Is(err, connectors.ErrGaveUp) || !strings.Contains(err.Error(), "members of group g2") {
		t.Fatalf("want the sync to give up on g2, got %v", err)
	}
	if n := fake.Count(ilinktest.GroupMembers) - before; n != 4 {
		t.Errorf("%d member requests, want g1 + 3 attempts for g2", n)
	}
	if !strings.Contains(progress, "failed") {
		t.Errorf("progress does not say the run failed:\n%s", progress)
	}
	if got := members("g1", t2.Add(time.Second)); !reflect.DeepEqual(got, []string{"415", "416"}) {
		t.Errorf("g1 after the failed run must still be T1's snapshot, got %v", got)
	}
	runs := q("sync_runs", map[string]string{"since": connectorstest.Time(t0)})
	if got := connectorstest.Column(runs, "status"); !reflect.DeepEqual(got, []string{"failed", "complete", "complete"}) {
		t.Errorf("run statuses %v", got)
	}
	if !strings.Contains(runs[0]["error"].(string), "g2") {
		t.Errorf("the failed run's error: %v", runs[0]["error"])
	}

	// T3: g1 is listed but gone by the time its members are read (1013); g2 is not readable (1014).
	clk.Add(time.Hour)
	t3 := clk.Now()
	fake.Fail(ilinktest.GroupMembers, ilinktest.Fault{Code: 1013}, ilinktest.Fault{Code: 1014})
	sum, _, err = sync()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Gone != 1 || sum.Skipped != 1 || sum.Groups != 1 {
		t.Errorf("summary %+v", sum)
	}
	if got := members("g1", t3.Add(time.Second)); len(got) != 0 {
		t.Errorf("g1 is gone: want no members, got %v", got)
	}
	if got := members("g2", t3.Add(time.Second)); !reflect.DeepEqual(got, []string{"416"}) {
		t.Errorf("g2 was skipped: want its last snapshot (T1), got %v", got)
	}
	hist = q("group_snapshot_history", map[string]string{"group_id": "g1", "from": connectorstest.Time(t0), "to": connectorstest.Time(t3.Add(time.Minute))})
	if got := connectorstest.Column(hist, "usable"); !reflect.DeepEqual(got, []string{"1", "1", "0", "1"}) {
		t.Errorf("usable flags %v", got)
	}
	if last := hist[3]; !reflect.DeepEqual(last["left"], []any{"415", "416"}) || !strings.Contains(last["detail"].(string), "1013") {
		t.Errorf("the gone snapshot: %v", last)
	}
	if got := counterValue(t, reg, "imarchive_connector_sync_runs_total", "status", "failed"); got != 1 {
		t.Errorf("failed runs metric %v", got)
	}
}

// counterValue returns the value of the counter name{label=value}.
func counterValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{%s=%q}", name, label, value)
	return 0
}
