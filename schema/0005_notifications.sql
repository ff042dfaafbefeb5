-- Notification history: custom system notifications (NetEase eventType 49) and their updates (82), one
-- row per event_id. Deduplication: ReplacingMergeTree on a key fixed per event_id, read with FINAL by
-- the notifications view.
CREATE TABLE IF NOT EXISTS notifications_data
(
    event_id           String COMMENT 'Deterministic event id; the deduplication key',
    source             LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app                LowCardinality(String) COMMENT 'Platform application (NetEase appkey, …)',
    kind               LowCardinality(String) COMMENT 'notification (sent, NetEase 49) or notification_update (changed, NetEase 82)',
    op                 LowCardinality(String) COMMENT 'For an update: update, recall or delete; empty for a sent notification',
    platform_type      LowCardinality(String) COMMENT 'The platform''s own event type code (NetEase 49 or 82)',
    platform_subtype   LowCardinality(String) COMMENT 'NetEase 49: the notification type (type, 100 = custom); NetEase 82: the status after the change',
    occurred_at        DateTime64(3, 'UTC') COMMENT 'Platform time of the event (NetEase time), UTC',
    msg_time           DateTime64(3, 'UTC') COMMENT 'When the notification was sent (NetEase msgTimestamp), UTC; the event time when not given',
    received_at        DateTime64(3, 'UTC') COMMENT 'When imarchive received the callback, UTC',
    sender             String COMMENT 'Sending account, or the account that changed it (fromAccount)',
    sender_nick        String COMMENT 'Sender nickname (fromNick)',
    sender_client_type LowCardinality(String) COMMENT 'Sender client type (fromClientType)',
    sender_device_id   String COMMENT 'Sender device id (fromDeviceId)',
    sender_ip          String COMMENT 'Sender IP address (clientIp)',
    server_id          String COMMENT 'QChat server id the notification is addressed to',
    channel_id         String COMMENT 'QChat channel id the notification is addressed to',
    to_account         String COMMENT 'Account the notification is addressed to',
    msg_id             String COMMENT 'Server-side id of the notification (NetEase msgIdServer; for 82 msgId, the notification that changed)',
    client_msg_id      String COMMENT 'Client-generated id (msgIdClient)',
    body               String COMMENT 'Notification text (after the change, for an update)',
    attrs              Map(String, String) COMMENT 'Every top-level field of the payload as received (toType, attach, ext, msg, pushContent, …)',
    kafka_partition    Int32 COMMENT 'Events-topic partition the row was read from',
    kafka_offset       Int64 COMMENT 'Events-topic offset the row was read from',
    inserted_at        DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the row was written; the version: the newest write of an event_id wins',
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_msg_id msg_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (source, app, server_id, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Storage of notification history (may hold not yet merged repeats): read the notifications view';

CREATE VIEW IF NOT EXISTS notifications
(
    event_id           String COMMENT 'Deterministic event id; the key to the raw payload',
    source             LowCardinality(String) COMMENT 'Platform',
    app                LowCardinality(String) COMMENT 'Platform application',
    kind               LowCardinality(String) COMMENT 'notification (sent) or notification_update (changed)',
    op                 LowCardinality(String) COMMENT 'For an update: update, recall or delete',
    platform_type      LowCardinality(String) COMMENT 'The platform''s own event type code (NetEase 49 or 82)',
    platform_subtype   LowCardinality(String) COMMENT 'NetEase 49: notification type; 82: status after the change',
    occurred_at        DateTime64(3, 'UTC') COMMENT 'Platform time of the event, UTC',
    msg_time           DateTime64(3, 'UTC') COMMENT 'When the notification was sent, UTC',
    received_at        DateTime64(3, 'UTC') COMMENT 'When imarchive received it, UTC',
    sender             String COMMENT 'Sending (or changing) account',
    sender_nick        String COMMENT 'Sender nickname',
    sender_client_type LowCardinality(String) COMMENT 'Sender client type',
    sender_device_id   String COMMENT 'Sender device id',
    sender_ip          String COMMENT 'Sender IP address',
    server_id          String COMMENT 'QChat server id',
    channel_id         String COMMENT 'QChat channel id',
    to_account         String COMMENT 'Addressed account',
    to_type            String COMMENT 'Whom it addresses, the platform''s code (NetEase toType)',
    msg_id             String COMMENT 'Server-side id of the notification',
    client_msg_id      String COMMENT 'Client-generated id',
    body               String COMMENT 'Notification text',
    attach             String COMMENT 'Attachment (NetEase attach)',
    attrs              Map(String, String) COMMENT 'Every top-level field of the payload as received'
)
AS SELECT event_id, source, app, kind, op, platform_type, platform_subtype, occurred_at, msg_time, received_at, sender,
    sender_nick, sender_client_type, sender_device_id, sender_ip, server_id, channel_id, to_account,
    attrs['toType'] AS to_type, msg_id, client_msg_id, body, attrs['attach'] AS attach, attrs
FROM notifications_data FINAL;
