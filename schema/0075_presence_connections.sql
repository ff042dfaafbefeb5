-- The online-state rule per connection, as the NetEase manual (eventType 47) writes it; it replaces the
-- per-account state of 0006 and recomputes every verdict already recorded.
--
-- The manual: "由于登录和登出的事件抄送并不一定成对出现,可能出现乱序或丢失 … 需要解析登录抄送的时间戳字段 time,
-- 并将其维护为'在线状态时间戳';如果新到达的登录登出抄送的时间戳小于已保存的'在线状态时间戳',则需要忽略新到达的
-- 登录/登出抄送" (copies may arrive out of order or be lost; keep the time as the online-state timestamp and
-- ignore a newly arrived copy whose time is SMALLER than it). Read here (pipeline/doc.go has every reading):
--   - the stamp lives per connection: the copy's consid (长连接唯一标识, the long connection's unique id) where
--     it has one; else its deviceId and clientType; else the account (iLink status pushes carry neither);
--   - a copy whose time is strictly smaller than its connection's stamp when it arrives is stale: kept here,
--     flagged, without effect. Any other copy is applied, in arrival order (an equal time too), and its
--     time becomes the stamp;
--   - a connection is online after an applied 1 (登录) or 8 (心跳续约), offline after an applied 2–7; 7
--     (重复连接导致的旧连接自动断开, the old connection closed by a reconnect) closes that connection only;
--   - a device is online when any of its connections is, an account when any of its connections is online
--     and not expired: a NetEase connection without a renewal (心跳续约, every 30 minutes) for the heartbeat
--     period plus grace is expired ("如网络抖动导致用户掉线抄送丢失时,可以通过心跳续约抄送判断用户是否已下线");
--   - cases the manual leaves open: a 2–7 of a consid never seen logging in is recorded, offline, and changes
--     nothing for the other connections; a renewal without a login makes its connection online (the login copy
--     may be lost); a copy without consid is kept apart from the consid connections of its device.
--
-- Recomputing: stop consume, run migrate, start the new consume. Every row is written again with the
-- verdict the rule gives in arrival order, and the rows of 0006's verdicts are deleted. The arrival order of
-- rows written before this migration is read from when they were received (received_at, then their
-- events-topic partition and offset), the best record of it there is. The verdict is not recursive: a copy
-- is stale exactly when an earlier copy of its connection has a greater time (a stale copy never raises the
-- stamp, so the stamp at a copy's arrival is the greatest time among the earlier copies). A re-run of this
-- file, after an interruption, recomputes the same values from the same columns.

DROP VIEW IF EXISTS presence_state;
DROP VIEW IF EXISTS presence_devices;
DROP VIEW IF EXISTS presence_events;
DROP TABLE IF EXISTS presence_state_mv;
DROP TABLE IF EXISTS presence_device_mv;
DROP TABLE IF EXISTS presence_state_agg;
DROP TABLE IF EXISTS presence_device_agg;

ALTER TABLE presence_events_data
    ADD COLUMN IF NOT EXISTS connection String COMMENT 'The connection whose online-state timestamp the copy is ordered against: consid:CONSID, else device:CLIENTTYPE/DEVICEID, else empty (the account is its one connection: iLink, Maxim)' AFTER account,
    ADD COLUMN IF NOT EXISTS connection_id String COMMENT 'The platform''s id of the long connection (NetEase consid); empty where the copy names none' AFTER connection,
    ADD COLUMN IF NOT EXISTS arrival UInt64 COMMENT 'Order of the copy''s first arrival among its account''s copies (1, 2, …): equal times are applied in this order' AFTER stale,
    ADD COLUMN IF NOT EXISTS since DateTime64(3, 'UTC') COMMENT 'For an applied copy: since when its connection has been in the state the copy left it in (the first applied copy of the run of online, or of offline, copies); 1970-01-01 for a stale copy' AFTER arrival,
    ADD COLUMN IF NOT EXISTS login_time DateTime64(3, 'UTC') COMMENT 'When the connection logged in, as the platform says (NetEase loginTime, on every copy of the connection); 1970-01-01 where absent',
    ADD COLUMN IF NOT EXISTS client_port String COMMENT 'Client port of the connection (NetEase clientPort)',
    ADD COLUMN IF NOT EXISTS sdk_version LowCardinality(String) COMMENT 'SDK build of the client (NetEase sdkVersion; sdkHumanVersion stays in attrs)';

ALTER TABLE presence_events_data
    COMMENT COLUMN stale 'Older than its connection''s online-state timestamp when it arrived (a copy of the same connection with a greater time arrived before it): kept, but did not change the state. An equal time is not stale',
    COMMENT COLUMN online 'The copy means its connection is online (login, heartbeat renewal, iLink online); every other op closes the connection',
    COMMENT COLUMN reason 'Why the connection went offline (the op of an offline copy); empty for online copies',
    COMMENT COLUMN expires_at 'For an online copy of a platform with heartbeat renewals: occurred_at + renewal period + grace, after which its connection is expired unless renewed; 1970-01-01 when it does not expire',
    COMMENT COLUMN occurred_at 'Platform time of the copy (NetEase time; iLink time, seconds): compared with the connection''s online-state timestamp';

ALTER TABLE presence_events_data ADD INDEX IF NOT EXISTS idx_connection_id connection_id TYPE bloom_filter GRANULARITY 4;

-- Per connection: its last applied copy (greatest by time, then arrival) and the greatest time of an
-- online copy. Fed by every applied copy; a repeated row changes neither.
CREATE TABLE IF NOT EXISTS presence_connection_agg
(
    source         LowCardinality(String) COMMENT 'Platform',
    app            LowCardinality(String) COMMENT 'Platform application',
    account        String COMMENT 'Account',
    connection     String COMMENT 'Connection (consid:…, device:…, or empty for the account)',
    last           AggregateFunction(argMax, Tuple(Bool, String, DateTime64(3, 'UTC'), String, UInt64, DateTime64(3, 'UTC'), DateTime64(3, 'UTC'), String, String, String, DateTime64(3, 'UTC'), String, String), Tuple(DateTime64(3, 'UTC'), UInt64)) COMMENT 'The last applied copy: (online, op, occurred_at, event_id, arrival, since, expires_at, device_id, client_type, connection_id, login_time, client_port, sdk_version) of the applied copy greatest by (occurred_at, arrival); read with argMaxMerge. No client IP: the analyst reads this table (through the views), and IPs are the auditor''s (presence_events_data)',
    last_online_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'Greatest time of an applied online copy'
)
ENGINE = AggregatingMergeTree
ORDER BY (source, app, account, connection)
COMMENT 'Aggregation state behind presence_connections, presence_devices and presence_state (fed by presence_connection_mv); not for direct reading';

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

-- Every row again, with the rule's verdict (see above). connection and connection_id are computed as
-- pipeline.connectionKey and pipeline.connectionID compute them; login_time as pipeline.loginTimeMs.
INSERT INTO presence_events_data (event_id, source, app, account, connection, connection_id, op, online, reason, stale, arrival,
    since, platform_type, platform_subtype, occurred_at, received_at, device_id, client_type, client_ip, expires_at,
    login_time, client_port, sdk_version, attrs, kafka_partition, kafka_offset)
SELECT event_id, source, app, account, connection, connection_id, op, online, reason, stale, arrival,
    if(stale, toDateTime64(0, 3, 'UTC'),
       argMaxIf(occurred_at, arrival, run_start) OVER (PARTITION BY source, app, account, connection ORDER BY arrival
                                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS since,
    platform_type, platform_subtype, occurred_at, received_at, device_id, client_type, client_ip, expires_at,
    login_time, client_port, sdk_version, attrs, kafka_partition, kafka_offset
FROM
(
    SELECT *,
        NOT stale AND (countIf(NOT stale) OVER prev = 0 OR argMaxIf(online, arrival, NOT stale) OVER prev != online) AS run_start
    FROM
    (
        SELECT *,
            count() OVER prev > 0 AND occurred_at < max(occurred_at) OVER prev AS stale
        FROM
        (
            SELECT * EXCEPT (stale, connection, connection_id, arrival, since, login_time, client_port, sdk_version),
                if(source = 'netease_qchat', attrs['consid'], '') AS connection_id,
                multiIf(connection_id != '', concat('consid:', connection_id),
                        device_id != '' OR toString(client_type) != '', concat('device:', toString(client_type), '/', device_id),
                        '') AS connection,
                row_number() OVER (PARTITION BY source, app, account ORDER BY received_at, kafka_partition, kafka_offset, event_id) AS arrival,
                fromUnixTimestamp64Milli(if(toInt64OrZero(attrs['loginTime']) BETWEEN -2208988800000 AND 10413791999999,
                                            toInt64OrZero(attrs['loginTime']), 0), 'UTC') AS login_time,
                attrs['clientPort'] AS client_port,
                attrs['sdkVersion'] AS sdk_version
            FROM presence_events_data FINAL
        )
        WINDOW prev AS (PARTITION BY source, app, account, connection ORDER BY arrival ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
    )
    WINDOW prev AS (PARTITION BY source, app, account, connection ORDER BY arrival ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
);

-- The rows of 0006's verdicts (arrival 0), now that every copy has its recomputed row.
DELETE FROM presence_events_data WHERE arrival = 0;

CREATE VIEW IF NOT EXISTS presence_events
(
    event_id         String COMMENT 'Deterministic event id; the key to the raw payload',
    source           LowCardinality(String) COMMENT 'Platform: netease_qchat or ilink',
    app              LowCardinality(String) COMMENT 'Platform application',
    account          String COMMENT 'Account that logged in or out',
    op               LowCardinality(String) COMMENT 'login, heartbeat, online; logout, dropped, kicked_multi_device, kicked_by_sdk, kicked_by_server, replaced (NetEase 7: the old connection closed by a reconnect), offline',
    online           Bool COMMENT 'The copy means its connection is online',
    reason           LowCardinality(String) COMMENT 'Why the connection went offline; empty for online copies',
    stale            Bool COMMENT 'Arrived after a copy of the same connection with a greater time: kept, but did not change the state (an equal time is applied)',
    arrival          UInt64 COMMENT 'Order of first arrival among the account''s copies: equal times are applied in this order',
    platform_type    LowCardinality(String) COMMENT 'The platform''s own event type code',
    platform_subtype LowCardinality(String) COMMENT 'The platform''s own presence code (NetEase type 1-8, iLink 1/0)',
    occurred_at      DateTime64(3, 'UTC') COMMENT 'Platform time of the copy: compared with its connection''s online-state timestamp',
    received_at      DateTime64(3, 'UTC') COMMENT 'When imarchive received it',
    connection       String COMMENT 'The connection the copy is about: consid:…, device:CLIENTTYPE/DEVICEID, or empty (the account: iLink)',
    connection_id    String COMMENT 'The platform''s id of the long connection (NetEase consid)',
    device_id        String COMMENT 'Device id of the connection',
    client_type      LowCardinality(String) COMMENT 'Client type of the connection',
    client_ip        String COMMENT 'Client IP address',
    client_port      String COMMENT 'Client port (NetEase clientPort)',
    sdk_version      LowCardinality(String) COMMENT 'SDK build (NetEase sdkVersion)',
    login_time       DateTime64(3, 'UTC') COMMENT 'When the connection logged in, as the platform says (NetEase loginTime); 1970-01-01 where absent',
    since            DateTime64(3, 'UTC') COMMENT 'Applied copies: since when the connection has been in the state the copy left it in; 1970-01-01 for a stale copy',
    expires_at       DateTime64(3, 'UTC') COMMENT 'When the online state this copy gives its connection expires without a renewal; 1970-01-01 for never',
    attrs            Map(String, String) COMMENT 'Every top-level field of the payload as received'
)
AS SELECT event_id, source, app, account, op, online, reason, stale, arrival, platform_type, platform_subtype, occurred_at,
    received_at, connection, connection_id, device_id, client_type, client_ip, client_port, sdk_version, login_time, since,
    expires_at, attrs
FROM presence_events_data FINAL;

CREATE VIEW IF NOT EXISTS presence_connections
(
    source         LowCardinality(String) COMMENT 'Platform',
    app            LowCardinality(String) COMMENT 'Platform application',
    account        String COMMENT 'Account',
    connection     String COMMENT 'The connection: consid:…, device:CLIENTTYPE/DEVICEID, or empty (the account is its one connection: iLink)',
    connection_id  String COMMENT 'The platform''s id of the long connection (NetEase consid)',
    device_id      String COMMENT 'Device of the connection',
    client_type    String COMMENT 'Client type of the connection',
    status         String COMMENT 'online, offline, or expired (its last applied copy is online but no renewal came within the renewal period plus grace: the manual''s advice for lost logout copies)',
    online         Bool COMMENT 'status = online',
    since          DateTime64(3, 'UTC') COMMENT 'online: since its session began (its first applied online copy of the run, or the platform''s loginTime if earlier); offline: since its first applied offline copy of the run; expired: since the renewal deadline passed',
    state_op       String COMMENT 'op of its last applied copy (login, heartbeat, logout, dropped, kicked_…, replaced)',
    offline_reason String COMMENT 'Why it is offline (the op of its last applied copy); empty when online or expired',
    state_time     DateTime64(3, 'UTC') COMMENT 'Its online-state timestamp: the time of its last applied copy',
    state_arrival  UInt64 COMMENT 'arrival of its last applied copy',
    state_event_id String COMMENT 'event_id of its last applied copy',
    expires_at     DateTime64(3, 'UTC') COMMENT 'When its online state expires without a renewal; 1970-01-01 for never or offline',
    last_online_at DateTime64(3, 'UTC') COMMENT 'Greatest time of an applied online copy (login or renewal)',
    login_time     DateTime64(3, 'UTC') COMMENT 'When it logged in, as the platform says (NetEase loginTime); 1970-01-01 where absent',
    client_port    String COMMENT 'Client port (NetEase clientPort)',
    sdk_version    String COMMENT 'SDK build (NetEase sdkVersion)'
)
AS SELECT source, app, account, connection,
    tupleElement(s, 10) AS connection_id,
    tupleElement(s, 8) AS device_id,
    tupleElement(s, 9) AS client_type,
    multiIf(NOT tupleElement(s, 1), 'offline',
            toUnixTimestamp64Milli(tupleElement(s, 7)) != 0 AND tupleElement(s, 7) < now64(3), 'expired',
            'online') AS status,
    status = 'online' AS online,
    multiIf(status = 'expired', tupleElement(s, 7),
            status = 'online' AND toUnixTimestamp64Milli(tupleElement(s, 11)) != 0, least(tupleElement(s, 6), tupleElement(s, 11)),
            tupleElement(s, 6)) AS since,
    tupleElement(s, 2) AS state_op,
    if(status = 'offline', tupleElement(s, 2), '') AS offline_reason,
    tupleElement(s, 3) AS state_time,
    tupleElement(s, 5) AS state_arrival,
    tupleElement(s, 4) AS state_event_id,
    if(tupleElement(s, 1), tupleElement(s, 7), toDateTime64(0, 3, 'UTC')) AS expires_at,
    last_online_at,
    tupleElement(s, 11) AS login_time,
    tupleElement(s, 12) AS client_port,
    tupleElement(s, 13) AS sdk_version
FROM
(
    SELECT source, app, account, connection, argMaxMerge(last) AS s, max(last_online_at) AS last_online_at
    FROM presence_connection_agg
    GROUP BY source, app, account, connection
);

CREATE VIEW IF NOT EXISTS presence_devices
(
    source             LowCardinality(String) COMMENT 'Platform',
    app                LowCardinality(String) COMMENT 'Platform application',
    account            String COMMENT 'Account',
    device_id          String COMMENT 'Device id (empty where the platform gives none, as iLink)',
    client_type        String COMMENT 'Client type',
    status             String COMMENT 'online when any of its connections is online; else expired when any is expired; else offline',
    online             Bool COMMENT 'status = online',
    since              DateTime64(3, 'UTC') COMMENT 'online: the start of the oldest session among its connections online now; otherwise when its last connection ended (went offline, or passed its renewal deadline)',
    connections_online UInt64 COMMENT 'Its connections online now',
    connections        UInt64 COMMENT 'Its connections with any applied copy',
    state_op           String COMMENT 'op of its latest applied copy (by time, then arrival)',
    offline_reason     String COMMENT 'Why it is offline: the op of the last applied copy of the connection that ended last; empty when online or expired',
    state_time         DateTime64(3, 'UTC') COMMENT 'Time of its latest applied copy',
    state_event_id     String COMMENT 'event_id of its latest applied copy',
    expires_at         DateTime64(3, 'UTC') COMMENT 'online: when it expires without a renewal (the latest deadline among its online connections; 1970-01-01 for never); expired: the deadline that passed; offline: 1970-01-01',
    last_online_at     DateTime64(3, 'UTC') COMMENT 'Greatest time of an applied online copy of any of its connections'
)
AS SELECT source, app, account, device_id, client_type,
    multiIf(n_online > 0, 'online', n_expired > 0, 'expired', 'offline') AS status,
    status = 'online' AS online,
    if(n_online > 0, online_since, ended_at) AS since,
    n_online AS connections_online,
    n AS connections,
    latest_op AS state_op,
    if(status = 'offline', ended_op, '') AS offline_reason,
    latest_time AS state_time,
    latest_event AS state_event_id,
    multiIf(n_online > 0 AND n_never > 0, toDateTime64(0, 3, 'UTC'), n_online > 0, online_expiry,
            n_expired > 0, expired_at, toDateTime64(0, 3, 'UTC')) AS expires_at,
    last_online AS last_online_at
FROM
(
    SELECT source, app, account, device_id, client_type,
        countIf(status = 'online') AS n_online,
        countIf(status = 'expired') AS n_expired,
        countIf(status = 'online' AND toUnixTimestamp64Milli(expires_at) = 0) AS n_never,
        count() AS n,
        minIf(since, status = 'online') AS online_since,
        max(since) AS ended_at,
        argMax(state_op, tuple(since, state_arrival)) AS ended_op,
        argMax(state_op, tuple(state_time, state_arrival)) AS latest_op,
        max(state_time) AS latest_time,
        argMax(state_event_id, tuple(state_time, state_arrival)) AS latest_event,
        maxIf(expires_at, status = 'online') AS online_expiry,
        maxIf(expires_at, status = 'expired') AS expired_at,
        max(last_online_at) AS last_online
    FROM presence_connections
    GROUP BY source, app, account, device_id, client_type
);

CREATE VIEW IF NOT EXISTS presence_state
(
    source             LowCardinality(String) COMMENT 'Platform',
    app                LowCardinality(String) COMMENT 'Platform application',
    account            String COMMENT 'Account',
    status             String COMMENT 'online when any of its connections is online (not expired); else expired when any is expired (online, but no renewal within the renewal period plus grace: the manual''s advice for lost logout copies); else offline',
    online             Bool COMMENT 'status = online',
    since              DateTime64(3, 'UTC') COMMENT 'online: the start of the oldest session among its connections online now; otherwise when its last connection ended (went offline, or passed its renewal deadline)',
    devices_online     UInt64 COMMENT 'Devices (device_id, client_type) with a connection online now',
    connections_online UInt64 COMMENT 'Connections online now',
    devices            UInt64 COMMENT 'Devices with any applied copy',
    connections        UInt64 COMMENT 'Connections with any applied copy',
    state_op           String COMMENT 'op of its latest applied copy (by time, then arrival), whichever connection',
    offline_reason     String COMMENT 'Why it is offline: the op of the last applied copy of the connection that ended last (logout, dropped, kicked_…, replaced, offline); empty when online or expired',
    state_time         DateTime64(3, 'UTC') COMMENT 'Time of its latest applied copy: the greatest online-state timestamp among its connections',
    state_event_id     String COMMENT 'event_id of its latest applied copy',
    device_id          String COMMENT 'Device of its latest applied copy',
    client_type        String COMMENT 'Client type of its latest applied copy',
    expires_at         DateTime64(3, 'UTC') COMMENT 'online: when it expires without a renewal (the latest deadline among its online connections; 1970-01-01 for never); expired: the deadline that passed; offline: 1970-01-01',
    last_online_at     DateTime64(3, 'UTC') COMMENT 'Greatest time of an applied online copy (login or renewal) of the account'
)
AS SELECT source, app, account,
    multiIf(n_online > 0, 'online', n_expired > 0, 'expired', 'offline') AS status,
    status = 'online' AS online,
    if(n_online > 0, online_since, ended_at) AS since,
    d_online AS devices_online,
    n_online AS connections_online,
    d AS devices,
    n AS connections,
    latest_op AS state_op,
    if(status = 'offline', ended_op, '') AS offline_reason,
    latest_time AS state_time,
    latest_event AS state_event_id,
    latest_device AS device_id,
    latest_client_type AS client_type,
    multiIf(n_online > 0 AND n_never > 0, toDateTime64(0, 3, 'UTC'), n_online > 0, online_expiry,
            n_expired > 0, expired_at, toDateTime64(0, 3, 'UTC')) AS expires_at,
    last_online AS last_online_at
FROM
(
    SELECT source, app, account,
        countIf(status = 'online') AS n_online,
        countIf(status = 'expired') AS n_expired,
        countIf(status = 'online' AND toUnixTimestamp64Milli(expires_at) = 0) AS n_never,
        count() AS n,
        uniqExactIf(tuple(device_id, client_type), status = 'online') AS d_online,
        uniqExact(tuple(device_id, client_type)) AS d,
        minIf(since, status = 'online') AS online_since,
        max(since) AS ended_at,
        argMax(state_op, tuple(since, state_arrival)) AS ended_op,
        argMax(state_op, tuple(state_time, state_arrival)) AS latest_op,
        max(state_time) AS latest_time,
        argMax(state_event_id, tuple(state_time, state_arrival)) AS latest_event,
        argMax(device_id, tuple(state_time, state_arrival)) AS latest_device,
        argMax(client_type, tuple(state_time, state_arrival)) AS latest_client_type,
        maxIf(expires_at, status = 'online') AS online_expiry,
        maxIf(expires_at, status = 'expired') AS expired_at,
        max(last_online_at) AS last_online
    FROM presence_connections
    GROUP BY source, app, account
);
