-- Messages: every chat message the platforms copied to us, one row per event_id.
-- ReplacingMergeTree on (source, app, server_id, channel_id, msg_time, event_id): a platform retry or a
-- consumer re-delivery writes a row with the same sorting key, which ClickHouse folds into one. Read with
-- FINAL (the named queries do) to see each event exactly once before background merges have run.
CREATE TABLE IF NOT EXISTS messages
(
    event_id           String COMMENT 'Deterministic event id (source, app, the platform''s own id); the deduplication key',
    source             LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app                LowCardinality(String) COMMENT 'Platform application: NetEase appkey, iLink appkey or Maxim app_id',
    platform_type      LowCardinality(String) COMMENT 'The platform''s own event type code (NetEase eventType 48)',
    msg_time           DateTime64(3, 'UTC') COMMENT 'When the message was sent (NetEase msgTimestamp), UTC',
    occurred_at        DateTime64(3, 'UTC') COMMENT 'Platform time of the copy event (NetEase time), UTC',
    received_at        DateTime64(3, 'UTC') COMMENT 'When imarchive received the callback, UTC',
    sender             String COMMENT 'Sending account (NetEase fromAccount)',
    sender_nick        String COMMENT 'Sender nickname at send time (fromNick)',
    sender_client_type LowCardinality(String) COMMENT 'Sender client type (fromClientType: AOS, IOS, WEB, …)',
    sender_device_id   String COMMENT 'Sender device id (fromDeviceId)',
    sender_ip          String COMMENT 'Sender IP address as the platform saw it (clientIp)',
    server_id          String COMMENT 'QChat server (community) id; empty for other platforms',
    channel_id         String COMMENT 'QChat channel id; empty for other platforms',
    group_id           String COMMENT 'Group id (iLink, Maxim group chats)',
    to_account         String COMMENT 'Recipient account of a one-to-one message',
    msg_id             String COMMENT 'Server-side message id (NetEase msgIdServer)',
    client_msg_id      String COMMENT 'Client-generated message id (NetEase msgIdClient)',
    msg_type           LowCardinality(String) COMMENT 'Message type: TEXT, PICTURE, FILE, …',
    body               String COMMENT 'Message text',
    attrs              Map(String, String) COMMENT 'Every field of the platform payload as received (non-strings as JSON text)',
    kafka_partition    Int32 COMMENT 'Events-topic partition the row was read from',
    kafka_offset       Int64 COMMENT 'Events-topic offset the row was read from',
    inserted_at        DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the row was written'
)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(msg_time)
ORDER BY (source, app, server_id, channel_id, msg_time, event_id)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Chat messages, one row per event_id (read with FINAL)';
