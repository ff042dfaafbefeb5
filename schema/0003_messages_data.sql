-- Messages of every platform in one model, told apart by source: NetEase QChat channel messages
-- (eventType 48), iLink direct, group and topic messages, Maxim messages.
--
-- Deduplication: ReplacingMergeTree keyed (ORDER BY) by columns that are fixed for a given event_id
-- (conversation and msg_time are derived from the event itself), ending with event_id, so a platform
-- retry, a consumer re-delivery or a replay writes a row with the same key and the newest insert
-- (version inserted_at) replaces the older ones. Background merges fold them eventually; the messages
-- view reads with FINAL, so analysts never see a repeat. Query the view, not this table.
CREATE TABLE IF NOT EXISTS messages_data
(
    event_id           String COMMENT 'Deterministic event id (source, app and the platform''s own message id); the deduplication key and the key to the raw payload',
    source             LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app                LowCardinality(String) COMMENT 'Platform application: NetEase appkey, iLink appkey or Maxim app_id',
    platform_type      LowCardinality(String) COMMENT 'The platform''s own event or message type code (NetEase eventType 48, iLink msg_type)',
    platform_subtype   LowCardinality(String) COMMENT 'The platform''s refinement of platform_type, where it has one',
    op                 LowCardinality(String) COMMENT 'What happened, platform-independent: send',
    conversation       String COMMENT 'Where the message was said: channel:SERVER/CHANNEL (QChat), group:GROUP (iLink/Maxim group or iLink topic), conv:A/B (one-to-one, the two accounts sorted), else account:SENDER',
    msg_time           DateTime64(3, 'UTC') COMMENT 'When the message was sent (NetEase msgTimestamp, iLink create_time), UTC; else the event time; 1970-01-01 when the platform gives no time at all (Maxim: the messages view shows received_at then). Never the receive time here: it is part of the key, which must be the same for every delivery of the event',
    occurred_at        DateTime64(3, 'UTC') COMMENT 'Platform time of the callback event (NetEase time), UTC',
    received_at        DateTime64(3, 'UTC') COMMENT 'When imarchive received the callback, UTC',
    sender             String COMMENT 'Sending account (NetEase fromAccount, iLink from_uid)',
    sender_nick        String COMMENT 'Sender nickname at send time (fromNick)',
    sender_client_type LowCardinality(String) COMMENT 'Sender client type (fromClientType: AOS, IOS, WEB, PC, REST…)',
    sender_device_id   String COMMENT 'Sender device id (fromDeviceId)',
    sender_ip          String COMMENT 'Sender IP address as the platform saw it (clientIp)',
    server_id          String COMMENT 'QChat server (community) id; empty for other platforms',
    channel_id         String COMMENT 'QChat channel id; empty for other platforms',
    group_id           String COMMENT 'Group id (iLink or Maxim group chats) or iLink topic id',
    to_account         String COMMENT 'Recipient account of a one-to-one message',
    msg_id             String COMMENT 'Server-side message id (NetEase msgIdServer, Maxim msgId, iLink msg_id)',
    client_msg_id      String COMMENT 'Client-generated message id (NetEase msgIdClient)',
    msg_type           LowCardinality(String) COMMENT 'Message type: TEXT, PICTURE, FILE, … (platform codes as sent)',
    body               String COMMENT 'Message text as sent, Base64-decoded where the platform encodes it',
    antispam           Bool COMMENT 'The platform flagged the content (NetEase antispam)',
    antispam_detail    String COMMENT 'The platform''s raw content-safety verdict (NetEase yidunRes), as received',
    attrs              Map(String, String) COMMENT 'Every top-level field of the platform payload as received (non-strings as JSON text)',
    kafka_partition    Int32 COMMENT 'Events-topic partition the row was read from',
    kafka_offset       Int64 COMMENT 'Events-topic offset the row was read from',
    inserted_at        DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the row was written; the version: the newest write of an event_id wins',
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_msg_id msg_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_channel channel_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_sender sender TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(msg_time)
ORDER BY (source, app, conversation, msg_time, event_id)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Storage of messages (may hold not yet merged repeats of an event_id): read the messages view';

-- Every row the skeleton wrote. A re-run inserts the same rows again, which fold into one per key.
-- conversation is computed exactly as the pipeline computes it (pipeline.Conversation).
INSERT INTO messages_data (event_id, source, app, platform_type, platform_subtype, op, conversation, msg_time, occurred_at,
    received_at, sender, sender_nick, sender_client_type, sender_device_id, sender_ip, server_id, channel_id, group_id,
    to_account, msg_id, client_msg_id, msg_type, body, antispam, antispam_detail, attrs, kafka_partition, kafka_offset,
    inserted_at)
SELECT event_id, source, app, platform_type, '', 'send',
    multiIf(channel_id != '', concat('channel:', server_id, '/', channel_id),
            group_id != '', concat('group:', group_id),
            to_account != '' AND sender != '', concat('conv:', least(sender, to_account), '/', greatest(sender, to_account)),
            server_id != '', concat('server:', server_id),
            concat('account:', sender)),
    msg_time, occurred_at, received_at, sender, sender_nick, sender_client_type, sender_device_id, sender_ip, server_id,
    channel_id, group_id, to_account, msg_id, client_msg_id, msg_type, body,
    lower(attrs['antispam']) IN ('true', '1'), attrs['yidunRes'], attrs, kafka_partition, kafka_offset, inserted_at
FROM messages_v1 FINAL;

ALTER TABLE messages_v1 MODIFY COMMENT 'Superseded by messages_data (migration 0003 copied every row); kept for verification, safe to drop';
