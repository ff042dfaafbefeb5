package archivetest

import (
	"strconv"
	"time"

	"github.com/imarchive/imarchive/event"
)

// T0 is the fixture's reference time; every event is placed relative to it.
var T0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// Applications of the fixture.
const (
	NeteaseApp = "nk1" // NetEase QChat: server S1, channels C1 and C2
	ILinkApp   = "ik1" // iLink: group G1 and one-to-one messages
	MaximApp   = "mx1" // Maxim: group 77
	S1, C1, C2 = "s1", "c1", "c2"
	G1         = "g1"
)

// Event ids of the fixture, for the tests' expectations.
var (
	M1 = id(event.SourceNetease, NeteaseApp, "48", "1001") // alice in c1 "Hello 世界 team", edited by U4
	M2 = id(event.SourceNetease, NeteaseApp, "48", "1002") // bob in c1, updated by U1
	M3 = id(event.SourceNetease, NeteaseApp, "48", "1003") // carol in c1, antispam
	M4 = id(event.SourceNetease, NeteaseApp, "48", "1004") // alice in c1, recalled by U2
	M5 = id(event.SourceNetease, NeteaseApp, "48", "1005") // dave in c2, deleted by U3 (bob)
	U1 = id(event.SourceNetease, NeteaseApp, "81", "1002", "u1")
	U2 = id(event.SourceNetease, NeteaseApp, "81", "1004", "u2")
	U3 = id(event.SourceNetease, NeteaseApp, "81", "1005", "u3")
	U4 = id(event.SourceNetease, NeteaseApp, "81", "1001", "u4")
	I1 = id(event.SourceILink, ILinkApp, "msg", "i1") // u1 in g1
	I2 = id(event.SourceILink, ILinkApp, "msg", "i2") // u2 in g1
	I3 = id(event.SourceILink, ILinkApp, "msg", "i3") // u1 → u2
	I4 = id(event.SourceILink, ILinkApp, "msg", "i4") // u2 → u1
	I5 = id(event.SourceILink, ILinkApp, "msg", "i5") // u3 → u1
	X1 = id(event.SourceMaxim, MaximApp, "msg", "9001")
	P1 = id(event.SourceNetease, NeteaseApp, "47", "p1") // alice login
	P2 = id(event.SourceNetease, NeteaseApp, "47", "p2") // alice logout
	P3 = id(event.SourceILink, ILinkApp, "4", "p3")      // u1 online
	Q1 = id(event.SourceNetease, NeteaseApp, "80", "q1") // bob's quick comment on M1
	N1 = id(event.SourceNetease, NeteaseApp, "49", "n1") // alice's notification to s1
	// Community events of server s1, in time order.
	CCreate      = id(event.SourceNetease, NeteaseApp, "50", "c1")  // alice creates s1 (invitemode 0, applymode 0)
	CInvite      = id(event.SourceNetease, NeteaseApp, "53", "c2")  // alice invites bob and carol (consent needed)
	CAcceptBob   = id(event.SourceNetease, NeteaseApp, "54", "c3")  // bob accepts
	CApplyCarol  = id(event.SourceNetease, NeteaseApp, "56", "c4")  // carol applies (no approval needed): member
	CModeApply   = id(event.SourceNetease, NeteaseApp, "51", "c5")  // applymode 1
	CApplyDave   = id(event.SourceNetease, NeteaseApp, "56", "c6")  // dave applies (approval needed)
	CAcceptDave  = id(event.SourceNetease, NeteaseApp, "57", "c7")  // alice accepts dave
	CKickCarol   = id(event.SourceNetease, NeteaseApp, "60", "c8")  // alice kicks carol
	CModeInvite  = id(event.SourceNetease, NeteaseApp, "51", "c9")  // invitemode 1
	CInviteEve   = id(event.SourceNetease, NeteaseApp, "53", "c10") // alice invites eve (no consent needed): member
	CLeaveFrank  = id(event.SourceNetease, NeteaseApp, "59", "c11") // frank, never a member, leaves
	CUpdateOther = id(event.SourceNetease, NeteaseApp, "62", "c12") // alice changes gina's member info: gina was a member
)

func id(source, app string, parts ...string) string { return event.ID(source, app, parts...) }

// At is T0 plus d, in Unix ms.
func At(d time.Duration) int64 { return T0.Add(d).UnixMilli() }

// Fixture is the archive Seed writes. M1 comes first (Seed adds a retry of its raw record).
func Fixture() []event.Event {
	ne := func(evID, kind, op, typ string, occurred time.Duration, actor string) event.Event {
		return event.Event{SchemaVersion: 1, EventID: evID, Source: event.SourceNetease, App: NeteaseApp, Kind: kind, Op: op,
			PlatformType: typ, OccurredAtMs: At(occurred), ReceivedAtMs: At(occurred) + 150, Actor: actor,
			Attrs: map[string]string{"eventType": typ, "accid": actor, "time": itoa(At(occurred))}}
	}
	msg := func(evID, msgID, channel, sender, body string, at time.Duration) event.Event {
		e := ne(evID, event.KindMessage, event.OpSend, "48", at+20*time.Millisecond, sender)
		e.MsgID, e.ClientMsgID, e.MsgType, e.MsgTimeMs, e.Body = msgID, "cli-"+msgID, "TEXT", At(at), body
		e.ActorNick, e.ActorClientType, e.ActorIP = sender+"-nick", "IOS", "198.51.100.9"
		e.Target = event.Target{Server: S1, Channel: channel}
		e.Attrs = map[string]string{"eventType": "48", "fromAccount": sender, "msgIdServer": msgID, "serverId": S1,
			"channelId": channel, "body": body, "type": "TEXT", "msgTimestamp": itoa(At(at))}
		return e
	}
	upd := func(evID, op, msgID, channel, actor, body, note string, at time.Duration) event.Event {
		e := ne(evID, event.KindMessageUpdate, op, "81", at, actor)
		e.MsgID, e.Body = msgID, body
		e.Target = event.Target{Server: S1, Channel: channel}
		e.Attrs = map[string]string{"eventType": "81", "fromAccount": actor, "msgId": msgID, "serverId": S1, "channelId": channel,
			"body": body, "msg": note, "time": itoa(At(at))}
		return e
	}
	il := func(evID, typ, from, to, group, body string, at time.Duration) event.Event {
		e := event.Event{SchemaVersion: 1, EventID: evID, Source: event.SourceILink, App: ILinkApp, Kind: event.KindMessage,
			Op: event.OpSend, PlatformType: typ, OccurredAtMs: At(at), ReceivedAtMs: At(at) + 300, MsgTimeMs: At(at),
			Actor: from, Body: body, Target: event.Target{Account: to, Group: group},
			Attrs: map[string]string{"msg_type": typ, "from_uid": from, "to_uid": to, "group_id": group, "content": body}}
		return e
	}
	member := func(evID, op, typ, actor string, at time.Duration, target string, accounts ...string) event.Event {
		e := ne(evID, event.KindMember, op, typ, at, actor)
		e.Target = event.Target{Server: S1, Account: target, Accounts: accounts}
		e.Attrs["serverId"] = S1
		return e
	}
	server := func(evID, op, typ string, at time.Duration, invitemode, applymode string) event.Event {
		e := ne(evID, event.KindServer, op, typ, at, "alice")
		e.Target = event.Target{Server: S1}
		e.Attrs["serverId"], e.Attrs["owner"], e.Attrs["name"] = S1, "alice", "Team"
		e.Attrs["invitemode"], e.Attrs["applymode"] = invitemode, applymode
		return e
	}

	m3 := msg(M3, "1003", C1, "carol", "buy cheap pills now", 3*time.Minute)
	m3.Antispam, m3.AntispamDetail = true, `{"action":2,"label":"ad"}`
	m3.Attrs["antispam"], m3.Attrs["yidunRes"] = "true", m3.AntispamDetail

	x1 := event.Event{SchemaVersion: 1, EventID: X1, Source: event.SourceMaxim, App: MaximApp, Kind: event.KindMessage,
		Op: event.OpSend, PlatformType: "GROUPCHAT", OccurredAtMs: At(2 * time.Minute), ReceivedAtMs: At(2*time.Minute) + 80,
		MsgTimeMs: At(2 * time.Minute), Actor: "501", MsgID: "9001", Body: "maxim group text", Target: event.Target{Group: "77"},
		Attrs: map[string]string{"type": "GROUPCHAT", "from": "501", "to": "77", "msgId": "9001", "content": "maxim group text"}}

	login := ne(P1, event.KindPresence, event.OpLogin, "47", 0, "alice")
	login.PlatformSubtype, login.ActorClientType, login.ActorDeviceID = "1", "IOS", "dev-a"
	logout := ne(P2, event.KindPresence, event.OpLogout, "47", 10*time.Minute, "alice")
	logout.PlatformSubtype, logout.ActorClientType, logout.ActorDeviceID = "2", "IOS", "dev-a"
	online := event.Event{SchemaVersion: 1, EventID: P3, Source: event.SourceILink, App: ILinkApp, Kind: event.KindPresence,
		Op: event.OpOnline, PlatformType: "4", PlatformSubtype: "1", OccurredAtMs: At(0), ReceivedAtMs: At(0) + 300, Actor: "u1",
		Attrs: map[string]string{"msg_type": "4", "from_uid": "u1", "type": "1"}}

	qc := ne(Q1, event.KindQuickComment, event.OpAdd, "80", 150*time.Second, "bob")
	qc.MsgID, qc.MsgTimeMs = "1001", At(time.Minute)
	qc.Target = event.Target{Server: S1, Channel: C1, Account: "alice"}
	qc.Attrs["quickCommentType"], qc.Attrs["msgIdServer"], qc.Attrs["msgSenderAccid"] = "1", "1001", "alice"

	note := ne(N1, event.KindNotification, event.OpSend, "49", 3*time.Minute, "alice")
	note.MsgID, note.Body, note.Target = "7001", "maintenance tonight", event.Target{Server: S1}
	note.Attrs["body"], note.Attrs["msgIdServer"] = "maintenance tonight", "7001"

	// Version 1 kept 62's member type and inviter in attrs only; the consumer upgrades the event.
	updateGina := member(CUpdateOther, event.OpUpdateOther, "62", "alice", -5*time.Minute, "gina")
	updateGina.Attrs["memberAccid"], updateGina.Attrs["type"], updateGina.Attrs["inviter"] = "gina", "0", "alice"

	return []event.Event{
		msg(M1, "1001", C1, "alice", "Hello 世界 team", time.Minute),
		msg(M2, "1002", C1, "bob", "budget numbers attached", 2*time.Minute),
		m3,
		msg(M4, "1004", C1, "alice", "oops wrong channel", 4*time.Minute),
		msg(M5, "1005", C2, "dave", "secret plan", 6*time.Minute),
		upd(U1, event.OpUpdate, "1002", C1, "bob", "budget numbers FINAL", "typo", 5*time.Minute),
		upd(U2, event.OpRecall, "1004", C1, "alice", "", "", 270*time.Second),
		upd(U3, event.OpDelete, "1005", C2, "bob", "", "policy", 7*time.Minute),
		upd(U4, event.OpUpdate, "1001", C1, "alice", "Hello 世界 team (edited: 加油)", "", 495*time.Second),
		il(I1, "3", "u1", "", G1, "早上好 everyone", time.Minute),
		il(I2, "3", "u2", "", G1, "meeting at 3", 2*time.Minute),
		il(I3, "1", "u1", "u2", "", "private hello", 3*time.Minute),
		il(I4, "1", "u2", "u1", "", "private reply", 4*time.Minute),
		il(I5, "1", "u3", "u1", "", "another conversation", 5*time.Minute),
		x1,
		login, logout, online,
		qc, note,
		server(CCreate, event.OpCreate, "50", -60*time.Minute, "0", "0"),
		member(CInvite, event.OpInvite, "53", "alice", -50*time.Minute, "", "bob", "carol"),
		member(CAcceptBob, event.OpAcceptInvite, "54", "bob", -40*time.Minute, "alice"),
		member(CApplyCarol, event.OpApply, "56", "carol", -30*time.Minute, ""),
		server(CModeApply, event.OpUpdate, "51", -25*time.Minute, "0", "1"),
		member(CApplyDave, event.OpApply, "56", "dave", -20*time.Minute, ""),
		member(CAcceptDave, event.OpAcceptApply, "57", "alice", -15*time.Minute, "dave"),
		member(CKickCarol, event.OpKick, "60", "alice", 8*time.Minute, "", "carol"),
		server(CModeInvite, event.OpUpdate, "51", 510*time.Second, "1", "1"),
		member(CInviteEve, event.OpInvite, "53", "alice", 9*time.Minute, "", "eve"),
		member(CLeaveFrank, event.OpLeave, "59", "frank", 570*time.Second, ""),
		updateGina,
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
