// Package normalize turns one authentic platform callback body into one canonical event (package
// event): NetEase QChat copy events (Netease), ET-iLink pushes (ILink) and Maxim message subscriptions
// (Maxim). It is its own stage of the data path, used by serve (package ingest) on every callback and
// by replay (package pipeline) to rebuild the events topic from the raw topic with this build's rules;
// Upgrade brings events of an older envelope version up to this one.
//
// A normalizer never looks at HTTP, Kafka or the clock: the same body and arrival time always give the
// same event, event_id included, so a platform's retry and a replay fold into the event already made.
// A body it cannot turn into an event gives an error for which IsError is true (ErrNotObject,
// ErrUnsupportedType, ErrBadField, ErrMissingField): the receiver keeps it raw and dead-letters it with
// that reason.
//
// testdata/ holds the manuals' examples and their golden events (go test ./normalize -update rewrites
// the events; review the diff).
//
// # Readings of the manuals
//
// Where a manual contradicts itself or is silent, the normalizers take what the platform really
// sends; these are the readings taken, and why. (The readings of signatures are package ingest's.)
//
//   - iLink msg_type 4. §4.3 (user status) and §4.4 (topic message) share msg_type 4. They are told
//     apart by their fields: a body with content or group_id is a topic message (kind message,
//     Target.Group = the topic); otherwise, with type (1 online, 0 offline), a status change of
//     from_uid (kind presence). Both come only for what the UID subscribed to: users with ham_user
//     (§5.11, "订阅用户的上下线状态"), topics with ham_topic (§5.13): imarchive ilink subscribe. A
//     status with another type is dead-lettered. A status without time is kept with occurred_at 0, as a
//     NetEase 47 without time is: one rule for both, which loses nothing (package event, "OccurredAtMs");
//     a time that is not a number is dead-lettered.
//   - iLink identity: the pushes carry no id, create_time is "精确到秒", and the platform resends an
//     unanswered push (§2.1): the push itself is the event's identity (package event, "iLink identity").
//   - iLink §4.2's example sends msg_type 1 with a group_id, while its table says group messages are
//     msg_type 3: any of msg_type 1–3 with a group_id is a message to that group (PlatformType keeps
//     what was sent).
//   - iLink §4.3's example key " time" (with a space) is a conversion artefact; keys are matched
//     exactly first and then with surrounding white space removed, and attrs keep the key as sent.
//   - Time as string or number. Every integer field (NetEase time, msgTimestamp, msgTime; iLink
//     create_time, time; Maxim timestamp) is read from a JSON number or a string, and "123.0" is 123.
//     iLink times are seconds; a value over 10^11 is taken to be milliseconds already.
//   - iLink content is Base64: standard, padded or not; URL-safe and line breaks are accepted too.
//     Body is the decoded text (invalid UTF-8 replaced by U+FFFD: file contents may be bytes) and
//     attrs keep the original.
//   - NetEase lists (inviteAccids, kickAccids, targetAccidList, accids, memberAccids, roleids) arrive
//     as JSON arrays in some examples and as arrays inside strings in others, with numbers or strings
//     as elements: all are decoded into Target.Accounts / Target.Roles as text; a plain string that is
//     not an array is one element. roleIdPriority likewise, object or string, gives Target.Roles and
//     Target.RolePriorities.
//     auths, pushPayload and yidunRes are kept verbatim (attrs; yidunRes also in AntispamDetail).
//   - NetEase antispam is "a String that can be converted to Boolean": "true"/"false", JSON booleans
//     and 1/0 are read; anything else is dead-lettered rather than guessed.
//   - NetEase 81/82 status. The copy manual does not list its values; they are read as QChat's
//     message states: 0 update, 1 recall, 2 delete; any other (QChat lets apps define their own) is an
//     update. PlatformSubtype keeps the code, so a better reading can be replayed.
//   - NetEase 49's example carries msgIdServer "0": "0" identifies nothing, so MsgID stays empty and
//     the event_id is the canonical body's. Such a notification cannot be linked to its 82 updates: an
//     82 names the notification it changed by "msgId | String | 消息ID" alone, and neither its table nor
//     its example has msgIdClient, serverId, channelId or msgTimestamp, so nothing in the 49 (whose ids
//     are "msgIdServer | 服务器 ID" and "msgIdClient | 客户端生成的消息 ID") matches anything in an 82.
//     A 49 with a real msgIdServer and its 82s share msg_id (the notifications view). Linking by sender
//     and text would be a guess, and an update changes the text.
//   - NetEase 54/55 inviteAccid ("邀请的成员的帐号") is the inviter, not the invitee: the manual's 53
//     copy has accid "yx" inviting into server 1492590, and its 55 copy of that server has accid
//     "wmtest315" rejecting with inviteAccid "yx". The invitee answering is the Actor; the inviter goes
//     to Inviter, never to Target (the accounts acted upon). 61, 62 and 76 name the member's "inviter"
//     (邀请者accid) too.
//   - NetEase 79 roleIdPriority: "身份组 ID 与优先级对应关系,格式:{"身份组ID1":"优先级1",…}" — priorities
//     as numbers or strings, kept in Target.RolePriorities; the role ids sort as numbers. 68 and 69 give
//     one role's "priority" ("@everyone 的优先级为0,正数,数字越高优先级越高").
//   - Maxim: no manual in the seeds describes the subscription payload; the fields are the console's
//     (appId, msgId, from.uid, to.uid, type, ctype, content, ext, config). uids may be numbers (read
//     exactly, never through a float). With no documented time field, OccurredAtMs is "timestamp" (or
//     "time") when present and 0 otherwise, rather than the arrival time, so that a redelivery
//     normalizes to the same event. GROUPCHAT's to.uid is a group (Target.Group); CHAT, REPLACE and
//     APPEND name an account (Target.Account).
package normalize
