package normalize

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/imarchive/imarchive/event"
)

// neteaseType is how one NetEase eventType maps into the canonical event.
type neteaseType struct {
	kind string
	op   string // the op when fixed; set by fill otherwise
	// shape fills the fields the type shares with others: actor, server, channel.
	shape func(e *event.Event, f fields)
	// fill maps what is particular to the type; nil when shape says it all.
	fill func(e *event.Event, f fields) error
}

// NeteaseEventTypes lists the eventTypes Netease maps (47–82), in order.
func NeteaseEventTypes() []string {
	out := make([]string, 0, len(neteaseTypes))
	for i := 47; i <= 82; i++ {
		if _, ok := neteaseTypes[fmt.Sprint(i)]; ok {
			out = append(out, fmt.Sprint(i))
		}
	}
	return out
}

// The mapping of every QChat copy event of the manual (002, eventTypes 47–82). Fields the manual names
// get their place in the envelope; every field stays in Attrs as well.
var neteaseTypes = map[string]neteaseType{
	"47": {kind: event.KindPresence, shape: presenceShape, fill: neteasePresence},
	"48": {kind: event.KindMessage, op: event.OpSend, shape: senderShape, fill: neteaseMessage},
	"49": {kind: event.KindNotification, op: event.OpSend, shape: senderShape, fill: neteaseNotification},

	"50": {kind: event.KindServer, op: event.OpCreate, shape: operatorShape},
	"51": {kind: event.KindServer, op: event.OpUpdate, shape: operatorShape},
	"52": {kind: event.KindServer, op: event.OpDelete, shape: operatorShape},

	"53": {kind: event.KindMember, op: event.OpInvite, shape: operatorShape, fill: withAccounts("inviteAccids", "msg")},
	"54": {kind: event.KindMember, op: event.OpAcceptInvite, shape: operatorShape, fill: answerInvite},
	"55": {kind: event.KindMember, op: event.OpRejectInvite, shape: operatorShape, fill: answerInvite},
	"56": {kind: event.KindMember, op: event.OpApply, shape: operatorShape, fill: withAccount("", "msg")},
	"57": {kind: event.KindMember, op: event.OpAcceptApply, shape: operatorShape, fill: withAccount("applyAccid", "")},
	"58": {kind: event.KindMember, op: event.OpRejectApply, shape: operatorShape, fill: withAccount("applyAccid", "msg")},
	"59": {kind: event.KindMember, op: event.OpLeave, shape: operatorShape},
	"60": {kind: event.KindMember, op: event.OpKick, shape: operatorShape, fill: withAccounts("kickAccids", "")},
	"61": {kind: event.KindMember, op: event.OpUpdateSelf, shape: operatorShape, fill: memberInfo},
	"62": {kind: event.KindMember, op: event.OpUpdateOther, shape: operatorShape, fill: memberInfo},

	"63": {kind: event.KindChannel, op: event.OpCreate, shape: operatorShape, fill: channelInfo},
	"64": {kind: event.KindChannel, op: event.OpDelete, shape: operatorShape},
	"65": {kind: event.KindChannel, op: event.OpUpdate, shape: operatorShape, fill: channelInfo},
	"66": {kind: event.KindChannel, shape: operatorShape, fill: channelList("roleid", "")},
	"67": {kind: event.KindChannel, shape: operatorShape, fill: channelList("", "targetAccidList")},

	"68": {kind: event.KindRole, op: event.OpCreate, shape: operatorShape, fill: serverRole},
	"69": {kind: event.KindRole, op: event.OpUpdate, shape: operatorShape, fill: serverRole},
	"70": {kind: event.KindRole, op: event.OpDelete, shape: operatorShape, fill: withRoles("roleids")},
	"71": {kind: event.KindRole, op: event.OpCreate, shape: operatorShape, fill: withRole("roleid")},
	"72": {kind: event.KindRole, op: event.OpUpdate, shape: operatorShape, fill: withRole("roleid")},
	"73": {kind: event.KindRole, op: event.OpDelete, shape: operatorShape, fill: withRoles("roleids")},

	"74": {kind: event.KindPermission, op: event.OpCreate, shape: operatorShape, fill: memberPermission},
	"75": {kind: event.KindPermission, op: event.OpDelete, shape: operatorShape, fill: withAccounts("accids", "")},
	"76": {kind: event.KindPermission, op: event.OpUpdate, shape: operatorShape, fill: memberPermission},

	"77": {kind: event.KindRole, op: event.OpAddMembers, shape: operatorShape, fill: roleMembers},
	"78": {kind: event.KindRole, op: event.OpRemoveMembers, shape: operatorShape, fill: roleMembers},
	"79": {kind: event.KindRole, op: event.OpUpdatePriority, shape: operatorShape, fill: rolePriority},

	"80": {kind: event.KindQuickComment, shape: senderShape, fill: neteaseQuickComment},
	"81": {kind: event.KindMessageUpdate, shape: senderShape, fill: neteaseUpdate},
	"82": {kind: event.KindNotifyUpdate, shape: senderShape, fill: neteaseUpdate},
}

// Netease turns one NetEase QChat copy body into a canonical event. Every eventType of the
// manual (47–82) is mapped; any other is ErrUnsupportedType. Numbers may arrive as strings and strings
// as numbers; lists and objects may arrive as JSON or as JSON inside a string; fields may be missing.
func Netease(app string, body []byte, receivedAt time.Time) (event.Event, error) {
	f, err := parseFields(body)
	if err != nil {
		return event.Event{}, err
	}
	e := newEvent(event.SourceNetease, app, f, receivedAt)
	et := f.str("eventType")
	e.PlatformType = et
	t, ok := neteaseTypes[et]
	if !ok {
		return event.Event{}, fmt.Errorf("%w: eventType %q", ErrUnsupportedType, clip(et))
	}
	if ms, ok, err := f.timeMs("time"); err != nil {
		return event.Event{}, err
	} else if ok {
		e.OccurredAtMs = ms
	}
	e.Kind, e.Op = t.kind, t.op
	t.shape(&e, f)
	if t.fill != nil {
		if err := t.fill(&e, f); err != nil {
			return event.Event{}, fmt.Errorf("eventType %s: %w", et, err)
		}
	}
	if e.EventID == "" {
		e.EventID = bodyID(&e, f, et)
	}
	return e, nil
}

// presenceShape: eventType 47 names the account and its connection without the "from" prefix.
func presenceShape(e *event.Event, f fields) {
	e.Actor = f.str("accid")
	e.ActorClientType = f.str("clientType")
	e.ActorDeviceID = f.str("deviceId")
	e.ActorIP = f.str("clientIp")
	e.ActorConnectionID = f.str("consid")
}

// senderShape: messages, notifications, quick comments and updates name the sender "from…".
func senderShape(e *event.Event, f fields) {
	e.Actor = f.str("fromAccount")
	e.ActorNick = f.str("fromNick")
	e.ActorClientType = f.str("fromClientType")
	e.ActorDeviceID = f.str("fromDeviceId")
	e.ActorIP = f.str("clientIp")
	e.Target.Server = f.str("serverId")
	e.Target.Channel = f.str("channelId")
}

// operatorShape: server, member, channel, role and permission events name the operator "accid".
func operatorShape(e *event.Event, f fields) {
	e.Actor = f.str("accid")
	e.ActorNick = f.str("fromNick")
	e.Target.Server = f.str("serverId")
	e.Target.Channel = f.str("channelId")
}

var neteasePresenceOps = map[string]string{
	"1": event.OpLogin, "2": event.OpLogout, "3": event.OpDropped, "4": event.OpKickedMultiDevice,
	"5": event.OpKickedBySDK, "6": event.OpKickedByServer, "7": event.OpReplaced, "8": event.OpHeartbeat,
}

// neteasePresence maps eventType 47. The online-state rule orders by "time", per account, so an event
// without its account or with a type of unknown meaning is not guessed at: it is dead-lettered.
func neteasePresence(e *event.Event, f fields) error {
	typ := f.str("type")
	op, ok := neteasePresenceOps[typ]
	if !ok {
		return fmt.Errorf("%w: login/logout type %q", ErrUnsupportedType, clip(typ))
	}
	if e.Actor == "" {
		return missing("accid")
	}
	e.Op, e.PlatformSubtype = op, typ
	return nil
}

func messageFields(e *event.Event, f fields) error {
	e.ClientMsgID = f.str("msgIdClient")
	e.MsgType = f.str("msgType")
	e.Body = f.str("body")
	if ts, ok, err := f.timeMs("msgTimestamp"); err != nil {
		return err
	} else if ok {
		e.MsgTimeMs = ts
	}
	if e.OccurredAtMs == 0 {
		e.OccurredAtMs = e.MsgTimeMs
	}
	return antispam(e, f)
}

func antispam(e *event.Event, f fields) error {
	v, _, err := f.boolean("antispam")
	if err != nil {
		return err
	}
	e.Antispam = v
	e.AntispamDetail = f.str("yidunRes")
	return nil
}

// neteaseMessage maps eventType 48, a QChat message, with the message it replies to and its thread's
// root (replyMsg…, threadMsg…). Its event_id is the platform's msgIdServer; without one, a hash of the
// canonical body.
func neteaseMessage(e *event.Event, f fields) error {
	if err := messageFields(e, f); err != nil {
		return err
	}
	var err error
	if e.Reply, err = msgRef(f, replyFields); err != nil {
		return err
	}
	if e.Thread, err = msgRef(f, threadFields); err != nil {
		return err
	}
	e.MsgID = f.str("msgIdServer")
	if e.MsgID != "" {
		e.EventID = event.ID(e.Source, e.App, "48", e.MsgID)
	}
	return nil
}

// refFields name the fields of another message in a 48: its server id, client id, sender and time.
type refFields struct{ id, clientID, from, time string }

var (
	replyFields  = refFields{"replyMsgIdServer", "replyMsgIdClient", "replyMsgFromAccount", "replyMsgTime"}
	threadFields = refFields{"threadMsgIdServer", "threadMsgIdClient", "threadMsgFromAccount", "threadMsgTime"}
)

// msgRef reads the message a 48 names by names (replyMsg…, threadMsg…). A time that is not an
// integer is ErrBadField.
func msgRef(f fields, names refFields) (event.MsgRef, error) {
	r := event.MsgRef{MsgID: f.str(names.id), ClientMsgID: f.str(names.clientID), From: f.str(names.from)}
	ms, ok, err := f.timeMs(names.time)
	if err != nil {
		return event.MsgRef{}, err
	}
	if ok {
		r.MsgTimeMs = ms
	}
	return r, nil
}

// neteaseNotification maps eventType 49, a custom system notification. The manual's example carries
// msgIdServer "0", which identifies nothing: then the event_id is the canonical body's.
func neteaseNotification(e *event.Event, f fields) error {
	if err := messageFields(e, f); err != nil {
		return err
	}
	e.PlatformSubtype = f.str("type")
	if id := f.str("msgIdServer"); id != "" && id != "0" {
		e.MsgID = id
		e.EventID = event.ID(e.Source, e.App, "49", id)
	}
	return nil
}

var quickCommentOps = map[string]string{"1": event.OpAdd, "2": event.OpRemove}

// neteaseQuickComment maps eventType 80: Actor added or removed a quick comment on the message MsgID,
// sent by Target.Account at MsgTimeMs.
func neteaseQuickComment(e *event.Event, f fields) error {
	ot := f.str("opeType")
	op, ok := quickCommentOps[ot]
	if !ok {
		return fmt.Errorf("%w: quick comment opeType %q", ErrUnsupportedType, clip(ot))
	}
	e.Op = op
	e.PlatformSubtype = f.str("type")
	e.MsgID = f.str("msgIdServer")
	e.ClientMsgID = f.str("msgIdClient")
	e.MsgType = f.str("msgType")
	e.Target.Account = f.str("msgSenderAccid")
	if ts, ok, err := f.timeMs("msgTime"); err != nil {
		return err
	} else if ok {
		e.MsgTimeMs = ts
	}
	return nil
}

// neteaseStatusOps reads the "status" of a message or notification update (81, 82). The copy manual
// does not list its values; these are QChat's message states (0 normal, 1 recalled, 2 deleted).
// Other values (QChat lets apps set their own, from 10000) are updates; PlatformSubtype keeps the code.
var neteaseStatusOps = map[string]string{"0": event.OpUpdate, "1": event.OpRecall, "2": event.OpDelete}

// neteaseUpdate maps eventTypes 81 and 82: the message or notification msgId changed. One message is
// updated many times, so the event_id is eventType, msgId and the update's time — the time as read
// (decimal Unix ms), not as spelled, so "1648815229304", 1648815229304 and "1648815229304.0" are one
// update.
func neteaseUpdate(e *event.Event, f fields) error {
	st := f.str("status")
	e.PlatformSubtype = st
	e.Op = event.OpUpdate
	if op, ok := neteaseStatusOps[st]; ok {
		e.Op = op
	}
	e.MsgID = f.str("msgId")
	e.Body = f.str("body")
	if err := antispam(e, f); err != nil {
		return err
	}
	if e.MsgID != "" {
		e.EventID = event.ID(e.Source, e.App, e.PlatformType, e.MsgID, updateTime(e, f))
	}
	return nil
}

// updateTime is the update's time in an event_id: its decimal Unix ms when the payload has a time
// (read into OccurredAtMs, which then is the time), "" when it has none.
func updateTime(e *event.Event, f fields) string {
	if !f.has("time") || strings.TrimSpace(f.str("time")) == "" {
		return ""
	}
	return strconv.FormatInt(e.OccurredAtMs, 10)
}

// answerInvite maps 54 and 55: Actor (accid, the invitee) accepted or rejected the invitation of
// inviteAccid, with a note ("msg", 55). The manual's examples show inviteAccid is the inviter: the 53
// copy has accid "yx" inviting into server 1492590, and the 55 copy of server 1492590 has accid
// "wmtest315" rejecting with inviteAccid "yx". The inviter is not acted upon, so it is Inviter, not
// Target.Account; the account whose membership changes is the Actor (as for 56 apply and 59 leave).
func answerInvite(e *event.Event, f fields) error {
	e.Inviter = f.str("inviteAccid")
	e.Body = f.str("msg")
	return nil
}

// memberInfo maps 61 and 62: member info of memberAccid changed; "type" is its member type (0
// ordinary, 1 owner) and "inviter" who invited it.
func memberInfo(e *event.Event, f fields) error {
	e.Target.Account = f.str("memberAccid")
	e.Target.MemberType = f.str("type")
	e.Inviter = f.str("inviter")
	return nil
}

// channelInfo maps 63 and 65: the channel's "type" (0 message channel, 100 custom) and "viewmode" (0
// public, 1 private), where sent.
func channelInfo(e *event.Event, f fields) error {
	e.Target.ChannelType = f.str("type")
	e.Target.ChannelViewMode = f.str("viewmode")
	return nil
}

// serverRole maps 68 and 69: server role roleid created or changed, with its priority ("@everyone 的
// 优先级为0,正数,数字越高优先级越高"), an integer sent as a number or a string.
func serverRole(e *event.Event, f fields) error {
	e.Target.Role = f.str("roleid")
	p, ok, err := f.int64("priority")
	if err != nil {
		return err
	}
	if ok && e.Target.Role != "" {
		e.Target.RolePriorities = map[string]int64{e.Target.Role: p}
	}
	return nil
}

// withAccount sets Target.Account from one account field, and Body from a note field ("msg").
func withAccount(account, note string) func(*event.Event, fields) error {
	return func(e *event.Event, f fields) error {
		if account != "" {
			e.Target.Account = f.str(account)
		}
		if note != "" {
			e.Body = f.str(note)
		}
		return nil
	}
}

// withAccounts sets Target.Accounts from a list field, and Body from a note field ("msg").
func withAccounts(accounts, note string) func(*event.Event, fields) error {
	return func(e *event.Event, f fields) error {
		l, err := f.list(accounts)
		if err != nil {
			return err
		}
		e.Target.Accounts = l
		if note != "" {
			e.Body = f.str(note)
		}
		return nil
	}
}

func withRole(role string) func(*event.Event, fields) error {
	return func(e *event.Event, f fields) error {
		e.Target.Role = f.str(role)
		return nil
	}
}

func withRoles(roles string) func(*event.Event, fields) error {
	return func(e *event.Event, f fields) error {
		l, err := f.list(roles)
		if err != nil {
			return err
		}
		e.Target.Roles = l
		return nil
	}
}

var channelListOps = map[string]string{"1": event.OpListAdd, "2": event.OpListRemove}

// channelList maps 66 and 67: a role or accounts added to ("opetype" 1) or removed from (2) a
// channel's white ("type" 1) or black (2) list.
func channelList(role, accounts string) func(*event.Event, fields) error {
	return func(e *event.Event, f fields) error {
		ot := f.str("opetype")
		op, ok := channelListOps[ot]
		if !ok {
			return fmt.Errorf("%w: channel list opetype %q", ErrUnsupportedType, clip(ot))
		}
		e.Op, e.PlatformSubtype = op, f.str("type")
		if role != "" {
			e.Target.Role = f.str(role)
		}
		if accounts != "" {
			l, err := f.list(accounts)
			if err != nil {
				return err
			}
			e.Target.Accounts = l
		}
		return nil
	}
}

// memberPermission maps 74 and 76: permissions of account identifyAccid in a channel (its member role
// identifyId); 76 also gives its member type ("type": 0 ordinary, 1 owner) and its inviter.
func memberPermission(e *event.Event, f fields) error {
	e.Target.Account = f.str("identifyAccid")
	e.Target.Role = f.str("identifyId")
	e.Target.MemberType = f.str("type")
	e.Inviter = f.str("inviter")
	return nil
}

// roleMembers maps 77 and 78: memberAccids put into or taken out of role roleid.
func roleMembers(e *event.Event, f fields) error {
	e.Target.Role = f.str("roleid")
	l, err := f.list("memberAccids")
	if err != nil {
		return err
	}
	e.Target.Accounts = l
	return nil
}

// rolePriority maps 79: roleIdPriority {"roleId": priority, …}, as an object or inside a string. The
// priorities go to Target.RolePriorities; the roles to Target.Roles in ascending numeric order ("9"
// before "10").
func rolePriority(e *event.Event, f fields) error {
	prio, err := f.intObject("roleIdPriority")
	if err != nil {
		return err
	}
	if len(prio) == 0 {
		return nil
	}
	roles := make([]string, 0, len(prio))
	for id := range prio {
		roles = append(roles, id)
	}
	sortIDs(roles)
	e.Target.Roles, e.Target.RolePriorities = roles, prio
	return nil
}
