// Package querytest seeds a migrated ClickHouse database with a small, fully known archive through the
// real pipeline writers (pipeline.EventSink, pipeline.RawSink), so tests of the named queries and of the
// dashboards can check exact values. Every expected value in those tests follows from the events listed
// here; read this file beside them.
//
// Beside the events: raw receipts (through pipeline.RawSink) and legal holds (plain INSERTs).
//
// Historical data sits on fixed times from T0 = 2026-03-02 00:00 UTC (a Monday); the online-now data
// (app "nimnow") sits on times relative to the moment Load runs, since the presence_state view compares
// renewal deadlines with now().
package querytest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/pipeline"
)

// T0 is the origin of the historical data.
var T0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// Apps of the seed.
const (
	AppNetease = "nim1"   // NetEase QChat: servers S1 "Alpha" and S2 "Beta", channels C1, C2 (S1) and C3 (S2)
	AppNow     = "nimnow" // NetEase QChat presence around the moment Load runs
	AppILink   = "il1"    // iLink: group G1, one-to-one messages, presence without renewals
	AppMaxim   = "mx1"    // Maxim: one one-to-one message
)

// Seed is what Load wrote.
type Seed struct {
	T0  time.Time // origin of the historical data
	Now time.Time // the moment Load ran (origin of the AppNow presence events)
}

// At is T0 plus hours and minutes.
func At(h, m int) time.Time { return T0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }

func ms(t time.Time) int64 { return t.UnixMilli() }

func base(kind, source, app, name string, at time.Time) *event.Event {
	return &event.Event{
		SchemaVersion: event.SchemaVersion,
		EventID:       event.ID(source, app, "seed", name),
		Source:        source,
		App:           app,
		Kind:          kind,
		OccurredAtMs:  ms(at),
		ReceivedAtMs:  ms(at.Add(time.Second)),
		Attrs:         map[string]string{},
	}
}

// msg is a message sent at `at`, received one second later unless delay says otherwise.
func msg(source, app, name, sender, clientType string, at time.Time, t event.Target) *event.Event {
	e := base(event.KindMessage, source, app, name, at)
	e.Op = event.OpSend
	e.PlatformType = "48"
	e.Actor = sender
	e.ActorClientType = clientType
	e.MsgID = "msg-" + name
	e.MsgTimeMs = ms(at)
	e.MsgType = "TEXT"
	e.Body = "text of " + name
	e.Target = t
	return e
}

func update(app, name, op, actor, msgName string, at time.Time, server, channel string) *event.Event {
	e := base(event.KindMessageUpdate, event.SourceNetease, app, name, at)
	e.Op = op
	e.PlatformType = "81"
	e.Actor = actor
	e.MsgID = "msg-" + msgName
	e.Target = event.Target{Server: server, Channel: channel}
	return e
}

func presence(source, app, name, account, op, clientType string, at time.Time) *event.Event {
	e := base(event.KindPresence, source, app, name, at)
	e.Op = op
	e.PlatformType = "47"
	e.Actor = account
	e.ActorClientType = clientType
	if clientType != "" {
		e.ActorDeviceID = "dev-" + account
	}
	return e
}

// onConn puts a presence copy on a connection (NetEase consid) of a device.
func onConn(e *event.Event, consid, device string) *event.Event {
	e.ActorConnectionID, e.ActorDeviceID = consid, device
	e.Attrs["consid"], e.Attrs["deviceId"] = consid, device
	return e
}

func community(kind, op, name, actor, server string, at time.Time) *event.Event {
	e := base(kind, event.SourceNetease, AppNetease, name, at)
	e.Op = op
	e.PlatformType = "5x"
	e.Actor = actor
	e.Target.Server = server
	return e
}

func quick(name, op, actor, msgName, typ, server, channel string, at time.Time) *event.Event {
	e := base(event.KindQuickComment, event.SourceNetease, AppNetease, name, at)
	e.Op = op
	e.PlatformType = "80"
	e.Actor = actor
	e.MsgID = "msg-" + msgName
	e.Target = event.Target{Server: server, Channel: channel}
	e.Attrs["quickCommentType"] = typ
	return e
}

// Batches are the consumer's batches, in arrival order; the presence processor decides stale verdicts
// by that order.
func batches(now time.Time) [][]*event.Event {
	nim, il, mx := AppNetease, AppILink, AppMaxim
	ne, ik, mk := event.SourceNetease, event.SourceILink, event.SourceMaxim
	c1 := event.Target{Server: "S1", Channel: "C1"}
	c2 := event.Target{Server: "S1", Channel: "C2"}
	c3 := event.Target{Server: "S2", Channel: "C3"}

	// Messages: 6 on day 1 (4 in hour 01, 2 in hour 02), 3 on day 2.
	m1 := msg(ne, nim, "m1", "alice", "AOS", At(1, 10), c1)
	m2 := msg(ne, nim, "m2", "bob", "IOS", At(1, 20), c1)
	m3 := msg(ne, nim, "m3", "alice", "AOS", At(2, 5), c1)
	m3.Antispam = true
	m3.Attrs["antispam"] = "true"
	m4 := msg(ne, nim, "m4", "carol", "WEB", At(25, 0), c1)
	m5 := msg(ne, nim, "m5", "bob", "IOS", At(1, 30), c2)
	m6 := msg(ne, nim, "m6", "dave", "PC", At(26, 0), c3)
	m7 := msg(ik, il, "m7", "u1", "", At(1, 40), event.Target{Group: "G1"})
	m7.PlatformType, m7.ReceivedAtMs = "3", ms(At(1, 40).Add(2*time.Second))
	m8 := msg(ik, il, "m8", "u2", "", At(2, 10), event.Target{Account: "u3"})
	m8.PlatformType, m8.ReceivedAtMs = "1", ms(At(2, 10).Add(4*time.Second))
	m9 := msg(mk, mx, "m9", "x1", "", At(25, 30), event.Target{Account: "x2"})
	m9.PlatformType = "CHAT"

	// Changes: m2 edited (and flagged) at 03:00, m5 recalled at 03:10, m4 deleted on day 2.
	u2 := update(nim, "u-m2", event.OpUpdate, "bob", "m2", At(3, 0), "S1", "C1")
	u2.Body, u2.Antispam, u2.Attrs["msg"] = "edited text of m2", true, "fixed a typo"
	r5 := update(nim, "r-m5", event.OpRecall, "bob", "m5", At(3, 10), "S1", "C2")
	d4 := update(nim, "d-m4", event.OpDelete, "admin", "m4", At(25, 10), "S1", "C1")
	d4.Attrs["msg"] = "removed by moderator"

	// Presence history (NetEase online states expire 35 min after the last login or renewal).
	pAliceIn := presence(ne, nim, "p-alice-login", "alice", event.OpLogin, "AOS", At(1, 0))
	pAliceHB := presence(ne, nim, "p-alice-hb", "alice", event.OpHeartbeat, "AOS", At(1, 30))
	pAliceOut := presence(ne, nim, "p-alice-logout", "alice", event.OpLogout, "AOS", At(2, 0))
	pBobIn := presence(ne, nim, "p-bob-login", "bob", event.OpLogin, "IOS", At(1, 0))
	pBobHB1 := presence(ne, nim, "p-bob-hb1", "bob", event.OpHeartbeat, "IOS", At(1, 30))
	pBobHB2 := presence(ne, nim, "p-bob-hb2", "bob", event.OpHeartbeat, "IOS", At(2, 0))
	pBobKick := presence(ne, nim, "p-bob-kick", "bob", event.OpKickedByServer, "IOS", At(2, 30))
	// A login of 00:30 that arrives at 02:40, after the kick: stale.
	pBobLate := presence(ne, nim, "p-bob-late-login", "bob", event.OpLogin, "IOS", At(0, 30))
	pBobLate.ReceivedAtMs = ms(At(2, 40))
	pCarolIn := presence(ne, nim, "p-carol-login", "carol", event.OpLogin, "WEB", At(1, 0))
	pU1On := presence(ik, il, "p-u1-on", "u1", event.OpOnline, "", At(1, 0))
	pU1Off := presence(ik, il, "p-u1-off", "u1", event.OpOffline, "", At(4, 0))
	pU2On := presence(ik, il, "p-u2-on", "u2", event.OpOnline, "", At(3, 0))
	for _, p := range []*event.Event{pU1On, pU1Off, pU2On} {
		p.PlatformType = "4"
	}
	// dave: the phone logs in at 03:00, the PC at 03:10, the phone logs out at 03:20: dave stays
	// online on the PC until its renewal deadline (03:45).
	pDavePhone := onConn(presence(ne, nim, "p-dave-phone-in", "dave", event.OpLogin, "AOS", At(3, 0)), "dave-phone", "dave-p")
	pDavePC := onConn(presence(ne, nim, "p-dave-pc-in", "dave", event.OpLogin, "PC", At(3, 10)), "dave-pc", "dave-c")
	pDavePhoneOut := onConn(presence(ne, nim, "p-dave-phone-out", "dave", event.OpLogout, "AOS", At(3, 20)), "dave-phone", "dave-p")

	// Presence now: n1 online, n2 expired, n3 offline, n4 online despite a stale logout; n5 reconnected
	// (a new connection, then type 7 closing the old one): online; n6 on a phone and a PC, the PC
	// logged out: online.
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	pN1 := presence(ne, AppNow, "p-n1", "n1", event.OpLogin, "AOS", ago(10*time.Minute))
	pN2 := presence(ne, AppNow, "p-n2", "n2", event.OpLogin, "IOS", ago(50*time.Minute))
	pN3In := presence(ne, AppNow, "p-n3-in", "n3", event.OpLogin, "PC", ago(20*time.Minute))
	pN3Out := presence(ne, AppNow, "p-n3-out", "n3", event.OpLogout, "PC", ago(5*time.Minute))
	pN4In := presence(ne, AppNow, "p-n4-in", "n4", event.OpLogin, "WEB", ago(5*time.Minute))
	pN4Late := presence(ne, AppNow, "p-n4-late-out", "n4", event.OpLogout, "WEB", ago(8*time.Minute))
	pN5Old := onConn(presence(ne, AppNow, "p-n5-old", "n5", event.OpLogin, "AOS", ago(9*time.Minute)), "n5-old", "n5-d")
	pN5New := onConn(presence(ne, AppNow, "p-n5-new", "n5", event.OpLogin, "AOS", ago(3*time.Minute)), "n5-new", "n5-d")
	pN5Replaced := onConn(presence(ne, AppNow, "p-n5-replaced", "n5", event.OpReplaced, "AOS", ago(3*time.Minute-300*time.Millisecond)), "n5-old", "n5-d")
	pN6Phone := onConn(presence(ne, AppNow, "p-n6-phone", "n6", event.OpLogin, "IOS", ago(6*time.Minute)), "n6-phone", "n6-p")
	pN6PC := onConn(presence(ne, AppNow, "p-n6-pc", "n6", event.OpLogin, "PC", ago(4*time.Minute)), "n6-pc", "n6-c")
	pN6PCOut := onConn(presence(ne, AppNow, "p-n6-pc-out", "n6", event.OpLogout, "PC", ago(2*time.Minute)), "n6-pc", "n6-c")

	// Community (S1 created with name Alpha, S2 Beta; C1 renamed at 05:00).
	srv1 := community(event.KindServer, event.OpCreate, "srv1", "owner", "S1", At(0, 5))
	srv1.Attrs["name"] = "Alpha"
	srv2 := community(event.KindServer, event.OpCreate, "srv2", "owner", "S2", At(0, 6))
	srv2.Attrs["name"] = "Beta"
	ch1 := community(event.KindChannel, event.OpCreate, "ch1", "owner", "S1", At(0, 10))
	ch1.Target.Channel, ch1.Attrs["name"] = "C1", "general"
	ch2 := community(event.KindChannel, event.OpCreate, "ch2", "owner", "S1", At(0, 11))
	ch2.Target.Channel, ch2.Attrs["name"] = "C2", "random"
	ch1r := community(event.KindChannel, event.OpUpdate, "ch1-rename", "owner", "S1", At(5, 0))
	ch1r.Target.Channel, ch1r.Attrs["name"] = "C1", "general-chat"
	inv := community(event.KindMember, event.OpInvite, "inv", "owner", "S1", At(0, 15))
	inv.Target.Accounts = []string{"yx1", "yx2"}
	acc := community(event.KindMember, event.OpAcceptInvite, "acc", "yx1", "S1", At(0, 20))
	acc.Inviter = "owner" // the inviter it accepted (not acted upon)
	app := community(event.KindMember, event.OpAcceptApply, "apply-ok", "owner", "S1", At(0, 40))
	app.Target.Account = "wm210"
	kick := community(event.KindMember, event.OpKick, "kick", "owner", "S1", At(1, 15))
	kick.Target.Accounts = []string{"k1", "k2"}
	leave := community(event.KindMember, event.OpLeave, "leave", "alice", "S2", At(25, 20))
	role := community(event.KindRole, event.OpCreate, "role", "owner", "S1", At(0, 30))
	role.Target.Role, role.Attrs["name"] = "R1", "moderators"
	roleAdd := community(event.KindRole, event.OpAddMembers, "role-add", "owner", "S1", At(0, 35))
	roleAdd.Target.Role, roleAdd.Target.Accounts = "R1", []string{"alice", "bob"}
	perm := community(event.KindPermission, event.OpUpdate, "perm", "owner", "S1", At(0, 50))
	perm.Target.Channel, perm.Target.Role = "C1", "R1"

	// Quick comments: type 1 added by alice, added and removed by bob, added by dave; type 2 by carol.
	q1 := quick("q1", event.OpAdd, "alice", "m1", "1", "S1", "C1", At(1, 12))
	q2 := quick("q2", event.OpAdd, "bob", "m1", "1", "S1", "C1", At(1, 13))
	q3 := quick("q3", event.OpRemove, "bob", "m1", "1", "S1", "C1", At(1, 14))
	q4 := quick("q4", event.OpAdd, "carol", "m1", "2", "S1", "C1", At(1, 16))
	q5 := quick("q5", event.OpAdd, "dave", "m6", "1", "S2", "C3", At(26, 5))

	m1again := *m1 // a consumer re-delivery of m1, read at another offset

	return [][]*event.Event{
		{srv1, srv2, ch1, ch2, inv, acc, role, roleAdd, app, perm, pBobIn, pAliceIn, pCarolIn, pU1On},
		{m1, q1, q2, q3, q4, kick, m2, pAliceHB, pBobHB1, m5, m7},
		{pAliceOut, pBobHB2, m3, m8, pBobKick},
		{pBobLate, pU2On, u2, r5, pU1Off, ch1r, pDavePhone, pDavePC},
		{pDavePhoneOut},
		{m4, d4, m9, leave, m6, q5, &m1again},
		{pN2, pN3In, pN1, pN4In, pN3Out},
		{pN4Late, pN5Old, pN5New, pN5Replaced, pN6Phone, pN6PC, pN6PCOut},
	}
}

// RawReceipts are the raw archive's rows: callbacks as received, with one retry of m7 and of m1 that
// reached the archive (past ingest's dedupe window) and one body that could not be normalized.
func rawReceipts() []pipeline.RawRow {
	id := func(source, app, name string) string { return event.ID(source, app, "seed", name) }
	at := func(h, m, s int) int64 { return ms(At(h, m).Add(time.Duration(s) * time.Second)) }
	row := func(source, app, eventID string, receivedAt int64) pipeline.RawRow {
		key := eventID
		if key == "" {
			key = "raw-unreadable-" + strconv.FormatInt(receivedAt, 10)
		}
		return pipeline.RawRow{Source: source, App: app, ReceivedAtMs: receivedAt, EventID: eventID, RawKey: key,
			Body: []byte(`{"seed":"` + eventID + `","at":` + strconv.FormatInt(receivedAt, 10) + `}`), Path: "/v1/seed/" + app,
			HTTPHeaders: map[string]string{}, Meta: map[string]string{}}
	}
	return []pipeline.RawRow{
		row(event.SourceILink, AppILink, id(event.SourceILink, AppILink, "m7"), at(1, 40, 2)),
		row(event.SourceILink, AppILink, id(event.SourceILink, AppILink, "m7"), at(1, 45, 0)),
		row(event.SourceILink, AppILink, id(event.SourceILink, AppILink, "m8"), at(2, 10, 4)),
		row(event.SourceILink, AppILink, "", at(2, 20, 0)),
		row(event.SourceNetease, AppNetease, id(event.SourceNetease, AppNetease, "m1"), at(1, 10, 1)),
		row(event.SourceNetease, AppNetease, id(event.SourceNetease, AppNetease, "m1"), at(2, 30, 0)),
	}
}

// Load writes the seed into the migrated database behind conn, batch by batch as a consumer would.
func Load(t testing.TB, conn driver.Conn) Seed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	now := time.Now().UTC().Truncate(time.Millisecond)
	sink := pipeline.NewEventSink(conn, pipeline.DefaultConfig(), prometheus.NewRegistry())
	offset := int64(0)
	for i, batch := range batches(now) {
		items := make([]pipeline.Item[pipeline.EventRow], 0, len(batch))
		for _, e := range batch {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			row, err := sink.Decode(&kgo.Record{Value: b})
			if err != nil {
				t.Fatalf("seed event %s: %v", e.EventID, err)
			}
			items = append(items, pipeline.Item[pipeline.EventRow]{Row: row, Partition: 0, Offset: offset})
			offset++
		}
		if err := sink.Write(ctx, items, fmt.Sprintf("querytest-seed-%d", i)); err != nil {
			t.Fatalf("seed batch %d: %v", i, err)
		}
		sink.Written(items)
	}
	raw := pipeline.NewRawSink(conn, prometheus.NewRegistry())
	var items []pipeline.Item[pipeline.RawRow]
	for i, r := range rawReceipts() {
		items = append(items, pipeline.Item[pipeline.RawRow]{Row: r, Partition: 0, Offset: int64(i)})
	}
	if err := raw.Write(ctx, items, "querytest-seed-raw"); err != nil {
		t.Fatalf("seed raw archive: %v", err)
	}
	if err := conn.Exec(ctx, holdsSQL); err != nil {
		t.Fatalf("seed legal holds: %v", err)
	}
	return Seed{T0: T0, Now: now}
}

// EventID is the event_id of the seed event called name.
func EventID(source, app, name string) string { return event.ID(source, app, "seed", name) }

// Legal holds of the seed, written with plain INSERTs into the log (imarchive hold writes the same rows):
// h-alice holds account alice of nim1 and is in force; h-c3 held channel C3 and was released.
const holdsSQL = `INSERT INTO legal_holds (hold_id, action, app, scope, subject, actor, reason, at) VALUES
    ('h-alice', 'add', 'nim1', 'account', 'alice', 'auditor1', 'case 42', '2026-03-02 06:00:00.000'),
    ('h-c3', 'add', 'nim1', 'channel', 'C3', 'auditor1', 'case 7', '2026-03-02 06:10:00.000'),
    ('h-c3', 'release', 'nim1', 'channel', 'C3', 'auditor2', 'case 7 closed', '2026-03-03 09:00:00.000')`
