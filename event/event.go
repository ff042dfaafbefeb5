package event

import (
	"crypto/sha256"
	"encoding/hex"
)

// SchemaVersion is the version of the envelope written by this build. Version 2 (doc.go, "Versions")
// added reply, thread, inviter and the target's member type, channel type and view mode and role
// priorities, and moved the NetEase 54/55 inviter out of target.account.
const SchemaVersion = 2

// Sources: the platform an event came from.
const (
	SourceNetease = "netease_qchat"
	SourceILink   = "ilink"
	SourceMaxim   = "maxim"
)

// Kinds of event, across platforms.
const (
	KindMessage       = "message"
	KindMessageUpdate = "message_update"
	KindNotification  = "notification"
	KindNotifyUpdate  = "notification_update"
	KindPresence      = "presence"
	KindServer        = "server"
	KindMember        = "member"
	KindChannel       = "channel"
	KindRole          = "role"
	KindPermission    = "permission"
	KindQuickComment  = "quick_comment"
	KindUnknown       = "unknown"
)

// Presence ops (kind presence). Online: OpLogin, OpHeartbeat and, for iLink, OpOnline; every other
// presence op means offline — for the connection the copy is about (ActorConnectionID, else the device,
// else the account), not for the account: see the online-state rule in pipeline/doc.go.
const (
	OpLogin             = "login"               // NetEase 47 type 1
	OpLogout            = "logout"              // NetEase 47 type 2
	OpDropped           = "dropped"             // NetEase 47 type 3: connection lost
	OpKickedMultiDevice = "kicked_multi_device" // NetEase 47 type 4: multi-device login policy
	OpKickedBySDK       = "kicked_by_sdk"       // NetEase 47 type 5: another end of the same user kicked it
	OpKickedByServer    = "kicked_by_server"    // NetEase 47 type 6
	OpReplaced          = "replaced"            // NetEase 47 type 7: the old connection closed because the client reconnected (closes that connection only)
	OpHeartbeat         = "heartbeat"           // NetEase 47 type 8: renewal every 30 minutes
	OpOnline            = "online"              // iLink status type 1
	OpOffline           = "offline"             // iLink status type 0
)

// Message update ops (kinds message_update, notification_update). OpUpdate and OpDelete are also the
// update and deletion of a server, channel, role or permission, beside OpCreate.
const (
	OpUpdate = "update"
	OpRecall = "recall"
	OpDelete = "delete"
)

// Message ops (kinds message, notification, message_update).
const (
	OpSend   = "send"   // a message or notification sent: NetEase 48, 49; iLink; Maxim CHAT, GROUPCHAT
	OpAppend = "append" // Maxim APPEND: content appended to an existing message (kind message_update)
)

// Lifecycle ops of servers, channels, roles and permissions (kinds server, channel, role, permission),
// beside OpUpdate and OpDelete.
const (
	OpCreate = "create" // NetEase 50, 63, 68, 71, 74
)

// Membership ops (kind member): NetEase 53–62.
const (
	OpInvite       = "invite"        // 53: Actor invited Target.Accounts
	OpAcceptInvite = "accept_invite" // 54: Actor accepted the invitation of Target.Account
	OpRejectInvite = "reject_invite" // 55: Actor rejected the invitation of Target.Account
	OpApply        = "apply"         // 56: Actor applied to join
	OpAcceptApply  = "accept_apply"  // 57: Actor accepted the application of Target.Account
	OpRejectApply  = "reject_apply"  // 58: Actor rejected the application of Target.Account
	OpLeave        = "leave"         // 59: Actor left
	OpKick         = "kick"          // 60: Actor kicked Target.Accounts
	OpUpdateSelf   = "update_self"   // 61: Actor changed its own member info
	OpUpdateOther  = "update_other"  // 62: Actor changed Target.Account's member info
)

// Channel access-list ops (kind channel, NetEase 66 and 67 "opetype"): a role (Target.Role) or accounts
// (Target.Accounts) added to or removed from a channel's white or black list (PlatformSubtype "1" white,
// "2" black).
const (
	OpListAdd    = "list_add"
	OpListRemove = "list_remove"
)

// Role ops (kind role) beside create, update and delete: NetEase 77–79.
const (
	OpAddMembers     = "add_members"     // 77: Target.Accounts put into role Target.Role
	OpRemoveMembers  = "remove_members"  // 78: Target.Accounts taken out of role Target.Role
	OpUpdatePriority = "update_priority" // 79: priorities of Target.Roles changed
)

// Quick-comment ops (kind quick_comment, NetEase 80 "opeType").
const (
	OpAdd    = "add"
	OpRemove = "remove"
)

// PresenceOnline says whether a presence event means online; ok is false for an event that is not a
// presence event with a known op.
func (e *Event) PresenceOnline() (online, ok bool) {
	if e.Kind != KindPresence {
		return false, false
	}
	switch e.Op {
	case OpLogin, OpHeartbeat, OpOnline:
		return true, true
	case OpLogout, OpDropped, OpKickedMultiDevice, OpKickedBySDK, OpKickedByServer, OpReplaced, OpOffline:
		return false, true
	}
	return false, false
}

// Event is the canonical envelope. Field names are the JSON names on the events topic and, as far as
// they go, the column names in ClickHouse.
type Event struct {
	SchemaVersion int    `json:"schema_version"`
	EventID       string `json:"event_id"`
	Source        string `json:"source"`
	App           string `json:"app"`
	Kind          string `json:"kind"`
	// PlatformType is the platform's own code for the event: NetEase eventType ("48"), iLink msg_type, Maxim type.
	PlatformType string `json:"platform_type"`
	// PlatformSubtype refines PlatformType where the platform does (NetEase 47 "type", NetEase 81/82
	// "status", iLink status "type", Maxim "type").
	PlatformSubtype string `json:"platform_subtype,omitempty"`
	// Op is the canonical action within the kind, platform-independent (see the Op constants and
	// doc.go): "login", "create", "kick", "recall", …
	Op           string `json:"op,omitempty"`
	OccurredAtMs int64  `json:"occurred_at_ms"`
	ReceivedAtMs int64  `json:"received_at_ms"`

	Actor           string `json:"actor,omitempty"`
	ActorNick       string `json:"actor_nick,omitempty"`
	ActorClientType string `json:"actor_client_type,omitempty"`
	ActorDeviceID   string `json:"actor_device_id,omitempty"`
	ActorIP         string `json:"actor_ip,omitempty"`
	// ActorConnectionID is the platform's id of the actor's long connection (NetEase 47 "consid",
	// 长连接唯一标识): the online-state rule keeps a timestamp per connection.
	ActorConnectionID string `json:"actor_connection_id,omitempty"`

	MsgID       string `json:"msg_id,omitempty"`        // the platform's server-side message id
	ClientMsgID string `json:"client_msg_id,omitempty"` // the client-generated message id
	MsgType     string `json:"msg_type,omitempty"`      // TEXT, IMAGE, …
	MsgTimeMs   int64  `json:"msg_time_ms,omitempty"`   // when the message was sent, where the platform says

	// Reply is the message this one answers and Thread the root message of the thread it belongs to
	// (NetEase 48 replyMsg…, threadMsg…); absent when the platform names none. (v2)
	Reply  MsgRef `json:"reply,omitzero"`
	Thread MsgRef `json:"thread,omitzero"`

	// Inviter is the account whose invitation a membership event concerns: the inviter an invitee
	// accepted or rejected (NetEase 54, 55 inviteAccid), or the one who invited the member concerned
	// (61, 62, 76 inviter). It is not an account acted upon: Target leaves it out. (v2)
	Inviter string `json:"inviter,omitempty"`

	Target Target `json:"target"`
	Body   string `json:"body,omitempty"`

	// Antispam is true when the platform flagged the content (NetEase "antispam"); AntispamDetail is the
	// platform's raw verdict (NetEase "yidunRes"), as received.
	Antispam       bool   `json:"antispam,omitempty"`
	AntispamDetail string `json:"antispam_detail,omitempty"`

	// Attrs holds every top-level field of the platform payload, verbatim: strings as they are,
	// any other JSON value as its JSON text.
	Attrs map[string]string `json:"attrs"`

	// RawKey names the raw record this event was normalized from (the raw topic's record key).
	RawKey string `json:"raw_key,omitempty"`

	// BodyAttr exists only on the events topic (Marshal, Unmarshal): the name of the attribute whose
	// value is Body, left out of Attrs there so that the body is not carried twice. In memory it is
	// empty and Attrs is whole.
	BodyAttr string `json:"body_attr,omitempty"`
}

// Target is whom or where an event is addressed.
type Target struct {
	Account string `json:"account,omitempty"`
	Group   string `json:"group,omitempty"`
	Server  string `json:"server,omitempty"`
	Channel string `json:"channel,omitempty"`
	// Role is the NetEase QChat role (身份组) acted upon or concerned (roleid, identifyId).
	Role string `json:"role,omitempty"`
	// Accounts are the several accounts an event acts upon (NetEase inviteAccids, kickAccids,
	// targetAccidList, accids, memberAccids), decoded whether the platform sent a JSON array or an array
	// inside a string, numbers as their decimal text. The field stays verbatim in Attrs too.
	Accounts []string `json:"accounts,omitempty"`
	// Roles are the several roles an event concerns (NetEase roleids as sent; the roles of
	// roleIdPriority in ascending numeric order), decoded like Accounts.
	Roles []string `json:"roles,omitempty"`
	// RolePriorities is the priority each role gets (NetEase 79 roleIdPriority; 68, 69 priority of
	// Role); higher is stronger, @everyone is 0. (v2)
	RolePriorities map[string]int64 `json:"role_priorities,omitempty"`
	// MemberType is Account's type in the QChat server (NetEase 61, 62, 76 "type"): "0" an ordinary
	// member, "1" the owner, as the platform sent it. (v2)
	MemberType string `json:"member_type,omitempty"`
	// ChannelType and ChannelViewMode describe Channel as created or changed (NetEase 63, 65 "type":
	// "0" message channel, "100" custom; "viewmode": "0" public, "1" private), as sent. (v2)
	ChannelType     string `json:"channel_type,omitempty"`
	ChannelViewMode string `json:"channel_view_mode,omitempty"`
}

// MsgRef names another message: the one replied to, or a thread's root. (v2)
type MsgRef struct {
	MsgID       string `json:"msg_id,omitempty"`        // its server-side id (NetEase replyMsgIdServer, threadMsgIdServer)
	ClientMsgID string `json:"client_msg_id,omitempty"` // its client-generated id (replyMsgIdClient, threadMsgIdClient)
	From        string `json:"from,omitempty"`          // its sender (replyMsgFromAccount, threadMsgFromAccount)
	MsgTimeMs   int64  `json:"msg_time_ms,omitempty"`   // when it was sent, Unix ms (replyMsgTime, threadMsgTime)
}

// IsZero reports whether the reference names nothing.
func (r MsgRef) IsZero() bool { return r == MsgRef{} }

// ID derives a deterministic event_id from the source, the app and the platform's own identity of the
// event (parts). The same inputs give the same id on every run and every replica; it is the hex SHA-256
// of the parts joined with a unit separator, truncated to 32 hex digits (128 bits).
func ID(source, app string, parts ...string) string {
	var buf [256]byte // the parts of most ids fit: hashed without an allocation
	b := append(buf[:0], source...)
	b = append(b, 0x1f)
	b = append(b, app...)
	for _, p := range parts {
		b = append(b, 0x1f)
		b = append(b, p...)
	}
	sum := sha256.Sum256(b)
	var out [32]byte
	hex.Encode(out[:], sum[:16])
	return string(out[:])
}

// Key is the Kafka record key that orders the event: the conversation for messages (so one channel or
// conversation stays in order on one partition) and the account for presence.
func (e *Event) Key() string { return string(e.AppendKey(make([]byte, 0, 64))) }

// AppendKey appends Key to b.
func (e *Event) AppendKey(b []byte) []byte {
	b = append(b, e.Source...)
	b = append(b, '/')
	b = append(b, e.App...)
	b = append(b, '/')
	switch {
	case e.Kind == KindPresence:
		b = append(b, "account:"...)
		b = append(b, e.Actor...)
	case e.Target.Channel != "":
		b = append(b, "channel:"...)
		b = append(b, e.Target.Server...)
		b = append(b, '/')
		b = append(b, e.Target.Channel...)
	case e.Target.Group != "":
		b = append(b, "group:"...)
		b = append(b, e.Target.Group...)
	case e.Target.Server != "":
		b = append(b, "server:"...)
		b = append(b, e.Target.Server...)
	case e.Target.Account != "" && e.Actor != "":
		// A one-to-one conversation: both directions on one key, in a fixed order.
		a, c := e.Actor, e.Target.Account
		if c < a {
			a, c = c, a
		}
		b = append(b, "conv:"...)
		b = append(b, a...)
		b = append(b, '/')
		b = append(b, c...)
	default:
		b = append(b, "account:"...)
		b = append(b, e.Actor...)
	}
	return b
}
