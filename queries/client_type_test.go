package queries_test

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/queries"
	"github.com/imarchive/imarchive/queries/querytest"
)

// presenceCopy is one presence event of TestClientTypeMixCountsEachEventOnce, as the consumer would
// write it into presence_events_data.
type presenceCopy struct {
	id, source, app, account, op, client string
	at                                   time.Time
}

// presenceCopies: three days of presence copies of two NetEase apps and iLink: logins, renewals,
// logouts and kicks (which are not logins), iLink online copies (no client type), some near midnight.
func presenceCopies(d0 time.Time) []presenceCopy {
	var ps []presenceCopy
	clients := []string{"AOS", "IOS", "PC", "WEB", "AOS", "IOS", ""}
	ops := []string{"login", "heartbeat", "login", "logout", "login", "kicked_by_server", "login"}
	for i := 0; i < 90; i++ {
		at := d0.Add(time.Duration(i) * 48 * time.Minute).Add(time.Duration(i%5) * 3 * time.Minute)
		p := presenceCopy{id: fmt.Sprintf("pr-%03d", i), account: "a" + strconv.Itoa(i%9), at: at}
		switch i % 3 {
		case 0:
			p.source, p.app, p.op, p.client = "ilink", "il", []string{"online", "offline"}[i%2], ""
		case 1:
			p.source, p.app, p.op, p.client = "netease_qchat", "nim", ops[i%7], clients[i%7]
		default:
			p.source, p.app, p.op, p.client = "netease_qchat", "nim2", ops[(i+3)%7], clients[(i+2)%7]
		}
		ps = append(ps, p)
	}
	// An account that logs in on the first day only: a whole month must not count it when the range
	// starts after that day.
	ps = append(ps, presenceCopy{id: "pr-early", source: "netease_qchat", app: "nim", account: "a-early", op: "login", client: "PC",
		at: d0.Add(2*time.Hour + 10*time.Minute)})
	return ps
}

func insertPresenceCopies(t *testing.T, conn driver.Conn, ps []presenceCopy, insertedAt time.Time, offset int) {
	t.Helper()
	var rows []string
	for i, p := range ps {
		online := p.op == "login" || p.op == "heartbeat" || p.op == "online"
		rows = append(rows, fmt.Sprintf("('%s','%s','%s','%s','device:%s/d1','%s',%t,fromUnixTimestamp64Milli(%d,'UTC'),"+
			"fromUnixTimestamp64Milli(%d,'UTC'),'%s',%d,fromUnixTimestamp64Milli(%d,'UTC'))",
			p.id, p.source, p.app, p.account, p.client, p.op, online, p.at.UnixMilli(), insertedAt.UnixMilli(), p.client,
			offset+i, insertedAt.UnixMilli()))
	}
	sql := "INSERT INTO presence_events_data (event_id, source, app, account, connection, op, online, occurred_at, received_at, " +
		"client_type, kafka_offset, inserted_at) VALUES " + strings.Join(rows, ",")
	if err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("insert presence: %v", err)
	}
}

// clientTypeModel is client_type_mix computed here from the events, each once: logins are the
// presence ops login and online, an account is (source, app, account), a sender (source, app,
// sender) even when empty, a message is at its effective time; ” is 'unknown'.
func clientTypeModel(ps []presenceCopy, ms []rollupMsg, from, to time.Time) string {
	type agg struct {
		logins, messages  int
		accounts, senders map[string]bool
	}
	by := map[string]*agg{}
	get := func(ct string) *agg {
		if ct == "" {
			ct = "unknown"
		}
		if by[ct] == nil {
			by[ct] = &agg{accounts: map[string]bool{}, senders: map[string]bool{}}
		}
		return by[ct]
	}
	in := func(x time.Time) bool { return !x.Before(from) && x.Before(to) }
	for _, p := range ps {
		if (p.op == "login" || p.op == "online") && in(p.at) {
			a := get(p.client)
			a.logins++
			a.accounts[p.source+"/"+p.app+"/"+p.account] = true
		}
	}
	for _, m := range ms {
		if in(m.at()) {
			a := get(m.client)
			a.messages++
			a.senders[m.source+"/"+m.app+"/"+m.sender] = true
		}
	}
	cts := make([]string, 0, len(by))
	for ct := range by {
		cts = append(cts, ct)
	}
	sort.Slice(cts, func(i, j int) bool {
		a, b := by[cts[i]], by[cts[j]]
		if a.logins+a.messages != b.logins+b.messages {
			return a.logins+a.messages > b.logins+b.messages
		}
		return cts[i] < cts[j]
	})
	var lines []string
	for _, ct := range cts {
		a := by[ct]
		lines = append(lines, fmt.Sprintf("%s|%d|%d|%d|%d", ct, a.logins, len(a.accounts), a.messages, len(a.senders)))
	}
	return strings.Join(lines, "\n")
}

// TestClientTypeMixCountsEachEventOnce: client_type_mix, served by the daily rollups of schema 0150
// for the whole days of a range (by 0153's client_type_months for the accounts and senders of its
// whole months) and by the storage for the partial days at its edges, agrees with a model computed
// here from the events over ranges of whole days, of partial days at both edges, of no whole day and
// of whole months; and gives the same answers after every login copy and message is inserted again,
// each in an insert of its own (a platform re-send past ingest's dedupe window, a consumer
// re-inserting a batch after a crash), before and after the rows merge.
func TestClientTypeMixCountsEachEventOnce(t *testing.T) {
	conn := migrated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	ps, ms := presenceCopies(d0), rollupMessages(d0)
	loaded := d0.Add(100 * 24 * time.Hour)
	insertPresenceCopies(t, conn, ps[:40], loaded, 0)
	insertPresenceCopies(t, conn, ps[40:], loaded, 100)
	insertRollupMsgs(t, conn, ms[:40], loaded, 0)
	insertRollupMsgs(t, conn, ms[40:], loaded, 100)

	ranges := [][2]time.Time{
		{d0, d0.Add(72 * time.Hour)},                                                     // three whole days
		{d0.Add(6 * time.Hour), d0.Add(66 * time.Hour)},                                  // partial first and last day, one whole day
		{d0.Add(23 * time.Hour), d0.Add(49 * time.Hour)},                                 // an hour of each edge day, one whole day
		{d0.Add(24 * time.Hour), d0.Add(48 * time.Hour)},                                 // one whole day
		{d0.Add(12 * time.Hour), d0.Add(36 * time.Hour)},                                 // 24 hours, no whole day
		{d0.Add(30 * time.Hour), d0.Add(40 * time.Hour)},                                 // inside one day
		{d0.Add(-48 * time.Hour), d0.Add(30 * 24 * time.Hour)},                           // beyond the data
		{d0, d0.AddDate(0, 1, 0)},                                                        // one whole month
		{d0.Add(-16*24*time.Hour + 6*time.Hour), d0.AddDate(0, 1, 9).Add(6 * time.Hour)}, // partial days, whole days, a whole month
		{d0.Add(24 * time.Hour), d0.AddDate(0, 2, 0)},                                    // whole days of a month, then a whole month
	}
	q, err := queries.Get("client_type_mix")
	if err != nil {
		t.Fatal(err)
	}
	answers := func() map[string]string {
		got := map[string]string{}
		for _, r := range ranges {
			from, to := r[0].Format(time.RFC3339), r[1].Format(time.RFC3339)
			for _, app := range []string{"", "nim"} {
				bound, err := q.Bind(map[string]string{"from": from, "to": to, "source": "", "app": app})
				if err != nil {
					t.Fatal(err)
				}
				var lines []string
				for _, row := range querytest.Run(t, conn, q.SQL, bound).Rows {
					lines = append(lines, strings.Join(row, "|"))
				}
				got["client_type_mix "+from+" "+to+" app="+app] = strings.Join(lines, "\n")
			}
		}
		return got
	}
	before := answers()
	for _, r := range ranges {
		key := r[0].Format(time.RFC3339) + " " + r[1].Format(time.RFC3339) + " app="
		if want := clientTypeModel(ps, ms, r[0], r[1]); before["client_type_mix "+key] != want {
			t.Errorf("client_type_mix %s:\n%s\nmodel:\n%s", key, before["client_type_mix "+key], want)
		}
		var nimP []presenceCopy
		for _, p := range ps {
			if p.app == "nim" {
				nimP = append(nimP, p)
			}
		}
		var nimM []rollupMsg
		for _, m := range ms {
			if m.app == "nim" {
				nimM = append(nimM, m)
			}
		}
		if want := clientTypeModel(nimP, nimM, r[0], r[1]); before["client_type_mix "+key+"nim"] != want {
			t.Errorf("client_type_mix %snim:\n%s\nmodel:\n%s", key, before["client_type_mix "+key+"nim"], want)
		}
	}

	// Every login copy and message of the second and third day again, each in an insert of its own,
	// later, at other offsets, with the merges stopped (each repeat a part of its own), then merged.
	tables := []string{"presence_events_data", "messages_data", "login_client_daily", "message_client_daily", "client_type_months"}
	for _, tbl := range tables {
		if err := conn.Exec(ctx, "SYSTEM STOP MERGES "+tbl); err != nil {
			t.Fatal(err)
		}
	}
	repeats := 0
	for i, p := range ps {
		if !p.at.Before(d0.Add(24 * time.Hour)) {
			insertPresenceCopies(t, conn, []presenceCopy{p}, loaded.Add(time.Duration(i+1)*time.Second), 1000+i)
			repeats++
		}
	}
	for i, m := range ms {
		if !m.at().Before(d0.Add(24 * time.Hour)) {
			if m.sent.IsZero() && m.received.Hour() < 23 {
				m.received = m.received.Add(time.Minute)
			}
			insertRollupMsgs(t, conn, []rollupMsg{m}, loaded.Add(time.Duration(i+1)*time.Second), 1000+i)
			repeats++
		}
	}
	var parts uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'login_client_daily' AND active").Scan(&parts); err != nil {
		t.Fatal(err)
	}
	if repeats < 80 || parts < 20 {
		t.Fatalf("%d repeats, login_client_daily has %d active parts: the repeats did not reach it as rows of their own", repeats, parts)
	}
	assertUnchangedByRepeats(t, conn, tables, before, answers)
}
