// Package event defines the canonical event envelope that every platform callback is normalized into,
// and the deterministic event_id rules.
//
// An Event is what travels on the events topic as JSON (one record per event, SchemaVersion 2) and what
// the pipeline writes into ClickHouse. The envelope is versioned: a field is never renamed or given a new
// meaning within a version; new optional fields may be added (see Versions). Nothing the platform sent is dropped:
// fields that have a first-class place are copied there, and every top-level field of the payload is
// also kept verbatim in Attrs (strings as they are, other JSON values as their JSON text). The bytes
// exactly as received live on the raw topic; an event names them by RawKey and EventID.
//
// # Conventions, for every source
//
//   - Actor: the account that did it: the sender of a message, the account logging in or out, the
//     operator of a server, channel, member or role change. ActorClientType, ActorDeviceID, ActorIP and
//     ActorConnectionID (NetEase consid) describe its connection where the platform says.
//   - Target.Account: the account acted upon, or the recipient of a one-to-one message. Several
//     accounts (NetEase inviteAccids, kickAccids, accids…) stay in Attrs, verbatim, and are also
//     decoded into Target.Accounts (whether the platform sent an array or an array inside a string).
//     An account whose own membership changes by its own act (54 accept, 55 reject, 56 apply, 59 leave)
//     is the Actor, with no target.
//   - Inviter: the account whose invitation a membership event concerns (54, 55 inviteAccid) or that
//     invited the member concerned (61, 62, 76 inviter). It is never in Target: it is not acted upon.
//   - Reply, Thread: the message a message replies to and its thread's root (NetEase 48 replyMsg…,
//     threadMsg…), each by server id, client id, sender and send time, as far as sent.
//   - Target.MemberType (61, 62, 76 "type": 0 member, 1 owner), Target.ChannelType and ChannelViewMode
//     (63, 65 "type": 0 message, 100 custom; "viewmode": 0 public, 1 private) keep the platform's codes;
//     Target.RolePriorities maps role ids to the priorities an event gives them (79 roleIdPriority,
//     68 and 69 priority).
//   - Target.Server, Target.Channel: NetEase QChat server and channel. Target.Group: an iLink or Maxim
//     group, or an iLink topic. Target.Role, Target.Roles: NetEase QChat roles (身份组).
//   - Kind says what it is about (message, presence, member, …); Op says what happened, in one
//     platform-independent word (login, kick, create, recall…); PlatformType and PlatformSubtype keep the
//     platform's own codes.
//   - OccurredAtMs is the platform's time of the event in Unix ms (NetEase "time"; iLink seconds × 1000);
//     the online-state rule orders presence events by it. MsgTimeMs is when a message was sent. 0 means
//     the platform sent no time; it is never replaced by the arrival time (ReceivedAtMs says that),
//     since a redelivery must normalize to the same event and presence must not be ordered by arrival.
//     A status copy without its time (a NetEase 47 or an iLink §4.3 push) is kept with 0, the same rule
//     on both platforms: the online-state rule then orders it before every timed event of its
//     connection or account, so it sets a state only where none is known and never overrides one. A
//     time that is present but not a number is dead-lettered, not guessed at.
//   - MsgID is the platform's server-side message id (NetEase msgIdServer or msgId, Maxim msgId, iLink
//     msg_id); for message_update it is the id of the message that changed. Body is the text,
//     Base64-decoded where the platform encodes it (the original stays in Attrs).
//   - Antispam / AntispamDetail: the platform's content-safety flag and its raw verdict.
//
// # event_id, per source and type
//
// event_id = ID(source, app, parts…): the same delivery gives the same id on every run, replica and
// replay, so a platform retry is recognised (ingest drops it within its dedupe window) and folds into
// one row downstream. The parts are the platform's own identity of the event where it gives one,
// otherwise "body" and the payload re-encoded canonically (keys sorted, insignificant white space
// removed; values exactly as sent):
//
//	netease_qchat 48 message              "48", msgIdServer
//	netease_qchat 49 notification         "49", msgIdServer, when present and not "0" (the manual's example
//	                                      sends "0"); otherwise the canonical body
//	netease_qchat 81, 82 updates          eventType, msgId, time as read: its decimal Unix ms, so "…304",
//	                                      …304 and "…304.0" are one update (one message is updated many
//	                                      times; the update's time tells the updates apart)
//	netease_qchat 47, 50–80, and 48/49/81/82 missing their id
//	                                      eventType, "body", canonical body (these copies carry no id of
//	                                      their own; "time" and "consid" inside the body keep events apart)
//	ilink (every msg_type)                "msg", msg_id when the payload has one; otherwise msg_type, "body",
//	                                      canonical body (see "iLink identity" below)
//	maxim CHAT, GROUPCHAT                 "msg", msgId
//	maxim REPLACE, APPEND, other types    type, msgId, "body", canonical body (they name an existing
//	                                      message, which may be replaced or appended to many times)
//
// # iLink identity
//
// The iLink manual (000) gives a push no id of its own: its tables list from_uid, to_uid (or group_id),
// msg_type, create_time "消息创建时间 (整型,精确到秒)" — to the second — and content, nothing else
// (§4.1–4.4). And it resends a push it got no answer to: "HTTP/HTTPS 推送服务器在五秒内收不到响应会断掉
// 连接,并且重新发起请求,总共重试三次" (§2.1: no answer within five seconds, it drops the connection and
// sends the request again, three times in all). A resend is the same JSON; so is a second message with
// the same sender, recipient, text and second. Nothing the platform sends tells them apart, so the push
// itself is the identity: a resend is recognised as one (nothing doubled), and two identical messages
// in one second are one event. We take this reading because resends are the platform's documented
// behaviour, while a second identical message in the same second is indistinguishable by anything it
// sends; counting every delivery as a message would double each resend. to_uid is part of the push:
// should the platform copy a group message to each recipient UID (§4.2's table has to_uid, its example
// does not), each copy is one event, that UID's receipt of the message. A msg_id, were a platform to
// send one, is used instead.
//
// # Versions
//
//   - 1: the first envelope.
//   - 2: reply, thread, inviter and target.role_priorities, member_type, channel_type,
//     channel_view_mode added; the NetEase 54/55 inviter (inviteAccid) moved from target.account,
//     where version 1 put it, to inviter (target.account and target.accounts are the accounts acted
//     upon, and the inviter is not); 79's roles sorted as numbers ("9" before "10"), not as text; the
//     81/82 event_id takes the time as read (identical for every time sent as a plain integer, which
//     is every example of the manual). A version 1 event read by a version 2 consumer is upgraded
//     (normalize.Upgrade) before it is written, its event_id unchanged.
//
// A consumer writes the versions up to its own and dead-letters a newer one: upgrade the consumers
// before serve.
//
// A body that cannot be normalized has no event_id; its raw record is keyed by ID(source, app, "raw",
// body bytes), which is also what ingest dedupes it by.
//
// # Schema
//
// The envelope's JSON Schema is schema/v2.json (embedded as JSONSchema; schema/v1.json is version 1's);
// a test keeps it in step with the Event type.
//
// # Kafka key
//
// Key orders events that must stay in order: the account for presence (the online-state rule), the
// channel, group or conversation for messages and their updates.
package event
