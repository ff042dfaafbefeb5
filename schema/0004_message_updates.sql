-- Message edit history: every update, recall or delete of a message (NetEase eventType 81, and the
-- other platforms' recalls), one row per event_id; and the messages view, each message once in its
-- current version. Deduplication as in messages_data: ReplacingMergeTree on a key fixed per event_id,
-- read with FINAL by the views.
CREATE TABLE IF NOT EXISTS message_updates_data
(
    event_id           String COMMENT 'Deterministic event id of the update; the deduplication key',
    source             LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app                LowCardinality(String) COMMENT 'Platform application (NetEase appkey, …)',
    op                 LowCardinality(String) COMMENT 'What happened to the message: update, recall, delete (platform-independent)',
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

-- The latest update of each message, kept current by a materialized view. argMax and uniqExact are
-- unchanged by a repeated row, so re-deliveries need no deduplication here.
CREATE TABLE IF NOT EXISTS message_update_latest
(
    source  LowCardinality(String) COMMENT 'Platform',
    app     LowCardinality(String) COMMENT 'Platform application',
    msg_id  String COMMENT 'Server-side id of the message',
    latest  AggregateFunction(argMax, Tuple(String, String, Bool, String, DateTime64(3, 'UTC'), String), Tuple(DateTime64(3, 'UTC'), String)) COMMENT 'State: (op, body, antispam, antispam_detail, occurred_at, event_id) of the update with the greatest (occurred_at, event_id); read with argMaxMerge',
    updates AggregateFunction(uniqExact, String) COMMENT 'State: distinct update event ids; read with uniqExactMerge'
)
ENGINE = AggregatingMergeTree
ORDER BY (source, app, msg_id)
COMMENT 'Aggregation state behind the messages view (fed by message_update_latest_mv); not for direct reading';

CREATE MATERIALIZED VIEW IF NOT EXISTS message_update_latest_mv TO message_update_latest
(
    source  LowCardinality(String) COMMENT 'Platform',
    app     LowCardinality(String) COMMENT 'Platform application',
    msg_id  String COMMENT 'Server-side id of the message',
    latest  AggregateFunction(argMax, Tuple(String, String, Bool, String, DateTime64(3, 'UTC'), String), Tuple(DateTime64(3, 'UTC'), String)) COMMENT 'State of the latest update',
    updates AggregateFunction(uniqExact, String) COMMENT 'State of the distinct update event ids'
)
AS
SELECT source, app, msg_id,
    argMaxState(tuple(op, body, antispam, antispam_detail, occurred_at, event_id), tuple(occurred_at, event_id)) AS latest,
    uniqExactState(event_id) AS updates
FROM message_updates_data
WHERE msg_id != ''
GROUP BY source, app, msg_id;

CREATE VIEW IF NOT EXISTS message_updates
(
    event_id          String COMMENT 'Deterministic event id of the update; the key to the raw payload',
    source            LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app               LowCardinality(String) COMMENT 'Platform application',
    op                LowCardinality(String) COMMENT 'update, recall or delete',
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
    platform_type      LowCardinality(String) COMMENT 'The platform''s own event or message type code (NetEase eventType 48, iLink msg_type)',
    platform_subtype   LowCardinality(String) COMMENT 'The platform''s refinement of platform_type, where it has one',
    conversation       String COMMENT 'channel:SERVER/CHANNEL, group:GROUP, conv:A/B (one-to-one, sorted) or account:SENDER',
    msg_time           DateTime64(3, 'UTC') COMMENT 'When the message was sent, UTC',
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
    body               String COMMENT 'Current text: the latest update''s text when the message was edited, else the text as sent (a recall or delete keeps the text; see status)',
    original_body      String COMMENT 'Text as sent',
    status             LowCardinality(String) COMMENT 'sent (never changed), updated, recalled or deleted: the latest change (see message_updates for all of them)',
    updated_at         DateTime64(3, 'UTC') COMMENT 'Platform time of the latest change; 1970-01-01 when never changed',
    update_count       UInt64 COMMENT 'Number of changes (updates, recalls, deletes) archived for this message',
    antispam           Bool COMMENT 'The platform flagged the current content (the latest update''s flag when changed)',
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
    m.platform_subtype AS platform_subtype, m.conversation AS conversation, m.msg_time AS msg_time,
    m.occurred_at AS occurred_at, m.received_at AS received_at, m.sender AS sender, m.sender_nick AS sender_nick,
    m.sender_client_type AS sender_client_type, m.sender_device_id AS sender_device_id, m.sender_ip AS sender_ip,
    m.server_id AS server_id, m.channel_id AS channel_id, m.group_id AS group_id, m.to_account AS to_account,
    m.msg_id AS msg_id, m.client_msg_id AS client_msg_id, m.msg_type AS msg_type,
    if(u.update_count > 0 AND tupleElement(u.latest, 1) = 'update' AND tupleElement(u.latest, 2) != '', tupleElement(u.latest, 2), m.body) AS body,
    m.body AS original_body,
    multiIf(u.update_count = 0, 'sent', tupleElement(u.latest, 1) = 'recall', 'recalled', tupleElement(u.latest, 1) = 'delete', 'deleted', 'updated') AS status,
    if(u.update_count > 0, tupleElement(u.latest, 5), toDateTime64(0, 3, 'UTC')) AS updated_at,
    u.update_count AS update_count,
    if(u.update_count > 0, tupleElement(u.latest, 3), m.antispam) AS antispam,
    if(u.update_count > 0 AND tupleElement(u.latest, 4) != '', tupleElement(u.latest, 4), m.antispam_detail) AS antispam_detail,
    m.attrs['replyMsgIdServer'] AS reply_to_msg_id, m.attrs['threadMsgIdServer'] AS thread_msg_id,
    m.attrs['attach'] AS attach, m.attrs['ext'] AS ext, m.attrs AS attrs,
    m.kafka_partition AS kafka_partition, m.kafka_offset AS kafka_offset
FROM messages_data AS m FINAL
LEFT JOIN
(
    SELECT source, app, msg_id, argMaxMerge(latest) AS latest, uniqExactMerge(updates) AS update_count
    FROM message_update_latest
    GROUP BY source, app, msg_id
) AS u ON m.source = u.source AND m.app = u.app AND m.msg_id = u.msg_id;
