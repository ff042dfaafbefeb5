// Package event defines the canonical event envelope that every platform callback is normalized into,
// and the deterministic event_id rules.
//
// An Event is what travels on the events topic as JSON (one record per event, SchemaVersion 1) and what
// the pipeline writes into ClickHouse. The envelope is versioned: a field is never renamed or given a new
// meaning within a version; new optional fields may be added. Nothing the platform sent is dropped:
// fields that have a first-class place are copied there, and every top-level field of the payload is
// also kept verbatim in Attrs (strings as they are, other JSON values as their JSON text). The bytes
// exactly as received live on the raw topic; an event names them by RawKey and EventID.
//
// # Conventions, for every source
//
//   - Actor: the account that did it: the sender of a message, the account logging in or out, the
//     operator of a server, channel, member or role change. ActorClientType, ActorDeviceID, ActorIP
//     describe its connection where the platform says.
//   - Target.Account: the account acted upon, or the recipient of a one-to-one message. Several
//     accounts (NetEase inviteAccids, kickAccids, accids…) stay in Attrs, verbatim.
//   - Target.Server, Target.Channel: NetEase QChat server and channel. Target.Group: an iLink or Maxim
//     group, or an iLink topic.
//   - Kind says what it is about (message, presence, member, …); Op says what happened, in one
//     platform-independent word (login, kick, create, recall…); PlatformType and PlatformSubtype keep the
//     platform's own codes.
//   - OccurredAtMs is the platform's time of the event in Unix ms (NetEase "time"; iLink seconds × 1000);
//     the online-state rule orders presence events by it. MsgTimeMs is when a message was sent.
//   - MsgID is the platform's server-side message id (NetEase msgIdServer or msgId, Maxim msgId, iLink
//     msg_id); for message_update it is the id of the message that changed. Body is the text,
//     Base64-decoded where the platform encodes it (the original stays in Attrs).
//   - Antispam / AntispamDetail: the platform's content-safety flag and its raw verdict.
//
// # Kafka key
//
// Key orders events that must stay in order: the account for presence (the online-state rule), the
// channel, group or conversation for messages and their updates.
package event
