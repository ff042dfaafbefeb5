-- Presence: every login, logout, drop, kick and heartbeat (NetEase eventType 47 types 1-8, iLink
-- status), with the online-state rule's verdict, and the state it gives per account and per device.
--
-- The rule (NetEase manual, eventType 47; pipeline/presence.go): per account, the event with the
-- greatest time decides the state; an event that arrives after one with a greater time is kept here
-- with stale = true and does not change the state. Equal times are ordered online before offline (a
-- reconnect's login and the old connection's drop or replacement share a time, and the account is
-- online), then by event_id, so the state never depends on arrival order. Heartbeat renewals come
-- every 30 minutes: an online state whose expires_at has passed is reported as expired, not online.
--
-- Deduplication: ReplacingMergeTree on a key fixed per event_id; a re-delivered event is written with
-- the verdict it got the first time (the consumer looks it up here), so repeats fold into one row.
-- The state tables are argMax aggregations, which a repeated row does not change.
CREATE TABLE IF NOT EXISTS presence_events_data
(
    event_id         String COMMENT 'Deterministic event id; the deduplication key',
    source           LowCardinality(String) COMMENT 'Platform: netease_qchat or ilink',
    app              LowCardinality(String) COMMENT 'Platform application',
    account          String COMMENT 'Account that logged in or out (NetEase accid, iLink from_uid)',
    op               LowCardinality(String) COMMENT 'login, heartbeat, online (online); logout, dropped, kicked_multi_device, kicked_by_sdk, kicked_by_server, replaced, offline (offline)',
    online           Bool COMMENT 'The event means online (login, heartbeat renewal, iLink online)',
    reason           LowCardinality(String) COMMENT 'Why the account went offline (the op of an offline event); empty for online events',
    stale            Bool COMMENT 'Arrived after an event of the same account with a greater time (or an equal time ordered after it): kept, but did not change the state',
    platform_type    LowCardinality(String) COMMENT 'The platform''s own event type code (NetEase 47, iLink msg_type 4)',
    platform_subtype LowCardinality(String) COMMENT 'The platform''s own presence code (NetEase type 1-8, iLink type 1/0)',
    occurred_at      DateTime64(3, 'UTC') COMMENT 'Platform time of the event (NetEase time; iLink time, seconds): the online-state timestamp',
    received_at      DateTime64(3, 'UTC') COMMENT 'When imarchive received the callback, UTC',
    device_id        String COMMENT 'Device id of the connection (NetEase deviceId)',
    client_type      LowCardinality(String) COMMENT 'Client type of the connection (NetEase clientType: AOS, IOS, PC, WEB…)',
    client_ip        String COMMENT 'Client IP address (NetEase clientIp)',
    expires_at       DateTime64(3, 'UTC') COMMENT 'For an online event of a platform with heartbeat renewals: occurred_at + renewal period + grace, after which the state is expired; 1970-01-01 when it does not expire',
    attrs            Map(String, String) COMMENT 'Every top-level field of the payload as received (consid, loginTime, sdkVersion, customTag, …)',
    kafka_partition  Int32 COMMENT 'Events-topic partition the row was read from',
    kafka_offset     Int64 COMMENT 'Events-topic offset the row was read from',
    inserted_at      DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the row was written; the version',
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_device device_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (source, app, account, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Storage of presence events (may hold not yet merged repeats): read the presence_events view';

CREATE TABLE IF NOT EXISTS presence_state_agg
(
    source         LowCardinality(String) COMMENT 'Platform',
    app            LowCardinality(String) COMMENT 'Platform application',
    account        String COMMENT 'Account',
    last           AggregateFunction(argMax, Tuple(Bool, String, DateTime64(3, 'UTC'), String, String, String, DateTime64(3, 'UTC')), Tuple(DateTime64(3, 'UTC'), Bool, String)) COMMENT 'State: (online, op, occurred_at, event_id, device_id, client_type, expires_at) of the event greatest by (occurred_at, online, event_id); read with argMaxMerge',
    last_online_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'Greatest time of an online event'
)
ENGINE = AggregatingMergeTree
ORDER BY (source, app, account)
COMMENT 'Aggregation state behind the presence_state view (fed by presence_state_mv); not for direct reading';

CREATE MATERIALIZED VIEW IF NOT EXISTS presence_state_mv TO presence_state_agg
(
    source         LowCardinality(String) COMMENT 'Platform',
    app            LowCardinality(String) COMMENT 'Platform application',
    account        String COMMENT 'Account',
    last           AggregateFunction(argMax, Tuple(Bool, String, DateTime64(3, 'UTC'), String, String, String, DateTime64(3, 'UTC')), Tuple(DateTime64(3, 'UTC'), Bool, String)) COMMENT 'State of the deciding event',
    last_online_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'Greatest time of an online event'
)
AS
SELECT source, app, account,
    argMaxState(tuple(online, op, occurred_at, event_id, device_id, client_type, expires_at), tuple(occurred_at, online, event_id)) AS last,
    maxIf(occurred_at, online) AS last_online_at
FROM presence_events_data
GROUP BY source, app, account;

CREATE TABLE IF NOT EXISTS presence_device_agg
(
    source         LowCardinality(String) COMMENT 'Platform',
    app            LowCardinality(String) COMMENT 'Platform application',
    account        String COMMENT 'Account',
    device_id      String COMMENT 'Device id',
    client_type    LowCardinality(String) COMMENT 'Client type',
    last           AggregateFunction(argMax, Tuple(Bool, String, DateTime64(3, 'UTC'), String, DateTime64(3, 'UTC')), Tuple(DateTime64(3, 'UTC'), Bool, String)) COMMENT 'State: (online, op, occurred_at, event_id, expires_at) of the device''s event greatest by (occurred_at, online, event_id)',
    last_online_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'Greatest time of an online event of the device'
)
ENGINE = AggregatingMergeTree
ORDER BY (source, app, account, device_id, client_type)
COMMENT 'Aggregation state behind the presence_devices view (fed by presence_device_mv); not for direct reading';

CREATE MATERIALIZED VIEW IF NOT EXISTS presence_device_mv TO presence_device_agg
(
    source         LowCardinality(String) COMMENT 'Platform',
    app            LowCardinality(String) COMMENT 'Platform application',
    account        String COMMENT 'Account',
    device_id      String COMMENT 'Device id',
    client_type    LowCardinality(String) COMMENT 'Client type',
    last           AggregateFunction(argMax, Tuple(Bool, String, DateTime64(3, 'UTC'), String, DateTime64(3, 'UTC')), Tuple(DateTime64(3, 'UTC'), Bool, String)) COMMENT 'State of the device''s deciding event',
    last_online_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'Greatest time of an online event of the device'
)
AS
SELECT source, app, account, device_id, client_type,
    argMaxState(tuple(online, op, occurred_at, event_id, expires_at), tuple(occurred_at, online, event_id)) AS last,
    maxIf(occurred_at, online) AS last_online_at
FROM presence_events_data
GROUP BY source, app, account, device_id, client_type;

CREATE VIEW IF NOT EXISTS presence_events
(
    event_id         String COMMENT 'Deterministic event id; the key to the raw payload',
    source           LowCardinality(String) COMMENT 'Platform: netease_qchat or ilink',
    app              LowCardinality(String) COMMENT 'Platform application',
    account          String COMMENT 'Account that logged in or out',
    op               LowCardinality(String) COMMENT 'login, heartbeat, online; logout, dropped, kicked_multi_device, kicked_by_sdk, kicked_by_server, replaced, offline',
    online           Bool COMMENT 'The event means online',
    reason           LowCardinality(String) COMMENT 'Why the account went offline; empty for online events',
    stale            Bool COMMENT 'Arrived after an event of the same account with a greater time: did not change the state',
    platform_type    LowCardinality(String) COMMENT 'The platform''s own event type code',
    platform_subtype LowCardinality(String) COMMENT 'The platform''s own presence code (NetEase type 1-8, iLink 1/0)',
    occurred_at      DateTime64(3, 'UTC') COMMENT 'Platform time of the event: the online-state timestamp',
    received_at      DateTime64(3, 'UTC') COMMENT 'When imarchive received it',
    device_id        String COMMENT 'Device id of the connection',
    client_type      LowCardinality(String) COMMENT 'Client type of the connection',
    client_ip        String COMMENT 'Client IP address',
    connection_id    String COMMENT 'The platform''s id of the long connection (NetEase consid)',
    expires_at       DateTime64(3, 'UTC') COMMENT 'When an online state from this event expires without a renewal; 1970-01-01 for never',
    attrs            Map(String, String) COMMENT 'Every top-level field of the payload as received'
)
AS SELECT event_id, source, app, account, op, online, reason, stale, platform_type, platform_subtype, occurred_at,
    received_at, device_id, client_type, client_ip, attrs['consid'] AS connection_id, expires_at, attrs
FROM presence_events_data FINAL;

CREATE VIEW IF NOT EXISTS presence_state
(
    source         LowCardinality(String) COMMENT 'Platform',
    app            LowCardinality(String) COMMENT 'Platform application',
    account        String COMMENT 'Account',
    status         LowCardinality(String) COMMENT 'online, offline, or expired (online, but no renewal within the renewal period plus grace: the platform''s advice for lost logout copies)',
    online         Bool COMMENT 'status = online',
    state_op       LowCardinality(String) COMMENT 'op of the event that decided the state (login, heartbeat, logout, dropped, kicked_…)',
    offline_reason LowCardinality(String) COMMENT 'Why the account is offline (the deciding op); empty when online or expired',
    state_time     DateTime64(3, 'UTC') COMMENT 'The online-state timestamp: time of the deciding event, the greatest time seen for the account',
    state_event_id String COMMENT 'event_id of the deciding event',
    device_id      String COMMENT 'Device of the deciding event',
    client_type    LowCardinality(String) COMMENT 'Client type of the deciding event',
    expires_at     DateTime64(3, 'UTC') COMMENT 'When an online state expires without a renewal; 1970-01-01 for never',
    last_online_at DateTime64(3, 'UTC') COMMENT 'Greatest time of an online event (login or renewal) of the account'
)
AS SELECT source, app, account,
    multiIf(NOT tupleElement(s, 1), 'offline',
            tupleElement(s, 7) > toDateTime64(0, 3, 'UTC') AND tupleElement(s, 7) < now64(3), 'expired',
            'online') AS status,
    status = 'online' AS online,
    tupleElement(s, 2) AS state_op,
    if(tupleElement(s, 1), '', tupleElement(s, 2)) AS offline_reason,
    tupleElement(s, 3) AS state_time,
    tupleElement(s, 4) AS state_event_id,
    tupleElement(s, 5) AS device_id,
    tupleElement(s, 6) AS client_type,
    tupleElement(s, 7) AS expires_at,
    last_online_at
FROM
(
    SELECT source, app, account, argMaxMerge(last) AS s, max(last_online_at) AS last_online_at
    FROM presence_state_agg
    GROUP BY source, app, account
);

CREATE VIEW IF NOT EXISTS presence_devices
(
    source         LowCardinality(String) COMMENT 'Platform',
    app            LowCardinality(String) COMMENT 'Platform application',
    account        String COMMENT 'Account',
    device_id      String COMMENT 'Device id (empty where the platform gives none, as iLink)',
    client_type    LowCardinality(String) COMMENT 'Client type',
    status         LowCardinality(String) COMMENT 'online, offline or expired, by the same rule as presence_state, for this device alone',
    online         Bool COMMENT 'status = online',
    state_op       LowCardinality(String) COMMENT 'op of the device''s deciding event',
    offline_reason LowCardinality(String) COMMENT 'Why the device is offline; empty when online or expired',
    state_time     DateTime64(3, 'UTC') COMMENT 'Time of the device''s deciding event',
    state_event_id String COMMENT 'event_id of the deciding event',
    expires_at     DateTime64(3, 'UTC') COMMENT 'When an online state expires without a renewal; 1970-01-01 for never',
    last_online_at DateTime64(3, 'UTC') COMMENT 'Greatest time of an online event of the device'
)
AS SELECT source, app, account, device_id, client_type,
    multiIf(NOT tupleElement(s, 1), 'offline',
            tupleElement(s, 5) > toDateTime64(0, 3, 'UTC') AND tupleElement(s, 5) < now64(3), 'expired',
            'online') AS status,
    status = 'online' AS online,
    tupleElement(s, 2) AS state_op,
    if(tupleElement(s, 1), '', tupleElement(s, 2)) AS offline_reason,
    tupleElement(s, 3) AS state_time,
    tupleElement(s, 4) AS state_event_id,
    tupleElement(s, 5) AS expires_at,
    last_online_at
FROM
(
    SELECT source, app, account, device_id, client_type, argMaxMerge(last) AS s, max(last_online_at) AS last_online_at
    FROM presence_device_agg
    GROUP BY source, app, account, device_id, client_type
);
