-- The current state per connection as plain columns: one row per applied copy, folded by
-- ReplacingMergeTree to the copy greatest by (occurred_at, arrival). It replaces 0110's
-- presence_connection_now, whose argMax states had to be deserialized and merged per connection on
-- every read: accounts_online_now spent most of its time there (issue 21: 1.63 s at 3M messages, the
-- Presence "Now" panels 1.03–1.11 s; on the 1M bench archive about 0.55 s of CPU, against about 0.1 s
-- reading this table with FINAL, same answers).
--
-- Same rule as presence_connection_agg (0075) and presence_connection_now (0110): the connection's
-- last applied copy (not stale, arrival > 0) by (occurred_at, arrival). version packs that pair into
-- one number ReplacingMergeTree can compare: the time in milliseconds since 1900-01-01 (the start of
-- DateTime64's range, so never negative) in the high 64 bits, arrival in the low 64; it orders rows
-- exactly as the tuple does. FINAL keeps the row of greatest version, whichever insert it came in, so a
-- copy inserted again (a re-delivery, a consumer's re-inserted batch, a replay, this file's backfill
-- run twice, a row the view wrote while the backfill ran) leaves every state unchanged; two rows of
-- equal version are the same copy of the same connection (arrival numbers an account's copies).
--
-- Rows of ended connections are kept: no is_deleted column and no cleanup merges. A replay or a
-- re-delivery re-inserts a connection's old online copy with its recorded verdict; were the later
-- offline row gone, that copy would bring the connection back online. The table therefore holds one
-- row per connection ever seen once merged, like 0110's, and the read stays linear in connections,
-- but each row is a few plain columns read in key order.
--
-- Holds no client IP (the analyst reads it); like presence_connection_agg it keeps one state per
-- connection and is not retained (compliance/retention): the online state needs it.

CREATE TABLE IF NOT EXISTS presence_connection_last
(
    source      LowCardinality(String) COMMENT 'Platform',
    app         LowCardinality(String) COMMENT 'Platform application',
    account     String COMMENT 'Account',
    connection  String COMMENT 'Connection (consid:…, device:…, or empty for the account)',
    version     UInt128 COMMENT 'Order of the copy: (occurred_at in milliseconds since 1900-01-01) * 2^64 + arrival; the row of greatest version is the connection''s last applied copy (read with FINAL)',
    online      Bool COMMENT 'The copy left its connection online (login, heartbeat renewal, iLink online)',
    expires_at  DateTime64(3, 'UTC') COMMENT 'For an online copy of a platform with renewals: when its online state expires without one; 1970-01-01 when it does not expire',
    device_id   String COMMENT 'Device id of the connection',
    client_type LowCardinality(String) COMMENT 'Client type of the connection'
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (source, app, account, connection)
COMMENT 'Last applied presence copy per connection (fed by presence_connection_last_mv); read with FINAL through queries/accounts_online_now.sql';

CREATE MATERIALIZED VIEW IF NOT EXISTS presence_connection_last_mv TO presence_connection_last
(
    source      LowCardinality(String) COMMENT 'Platform',
    app         LowCardinality(String) COMMENT 'Platform application',
    account     String COMMENT 'Account',
    connection  String COMMENT 'Connection',
    version     UInt128 COMMENT 'Order of the copy: (occurred_at in milliseconds since 1900-01-01) * 2^64 + arrival',
    online      Bool COMMENT 'The copy left its connection online',
    expires_at  DateTime64(3, 'UTC') COMMENT 'When the online state expires without a renewal; 1970-01-01 for never',
    device_id   String COMMENT 'Device id of the connection',
    client_type LowCardinality(String) COMMENT 'Client type of the connection'
)
AS
SELECT source, app, account, connection,
    bitShiftLeft(toUInt128(toUnixTimestamp64Milli(occurred_at) + 2208988800000), 64) + arrival AS version,
    online, expires_at, device_id, toString(client_type) AS client_type
FROM presence_events_data
WHERE NOT stale AND arrival > 0;

-- The copies archived before this migration (a repeat of a row the view already wrote changes nothing).
INSERT INTO presence_connection_last (source, app, account, connection, version, online, expires_at, device_id, client_type)
SELECT source, app, account, connection,
    bitShiftLeft(toUInt128(toUnixTimestamp64Milli(occurred_at) + 2208988800000), 64) + arrival AS version,
    online, expires_at, device_id, toString(client_type) AS client_type
FROM presence_events_data
WHERE NOT stale AND arrival > 0;

-- 0110's table had one reader, accounts_online_now, which reads presence_connection_last now.
DROP TABLE IF EXISTS presence_connection_now_mv;
DROP TABLE IF EXISTS presence_connection_now;
