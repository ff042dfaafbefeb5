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
//     operator of a server, channel, member or role change. ActorClientType, ActorDeviceID, ActorIP and
//     ActorConnectionID (NetEase consid) describe its connection where the platform says.
//   - Target.Account: the account acted upon, or the recipient of a one-to-one message. Several
//     accounts (NetEase inviteAccids, kickAccids, accids…) stay in Attrs, verbatim, and are also
//     decoded into Target.Accounts (whether the platform sent an array or an array inside a string).
//   - Target.Server, Target.Channel: NetEase QChat server and channel. Target.Group: an iLink or Maxim
//     group, or an iLink topic. Target.Role, Target.Roles: NetEase QChat roles (身份组).
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
//	netease_qchat 81, 82 updates          eventType, msgId, time (one message is updated many times; the
//	                                      update's time tells the updates apart)
//	netease_qchat 47, 50–80, and 48/49/81/82 missing their id
//	                                      eventType, "body", canonical body (these copies carry no id of
//	                                      their own; "time" and "consid" inside the body keep events apart)
//	ilink (every msg_type)                "msg", msg_id when the payload has one; otherwise msg_type, "body",
//	                                      canonical body. The manual's payloads carry no id, so two
//	                                      byte-identical pushes within the same second (same sender,
//	                                      recipient, content and create_time) are one event: there is no way
//	                                      to tell them from a retry.
//	maxim CHAT, GROUPCHAT                 "msg", msgId
//	maxim REPLACE, APPEND, other types    type, msgId, "body", canonical body (they name an existing
//	                                      message, which may be replaced or appended to many times)
//
// A body that cannot be normalized has no event_id; its raw record is keyed by ID(source, app, "raw",
// body bytes), which is also what ingest dedupes it by.
//
// # Schema
//
// The envelope's JSON Schema is schema/v1.json (embedded as JSONSchema); a test keeps it in step with
// the Event type.
//
// # Kafka key
//
// Key orders events that must stay in order: the account for presence (the online-state rule), the
// channel, group or conversation for messages and their updates.
package event
