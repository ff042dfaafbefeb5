-- Message edit history: every update, recall or delete of a message (NetEase eventType 81, and the
-- other platforms' recalls), one row per event_id; and the messages view, each message once in its
-- current version. Deduplication as in messages_data: ReplacingMergeTree on a key fixed per event_id,
-- read with FINAL by the views.
CREATE TABLE IF NOT EXISTS message_updates_data
(
    event_id           String COMMENT 'Deterministic event id of the update; the deduplication key',
    source             LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app                LowCardinality(String) COMMENT 'Platform application (NetEase appkey, …)',
    op                 LowCardinality(String) COMMENT 'What happened to the message: update (text replaced), append (text appended, Maxim APPEND), recall, delete',
    platform_type      LowCardinality(String) COMMENT 'The platform''s own event type code (NetEase eventType 81)',
    platform_subtype   LowCardinality(String) COMMENT 'The platform''s status code of the message after the change (NetEase status)',
    occurred_at        DateTime64(3, 'UTC') COMMENT 'Platform time of the change (NetEase time), UTC',
    received_at        DateTime64(3, 'UTC') COMMENT 'When imarchive received the callback, UTC',
    actor              String COMMENT 'Account that made the change (NetEase fromAccount)',
    actor_client_type  LowCardinality(String) COMMENT 'Client type of that account (fromClientType)',
    actor_ip           String COMMENT 'IP address of that account (clientIp)',
    server_id          String COMMENT 'QChat server id',
    channel_id         String COMMENT 'QChat channel id',
    msg_id             String COMMENT 'Server-side id of the message that changed (NetEase msgId = the message''s msgIdServer)',
    body               String COMMENT 'Message text after the change (empty when the platform sends none)',
    antispam           Bool COMMENT 'The platform flagged the new content (antispam)',
    antispam_detail    String COMMENT 'The platform''s raw content-safety verdict (yidunRes), as received',
    attrs              Map(String, String) COMMENT 'Every top-level field of the payload as received (msg = the operator''s note, operatorExt, pushContent, …)',
    kafka_partition    Int32 COMMENT 'Events-topic partition the row was read from',
    kafka_offset       Int64 COMMENT 'Events-topic offset the row was read from',
    inserted_at        DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the row was written; the version: the newest write of an event_id wins',
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_channel channel_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (source, app, msg_id, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Storage of message updates (may hold not yet merged repeats): read the message_updates view';

-- The current version of each changed message, kept by a materialized view. Changes are ordered by
-- (occurred_at, received_at, event_id): platform time first, arrival time where the platform gives no
-- time (Maxim). The aggregates (argMax, groupUniqArray, uniqExact) are unchanged by a repeated row,
-- so re-deliveries need no deduplication here.
CREATE TABLE IF NOT EXISTS message_update_latest
(
    source      LowCardinality(String) COMMENT 'Platform',
    app         LowCardinality(String) COMMENT 'Platform application',
    msg_id      String COMMENT 'Server-side id of the message',
    latest_text AggregateFunction(argMax, Tuple(String, Bool, String, DateTime64(3, 'UTC'), DateTime64(3, 'UTC'), String), Tuple(DateTime64(3, 'UTC'), DateTime64(3, 'UTC'), String)) COMMENT 'State: (body, antispam, antispam_detail, occurred_at, received_at, event_id) of the latest update that replaced the text (op update with a body); read with argMaxMerge',
    texts       AggregateFunction(uniqExact, String) COMMENT 'State: distinct event ids of updates that replaced the text; read with uniqExactMerge',
    appends     AggregateFunction(groupUniqArray, Tuple(DateTime64(3, 'UTC'), DateTime64(3, 'UTC'), String, String)) COMMENT 'State: (occurred_at, received_at, event_id, body) of every append (Maxim APPEND); read with groupUniqArrayMerge',
    last_change AggregateFunction(argMax, Tuple(String, DateTime64(3, 'UTC'), DateTime64(3, 'UTC')), Tuple(DateTime64(3, 'UTC'), DateTime64(3, 'UTC'), String)) COMMENT 'State: (op, occurred_at, received_at) of the latest change of any kind',
    updates     AggregateFunction(uniqExact, String) COMMENT 'State: distinct event ids of every change'
)
ENGINE = AggregatingMergeTree
ORDER BY (source, app, msg_id)
COMMENT 'Aggregation state behind the messages view (fed by message_update_latest_mv); not for direct reading';

CREATE MATERIALIZED VIEW IF NOT EXISTS message_update_latest_mv TO message_update_latest
(
    source      LowCardinality(String) COMMENT 'Platform',
    app         LowCardinality(String) COMMENT 'Platform application',
    msg_id      String COMMENT 'Server-side id of the message',
    latest_text AggregateFunction(argMax, Tuple(String, Bool, String, DateTime64(3, 'UTC'), DateTime64(3, 'UTC'), String), Tuple(DateTime64(3, 'UTC'), DateTime64(3, 'UTC'), String)) COMMENT 'State of the latest text replacement',
    texts       AggregateFunction(uniqExact, String) COMMENT 'State of the text replacements',
    appends     AggregateFunction(groupUniqArray, Tuple(DateTime64(3, 'UTC'), DateTime64(3, 'UTC'), String, String)) COMMENT 'State of the appends',
    last_change AggregateFunction(argMax, Tuple(String, DateTime64(3, 'UTC'), DateTime64(3, 'UTC')), Tuple(DateTime64(3, 'UTC'), DateTime64(3, 'UTC'), String)) COMMENT 'State of the latest change',
    updates     AggregateFunction(uniqExact, String) COMMENT 'State of every change'
)
AS SELECT source, app, msg_id,
    argMaxStateIf(tuple(body, antispam, antispam_detail, occurred_at, received_at, event_id), tuple(occurred_at, received_at, event_id), op = 'update' AND body != '') AS latest_text,
    uniqExactStateIf(event_id, op = 'update' AND body != '') AS texts,
    groupUniqArrayStateIf(tuple(occurred_at, received_at, event_id, body), op = 'append') AS appends,
    argMaxState(tuple(op, occurred_at, received_at), tuple(occurred_at, received_at, event_id)) AS last_change,
    uniqExactState(event_id) AS updates
FROM message_updates_data
WHERE msg_id != ''
GROUP BY source, app, msg_id;

CREATE VIEW IF NOT EXISTS message_updates
(
    event_id          String COMMENT 'Deterministic event id of the update; the key to the raw payload',
    source            LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app               LowCardinality(String) COMMENT 'Platform application',
    op                LowCardinality(String) COMMENT 'update, append, recall or delete',
    platform_type     LowCardinality(String) COMMENT 'The platform''s own event type code (NetEase 81)',
    platform_subtype  LowCardinality(String) COMMENT 'The platform''s status code of the message after the change',
    occurred_at       DateTime64(3, 'UTC') COMMENT 'Platform time of the change, UTC',
    received_at       DateTime64(3, 'UTC') COMMENT 'When imarchive received it, UTC',
    actor             String COMMENT 'Account that made the change',
    actor_client_type LowCardinality(String) COMMENT 'Client type of that account',
    actor_ip          String COMMENT 'IP address of that account',
    server_id         String COMMENT 'QChat server id',
    channel_id        String COMMENT 'QChat channel id',
    msg_id            String COMMENT 'Server-side id of the message that changed',
    body              String COMMENT 'Message text after the change',
    antispam          Bool COMMENT 'The platform flagged the new content',
    antispam_detail   String COMMENT 'The platform''s raw content-safety verdict, as received',
    note              String COMMENT 'The operator''s note on the change (NetEase msg)',
    attrs             Map(String, String) COMMENT 'Every top-level field of the payload as received'
)
AS SELECT event_id, source, app, op, platform_type, platform_subtype, occurred_at, received_at, actor, actor_client_type,
    actor_ip, server_id, channel_id, msg_id, body, antispam, antispam_detail, attrs['msg'] AS note, attrs
FROM message_updates_data FINAL;

CREATE VIEW IF NOT EXISTS messages
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
    reply_to_msg_id    String COMMENT 'Server-side id of the message this one replies to (NetEase replyMsgIdServer)',
    thread_msg_id      String COMMENT 'Server-side id of the thread''s root message (NetEase threadMsgIdServer)',
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
    m.attrs['replyMsgIdServer'] AS reply_to_msg_id, m.attrs['threadMsgIdServer'] AS thread_msg_id,
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
