-- Quick comments (NetEase eventType 80): reactions added to or removed from a message, one row per
-- event_id, and the current reactions per message. Deduplication: ReplacingMergeTree on a key fixed
-- per event_id, read with FINAL by the views.
CREATE TABLE IF NOT EXISTS quick_comments_data
(
    event_id          String COMMENT 'Deterministic event id; the deduplication key',
    source            LowCardinality(String) COMMENT 'Platform: netease_qchat',
    app               LowCardinality(String) COMMENT 'Platform application',
    op                LowCardinality(String) COMMENT 'add or remove (platform-independent; NetEase opeType 1 or 2)',
    platform_type     LowCardinality(String) COMMENT 'The platform''s own event type code (NetEase 80)',
    platform_subtype  LowCardinality(String) COMMENT 'The platform''s refinement, where it has one',
    occurred_at       DateTime64(3, 'UTC') COMMENT 'Platform time of the event (NetEase time), UTC',
    received_at       DateTime64(3, 'UTC') COMMENT 'When imarchive received the callback, UTC',
    actor             String COMMENT 'Account that added or removed the comment (fromAccount)',
    actor_nick        String COMMENT 'Its nickname (fromNick)',
    actor_client_type LowCardinality(String) COMMENT 'Its client type (fromClientType)',
    actor_device_id   String COMMENT 'Its device id (fromDeviceId)',
    actor_ip          String COMMENT 'Its IP address (clientIp)',
    server_id         String COMMENT 'QChat server id',
    channel_id        String COMMENT 'QChat channel id',
    msg_id            String COMMENT 'Server-side id of the message commented on (msgIdServer)',
    msg_sender        String COMMENT 'Sender of the message commented on (msgSenderAccid)',
    msg_time          DateTime64(3, 'UTC') COMMENT 'When the message commented on was sent (msgTime), UTC',
    comment_type      String COMMENT 'The application''s own comment type (quickCommentType: 1 = smile, …)',
    attrs             Map(String, String) COMMENT 'Every top-level field of the payload as received',
    kafka_partition   Int32 COMMENT 'Events-topic partition the row was read from',
    kafka_offset      Int64 COMMENT 'Events-topic offset the row was read from',
    inserted_at       DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the row was written; the version',
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_channel channel_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (source, app, msg_id, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Storage of quick comments (may hold not yet merged repeats): read the quick_comments view';

CREATE VIEW IF NOT EXISTS quick_comments
(
    event_id          String COMMENT 'Deterministic event id; the key to the raw payload',
    source            LowCardinality(String) COMMENT 'Platform',
    app               LowCardinality(String) COMMENT 'Platform application',
    op                LowCardinality(String) COMMENT 'add or remove',
    platform_type     LowCardinality(String) COMMENT 'The platform''s own event type code (NetEase 80)',
    platform_subtype  LowCardinality(String) COMMENT 'The platform''s refinement',
    occurred_at       DateTime64(3, 'UTC') COMMENT 'Platform time of the event, UTC',
    received_at       DateTime64(3, 'UTC') COMMENT 'When imarchive received it',
    actor             String COMMENT 'Account that added or removed the comment',
    actor_nick        String COMMENT 'Its nickname',
    actor_client_type LowCardinality(String) COMMENT 'Its client type',
    actor_device_id   String COMMENT 'Its device id',
    actor_ip          String COMMENT 'Its IP address',
    server_id         String COMMENT 'QChat server id',
    channel_id        String COMMENT 'QChat channel id',
    msg_id            String COMMENT 'Server-side id of the message commented on',
    msg_sender        String COMMENT 'Sender of the message commented on',
    msg_time          DateTime64(3, 'UTC') COMMENT 'When the message commented on was sent',
    comment_type      String COMMENT 'The application''s own comment type',
    attrs             Map(String, String) COMMENT 'Every top-level field of the payload as received'
)
AS SELECT event_id, source, app, op, platform_type, platform_subtype, occurred_at, received_at, actor, actor_nick,
    actor_client_type, actor_device_id, actor_ip, server_id, channel_id, msg_id, msg_sender, msg_time, comment_type, attrs
FROM quick_comments_data FINAL;

-- The comments on each message now: per (message, account, comment type) the latest event by
-- (occurred_at, event_id), kept when it is an add.
CREATE VIEW IF NOT EXISTS quick_comments_current
(
    source       LowCardinality(String) COMMENT 'Platform',
    app          LowCardinality(String) COMMENT 'Platform application',
    msg_id       String COMMENT 'Server-side id of the message commented on',
    channel_id   String COMMENT 'QChat channel id',
    actor        String COMMENT 'Account whose comment it is',
    comment_type String COMMENT 'The application''s own comment type',
    added_at     DateTime64(3, 'UTC') COMMENT 'Platform time of the add that is in force'
)
AS SELECT source, app, msg_id, any(channel_id) AS channel_id, actor, comment_type,
    argMax(occurred_at, tuple(occurred_at, event_id)) AS added_at
FROM quick_comments_data FINAL
GROUP BY source, app, msg_id, actor, comment_type
HAVING argMax(op, tuple(occurred_at, event_id)) = 'add';
