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
	"github.com/imarchive/imarchive/connectors/ilink"
	"github.com/imarchive/imarchive/connectors/ilink/ilinktest"
	"github.com/imarchive/imarchive/internal/testenv/connectorstest"
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

	// T2: g1 is read (and changed); g2's members fail every attempt. g2 fails alone: the run completes,
	// g1's new snapshot counts, g2 keeps its T1 snapshot, and the failure is reported.
	clk.Add(time.Hour)
	t2 := clk.Now()
	fake.SetGroups(
		ilinktest.Group{ID: "g1", Name: "聊天群", Members: []string{uid, "999"}},
		ilinktest.Group{ID: "g2", Name: "聊天2群", Members: []string{"416"}},
	)
	before := fake.Count(ilinktest.GroupMembers)
	fake.Fail(ilinktest.GroupMembers, ilinktest.Fault{}, ilinktest.Fault{Status: 500}, ilinktest.Fault{Status: 503}, ilinktest.Fault{Drop: true})
	sum, progress, err = sync()
	if err != nil {
		t.Fatalf("one group failing must not fail the run: %v", err)
	}
	if n := fake.Count(ilinktest.GroupMembers) - before; n != 4 {
		t.Errorf("%d member requests, want g1 + 3 attempts for g2", n)
	}
	// 999 is no UID of the platform's: the state answer leaves it out.
	if sum.Groups != 1 || sum.Failed != 1 || !strings.Contains(sum.Problems[0], "group g2") || sum.Accounts != 3 || sum.NoState != 1 {
		t.Errorf("summary %+v", sum)
	}
	if !strings.Contains(progress, `g2 "聊天2群": failed, the run goes on`) || !strings.Contains(progress, "1 failed") {
		t.Errorf("progress does not report g2's failure:\n%s", progress)
	}
	if got := members("g1", t2.Add(time.Second)); !reflect.DeepEqual(got, []string{"999"}) {
		t.Errorf("g1 after T2: %v, want T2's snapshot", got)
	}
	if got := members("g2", t2.Add(time.Second)); !reflect.DeepEqual(got, []string{"416"}) {
		t.Errorf("g2 failed at T2: want its T1 snapshot, got %v", got)
	}
	items := q("sync_run_items", map[string]string{"run_id": sum.RunID})
	var g2 map[string]any
	for _, it := range items {
		if it["item_id"] == "g2" {
			g2 = it
		}
	}
	if g2 == nil || g2["status"] != "skipped" || !strings.Contains(g2["detail"].(string), "failed") {
		t.Errorf("g2's item in the run: %v", g2)
	}

	// T2b: the group list itself cannot be read: nothing to go on, the run fails.
	clk.Add(time.Minute)
	fake.Fail(ilinktest.GroupList, ilinktest.Fault{Status: 500}, ilinktest.Fault{Status: 500}, ilinktest.Fault{Status: 500})
	_, progress, err = sync()
	if !errors.Is(err, connectors.ErrGaveUp) || !strings.Contains(err.Error(), "group list") {
		t.Fatalf("want the sync to give up on the group list, got %v", err)
	}
	if !strings.Contains(progress, "failed") {
		t.Errorf("progress does not say the run failed:\n%s", progress)
	}
	runs := q("sync_runs", map[string]string{"since": connectorstest.Time(t0)})
	if got := connectorstest.Column(runs, "status"); !reflect.DeepEqual(got, []string{"failed", "complete", "complete", "complete"}) {
		t.Errorf("run statuses %v", got)
	}
	if !strings.Contains(runs[0]["error"].(string), "group list") {
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
	if sum.Gone != 1 || sum.Skipped != 1 || sum.Groups != 1 || sum.Failed != 0 {
		t.Errorf("summary %+v", sum)
	}
	if got := members("g1", t3.Add(time.Second)); len(got) != 0 {
		t.Errorf("g1 is gone: want no members, got %v", got)
	}
	if got := members("g2", t3.Add(time.Second)); !reflect.DeepEqual(got, []string{"416"}) {
		t.Errorf("g2 was skipped: want its last snapshot (T1), got %v", got)
	}
	hist = q("group_snapshot_history", map[string]string{"group_id": "g1", "from": connectorstest.Time(t0), "to": connectorstest.Time(t3.Add(time.Minute))})
	if got := connectorstest.Column(hist, "usable"); !reflect.DeepEqual(got, []string{"1", "1", "1", "1"}) {
		t.Errorf("usable flags %v", got)
	}
	if last := hist[3]; !reflect.DeepEqual(last["left"], []any{"999"}) || !strings.Contains(last["detail"].(string), "1013") {
		t.Errorf("the gone snapshot: %v", last)
	}
	if got := counterValue(t, reg, "imarchive_connector_sync_runs_total", "status", "failed"); got != 1 {
		t.Errorf("failed runs metric %v", got)
	}
}

// TestSyncEveryGroupFailedFailsTheRun: when no group can be read, the run is not called complete.
func TestSyncEveryGroupFailedFailsTheRun(t *testing.T) {
	_, conn := connectorstest.Database(t)
	fake, c, _ := fixture(t)
	fake.SetGroups(ilinktest.Group{ID: "g1", Members: []string{"414"}}, ilinktest.Group{ID: "g2", Members: []string{"415"}})
	fake.Fail(ilinktest.GroupMembers, ilinktest.Fault{Code: 1017}, ilinktest.Fault{Code: 1017}, ilinktest.Fault{Code: 1017},
		ilinktest.Fault{Code: 1012})
	st := connectors.NewStore(conn, "ilink", appKey, nil)
	sum, err := ilink.Sync(context.Background(), c, st, ilink.DefaultSyncConfig(), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "every group failed") || sum.Failed != 2 {
		t.Fatalf("sync: %+v, %v; want every group failed", sum, err)
	}
}

// TestSyncStatesFailAlone (issue 16 item 2): the user-state poll reads the manual's literal answer
// (" state" with a space), and one bad account costs only itself: an entry the platform answers
// unreadably, and an account whose presence in a request makes the platform refuse it (1001), are
// reported; every other account gets its state, and the group snapshots of the run count.
func TestSyncStatesFailAlone(t *testing.T) {
	_, conn := connectorstest.Database(t)
	ctx := context.Background()
	fake, c, _ := fixture(t)
	fake.SetGroups(ilinktest.Group{ID: "g1", Name: "聊天群", Members: []string{uid, "414", "415", "416", "417", "418"}})
	for u, st := range map[string]int{"414": 1, "415": 0, "416": 1, "417": 1, "418": 0} {
		fake.SetState(u, st)
	}
	fake.StateKey(" state")                 // the manual's answer, as printed
	fake.StateEntry("416", `{"uid":"416"}`) // no state for 416
	fake.RefuseUID("417", 1001)             // any request naming 417 is refused
	st := connectors.NewStore(conn, "ilink", appKey, nil)
	cfg := ilink.DefaultSyncConfig()
	cfg.StateBatch = 4
	var progress bytes.Buffer
	sum, err := ilink.Sync(ctx, c, st, cfg, connectors.NewProgress(&progress, "", nil), nil)
	if err != nil {
		t.Fatalf("sync: %v\n%s", err, progress.String())
	}
	if sum.Groups != 1 || sum.Members != 5 || sum.Accounts != 3 || sum.Online != 1 || sum.NoState != 2 {
		t.Errorf("summary %+v", sum)
	}
	problems := strings.Join(sum.Problems, "\n")
	for _, want := range []string{"uid 416: no state", "417: ", "code 1001 (UID 不存在"} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems do not say %q:\n%s", want, problems)
		}
	}
	if !strings.Contains(progress.String(), "without a state") {
		t.Errorf("progress does not report the accounts without a state:\n%s", progress.String())
	}
	states := connectorstest.Query(t, conn, "user_state_snapshots", map[string]string{"source": "ilink", "app": appKey,
		"account": "414", "from": "2000-01-01 00:00:00", "to": "2100-01-01 00:00:00"})
	if got := connectorstest.Column(states, "online"); !reflect.DeepEqual(got, []string{"1"}) {
		t.Errorf("414's polled state: %v", states)
	}
	rows := connectorstest.Query(t, conn, "group_members_at", map[string]string{"source": "ilink", "app": appKey, "group_id": "g1",
		"at": "2100-01-01 00:00:00"})
	if got := connectorstest.Column(rows, "account"); !reflect.DeepEqual(got, []string{"414", "415", "416", "417", "418"}) {
		t.Errorf("g1's snapshot of the run: %v", got)
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
