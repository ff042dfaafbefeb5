package pipeline

import (
	"sort"
	"time"

	"github.com/imarchive/imarchive/event"
)

// table is one storage table the events consumer writes, and how an event becomes one of its rows.
// Analysts read the view of the same data (each event once, with FINAL); see schema/.
type table struct {
	name    string // storage table (schema/NNNN_*.sql)
	view    string // the view analysts read
	columns []string
	row     func(it *Item[EventRow]) []any
}

// Tables, by the kinds they hold.
var (
	messagesTable = &table{
		name: "messages_data", view: "messages",
		columns: []string{"event_id", "source", "app", "platform_type", "platform_subtype", "op", "conversation", "msg_time",
			"occurred_at", "received_at", "sender", "sender_nick", "sender_client_type", "sender_device_id", "sender_ip",
			"server_id", "channel_id", "group_id", "to_account", "msg_id", "client_msg_id", "msg_type", "body",
			"antispam", "antispam_detail", "reply_to_msg_id", "reply_to_client_msg_id", "reply_to_sender", "reply_to_msg_time",
			"thread_msg_id", "thread_client_msg_id", "thread_sender", "thread_msg_time", "attrs", "kafka_partition", "kafka_offset"},
		row: func(it *Item[EventRow]) []any {
			e := &it.Row.Event
			return []any{e.EventID, e.Source, e.App, e.PlatformType, e.PlatformSubtype, e.Op, Conversation(e), ms(msgTime(e)),
				ms(e.OccurredAtMs), ms(e.ReceivedAtMs), e.Actor, e.ActorNick, e.ActorClientType, e.ActorDeviceID, e.ActorIP,
				e.Target.Server, e.Target.Channel, e.Target.Group, e.Target.Account, e.MsgID, e.ClientMsgID, e.MsgType, e.Body,
				e.Antispam, e.AntispamDetail, e.Reply.MsgID, e.Reply.ClientMsgID, e.Reply.From, ms(e.Reply.MsgTimeMs),
				e.Thread.MsgID, e.Thread.ClientMsgID, e.Thread.From, ms(e.Thread.MsgTimeMs), nonNil(e.Attrs), it.Partition, it.Offset}
		},
	}
	messageUpdatesTable = &table{
		name: "message_updates_data", view: "message_updates",
		columns: []string{"event_id", "source", "app", "op", "platform_type", "platform_subtype", "occurred_at", "received_at",
			"actor", "actor_client_type", "actor_ip", "server_id", "channel_id", "msg_id", "body", "antispam",
			"antispam_detail", "attrs", "kafka_partition", "kafka_offset"},
		row: func(it *Item[EventRow]) []any {
			e := &it.Row.Event
			return []any{e.EventID, e.Source, e.App, e.Op, e.PlatformType, e.PlatformSubtype, ms(e.OccurredAtMs), ms(e.ReceivedAtMs),
				e.Actor, e.ActorClientType, e.ActorIP, e.Target.Server, e.Target.Channel, e.MsgID, e.Body, e.Antispam,
				e.AntispamDetail, nonNil(e.Attrs), it.Partition, it.Offset}
		},
	}
	notificationsTable = &table{
		name: "notifications_data", view: "notifications",
		columns: []string{"event_id", "source", "app", "kind", "op", "platform_type", "platform_subtype", "occurred_at", "msg_time",
			"received_at", "sender", "sender_nick", "sender_client_type", "sender_device_id", "sender_ip", "server_id",
			"channel_id", "to_account", "msg_id", "client_msg_id", "body", "attrs", "kafka_partition", "kafka_offset"},
		row: func(it *Item[EventRow]) []any {
			e := &it.Row.Event
			return []any{e.EventID, e.Source, e.App, e.Kind, e.Op, e.PlatformType, e.PlatformSubtype, ms(e.OccurredAtMs), ms(msgTime(e)),
				ms(e.ReceivedAtMs), e.Actor, e.ActorNick, e.ActorClientType, e.ActorDeviceID, e.ActorIP, e.Target.Server,
				e.Target.Channel, e.Target.Account, e.MsgID, e.ClientMsgID, e.Body, nonNil(e.Attrs), it.Partition, it.Offset}
		},
	}
	presenceTable = &table{
		name: "presence_events_data", view: "presence_events",
		columns: []string{"event_id", "source", "app", "account", "op", "online", "reason", "stale", "platform_type",
			"platform_subtype", "occurred_at", "received_at", "device_id", "client_type", "client_ip", "expires_at", "attrs",
			"kafka_partition", "kafka_offset", "connection", "connection_id", "arrival", "since", "login_time",
			"client_port", "sdk_version"},
		row: func(it *Item[EventRow]) []any {
			e := &it.Row.Event
			v := &it.Row.presence
			online, _ := e.PresenceOnline()
			reason := ""
			if !online {
				reason = e.Op
			}
			return []any{e.EventID, e.Source, e.App, e.Actor, e.Op, online, reason, v.Stale, e.PlatformType,
				e.PlatformSubtype, ms(e.OccurredAtMs), ms(e.ReceivedAtMs), e.ActorDeviceID, e.ActorClientType, e.ActorIP,
				ms(it.Row.expiresAtMs), nonNil(e.Attrs), it.Partition, it.Offset, connectionKey(e), connectionID(e), v.Arrival,
				ms(v.SinceMs), ms(loginTimeMs(e)), e.Attrs["clientPort"], e.Attrs["sdkVersion"]}
		},
	}
	communityTable = &table{
		name: "community_events_data", view: "community_events",
		columns: []string{"event_id", "source", "app", "kind", "op", "platform_type", "platform_subtype", "occurred_at",
			"received_at", "actor", "actor_nick", "actor_client_type", "actor_ip", "server_id", "channel_id", "target_account",
			"accounts", "role_id", "role_ids", "name", "inviter", "member_type", "channel_type", "channel_view_mode",
			"role_priorities", "attrs", "kafka_partition", "kafka_offset"},
		row: func(it *Item[EventRow]) []any {
			e := &it.Row.Event
			return []any{e.EventID, e.Source, e.App, e.Kind, e.Op, e.PlatformType, e.PlatformSubtype, ms(e.OccurredAtMs),
				ms(e.ReceivedAtMs), e.Actor, e.ActorNick, e.ActorClientType, e.ActorIP, e.Target.Server, e.Target.Channel,
				e.Target.Account, communityAccounts(e), e.Target.Role, nonNilList(e.Target.Roles), e.Attrs["name"], e.Inviter,
				e.Target.MemberType, e.Target.ChannelType, e.Target.ChannelViewMode, nonNilInts(e.Target.RolePriorities),
				nonNil(e.Attrs), it.Partition, it.Offset}
		},
	}
	quickCommentsTable = &table{
		name: "quick_comments_data", view: "quick_comments",
		columns: []string{"event_id", "source", "app", "op", "platform_type", "platform_subtype", "occurred_at", "received_at",
			"actor", "actor_nick", "actor_client_type", "actor_device_id", "actor_ip", "server_id", "channel_id", "msg_id",
			"msg_sender", "msg_time", "comment_type", "attrs", "kafka_partition", "kafka_offset"},
		row: func(it *Item[EventRow]) []any {
			e := &it.Row.Event
			return []any{e.EventID, e.Source, e.App, e.Op, e.PlatformType, e.PlatformSubtype, ms(e.OccurredAtMs), ms(e.ReceivedAtMs),
				e.Actor, e.ActorNick, e.ActorClientType, e.ActorDeviceID, e.ActorIP, e.Target.Server, e.Target.Channel, e.MsgID,
				e.Target.Account, ms(e.MsgTimeMs), e.Attrs["quickCommentType"], nonNil(e.Attrs), it.Partition, it.Offset}
		},
	}

	// tableOrder is the order a batch's tables are written in.
	tableOrder = []*table{messagesTable, messageUpdatesTable, notificationsTable, presenceTable, communityTable, quickCommentsTable}

	byKind = map[string]*table{
		event.KindMessage:       messagesTable,
		event.KindMessageUpdate: messageUpdatesTable,
		event.KindNotification:  notificationsTable,
		event.KindNotifyUpdate:  notificationsTable,
		event.KindPresence:      presenceTable,
		event.KindServer:        communityTable,
		event.KindMember:        communityTable,
		event.KindChannel:       communityTable,
		event.KindRole:          communityTable,
		event.KindPermission:    communityTable,
		event.KindQuickComment:  quickCommentsTable,
	}
)

// TableFor names the storage table and the analysts' view that hold events of a kind; ok is false for
// a kind with no table (such events are dead-lettered with ErrNoTable).
func TableFor(kind string) (storage, view string, ok bool) {
	t, ok := byKind[kind]
	if !ok {
		return "", "", false
	}
	return t.name, t.view, true
}

// Kinds lists every kind that has a table, sorted.
func Kinds() []string {
	out := make([]string, 0, len(byKind))
	for k := range byKind {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Conversation names where a message was said, the messages table's conversation column:
// channel:SERVER/CHANNEL, group:GROUP, conv:A/B for a one-to-one conversation (the two accounts in
// byte order, so both directions share it), server:SERVER, else account:SENDER. Migration 0003 computes
// the same for the rows it copies; the two must not diverge (the column is part of the table's key).
func Conversation(e *event.Event) string {
	switch {
	case e.Target.Channel != "":
		return "channel:" + e.Target.Server + "/" + e.Target.Channel
	case e.Target.Group != "":
		return "group:" + e.Target.Group
	case e.Target.Account != "" && e.Actor != "":
		a, b := e.Actor, e.Target.Account
		if b < a {
			a, b = b, a
		}
		return "conv:" + a + "/" + b
	case e.Target.Server != "":
		return "server:" + e.Target.Server
	default:
		return "account:" + e.Actor
	}
}

// msgTime is when a message was sent: MsgTimeMs, or the event's time when the platform gives none.
func msgTime(e *event.Event) int64 {
	if e.MsgTimeMs != 0 {
		return e.MsgTimeMs
	}
	return e.OccurredAtMs
}

// communityAccounts is every account a community event acts upon: Target.Account, then
// Target.Accounts (the platform's lists, decoded by package normalize), each once, in order.
func communityAccounts(e *event.Event) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, a := range append([]string{e.Target.Account}, e.Target.Accounts...) {
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

func nonNilList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func nonNilInts(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
