-- The current online state per connection, slim: what accounts_online_now needs (online, renewal
-- deadline, device) and nothing else. presence_connection_agg (0075) keeps a 13-field tuple per
-- connection, and merging those states is most of the time of the "online now" counts (issue 21: 1.2 s
-- at 1M copies, 10 s at 3M, through the presence_connections and presence_state views); this table's
-- 4-field states merge in about half the time, and the query reads it without the views' layers.
--
-- Same rule as presence_connection_agg: the last applied copy (not stale, arrival > 0) by
-- (occurred_at, arrival). argMax is idempotent: a copy inserted again (a re-delivery, a consumer's
-- re-inserted batch, this file's backfill run twice, or a row the view wrote while the backfill ran)
-- leaves every state unchanged. Holds no client IP (the analyst reads it); like presence_connection_agg
-- it keeps one state per connection and is not retained (compliance/retention).

CREATE TABLE IF NOT EXISTS presence_connection_now
(
    source     LowCardinality(String) COMMENT 'Platform',
    app        LowCardinality(String) COMMENT 'Platform application',
    account    String COMMENT 'Account',
    connection String COMMENT 'Connection (consid:…, device:…, or empty for the account)',
    last       AggregateFunction(argMax, Tuple(Bool, DateTime64(3, 'UTC'), String, String), Tuple(DateTime64(3, 'UTC'), UInt64)) COMMENT 'The last applied copy: (online, expires_at, device_id, client_type) of the applied copy greatest by (occurred_at, arrival); read with argMaxMerge'
)
ENGINE = AggregatingMergeTree
ORDER BY (source, app, account, connection)
COMMENT 'Current state per connection for the online-now counts (fed by presence_connection_now_mv); read through queries/accounts_online_now.sql';

CREATE MATERIALIZED VIEW IF NOT EXISTS presence_connection_now_mv TO presence_connection_now
(
    source     LowCardinality(String) COMMENT 'Platform',
    app        LowCardinality(String) COMMENT 'Platform application',
    account    String COMMENT 'Account',
    connection String COMMENT 'Connection',
    last       AggregateFunction(argMax, Tuple(Bool, DateTime64(3, 'UTC'), String, String), Tuple(DateTime64(3, 'UTC'), UInt64)) COMMENT 'The last applied copy'
)
AS
SELECT source, app, account, connection,
    argMaxState(tuple(online, expires_at, device_id, toString(client_type)), tuple(occurred_at, arrival)) AS last
FROM presence_events_data
WHERE NOT stale AND arrival > 0
GROUP BY source, app, account, connection;

-- The copies archived before this migration (a repeat of a row the view already wrote changes nothing).
INSERT INTO presence_connection_now (source, app, account, connection, last)
SELECT source, app, account, connection,
    argMaxState(tuple(online, expires_at, device_id, toString(client_type)), tuple(occurred_at, arrival)) AS last
FROM presence_events_data
WHERE NOT stale AND arrival > 0
GROUP BY source, app, account, connection;
