package maxim_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/connectors"
	"github.com/imarchive/imarchive/connectors/maxim"
	"github.com/imarchive/imarchive/connectors/maxim/maximtest"
	"github.com/imarchive/imarchive/internal/testenv/connectorstest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	t    *testing.T
	fake *maximtest.Server
	c    *maxim.Client
	st   *connectors.Store
	conn driver.Conn
	clk  *clock
	cfg  maxim.SyncConfig
	last string // progress of the last sync
}

func newEnv(t *testing.T, pageLimit int) *env {
	_, conn := connectorstest.Database(t)
	fake := maximtest.New(appID, token)
	t.Cleanup(fake.Close)
	cfg := config(fake.URL)
	cfg.PageLimit = pageLimit
	c, err := maxim.NewClient(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)}
	st := connectors.NewStore(conn, "maxim", appID, nil)
	st.Now = clk.Now
	sc := maxim.DefaultSyncConfig()
	sc.FlushRows = 10 // a flush per page of 10: the saved cursor advances page by page
	return &env{t: t, fake: fake, c: c, st: st, conn: conn, clk: clk, cfg: sc}
}

func (e *env) sync() (maxim.Summary, error) {
	var progress bytes.Buffer
	sum, err := maxim.Sync(context.Background(), e.c, e.st, e.cfg, connectors.NewProgress(&progress, "maxim sync: ", e.c.Redactor()), nil)
	e.last = progress.String()
	return sum, err
}

func (e *env) q(name string, params map[string]string) []map[string]any {
	p := map[string]string{"source": "maxim", "app": appID}
	for k, v := range params {
		p[k] = v
	}
	return connectorstest.Query(e.t, e.conn, name, p)
}

func (e *env) members(group uint64, at time.Time) []string {
	return connectorstest.Column(e.q("group_members_at", map[string]string{"group_id": fmt.Sprint(group), "at": connectorstest.Time(at)}), "account")
}

func ids(from uint64, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprint(from+uint64(i)))
	}
	sort.Strings(out)
	return out
}

func group(from uint64, n int) []maximtest.Member {
	var ms []maximtest.Member
	for i := 0; i < n; i++ {
		ms = append(ms, maximtest.Member{UserID: from + uint64(i), JoinTime: 1569615417000 + int64(i)*1000})
	}
	return ms
}

// TestSyncPagedResumableIncremental: a sync that fails on page 3 of a group records no snapshot; the
// next sync resumes the same run from the saved cursor (pages 1–2 are not fetched again) and completes
// it; a sync soon after skips everything as fresh; later changes show at their time.
func TestSyncPagedResumableIncremental(t *testing.T) {
	e := newEnv(t, 10)
	const g1, g2 = groupID, groupID + 1
	e.fake.SetGroup(g1, 1, group(owner, 25)...) // the owner first, then 24 more: 3 pages of 10
	e.fake.SetGroup(g2, 1, group(owner, 3)...)
	e.fake.SetRoster(owner, maximtest.Contact{UserID: owner + 1, Name: "a"}, maximtest.Contact{UserID: owner + 2, Name: "b"})
	e.cfg.Groups = []maxim.GroupRef{{ID: fmt.Sprint(g1)}, {ID: fmt.Sprint(g2), Actor: fmt.Sprint(owner)}}
	e.cfg.FromArchive = false

	// Run 1: page 3 of g1 fails on every attempt.
	t0 := e.clk.Now()
	e.fake.Fail("member_list:"+fmt.Sprint(g1), maximtest.Fault{}, maximtest.Fault{}, maximtest.Fault{Status: 500}, maximtest.Fault{Status: 502}, maximtest.Fault{Status: 503})
	sum, err := e.sync()
	if !errors.Is(err, connectors.ErrGaveUp) || !strings.Contains(err.Error(), "page 3") {
		t.Fatalf("want the run to give up on page 3, got %v\n%s", err, e.last)
	}
	if sum.Pages != 2 || sum.Members != 20 {
		t.Errorf("run 1: %+v", sum)
	}
	for _, want := range []string{"page 1: +10 members, 10 so far", "page 2: +10 members, 20 so far", "failed"} {
		if !strings.Contains(e.last, want) {
			t.Errorf("progress lacks %q:\n%s", want, e.last)
		}
	}
	if got := e.members(g1, t0.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("a failed run's partial snapshot is visible: %v", got)
	}
	items := e.q("sync_run_items", map[string]string{"run_id": sum.RunID})
	if len(items) != 1 || items[0]["status"] != "partial" || items[0]["pages"] != "2" && items[0]["pages"] != float64(2) || items[0]["cursor"] == "" {
		t.Errorf("run 1 items: %v", items)
	}

	// Run 2 resumes: page 3 of g1 with the saved cursor, then g2 and the rosters.
	e.clk.Add(time.Minute)
	before := e.fake.Count("member_list:" + fmt.Sprint(g1))
	sum2, err := e.sync()
	if err != nil {
		t.Fatal(err)
	}
	if !sum2.Resumed || sum2.RunID != sum.RunID {
		t.Errorf("run 2 did not resume run 1: %+v", sum2)
	}
	if n := e.fake.Count("member_list:"+fmt.Sprint(g1)) - before; n != 1 {
		t.Errorf("resumed g1 with %d requests, want 1 (page 3 only)", n)
	}
	if !strings.Contains(e.last, "resuming at page 3 (20 members written)") {
		t.Errorf("progress:\n%s", e.last)
	}
	t1 := e.clk.Now()
	got := e.members(g1, t1.Add(time.Second))
	if !reflect.DeepEqual(got, ids(owner, 25)) {
		t.Fatalf("g1 after the resumed run: %d members %v", len(got), got)
	}
	rows := e.q("group_members_at", map[string]string{"group_id": fmt.Sprint(g1), "at": connectorstest.Time(t1)})
	if rows[0]["joined_at"] != "2019-09-27 20:16:57.000" {
		t.Errorf("joined_at %v: want the manual's join_time 1569615417000", rows[0]["joined_at"])
	}
	snaps := map[any]bool{}
	for _, r := range rows {
		snaps[r["snapshot_id"]] = true
	}
	if len(snaps) != 1 {
		t.Errorf("g1's members come from %d snapshots, want one", len(snaps))
	}
	roster := e.q("roster_at", map[string]string{"account": fmt.Sprint(owner), "at": connectorstest.Time(t1)})
	if got := connectorstest.Column(roster, "contact_name"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("roster %v", roster)
	}
	if sum2.Accounts != 25 { // every member read, roster taken (most empty)
		t.Errorf("rosters taken: %d", sum2.Accounts)
	}
	runs := e.q("sync_runs", map[string]string{"since": connectorstest.Time(t0)})
	if len(runs) != 1 || runs[0]["status"] != "complete" || fmt.Sprint(runs[0]["resumes"]) != "1" || fmt.Sprint(runs[0]["members"]) != "28" {
		t.Errorf("runs %v", runs)
	}

	// Run 3, ten minutes later: everything is fresh, nothing is fetched.
	e.clk.Add(10 * time.Minute)
	reqs := len(e.fake.Requests())
	sum3, err := e.sync()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Requests()) - reqs; n != 0 || sum3.Fresh != 2 || sum3.RunID == sum.RunID {
		t.Errorf("incremental run fetched %d, summary %+v", n, sum3)
	}

	// Two hours later the group changed: the new snapshot shows it from its time on.
	e.clk.Add(2 * time.Hour)
	t2 := e.clk.Now()
	e.fake.SetGroup(g1, 2, append(group(owner, 1), group(owner+5, 11)...)...) // owner+1..+4 and +16..+24 left
	e.cfg.Rosters = false
	if _, err := e.sync(); err != nil {
		t.Fatal(err)
	}
	if got := e.members(g1, t2.Add(time.Second)); !reflect.DeepEqual(got, append(ids(owner, 1), ids(owner+5, 11)...)) {
		t.Errorf("g1 after the change: %v", got)
	}
	if got := e.members(g1, t2.Add(-time.Second)); !reflect.DeepEqual(got, ids(owner, 25)) {
		t.Errorf("g1 before the change: %d members", len(got))
	}
	hist := e.q("group_snapshot_history", map[string]string{"group_id": fmt.Sprint(g1), "from": connectorstest.Time(t0), "to": connectorstest.Time(t2.Add(time.Minute))})
	var left []any
	for _, id := range append(ids(owner+1, 4), ids(owner+16, 9)...) {
		left = append(left, id)
	}
	if len(hist) != 2 || !reflect.DeepEqual(hist[1]["left"], left) ||
		len(hist[1]["joined"].([]any)) != 0 || hist[1]["members"] != "12" && hist[1]["members"] != float64(12) {
		t.Errorf("history %v", hist)
	}
}

// TestSyncResumeWithRefusedCursor: when a resumed group's saved cursor is no longer accepted, the
// group is taken again from page 1 as a new snapshot; rows of the abandoned one never show.
func TestSyncResumeWithRefusedCursor(t *testing.T) {
	e := newEnv(t, 10)
	e.cfg.Rosters, e.cfg.FromArchive = false, false
	e.cfg.Groups = []maxim.GroupRef{{ID: fmt.Sprint(groupID)}}
	e.fake.SetGroup(groupID, 1, group(owner, 25)...)
	e.fake.Fail(maximtest.MemberList, maximtest.Fault{}, maximtest.Fault{Code: 20000}, maximtest.Fault{Code: 20000}, maximtest.Fault{Code: 20000})
	if _, err := e.sync(); !errors.Is(err, maxim.ErrUnavailable) {
		t.Fatalf("want the run to fail on 20000, got %v", err)
	}
	// Meanwhile the first page's members left and the platform's cursors expired.
	e.fake.SetGroup(groupID, 2, append(group(owner, 1), group(owner+10, 15)...)...)
	e.fake.ExpireCursors()
	e.clk.Add(time.Minute)
	sum, err := e.sync()
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Resumed || !strings.Contains(e.last, "saved cursor refused, starting again from page 1") {
		t.Errorf("%+v\n%s", sum, e.last)
	}
	want := append([]string{fmt.Sprint(owner)}, ids(owner+10, 15)...)
	sort.Strings(want)
	if got := e.members(groupID, e.clk.Now()); !reflect.DeepEqual(got, want) {
		t.Errorf("members %v, want %v", got, want)
	}
}

// TestSyncFromArchive: groups and accounts seen in the archive are synced; a destroyed group gets an
// empty snapshot marked gone and is not asked for again; unreadable groups are skipped; a removed user
// has an empty roster; ids that are not Maxim ids are ignored.
func TestSyncFromArchive(t *testing.T) {
	e := newEnv(t, 1000)
	ctx := context.Background()
	const gone, locked = groupID + 1, groupID + 2
	e.fake.SetGroup(groupID, 1, group(owner, 3)...)
	e.fake.SetGroup(locked, 1, group(owner+100, 2)...) // the acting user is not a member: 20002
	e.fake.SetRoster(owner+1, maximtest.Contact{UserID: owner, Name: "boss"})
	e.fake.AddUsers(owner + 50)
	insert := func(sender, to, grp string) {
		t.Helper()
		// As the pipeline writes a Maxim message (the storage table behind the messages view).
		if err := e.conn.Exec(ctx, `INSERT INTO messages_data (event_id, source, app, conversation, msg_time, occurred_at, received_at, sender, to_account, group_id) VALUES (?, 'maxim', ?, ?, ?, ?, ?, ?, ?, ?)`,
			connectors.NewID("e"), appID, "group:"+grp, e.clk.Now(), e.clk.Now(), e.clk.Now(), sender, to, grp); err != nil {
			t.Fatal(err)
		}
	}
	insert(fmt.Sprint(owner+1), "", fmt.Sprint(groupID))
	insert(fmt.Sprint(owner+1), "", fmt.Sprint(gone))
	insert(fmt.Sprint(owner+1), "", fmt.Sprint(locked))
	insert(fmt.Sprint(owner+50), fmt.Sprint(owner+60), "") // owner+60 does not exist: 10000
	insert("not-a-maxim-id", "", "also-not")
	e.clk.Add(time.Minute)
	sum, err := e.sync()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Groups != 2 || sum.Gone != 1 || sum.Skipped != 1 {
		t.Errorf("summary %+v", sum)
	}
	if !strings.Contains(e.last, fmt.Sprintf("group %d [2/3]: gone (20001 群组不存在", gone)) || !strings.Contains(e.last, "skipped") {
		t.Errorf("progress:\n%s", e.last)
	}
	now := e.clk.Now()
	if got := e.members(groupID, now); !reflect.DeepEqual(got, ids(owner, 3)) {
		t.Errorf("members %v", got)
	}
	if got := e.members(locked, now); len(got) != 0 {
		t.Errorf("a skipped group has no snapshot, got %v", got)
	}
	if got := connectorstest.Column(e.q("roster_at", map[string]string{"account": fmt.Sprint(owner + 1), "at": connectorstest.Time(now)}), "contact_name"); !reflect.DeepEqual(got, []string{"boss"}) {
		t.Errorf("roster of a sender: %v", got)
	}
	// Accounts: the senders, the recipient, the members of the read group; not the non-Maxim id.
	if sum.Accounts != 5 {
		t.Errorf("%d rosters, want owner..owner+2, owner+50, owner+60", sum.Accounts)
	}
	seen := connectorstest.Column(e.q("groups_seen", nil), "group_id")
	if !reflect.DeepEqual(seen, []string{fmt.Sprint(groupID), fmt.Sprint(locked), "also-not"}) {
		t.Errorf("groups_seen after the gone snapshot: %v", seen)
	}
	// The next run asks for the gone group no more.
	e.cfg.RefreshAfter = 0
	before := e.fake.Count("member_list:" + fmt.Sprint(gone))
	e.clk.Add(time.Minute)
	if _, err := e.sync(); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.Count("member_list:"+fmt.Sprint(gone)) - before; n != 0 {
		t.Errorf("the gone group was asked for %d more times", n)
	}
}

// TestSyncNeedsActingUser: groups without a user to act as are refused before any request.
func TestSyncNeedsActingUser(t *testing.T) {
	e := newEnv(t, 1000)
	cfg := config(e.fake.URL)
	cfg.UserID = ""
	c, _ := maxim.NewClient(cfg, nil)
	e.c = c
	e.cfg.FromArchive = false
	e.cfg.Groups = []maxim.GroupRef{{ID: "1"}, {ID: "2", Actor: "5"}}
	if _, err := e.sync(); err == nil || !strings.Contains(err.Error(), "[1]") || !strings.Contains(err.Error(), "--user-id") {
		t.Fatalf("got %v", err)
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("%d requests were sent", n)
	}
}
