-- Canonical event schema version 2 (event/doc.go, Versions): fields analysts ask for get columns of
-- their own, and the NetEase 54/55 inviter leaves the columns of accounts acted upon.
--
-- messages_data: the message replied to and the thread's root (NetEase 48 replyMsg…, threadMsg…), so
-- a thread is one indexed lookup (named query message_thread). community_events_data: inviter (54, 55
-- inviteAccid; 61, 62, 76 inviter), member_type (61, 62, 76 type), channel_type and channel_view_mode
-- (63, 65 type and viewmode), role_priorities (79 roleIdPriority; 68, 69 priority).
--
-- The new columns' DEFAULT reads the payload kept in attrs, so rows written before (and rows of a
-- consumer not yet upgraded) show the same values as rows this build writes; the consumer writes them
-- explicitly. A DEFAULT is computed when a row is read until a merge or MATERIALIZE COLUMN stores it.
ALTER TABLE messages_data
    ADD COLUMN IF NOT EXISTS reply_to_msg_id String DEFAULT attrs['replyMsgIdServer'] COMMENT 'Server-side id of the message this one replies to (NetEase replyMsgIdServer)' AFTER antispam_detail,
    ADD COLUMN IF NOT EXISTS reply_to_client_msg_id String DEFAULT attrs['replyMsgIdClient'] COMMENT 'Client-generated id of the message replied to (replyMsgIdClient)' AFTER reply_to_msg_id,
    ADD COLUMN IF NOT EXISTS reply_to_sender String DEFAULT attrs['replyMsgFromAccount'] COMMENT 'Sender of the message replied to (replyMsgFromAccount)' AFTER reply_to_client_msg_id,
    ADD COLUMN IF NOT EXISTS reply_to_msg_time DateTime64(3, 'UTC') DEFAULT fromUnixTimestamp64Milli(toInt64OrZero(attrs['replyMsgTime']), 'UTC') COMMENT 'When the message replied to was sent (replyMsgTime), UTC; 1970-01-01 when not a reply' AFTER reply_to_sender,
    ADD COLUMN IF NOT EXISTS thread_msg_id String DEFAULT attrs['threadMsgIdServer'] COMMENT 'Server-side id of the thread''s root message (NetEase threadMsgIdServer)' AFTER reply_to_msg_time,
    ADD COLUMN IF NOT EXISTS thread_client_msg_id String DEFAULT attrs['threadMsgIdClient'] COMMENT 'Client-generated id of the thread''s root message (threadMsgIdClient)' AFTER thread_msg_id,
    ADD COLUMN IF NOT EXISTS thread_sender String DEFAULT attrs['threadMsgFromAccount'] COMMENT 'Sender of the thread''s root message (threadMsgFromAccount)' AFTER thread_client_msg_id,
    ADD COLUMN IF NOT EXISTS thread_msg_time DateTime64(3, 'UTC') DEFAULT fromUnixTimestamp64Milli(toInt64OrZero(attrs['threadMsgTime']), 'UTC') COMMENT 'When the thread''s root message was sent (threadMsgTime), UTC; 1970-01-01 when not in a thread' AFTER thread_sender;

ALTER TABLE messages_data ADD INDEX IF NOT EXISTS idx_thread thread_msg_id TYPE bloom_filter GRANULARITY 4;
ALTER TABLE messages_data MATERIALIZE INDEX idx_thread;

ALTER TABLE community_events_data
    ADD COLUMN IF NOT EXISTS inviter String DEFAULT multiIf(source != 'netease_qchat', '', platform_type IN ('54', '55'), attrs['inviteAccid'], platform_type IN ('61', '62', '76'), attrs['inviter'], '') COMMENT 'The account whose invitation a membership event concerns (54, 55 inviteAccid) or that invited the member concerned (61, 62, 76 inviter); not an account acted upon' AFTER name,
    ADD COLUMN IF NOT EXISTS member_type LowCardinality(String) DEFAULT if(source = 'netease_qchat' AND platform_type IN ('61', '62', '76'), attrs['type'], '') COMMENT 'target_account''s member type (61, 62, 76 type): 0 ordinary member, 1 owner' AFTER inviter,
    ADD COLUMN IF NOT EXISTS channel_type LowCardinality(String) DEFAULT if(source = 'netease_qchat' AND platform_type IN ('63', '65'), attrs['type'], '') COMMENT 'Channel type as created or changed (63, 65 type): 0 message channel, 100 custom' AFTER member_type,
    ADD COLUMN IF NOT EXISTS channel_view_mode LowCardinality(String) DEFAULT if(source = 'netease_qchat' AND platform_type IN ('63', '65'), attrs['viewmode'], '') COMMENT 'Channel view mode as created or changed (63, 65 viewmode): 0 public, 1 private' AFTER channel_type,
    ADD COLUMN IF NOT EXISTS role_priorities Map(String, Int64) DEFAULT multiIf(
        source = 'netease_qchat' AND platform_type = '79',
            mapFromArrays(
                arrayMap(kv -> tupleElement(kv, 1), JSONExtractKeysAndValuesRaw(attrs['roleIdPriority'])),
                arrayMap(kv -> toInt64OrZero(trim(BOTH '"' FROM tupleElement(kv, 2))), JSONExtractKeysAndValuesRaw(attrs['roleIdPriority']))),
        source = 'netease_qchat' AND platform_type IN ('68', '69') AND attrs['priority'] != '' AND attrs['roleid'] != '',
            map(attrs['roleid'], toInt64OrZero(attrs['priority'])),
        map()) COMMENT 'Priority given to each role (79 roleIdPriority; 68, 69 priority of role_id): higher is stronger, @everyone 0' AFTER channel_view_mode,
    ADD COLUMN IF NOT EXISTS channel_topic String DEFAULT if(source = 'netease_qchat' AND platform_type IN ('63', '65'), attrs['topic'], '') COMMENT 'Channel topic as created or changed (63, 65 topic); empty when the copy sets none' AFTER role_priorities;

-- Version 1 put the 54/55 inviter in target_account (and so in accounts), the columns of accounts acted
-- upon: it is the inviter column now. Version 1 sorted 79's role ids as text ("10" before "9"): numbers
-- by value now, as the pipeline writes them.
ALTER TABLE community_events_data UPDATE target_account = '', accounts = []
WHERE source = 'netease_qchat' AND platform_type IN ('54', '55') AND target_account != '';
ALTER TABLE community_events_data UPDATE role_ids = arraySort(x -> (isNull(toUInt64OrNull(x)), toUInt64OrZero(x), x), role_ids)
WHERE source = 'netease_qchat' AND platform_type = '79';

CREATE OR REPLACE VIEW messages
(
    event_id           String COMMENT 'Deterministic event id (source, app, the platform''s own message id); the key to the raw payload',
    source             LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app                LowCardinality(String) COMMENT 'Platform application: NetEase appkey, iLink appkey or Maxim app_id',
    platform_type      LowCardinality(String) COMMENT 'The platform''s own event or message type code (NetEase eventType 48, iLink msg_type, Maxim type)',
    platform_subtype   LowCardinality(String) COMMENT 'The platform''s refinement of platform_type, where it has one',
    op                 LowCardinality(String) COMMENT 'What happened, platform-independent: send',
    conversation       String COMMENT 'channel:SERVER/CHANNEL, group:GROUP, conv:A/B (one-to-one, sorted) or account:SENDER',
    msg_time           DateTime64(3, 'UTC') COMMENT 'When the message was sent, UTC; when the platform gives no time (Maxim), when imarchive received it',
    occurred_at        DateTime64(3, 'UTC') COMMENT 'Platform time of the callback event, UTC',
    received_at        DateTime64(3, 'UTC') COMMENT 'When imarchive received the callback, UTC',
    sender             String COMMENT 'Sending account',
    sender_nick        String COMMENT 'Sender nickname at send time',
    sender_client_type LowCardinality(String) COMMENT 'Sender client type (AOS, IOS, WEB, PC, REST…)',
    sender_device_id   String COMMENT 'Sender device id',
    sender_ip          String COMMENT 'Sender IP address as the platform saw it',
    server_id          String COMMENT 'QChat server (community) id',
    channel_id         String COMMENT 'QChat channel id',
    group_id           String COMMENT 'Group id (iLink, Maxim) or iLink topic id',
    to_account         String COMMENT 'Recipient account of a one-to-one message',
    msg_id             String COMMENT 'Server-side message id',
    client_msg_id      String COMMENT 'Client-generated message id',
    msg_type           LowCardinality(String) COMMENT 'Message type: TEXT, PICTURE, FILE, …',
    body               String COMMENT 'Current text: the latest replacement''s text (NetEase 81, Maxim REPLACE) or the text as sent, followed by the appends made after it (Maxim APPEND); a recall or delete keeps the text (see status)',
    original_body      String COMMENT 'Text as sent',
    status             LowCardinality(String) COMMENT 'sent (never changed), updated, recalled or deleted: the latest change (see message_updates for all of them)',
    updated_at         DateTime64(3, 'UTC') COMMENT 'Time of the latest change (platform time, or arrival time where the platform gives none); 1970-01-01 when never changed',
    update_count       UInt64 COMMENT 'Number of changes (updates, appends, recalls, deletes) archived for this message',
    antispam           Bool COMMENT 'The platform flagged the current content (the latest replacement''s flag when replaced)',
    antispam_detail    String COMMENT 'The platform''s raw content-safety verdict on the current content (NetEase yidunRes)',
    reply_to_msg_id        String COMMENT 'Server-side id of the message this one replies to (NetEase replyMsgIdServer)',
    reply_to_client_msg_id String COMMENT 'Client-generated id of the message replied to (replyMsgIdClient)',
    reply_to_sender        String COMMENT 'Sender of the message replied to (replyMsgFromAccount)',
    reply_to_msg_time      DateTime64(3, 'UTC') COMMENT 'When the message replied to was sent (replyMsgTime), UTC; 1970-01-01 when not a reply',
    thread_msg_id          String COMMENT 'Server-side id of the thread''s root message (NetEase threadMsgIdServer)',
    thread_client_msg_id   String COMMENT 'Client-generated id of the thread''s root message (threadMsgIdClient)',
    thread_sender          String COMMENT 'Sender of the thread''s root message (threadMsgFromAccount)',
    thread_msg_time        DateTime64(3, 'UTC') COMMENT 'When the thread''s root message was sent (threadMsgTime), UTC; 1970-01-01 when not in a thread',
    attach             String COMMENT 'Attachment as sent (NetEase attach)',
    ext                String COMMENT 'Extension field as sent (NetEase ext)',
    attrs              Map(String, String) COMMENT 'Every top-level field of the platform payload as received',
    kafka_partition    Int32 COMMENT 'Events-topic partition the message was read from',
    kafka_offset       Int64 COMMENT 'Events-topic offset the message was read from'
)
AS SELECT m.event_id AS event_id, m.source AS source, m.app AS app, m.platform_type AS platform_type,
    m.platform_subtype AS platform_subtype, m.op AS op, m.conversation AS conversation,
    if(toUnixTimestamp64Milli(m.msg_time) = 0, m.received_at, m.msg_time) AS msg_time,
    m.occurred_at AS occurred_at, m.received_at AS received_at, m.sender AS sender, m.sender_nick AS sender_nick,
    m.sender_client_type AS sender_client_type, m.sender_device_id AS sender_device_id, m.sender_ip AS sender_ip,
    m.server_id AS server_id, m.channel_id AS channel_id, m.group_id AS group_id, m.to_account AS to_account,
    m.msg_id AS msg_id, m.client_msg_id AS client_msg_id, m.msg_type AS msg_type,
    concat(if(u.texts > 0, tupleElement(u.latest_text, 1), m.body),
        arrayStringConcat(arrayMap(x -> tupleElement(x, 4), arraySort(arrayFilter(
            x -> u.texts = 0 OR tuple(tupleElement(x, 1), tupleElement(x, 2), tupleElement(x, 3))
                > tuple(tupleElement(u.latest_text, 4), tupleElement(u.latest_text, 5), tupleElement(u.latest_text, 6)),
            u.appends))))) AS body,
    m.body AS original_body,
    multiIf(u.updates = 0, 'sent', tupleElement(u.last_change, 1) = 'recall', 'recalled',
            tupleElement(u.last_change, 1) = 'delete', 'deleted', 'updated') AS status,
    multiIf(u.updates = 0, toDateTime64(0, 3, 'UTC'),
            tupleElement(u.last_change, 2) != toDateTime64(0, 3, 'UTC'), tupleElement(u.last_change, 2),
            tupleElement(u.last_change, 3)) AS updated_at,
    u.updates AS update_count,
    if(u.texts > 0, tupleElement(u.latest_text, 2), m.antispam) AS antispam,
    if(u.texts > 0 AND tupleElement(u.latest_text, 3) != '', tupleElement(u.latest_text, 3), m.antispam_detail) AS antispam_detail,
    m.reply_to_msg_id AS reply_to_msg_id, m.reply_to_client_msg_id AS reply_to_client_msg_id,
    m.reply_to_sender AS reply_to_sender, m.reply_to_msg_time AS reply_to_msg_time,
    m.thread_msg_id AS thread_msg_id, m.thread_client_msg_id AS thread_client_msg_id,
    m.thread_sender AS thread_sender, m.thread_msg_time AS thread_msg_time,
    m.attrs['attach'] AS attach, m.attrs['ext'] AS ext, m.attrs AS attrs,
    m.kafka_partition AS kafka_partition, m.kafka_offset AS kafka_offset
FROM messages_data AS m FINAL
LEFT JOIN
(
    SELECT source, app, msg_id,
        argMaxMerge(latest_text) AS latest_text, uniqExactMerge(texts) AS texts, groupUniqArrayMerge(appends) AS appends,
        argMaxMerge(last_change) AS last_change, uniqExactMerge(updates) AS updates
    FROM message_update_latest
    GROUP BY source, app, msg_id
) AS u ON m.source = u.source AND m.app = u.app AND m.msg_id = u.msg_id;

CREATE OR REPLACE VIEW community_events
(
    event_id          String COMMENT 'Deterministic event id; the key to the raw payload',
    source            LowCardinality(String) COMMENT 'Platform',
    app               LowCardinality(String) COMMENT 'Platform application',
    kind              LowCardinality(String) COMMENT 'server, member, channel, role or permission',
    op                LowCardinality(String) COMMENT 'What happened (create, update, delete, invite, join, leave, kick, …)',
    platform_type     LowCardinality(String) COMMENT 'The platform''s own event type code (NetEase 50-79)',
    platform_subtype  LowCardinality(String) COMMENT 'The platform''s refinement, where it has one',
    occurred_at       DateTime64(3, 'UTC') COMMENT 'Platform time of the operation, UTC',
    received_at       DateTime64(3, 'UTC') COMMENT 'When imarchive received it',
    actor             String COMMENT 'Account that did it',
    actor_nick        String COMMENT 'Operator user name or nickname',
    actor_client_type LowCardinality(String) COMMENT 'Operator client type',
    actor_ip          String COMMENT 'Operator IP address',
    server_id         String COMMENT 'QChat server id',
    channel_id        String COMMENT 'QChat channel id',
    target_account    String COMMENT 'The one account acted upon, where there is one',
    accounts          Array(String) COMMENT 'Every account acted upon',
    role_id           String COMMENT 'Role id of a role or permission event',
    role_ids          Array(String) COMMENT 'Role ids of a bulk role event',
    name              String COMMENT 'Name of the server, channel or role',
    inviter           String COMMENT 'The account whose invitation a membership event concerns (54, 55 inviteAccid) or that invited the member concerned (61, 62, 76 inviter); not an account acted upon',
    member_type       LowCardinality(String) COMMENT 'target_account''s member type (61, 62, 76 type): 0 ordinary member, 1 owner',
    channel_type      LowCardinality(String) COMMENT 'Channel type as created or changed (63, 65 type): 0 message channel, 100 custom',
    channel_view_mode LowCardinality(String) COMMENT 'Channel view mode as created or changed (63, 65 viewmode): 0 public, 1 private',
    role_priorities   Map(String, Int64) COMMENT 'Priority given to each role (79 roleIdPriority; 68, 69 priority of role_id): higher is stronger, @everyone 0',
    channel_topic     String COMMENT 'Channel topic as created or changed (63, 65 topic); empty when the copy sets none',
    via_api           Bool COMMENT 'Done through the platform''s server API rather than an SDK (NetEase api = true)',
    attrs             Map(String, String) COMMENT 'Every top-level field of the payload as received'
)
AS SELECT event_id, source, app, kind, op, platform_type, platform_subtype, occurred_at, received_at, actor, actor_nick,
    actor_client_type, actor_ip, server_id, channel_id, target_account, accounts, role_id, role_ids, name,
    inviter, member_type, channel_type, channel_view_mode, role_priorities, channel_topic,
    lower(attrs['api']) = 'true' AS via_api, attrs
FROM community_events_data FINAL;

-- Every event is also about the inviter it names (legal holds, exports and account history select by it).
CREATE OR REPLACE VIEW archive_subjects
(
    table_name   String COMMENT 'Storage table of the event (messages_data, message_updates_data, notifications_data, presence_events_data, community_events_data, quick_comments_data)',
    event_id     String COMMENT 'Deterministic event id',
    source       String COMMENT 'Platform',
    app          String COMMENT 'Platform application',
    at           DateTime64(3, 'UTC') COMMENT 'Time of the event: send time of a message, platform time otherwise; received time where the platform gives none',
    subject_kind String COMMENT 'account, channel, group or server; event for the row every event has about itself (subject = event_id)',
    subject      String COMMENT 'The account, channel, group or server id (the event_id for kind event)'
)
AS SELECT table_name, event_id, source, app, at, tupleElement(s, 1) AS subject_kind, tupleElement(s, 2) AS subject
FROM
(
    SELECT 'messages_data' AS table_name, event_id, toString(source) AS source, toString(app) AS app,
        if(toUnixTimestamp64Milli(msg_time) = 0, received_at, msg_time) AS at,
        [('account', sender), ('account', to_account), ('channel', channel_id), ('server', server_id), ('group', group_id)] AS subjects
    FROM messages_data
    UNION ALL
    SELECT 'message_updates_data', u.event_id, toString(u.source), toString(u.app),
        if(toUnixTimestamp64Milli(u.occurred_at) = 0, u.received_at, u.occurred_at),
        [('account', u.actor), ('account', m.sender), ('account', m.to_account), ('channel', u.channel_id), ('server', u.server_id), ('group', m.group_id)]
    FROM message_updates_data AS u
    LEFT JOIN
    (
        SELECT source, app, msg_id, any(sender) AS sender, any(to_account) AS to_account, any(group_id) AS group_id
        FROM messages_data
        WHERE msg_id != ''
        GROUP BY source, app, msg_id
    ) AS m ON u.source = m.source AND u.app = m.app AND u.msg_id = m.msg_id
    UNION ALL
    SELECT 'notifications_data', event_id, toString(source), toString(app),
        if(toUnixTimestamp64Milli(occurred_at) = 0, received_at, occurred_at),
        [('account', sender), ('account', to_account), ('channel', channel_id), ('server', server_id)]
    FROM notifications_data
    UNION ALL
    SELECT 'presence_events_data', event_id, toString(source), toString(app),
        if(toUnixTimestamp64Milli(occurred_at) = 0, received_at, occurred_at),
        [('account', account)]
    FROM presence_events_data
    UNION ALL
    SELECT 'community_events_data', event_id, toString(source), toString(app),
        if(toUnixTimestamp64Milli(occurred_at) = 0, received_at, occurred_at),
        arrayConcat([('account', actor), ('account', target_account), ('account', inviter), ('channel', channel_id), ('server', server_id)],
            arrayMap(a -> ('account', a), accounts))
    FROM community_events_data
    UNION ALL
    SELECT 'quick_comments_data', event_id, toString(source), toString(app),
        if(toUnixTimestamp64Milli(occurred_at) = 0, received_at, occurred_at),
        [('account', actor), ('account', msg_sender), ('channel', channel_id), ('server', server_id)]
    FROM quick_comments_data
)
ARRAY JOIN arrayPushFront(subjects, ('event', event_id)) AS s
WHERE tupleElement(s, 2) != '';
