package queries_test

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/queries"
	"github.com/imarchive/imarchive/queries/querytest"
)

// spanCopy is a presence copy as online_accounts_over_time sees it.
type spanCopy struct {
	source, account, connection string
	at                          string // platform time, UTC
	arrival                     int
	online, stale               bool
	lease                       time.Duration // renewal deadline after at; 0 for none
}

// startOfRangeCopies: connections whose state at the start of the range (2026-03-10 00:00) was set
// long before it, by a copy the query must still find, or by one it must not let reach in.
var startOfRangeCopies = []spanCopy{
	// iLink, no deadline: online since February, nothing since.
	{"ilink", "il-long", "", "2026-02-01 00:00:00", 1, true, false, 0},
	// iLink: online since February, offline at 00:25 in the range.
	{"ilink", "il-off", "", "2026-02-01 00:00:00", 1, true, false, 0},
	{"ilink", "il-off", "", "2026-03-10 00:25:00", 2, false, false, 0},
	// iLink: online since February; its next copy is after the range.
	{"ilink", "il-after", "", "2026-02-01 00:00:00", 1, true, false, 0},
	{"ilink", "il-after", "", "2026-03-10 02:00:00", 2, false, false, 0},
	// iLink: online since February, then a stale offline copy of 5 March arrived last: at its own
	// time it is the latest word, so the account is offline at the start of the range.
	{"ilink", "il-stale", "", "2026-02-15 00:00:00", 1, true, false, 0},
	{"ilink", "il-stale", "", "2026-03-10 00:45:00", 2, false, false, 0},
	{"ilink", "il-stale", "", "2026-03-05 12:00:00", 3, false, true, 0},
	// iLink: an offline and an online copy of the same second on 1 March: the later arrival decides.
	{"ilink", "il-eq-on", "", "2026-03-01 10:00:00", 2, true, false, 0},
	{"ilink", "il-eq-on", "", "2026-03-01 10:00:00", 1, false, false, 0},
	{"ilink", "il-eq-off", "", "2026-03-01 10:00:00", 1, true, false, 0},
	{"ilink", "il-eq-off", "", "2026-03-01 10:00:00", 2, false, false, 0},
	// NetEase: a login whose 35-minute lease ended exactly at the start of the range.
	{"netease_qchat", "ne-lapsed", "consid:a", "2026-03-09 23:25:00", 1, true, false, 35 * time.Minute},
	// NetEase: a login 30 minutes before the range, its lease reaching 5 minutes into it.
	{"netease_qchat", "ne-reach", "consid:b", "2026-03-09 23:30:00", 1, true, false, 35 * time.Minute},
	// NetEase: renewals since 20:00, the last at 23:50, then a logout at 00:15.
	{"netease_qchat", "ne-renewed", "consid:c", "2026-03-09 20:00:00", 1, true, false, 35 * time.Minute},
	{"netease_qchat", "ne-renewed", "consid:c", "2026-03-09 21:20:00", 2, true, false, 35 * time.Minute},
	{"netease_qchat", "ne-renewed", "consid:c", "2026-03-09 22:50:00", 3, true, false, 35 * time.Minute},
	{"netease_qchat", "ne-renewed", "consid:c", "2026-03-09 23:50:00", 4, true, false, 35 * time.Minute},
	{"netease_qchat", "ne-renewed", "consid:c", "2026-03-10 00:15:00", 5, false, false, 0},
	// NetEase: a login at 23:40, and a stale logout of 23:50 arriving after the 00:20 logout.
	{"netease_qchat", "ne-stale", "consid:d", "2026-03-09 23:40:00", 1, true, false, 35 * time.Minute},
	{"netease_qchat", "ne-stale", "consid:d", "2026-03-10 00:20:00", 2, false, false, 0},
	{"netease_qchat", "ne-stale", "consid:d", "2026-03-09 23:50:00", 3, false, true, 0},
	// NetEase: two connections, the first lapsed at 23:35, the second's lease running to 00:20.
	{"netease_qchat", "ne-two", "consid:e", "2026-03-09 23:00:00", 1, true, false, 35 * time.Minute},
	{"netease_qchat", "ne-two", "consid:f", "2026-03-09 23:45:00", 2, true, false, 35 * time.Minute},
}

// insertSpanCopies writes the copies into presence_events_data in one insert, newest first.
func insertSpanCopies(t *testing.T, conn driver.Conn, app string, cs []spanCopy) {
	t.Helper()
	var rows []string
	for i := len(cs) - 1; i >= 0; i-- {
		c := cs[i]
		at, err := time.Parse(time.DateTime, c.at)
		if err != nil {
			t.Fatal(err)
		}
		expires := "toDateTime64(0, 3, 'UTC')"
		if c.lease > 0 {
			expires = fmt.Sprintf("toDateTime64('%s', 3, 'UTC')", at.Add(c.lease).Format(time.DateTime))
		}
		op := map[bool]string{true: "login", false: "logout"}[c.online]
		rows = append(rows, fmt.Sprintf("('%s-%s-%d', '%s', '%s', '%s', '%s', '%s', %t, %t, %d, toDateTime64('%s', 3, 'UTC'), toDateTime64('%s', 3, 'UTC'), %s, map())",
			app, c.account, c.arrival, c.source, app, c.account, c.connection, op, c.online, c.stale, c.arrival, c.at, c.at, expires))
	}
	if err := conn.Exec(context.Background(), `INSERT INTO presence_events_data (event_id, source, app, account, connection, op, online, stale, arrival,
		occurred_at, received_at, expires_at, attrs) VALUES `+strings.Join(rows, ", ")); err != nil {
		t.Fatal(err)
	}
}

// onlineBuckets is the rule applied through time, written apart from the query: each connection's
// copies in platform-time order (equal times by arrival, stale ones included at their own time); an
// online copy holds its connection online until the next copy or its deadline, whichever comes first;
// an account is counted in a bucket [b, b+step) when one of its spans [at, end) meets it. Rows as the
// query's: time|source|count, every bucket of every source with an account online in one of them.
func onlineBuckets(cs []spanCopy, from, to time.Time, step time.Duration) []string {
	type key struct{ source, account, connection string }
	byConn := map[key][]spanCopy{}
	for _, c := range cs {
		k := key{c.source, c.account, c.connection}
		byConn[k] = append(byConn[k], c)
	}
	first := from.Truncate(step)
	online := map[string]map[time.Time]map[string]bool{} // source → bucket → accounts
	for k, list := range byConn {
		sort.Slice(list, func(i, j int) bool {
			if list[i].at != list[j].at {
				return list[i].at < list[j].at
			}
			return list[i].arrival < list[j].arrival
		})
		for i, c := range list {
			start, _ := time.Parse(time.DateTime, c.at)
			if !c.online || !start.Before(to) {
				continue
			}
			end := time.Date(2299, 12, 31, 23, 59, 59, 0, time.UTC)
			if i+1 < len(list) {
				end, _ = time.Parse(time.DateTime, list[i+1].at)
			}
			if c.lease > 0 && start.Add(c.lease).Before(end) {
				end = start.Add(c.lease)
			}
			for b := first; b.Before(to); b = b.Add(step) {
				if start.Before(b.Add(step)) && end.After(b) && end.After(start) {
					if online[k.source] == nil {
						online[k.source] = map[time.Time]map[string]bool{}
					}
					if online[k.source][b] == nil {
						online[k.source][b] = map[string]bool{}
					}
					online[k.source][b][k.account] = true
				}
			}
		}
	}
	var rows []string
	for b := first; b.Before(to); b = b.Add(step) {
		for _, source := range []string{"ilink", "netease_qchat"} {
			if _, ok := online[source]; ok {
				rows = append(rows, fmt.Sprintf("%s|%s|%d", b.Format("2006-01-02 15:04:05.000"), source, len(online[source][b])))
			}
		}
	}
	return rows
}

// TestOnlineAccountsStartOfRange checks the state online_accounts_over_time finds at the start of a
// range, which it reads only partly (schema 0135: copies with a renewal deadline no further back than
// the longest lease): connections online since long before the range (iLink, without a deadline), a
// NetEase lease that ended at the range's start and one that reaches into it, renewals before it,
// stale copies before it that arrived late, equal-time copies; hand-computed for one range, against
// onlineBuckets for others; then every copy inserted again, in another insert, changes nothing.
func TestOnlineAccountsStartOfRange(t *testing.T) {
	conn := migrated(t)
	q, err := queries.Get("online_accounts_over_time")
	if err != nil {
		t.Fatal(err)
	}
	insertSpanCopies(t, conn, "p3", startOfRangeCopies)

	hand := []string{
		"2026-03-10 00:00:00.000|ilink|4", "2026-03-10 00:00:00.000|netease_qchat|3",
		"2026-03-10 00:10:00.000|ilink|4", "2026-03-10 00:10:00.000|netease_qchat|2",
		"2026-03-10 00:20:00.000|ilink|4", "2026-03-10 00:20:00.000|netease_qchat|0",
		"2026-03-10 00:30:00.000|ilink|3", "2026-03-10 00:30:00.000|netease_qchat|0",
		"2026-03-10 00:40:00.000|ilink|3", "2026-03-10 00:40:00.000|netease_qchat|0",
		"2026-03-10 00:50:00.000|ilink|3", "2026-03-10 00:50:00.000|netease_qchat|0",
	}
	from, to := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC)
	if model := onlineBuckets(startOfRangeCopies, from, to, 10*time.Minute); !slices.Equal(model, hand) {
		t.Fatalf("the model disagrees with the hand-computed answer:\n%s\nwant\n%s", strings.Join(model, "\n"), strings.Join(hand, "\n"))
	}
	ranges := []struct {
		from, to time.Time
		step     time.Duration
	}{
		{from, to, 10 * time.Minute},
		{from.Add(5 * time.Minute), to, 10 * time.Minute}, // from inside a bucket: the bucket's start is what counts
		{from.Add(-40 * time.Minute), to, 5 * time.Minute},
		{from.Add(-90 * time.Minute), to.Add(time.Hour), 30 * time.Minute},
		{from.Add(10 * time.Minute), from.Add(20 * time.Minute), time.Minute},
		{time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 5, 12, 0, 1, 0, time.UTC), time.Second},
		{time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC), 24 * time.Hour},
	}
	check := func(when string) {
		t.Helper()
		for _, r := range ranges {
			got := onlineAccountsRows(t, conn, q, "p3", "", r.from, r.to, r.step)
			if want := onlineBuckets(startOfRangeCopies, r.from, r.to, r.step); !slices.Equal(got, want) {
				t.Errorf("%s, %s to %s by %s:\n%s\nwant\n%s", when, r.from.Format(time.RFC3339), r.to.Format(time.RFC3339), r.step, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
	check("one insert")
	insertSpanCopies(t, conn, "p3", startOfRangeCopies)
	check("every copy inserted twice")
}

// onlineAccountsRows runs online_accounts_over_time over the copies of app (source empty: every
// platform) from from to to by step, each row as "time|source|online_accounts", as onlineBuckets
// writes them.
func onlineAccountsRows(t *testing.T, conn driver.Conn, q queries.Query, app, source string, from, to time.Time, step time.Duration) []string {
	t.Helper()
	bound, err := q.Bind(map[string]string{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339),
		"step_seconds": fmt.Sprint(int(step.Seconds())), "source": source, "app": app})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, row := range querytest.Run(t, conn, q.SQL, bound).Rows {
		rows = append(rows, strings.Join(row, "|"))
	}
	return rows
}

// randomSpanCopies makes the copies of many accounts with a fixed seed: several connections per
// account (NetEase consids with a 35-minute lease; iLink's one connection without a deadline), copies
// over 36 hours from 9 March 18:00 on a 5-minute grid, some 17 s or 150 s past it (inside a bucket of
// a minute or five), so that a connection often has two at the same time (the later arrival
// decides), arrivals numbered per account in an order that is not their time's (late copies, flagged
// stale when an earlier arrival of their connection has a greater time), overlapping and adjacent
// spans of one account's connections, and copies before and after the ranges asked for.
func randomSpanCopies(seed int64) []spanCopy {
	r := rand.New(rand.NewSource(seed))
	base := time.Date(2026, 3, 9, 18, 0, 0, 0, time.UTC)
	var cs []spanCopy
	for a := 0; a < 60; a++ {
		source, lease := "netease_qchat", 35*time.Minute
		if a%3 == 0 {
			source, lease = "ilink", 0
		}
		account := fmt.Sprintf("acct-%02d", a)
		conns := 1
		if source != "ilink" {
			conns = 1 + r.Intn(3)
		}
		var mine []spanCopy
		for c := 0; c < conns; c++ {
			connection := ""
			if source != "ilink" {
				connection = fmt.Sprintf("consid:%d", c)
			}
			for n := 1 + r.Intn(6); n > 0; n-- {
				at := base.Add(time.Duration(r.Intn(12*36))*5*time.Minute + []time.Duration{0, 17 * time.Second, 150 * time.Second}[r.Intn(3)])
				online := r.Intn(3) > 0
				l := lease
				if !online {
					l = 0
				}
				mine = append(mine, spanCopy{source, account, connection, at.Format(time.DateTime), 0, online, false, l})
			}
		}
		r.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
		stamp := map[string]string{}
		for i := range mine {
			mine[i].arrival = i + 1
			if mine[i].at < stamp[mine[i].connection] {
				mine[i].stale = true
			} else {
				stamp[mine[i].connection] = mine[i].at
			}
		}
		cs = append(cs, mine...)
	}
	return cs
}

// TestOnlineAccountsRandomCopies checks online_accounts_over_time against onlineBuckets (the rule
// written apart from the query) on the copies of 60 accounts made at random with a fixed seed, over
// ranges that start before, inside and after the copies, with buckets of a minute to a day, for all
// platforms and for each; then with every copy inserted again.
func TestOnlineAccountsRandomCopies(t *testing.T) {
	conn := migrated(t)
	q, err := queries.Get("online_accounts_over_time")
	if err != nil {
		t.Fatal(err)
	}
	cs := randomSpanCopies(21)
	insertSpanCopies(t, conn, "p4", cs)
	start := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	ranges := []struct {
		from, to time.Time
		step     time.Duration
	}{
		{start, start.Add(24 * time.Hour), time.Hour},
		{start.Add(-12 * time.Hour), start.Add(48 * time.Hour), 24 * time.Hour},
		{start.Add(7 * time.Minute), start.Add(3 * time.Hour), 5 * time.Minute},
		{start.Add(90 * time.Minute), start.Add(150 * time.Minute), time.Minute},
		{start.Add(20 * time.Hour), start.Add(30 * time.Hour), 20 * time.Minute},
		{start.Add(-3 * 24 * time.Hour), start.Add(5 * 24 * time.Hour), 3 * time.Hour},
	}
	onlyOf := func(source string) []spanCopy {
		var out []spanCopy
		for _, c := range cs {
			if source == "" || c.source == source {
				out = append(out, c)
			}
		}
		return out
	}
	nonEmpty := 0
	check := func(when string) {
		t.Helper()
		for _, r := range ranges {
			for _, source := range []string{"", "ilink", "netease_qchat"} {
				got := onlineAccountsRows(t, conn, q, "p4", source, r.from, r.to, r.step)
				for _, row := range got {
					if !strings.HasSuffix(row, "|0") {
						nonEmpty++
					}
				}
				if want := onlineBuckets(onlyOf(source), r.from, r.to, r.step); !slices.Equal(got, want) {
					t.Errorf("%s, %s to %s by %s, source %q:\n%s\nwant\n%s", when, r.from.Format(time.RFC3339), r.to.Format(time.RFC3339), r.step, source,
						strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
		}
	}
	check("one insert")
	if nonEmpty < 100 {
		t.Fatalf("only %d buckets with an account online: the copies test little", nonEmpty)
	}
	insertSpanCopies(t, conn, "p4", cs)
	check("every copy inserted twice")
}
