-- Issue 21, step 2 of 4: the event tables in their new layout, under their names again (0095 moved the
-- old ones aside; 0098 copies their rows here).
--
-- What changes, for the questions analysts ask (issue 21; BENCHMARKS.md has the figures):
--   - messages_data is sorted by (source, app, day, conversation, msg_time, event_id): a time range
--     reads only its days (the day before the conversation), a conversation's history a few granules a
--     day. Every key column is still fixed per event_id, so every delivery of an event has the same key
--     and folds. A message without a platform time (Maxim) keeps msg_time 1970-01-01, so it stays in
--     one partition and one day, whichever delivery; the messages view shows it at its receive time
--     (0099);
--   - the payload (attrs) is no longer stored twice: a field whose value as received equals its
--     column's rendering, byte for byte, is kept in the column only (attrs_promoted names them), the
--     rest in attrs_rest (ZSTD); attrs_full and the views' attrs give the payload back whole. The
--     consumer still writes attrs (an EPHEMERAL column, computed into the two at insert). Bodies and
--     verdicts are ZSTD-compressed;
--   - a closed partition is merged to one part (min_age_to_force_merge_seconds: once every part of the
--     partition is six hours old), so FINAL over it costs next to nothing;
--   - message_updates_data gets a bloom filter on actor and a min-max index on its time (the time of
--     the changes of a month is scattered over its msg_id order only as far as the inserts are),
--     notifications_data one on its accounts, messages_data one on to_account (account histories).
-- The other keys stay: presence by account (the consumer looks verdicts up by account), community
-- and notifications by server, updates and quick comments by message.
CREATE TABLE IF NOT EXISTS messages_data
(
    event_id               String COMMENT 'Deterministic event id (source, app and the platform''s own message id); the deduplication key and the key to the raw payload',
    source                 LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app                    LowCardinality(String) COMMENT 'Platform application: NetEase appkey, iLink appkey or Maxim app_id',
    platform_type          LowCardinality(String) COMMENT 'The platform''s own event or message type code (NetEase eventType 48, iLink msg_type)',
    platform_subtype       LowCardinality(String) COMMENT 'The platform''s refinement of platform_type, where it has one',
    op                     LowCardinality(String) COMMENT 'What happened, platform-independent: send',
    conversation           String COMMENT 'Where the message was said: channel:SERVER/CHANNEL (QChat), group:GROUP (iLink/Maxim group or iLink topic), conv:A/B (one-to-one, the two accounts sorted), else account:SENDER',
    msg_time               DateTime64(3, 'UTC') COMMENT 'When the message was sent (NetEase msgTimestamp, iLink create_time), UTC; else the event time; 1970-01-01 when the platform gives no time at all (Maxim: the messages view shows received_at then). Never the receive time here: it is part of the key, which must be the same for every delivery of the event',
    occurred_at            DateTime64(3, 'UTC') COMMENT 'Platform time of the callback event (NetEase time), UTC',
    received_at            DateTime64(3, 'UTC') COMMENT 'When imarchive received the callback, UTC',
    sender                 String COMMENT 'Sending account (NetEase fromAccount, iLink from_uid)',
    sender_nick            String COMMENT 'Sender nickname at send time (fromNick)',
    sender_client_type     LowCardinality(String) COMMENT 'Sender client type (fromClientType: AOS, IOS, WEB, PC, REST…)',
    sender_device_id       String COMMENT 'Sender device id (fromDeviceId)',
    sender_ip              String COMMENT 'Sender IP address as the platform saw it (clientIp)',
    server_id              String COMMENT 'QChat server (community) id; empty for other platforms',
    channel_id             String COMMENT 'QChat channel id; empty for other platforms',
    group_id               String COMMENT 'Group id (iLink or Maxim group chats) or iLink topic id',
    to_account             String COMMENT 'Recipient account of a one-to-one message',
    msg_id                 String COMMENT 'Server-side message id (NetEase msgIdServer, Maxim msgId, iLink msg_id)',
    client_msg_id          String COMMENT 'Client-generated message id (NetEase msgIdClient)',
    msg_type               LowCardinality(String) COMMENT 'Message type: TEXT, PICTURE, FILE, … (platform codes as sent)',
    body                   String CODEC(ZSTD(3)) COMMENT 'Message text as sent, Base64-decoded where the platform encodes it',
    antispam               Bool COMMENT 'The platform flagged the content (NetEase antispam)',
    antispam_detail        String CODEC(ZSTD(3)) COMMENT 'The platform''s raw content-safety verdict (NetEase yidunRes), as received',
    reply_to_msg_id        String DEFAULT attrs['replyMsgIdServer'] COMMENT 'Server-side id of the message this one replies to (NetEase replyMsgIdServer)',
    reply_to_client_msg_id String DEFAULT attrs['replyMsgIdClient'] COMMENT 'Client-generated id of the message replied to (replyMsgIdClient)',
    reply_to_sender        String DEFAULT attrs['replyMsgFromAccount'] COMMENT 'Sender of the message replied to (replyMsgFromAccount)',
    reply_to_msg_time      DateTime64(3, 'UTC') DEFAULT fromUnixTimestamp64Milli(toInt64OrZero(attrs['replyMsgTime']), 'UTC') COMMENT 'When the message replied to was sent (replyMsgTime), UTC; 1970-01-01 when not a reply',
    thread_msg_id          String DEFAULT attrs['threadMsgIdServer'] COMMENT 'Server-side id of the thread''s root message (NetEase threadMsgIdServer)',
    thread_client_msg_id   String DEFAULT attrs['threadMsgIdClient'] COMMENT 'Client-generated id of the thread''s root message (threadMsgIdClient)',
    thread_sender          String DEFAULT attrs['threadMsgFromAccount'] COMMENT 'Sender of the thread''s root message (threadMsgFromAccount)',
    thread_msg_time        DateTime64(3, 'UTC') DEFAULT fromUnixTimestamp64Milli(toInt64OrZero(attrs['threadMsgTime']), 'UTC') COMMENT 'When the thread''s root message was sent (threadMsgTime), UTC; 1970-01-01 when not in a thread',
    attrs                  Map(String, String) EPHEMERAL COMMENT 'Every top-level field of the payload as received, as the consumer writes it; not stored as such: attrs_rest and attrs_promoted keep it (read attrs_full, or the view''s attrs)',
    attrs_columns          Map(String, String) ALIAS map(
        'appId', toString(app), 'eventType', toString(platform_type), 'type', toString(platform_type),
        'msg_type', toString(platform_type), 'fromAccount', sender, 'from_uid', sender, 'fromNick', sender_nick,
        'fromClientType', toString(sender_client_type), 'fromDeviceId', sender_device_id, 'clientIp', sender_ip,
        'serverId', server_id, 'channelId', channel_id, 'group_id', group_id, 'to_uid', to_account,
        'msgIdServer', msg_id, 'msgId', msg_id, 'msg_id', msg_id, 'msgIdClient', client_msg_id,
        'msgType', toString(msg_type), 'ctype', toString(msg_type), 'body', body,
        'content', if(source = 'ilink', base64Encode(body), body),
        'msgTimestamp', toString(toUnixTimestamp64Milli(msg_time)),
        'timestamp', toString(toUnixTimestamp64Milli(msg_time)), 'create_time', toString(toUnixTimestamp(msg_time)),
        'time', toString(toUnixTimestamp64Milli(occurred_at)), 'antispam', if(antispam, 'true', 'false'),
        'yidunRes', antispam_detail, 'replyMsgIdServer', reply_to_msg_id, 'replyMsgIdClient', reply_to_client_msg_id,
        'replyMsgFromAccount', reply_to_sender, 'replyMsgTime', toString(toUnixTimestamp64Milli(reply_to_msg_time)),
        'threadMsgIdServer', thread_msg_id, 'threadMsgIdClient', thread_client_msg_id,
        'threadMsgFromAccount', thread_sender, 'threadMsgTime', toString(toUnixTimestamp64Milli(thread_msg_time))) COMMENT 'The payload fields that have columns of their own, rendered from those columns as the platform writes them',
    attrs_promoted         Array(LowCardinality(String)) DEFAULT arrayMap(x -> substring(x, position(x, ':') + 1, toUInt64(substring(x, 1, position(x, ':') - 1))),
        arrayIntersect(arrayMap((k, v) -> concat(toString(length(k)), ':', k, v), mapKeys(attrs), mapValues(attrs)),
                       arrayMap((k, v) -> concat(toString(length(k)), ':', k, v), mapKeys(attrs_columns), mapValues(attrs_columns)))) COMMENT 'The payload fields kept only in their columns: those whose value as received equals their rendering in attrs_columns, byte for byte',
    attrs_rest             Map(String, String) DEFAULT mapFilter((k, v) -> NOT has(attrs_promoted, k), attrs) CODEC(ZSTD(3)) COMMENT 'The payload fields not kept in columns, as received',
    attrs_full             Map(String, String) ALIAS mapUpdate(attrs_rest, mapFilter((k, v) -> has(attrs_promoted, k), attrs_columns)) COMMENT 'Every top-level field of the payload as received (non-strings as JSON text): attrs_rest with the promoted fields rendered back from their columns',
    kafka_partition        Int32 COMMENT 'Events-topic partition the row was read from',
    kafka_offset           Int64 COMMENT 'Events-topic offset the row was read from',
    inserted_at            DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the row was written; the version: the newest write of an event_id wins',
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_msg_id msg_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_channel channel_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_sender sender TYPE bloom_filter GRANULARITY 4,
    INDEX idx_to_account to_account TYPE bloom_filter GRANULARITY 4,
    INDEX idx_thread thread_msg_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_body_ngram lowerUTF8(body) TYPE ngrambf_v1(3, 65536, 2, 0) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(msg_time)
ORDER BY (source, app, toDate(msg_time), conversation, msg_time, event_id)
SETTINGS non_replicated_deduplication_window = 1000, min_age_to_force_merge_seconds = 21600, min_age_to_force_merge_on_partition_only = 1
COMMENT 'Storage of messages (may hold not yet merged repeats of an event_id): read the messages view';

CREATE TABLE IF NOT EXISTS message_updates_data
(
    event_id          String COMMENT 'Deterministic event id of the update; the deduplication key',
    source            LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app               LowCardinality(String) COMMENT 'Platform application (NetEase appkey, …)',
    op                LowCardinality(String) COMMENT 'What happened to the message: update (text replaced), append (text appended, Maxim APPEND), recall, delete',
    platform_type     LowCardinality(String) COMMENT 'The platform''s own event type code (NetEase eventType 81)',
    platform_subtype  LowCardinality(String) COMMENT 'The platform''s status code of the message after the change (NetEase status)',
    occurred_at       DateTime64(3, 'UTC') COMMENT 'Platform time of the change (NetEase time), UTC',
    received_at       DateTime64(3, 'UTC') COMMENT 'When imarchive received the callback, UTC',
    actor             String COMMENT 'Account that made the change (NetEase fromAccount)',
    actor_client_type LowCardinality(String) COMMENT 'Client type of that account (fromClientType)',
    actor_ip          String COMMENT 'IP address of that account (clientIp)',
    server_id         String COMMENT 'QChat server id',
    channel_id        String COMMENT 'QChat channel id',
    msg_id            String COMMENT 'Server-side id of the message that changed (NetEase msgId = the message''s msgIdServer)',
    body              String CODEC(ZSTD(3)) COMMENT 'Message text after the change (empty when the platform sends none)',
    antispam          Bool COMMENT 'The platform flagged the new content (antispam)',
    antispam_detail   String CODEC(ZSTD(3)) COMMENT 'The platform''s raw content-safety verdict (yidunRes), as received',
    attrs             Map(String, String) EPHEMERAL COMMENT 'Every top-level field of the payload as received, as the consumer writes it; not stored as such: attrs_rest and attrs_promoted keep it (read attrs_full, or the view''s attrs)',
    attrs_columns     Map(String, String) ALIAS map(
        'eventType', toString(platform_type), 'type', toString(platform_type), 'status', toString(platform_subtype),
        'fromAccount', actor, 'fromClientType', toString(actor_client_type), 'clientIp', actor_ip,
        'serverId', server_id, 'channelId', channel_id, 'msgId', msg_id, 'body', body, 'content', body,
        'time', toString(toUnixTimestamp64Milli(occurred_at)), 'antispam', if(antispam, 'true', 'false'),
        'yidunRes', antispam_detail, 'msg', note) COMMENT 'The payload fields that have columns of their own, rendered from those columns as the platform writes them',
    attrs_promoted    Array(LowCardinality(String)) DEFAULT arrayMap(x -> substring(x, position(x, ':') + 1, toUInt64(substring(x, 1, position(x, ':') - 1))),
        arrayIntersect(arrayMap((k, v) -> concat(toString(length(k)), ':', k, v), mapKeys(attrs), mapValues(attrs)),
                       arrayMap((k, v) -> concat(toString(length(k)), ':', k, v), mapKeys(attrs_columns), mapValues(attrs_columns)))) COMMENT 'The payload fields kept only in their columns: those whose value as received equals their rendering in attrs_columns, byte for byte',
    attrs_rest        Map(String, String) DEFAULT mapFilter((k, v) -> NOT has(attrs_promoted, k), attrs) CODEC(ZSTD(3)) COMMENT 'The payload fields not kept in columns, as received',
    attrs_full        Map(String, String) ALIAS mapUpdate(attrs_rest, mapFilter((k, v) -> has(attrs_promoted, k), attrs_columns)) COMMENT 'Every top-level field of the payload as received (non-strings as JSON text): attrs_rest with the promoted fields rendered back from their columns',
    kafka_partition   Int32 COMMENT 'Events-topic partition the row was read from',
    kafka_offset      Int64 COMMENT 'Events-topic offset the row was read from',
    inserted_at       DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the row was written; the version: the newest write of an event_id wins',
    note              String MATERIALIZED attrs['msg'] COMMENT 'The operator''s note on the change (NetEase msg), from attrs at insert',
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_channel channel_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_actor actor TYPE bloom_filter GRANULARITY 4,
    INDEX idx_occurred_at occurred_at TYPE minmax GRANULARITY 1,
    INDEX idx_body_ngram lowerUTF8(body) TYPE ngrambf_v1(3, 65536, 2, 0) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (source, app, msg_id, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 1000, min_age_to_force_merge_seconds = 21600, min_age_to_force_merge_on_partition_only = 1
COMMENT 'Storage of message updates (may hold not yet merged repeats): read the message_updates view';

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
    body               String CODEC(ZSTD(3)) COMMENT 'Notification text (after the change, for an update)',
    attrs              Map(String, String) EPHEMERAL COMMENT 'Every top-level field of the payload as received, as the consumer writes it; not stored as such: attrs_rest and attrs_promoted keep it (read attrs_full, or the view''s attrs)',
    attrs_columns      Map(String, String) ALIAS map(
        'eventType', toString(platform_type), 'type', toString(platform_subtype), 'status', toString(platform_subtype),
        'fromAccount', sender, 'fromNick', sender_nick, 'fromClientType', toString(sender_client_type),
        'fromDeviceId', sender_device_id, 'clientIp', sender_ip, 'serverId', server_id, 'channelId', channel_id,
        'toAccount', to_account, 'msgIdServer', msg_id, 'msgId', msg_id, 'msgIdClient', client_msg_id, 'body', body,
        'msgTimestamp', toString(toUnixTimestamp64Milli(msg_time)),
        'time', toString(toUnixTimestamp64Milli(occurred_at))) COMMENT 'The payload fields that have columns of their own, rendered from those columns as the platform writes them',
    attrs_promoted     Array(LowCardinality(String)) DEFAULT arrayMap(x -> substring(x, position(x, ':') + 1, toUInt64(substring(x, 1, position(x, ':') - 1))),
        arrayIntersect(arrayMap((k, v) -> concat(toString(length(k)), ':', k, v), mapKeys(attrs), mapValues(attrs)),
                       arrayMap((k, v) -> concat(toString(length(k)), ':', k, v), mapKeys(attrs_columns), mapValues(attrs_columns)))) COMMENT 'The payload fields kept only in their columns: those whose value as received equals their rendering in attrs_columns, byte for byte',
    attrs_rest         Map(String, String) DEFAULT mapFilter((k, v) -> NOT has(attrs_promoted, k), attrs) CODEC(ZSTD(3)) COMMENT 'The payload fields not kept in columns, as received',
    attrs_full         Map(String, String) ALIAS mapUpdate(attrs_rest, mapFilter((k, v) -> has(attrs_promoted, k), attrs_columns)) COMMENT 'Every top-level field of the payload as received (non-strings as JSON text): attrs_rest with the promoted fields rendered back from their columns',
    kafka_partition    Int32 COMMENT 'Events-topic partition the row was read from',
    kafka_offset       Int64 COMMENT 'Events-topic offset the row was read from',
    inserted_at        DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the row was written; the version: the newest write of an event_id wins',
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_msg_id msg_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_accounts (sender, to_account) TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (source, app, server_id, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 1000, min_age_to_force_merge_seconds = 21600, min_age_to_force_merge_on_partition_only = 1
COMMENT 'Storage of notification history (may hold not yet merged repeats): read the notifications view';

CREATE TABLE IF NOT EXISTS presence_events_data
(
    event_id         String COMMENT 'Deterministic event id; the deduplication key',
    source           LowCardinality(String) COMMENT 'Platform: netease_qchat or ilink',
    app              LowCardinality(String) COMMENT 'Platform application',
    account          String COMMENT 'Account that logged in or out (NetEase accid, iLink from_uid)',
    connection       String COMMENT 'The connection whose online-state timestamp the copy is ordered against: consid:CONSID, else device:CLIENTTYPE/DEVICEID, else empty (the account is its one connection: iLink, Maxim)',
    connection_id    String COMMENT 'The platform''s id of the long connection (NetEase consid); empty where the copy names none',
    op               LowCardinality(String) COMMENT 'login, heartbeat, online (online); logout, dropped, kicked_multi_device, kicked_by_sdk, kicked_by_server, replaced, offline (offline)',
    online           Bool COMMENT 'The copy means its connection is online (login, heartbeat renewal, iLink online); every other op closes the connection',
    reason           LowCardinality(String) COMMENT 'Why the connection went offline (the op of an offline copy); empty for online copies',
    stale            Bool COMMENT 'Older than its connection''s online-state timestamp when it arrived (a copy of the same connection with a greater time arrived before it): kept, but did not change the state. An equal time is not stale',
    arrival          UInt64 COMMENT 'Order of the copy''s first arrival among its account''s copies (1, 2, …): equal times are applied in this order',
    since            DateTime64(3, 'UTC') COMMENT 'For an applied copy: since when its connection has been in the state the copy left it in (the first applied copy of the run of online, or of offline, copies); 1970-01-01 for a stale copy',
    platform_type    LowCardinality(String) COMMENT 'The platform''s own event type code (NetEase 47, iLink msg_type 4)',
    platform_subtype LowCardinality(String) COMMENT 'The platform''s own presence code (NetEase type 1-8, iLink type 1/0)',
    occurred_at      DateTime64(3, 'UTC') COMMENT 'Platform time of the copy (NetEase time; iLink time, seconds): compared with the connection''s online-state timestamp',
    received_at      DateTime64(3, 'UTC') COMMENT 'When imarchive received the callback, UTC',
    device_id        String COMMENT 'Device id of the connection (NetEase deviceId)',
    client_type      LowCardinality(String) COMMENT 'Client type of the connection (NetEase clientType: AOS, IOS, PC, WEB…)',
    client_ip        String COMMENT 'Client IP address (NetEase clientIp)',
    expires_at       DateTime64(3, 'UTC') COMMENT 'For an online copy of a platform with heartbeat renewals: occurred_at + renewal period + grace, after which its connection is expired unless renewed; 1970-01-01 when it does not expire',
    attrs            Map(String, String) EPHEMERAL COMMENT 'Every top-level field of the payload as received, as the consumer writes it; not stored as such: attrs_rest and attrs_promoted keep it (read attrs_full, or the view''s attrs)',
    attrs_columns    Map(String, String) ALIAS map(
        'eventType', toString(platform_type), 'msg_type', toString(platform_type), 'type', toString(platform_subtype),
        'accid', account, 'from_uid', account, 'clientType', toString(client_type), 'deviceId', device_id,
        'clientIp', client_ip, 'clientPort', client_port, 'consid', connection_id, 'sdkVersion', toString(sdk_version),
        'loginTime', toString(toUnixTimestamp64Milli(login_time)),
        'time', if(source = 'ilink', toString(toUnixTimestamp(occurred_at)), toString(toUnixTimestamp64Milli(occurred_at)))) COMMENT 'The payload fields that have columns of their own, rendered from those columns as the platform writes them',
    attrs_promoted   Array(LowCardinality(String)) DEFAULT arrayMap(x -> substring(x, position(x, ':') + 1, toUInt64(substring(x, 1, position(x, ':') - 1))),
        arrayIntersect(arrayMap((k, v) -> concat(toString(length(k)), ':', k, v), mapKeys(attrs), mapValues(attrs)),
                       arrayMap((k, v) -> concat(toString(length(k)), ':', k, v), mapKeys(attrs_columns), mapValues(attrs_columns)))) COMMENT 'The payload fields kept only in their columns: those whose value as received equals their rendering in attrs_columns, byte for byte',
    attrs_rest       Map(String, String) DEFAULT mapFilter((k, v) -> NOT has(attrs_promoted, k), attrs) CODEC(ZSTD(3)) COMMENT 'The payload fields not kept in columns, as received',
    attrs_full       Map(String, String) ALIAS mapUpdate(attrs_rest, mapFilter((k, v) -> has(attrs_promoted, k), attrs_columns)) COMMENT 'Every top-level field of the payload as received (non-strings as JSON text): attrs_rest with the promoted fields rendered back from their columns',
    kafka_partition  Int32 COMMENT 'Events-topic partition the row was read from',
    kafka_offset     Int64 COMMENT 'Events-topic offset the row was read from',
    inserted_at      DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the row was written; the version',
    login_time       DateTime64(3, 'UTC') COMMENT 'When the connection logged in, as the platform says (NetEase loginTime, on every copy of the connection); 1970-01-01 where absent',
    client_port      String COMMENT 'Client port of the connection (NetEase clientPort)',
    sdk_version      LowCardinality(String) COMMENT 'SDK build of the client (NetEase sdkVersion; sdkHumanVersion stays in attrs)',
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_device device_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_connection_id connection_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (source, app, account, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 1000, min_age_to_force_merge_seconds = 21600, min_age_to_force_merge_on_partition_only = 1
COMMENT 'Storage of presence events (may hold not yet merged repeats): read the presence_events view';

CREATE TABLE IF NOT EXISTS community_events_data
(
    event_id          String COMMENT 'Deterministic event id; the deduplication key',
    source            LowCardinality(String) COMMENT 'Platform: netease_qchat',
    app               LowCardinality(String) COMMENT 'Platform application (NetEase appkey)',
    kind              LowCardinality(String) COMMENT 'server, member, channel, role or permission',
    op                LowCardinality(String) COMMENT 'What happened, platform-independent (create, update, delete, invite, join, leave, kick, …)',
    platform_type     LowCardinality(String) COMMENT 'The platform''s own event type code (NetEase eventType 50-79)',
    platform_subtype  LowCardinality(String) COMMENT 'The platform''s refinement, where it has one',
    occurred_at       DateTime64(3, 'UTC') COMMENT 'Platform time of the operation (NetEase time), UTC',
    received_at       DateTime64(3, 'UTC') COMMENT 'When imarchive received the callback, UTC',
    actor             String COMMENT 'Account that did it (NetEase accid: the operator)',
    actor_nick        String COMMENT 'Operator user name or nickname (username, fromNick)',
    actor_client_type LowCardinality(String) COMMENT 'Operator client type, where given',
    actor_ip          String COMMENT 'Operator IP address, where given',
    server_id         String COMMENT 'QChat server (community) id',
    channel_id        String COMMENT 'QChat channel id (channel, channel role and channel permission events)',
    target_account    String COMMENT 'The one account acted upon (invited, applying, member changed, given custom permissions), where there is one',
    accounts          Array(String) COMMENT 'Every account acted upon, from the platform''s lists (inviteAccids, kickAccids, memberAccids, accids, targetAccidList) and target_account',
    role_id           String COMMENT 'Role (身份组) id a role or permission event is about (roleid, identifyId)',
    role_ids          Array(String) COMMENT 'Role ids of a bulk role event (roleids; the roles of roleIdPriority, ascending)',
    name              String COMMENT 'Name of the server, channel or role created or changed',
    inviter           String DEFAULT multiIf(source != 'netease_qchat', '', (platform_type IN ('54', '55')), attrs['inviteAccid'], (platform_type IN ('61', '62', '76')), attrs['inviter'], '') COMMENT 'The account whose invitation a membership event concerns (54, 55 inviteAccid) or that invited the member concerned (61, 62, 76 inviter); not an account acted upon',
    member_type       LowCardinality(String) DEFAULT if((source = 'netease_qchat') AND (platform_type IN ('61', '62', '76')), attrs['type'], '') COMMENT 'target_account''s member type (61, 62, 76 type): 0 ordinary member, 1 owner',
    channel_type      LowCardinality(String) DEFAULT if((source = 'netease_qchat') AND (platform_type IN ('63', '65')), attrs['type'], '') COMMENT 'Channel type as created or changed (63, 65 type): 0 message channel, 100 custom',
    channel_view_mode LowCardinality(String) DEFAULT if((source = 'netease_qchat') AND (platform_type IN ('63', '65')), attrs['viewmode'], '') COMMENT 'Channel view mode as created or changed (63, 65 viewmode): 0 public, 1 private',
    role_priorities   Map(String, Int64) DEFAULT multiIf((source = 'netease_qchat') AND (platform_type = '79'), mapFromArrays(arrayMap(kv -> tupleElement(kv, 1), JSONExtractKeysAndValuesRaw(attrs['roleIdPriority'])), arrayMap(kv -> toInt64OrZero(trimBoth(tupleElement(kv, 2), '"')), JSONExtractKeysAndValuesRaw(attrs['roleIdPriority']))), (source = 'netease_qchat') AND (platform_type IN ('68', '69')) AND ((attrs['priority']) != '') AND ((attrs['roleid']) != ''), map(attrs['roleid'], toInt64OrZero(attrs['priority'])), map()) COMMENT 'Priority given to each role (79 roleIdPriority; 68, 69 priority of role_id): higher is stronger, @everyone 0',
    channel_topic     String DEFAULT if((source = 'netease_qchat') AND (platform_type IN ('63', '65')), attrs['topic'], '') COMMENT 'Channel topic as created or changed (63, 65 topic); empty when the copy sets none',
    attrs             Map(String, String) EPHEMERAL COMMENT 'Every top-level field of the payload as received, as the consumer writes it; not stored as such: attrs_rest and attrs_promoted keep it (read attrs_full, or the view''s attrs)',
    attrs_columns     Map(String, String) ALIAS map(
        'eventType', toString(platform_type), 'accid', actor, 'fromNick', actor_nick, 'clientIp', actor_ip,
        'serverId', server_id, 'channelId', channel_id, 'name', name, 'roleid', role_id, 'topic', channel_topic,
        'time', toString(toUnixTimestamp64Milli(occurred_at))) COMMENT 'The payload fields that have columns of their own, rendered from those columns as the platform writes them',
    attrs_promoted    Array(LowCardinality(String)) DEFAULT arrayMap(x -> substring(x, position(x, ':') + 1, toUInt64(substring(x, 1, position(x, ':') - 1))),
        arrayIntersect(arrayMap((k, v) -> concat(toString(length(k)), ':', k, v), mapKeys(attrs), mapValues(attrs)),
                       arrayMap((k, v) -> concat(toString(length(k)), ':', k, v), mapKeys(attrs_columns), mapValues(attrs_columns)))) COMMENT 'The payload fields kept only in their columns: those whose value as received equals their rendering in attrs_columns, byte for byte',
    attrs_rest        Map(String, String) DEFAULT mapFilter((k, v) -> NOT has(attrs_promoted, k), attrs) CODEC(ZSTD(3)) COMMENT 'The payload fields not kept in columns, as received',
    attrs_full        Map(String, String) ALIAS mapUpdate(attrs_rest, mapFilter((k, v) -> has(attrs_promoted, k), attrs_columns)) COMMENT 'Every top-level field of the payload as received (non-strings as JSON text): attrs_rest with the promoted fields rendered back from their columns',
    kafka_partition   Int32 COMMENT 'Events-topic partition the row was read from',
    kafka_offset      Int64 COMMENT 'Events-topic offset the row was read from',
    inserted_at       DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the row was written; the version',
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_channel channel_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_accounts accounts TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (source, app, server_id, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 1000, min_age_to_force_merge_seconds = 21600, min_age_to_force_merge_on_partition_only = 1
COMMENT 'Storage of community events (may hold not yet merged repeats): read the community_events view';

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
    attrs             Map(String, String) EPHEMERAL COMMENT 'Every top-level field of the payload as received, as the consumer writes it; not stored as such: attrs_rest and attrs_promoted keep it (read attrs_full, or the view''s attrs)',
    attrs_columns     Map(String, String) ALIAS map(
        'eventType', toString(platform_type), 'fromAccount', actor, 'fromNick', actor_nick,
        'fromClientType', toString(actor_client_type), 'fromDeviceId', actor_device_id, 'clientIp', actor_ip,
        'serverId', server_id, 'channelId', channel_id, 'msgIdServer', msg_id, 'msgSenderAccid', msg_sender,
        'msgTime', toString(toUnixTimestamp64Milli(msg_time)), 'quickCommentType', comment_type,
        'time', toString(toUnixTimestamp64Milli(occurred_at))) COMMENT 'The payload fields that have columns of their own, rendered from those columns as the platform writes them',
    attrs_promoted    Array(LowCardinality(String)) DEFAULT arrayMap(x -> substring(x, position(x, ':') + 1, toUInt64(substring(x, 1, position(x, ':') - 1))),
        arrayIntersect(arrayMap((k, v) -> concat(toString(length(k)), ':', k, v), mapKeys(attrs), mapValues(attrs)),
                       arrayMap((k, v) -> concat(toString(length(k)), ':', k, v), mapKeys(attrs_columns), mapValues(attrs_columns)))) COMMENT 'The payload fields kept only in their columns: those whose value as received equals their rendering in attrs_columns, byte for byte',
    attrs_rest        Map(String, String) DEFAULT mapFilter((k, v) -> NOT has(attrs_promoted, k), attrs) CODEC(ZSTD(3)) COMMENT 'The payload fields not kept in columns, as received',
    attrs_full        Map(String, String) ALIAS mapUpdate(attrs_rest, mapFilter((k, v) -> has(attrs_promoted, k), attrs_columns)) COMMENT 'Every top-level field of the payload as received (non-strings as JSON text): attrs_rest with the promoted fields rendered back from their columns',
    kafka_partition   Int32 COMMENT 'Events-topic partition the row was read from',
    kafka_offset      Int64 COMMENT 'Events-topic offset the row was read from',
    inserted_at       DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the row was written; the version',
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_channel channel_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (source, app, msg_id, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 1000, min_age_to_force_merge_seconds = 21600, min_age_to_force_merge_on_partition_only = 1
COMMENT 'Storage of quick comments (may hold not yet merged repeats): read the quick_comments view';

-- The state tables' feeds, again on the new tables (their definitions of 0004 and 0075).
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

CREATE MATERIALIZED VIEW IF NOT EXISTS presence_connection_mv TO presence_connection_agg
(
    source         LowCardinality(String) COMMENT 'Platform',
    app            LowCardinality(String) COMMENT 'Platform application',
    account        String COMMENT 'Account',
    connection     String COMMENT 'Connection',
    last           AggregateFunction(argMax, Tuple(Bool, String, DateTime64(3, 'UTC'), String, UInt64, DateTime64(3, 'UTC'), DateTime64(3, 'UTC'), String, String, String, DateTime64(3, 'UTC'), String, String), Tuple(DateTime64(3, 'UTC'), UInt64)) COMMENT 'The last applied copy',
    last_online_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'Greatest time of an applied online copy'
)
AS
SELECT source, app, account, connection,
    argMaxState(tuple(online, toString(op), occurred_at, event_id, arrival, since, expires_at, device_id, toString(client_type),
                      connection_id, login_time, client_port, toString(sdk_version)), tuple(occurred_at, arrival)) AS last,
    maxIf(occurred_at, online) AS last_online_at
FROM presence_events_data
WHERE NOT stale AND arrival > 0
GROUP BY source, app, account, connection;
