-- Issue 21, message rollups by month: per platform, application and UTC month of msg_time, the
-- distinct senders, QChat servers and channels and iLink/Maxim groups, kept by a materialized view on
-- messages_data, so message_totals (and the Messaging stat panels) count the distinct ones of the
-- whole months of a range from one row a month instead of merging one state or reading one row per
-- day and place (0105's message_daily_apps and message_daily): a 90-day range merged some 90 days of
-- daily senders and read every (day, server, channel, group) row, 1.02-1.31 s at 10M messages
-- against a 1 s budget. The whole days outside whole months still come from 0105's tables, the
-- partial days from the storage; the message count stays a sum of 0105's per-day counts (every
-- delivery of a message has the same day).
--
-- Re-deliveries: every state is a set (uniqExactState of the sender, server, channel or group, each
-- fixed per event_id), so the same event inserted again in another insert changes no count, before
-- or after the rows merge; the backfill below relies on it too (a row inserted while it runs reaches
-- the table twice and counts once). Exact, not approximate. Messages without a platform time
-- (msg_time 1970-01-01: their month is their receive time, which differs from delivery to delivery)
-- are left out, as in 0105; the queries read them from the storage.
--
-- Retention (compliance/retention) leaves this table alone, as 0105's: no content, no IPs, no
-- payload; senders and places only inside the uniqExact states, as hashes; a month's counts outlive
-- the messages they counted. The analyst role may read it.
CREATE TABLE IF NOT EXISTS message_monthly_apps
(
    source   LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app      LowCardinality(String) COMMENT 'Platform application',
    month    Date COMMENT 'First day of the UTC month the messages were sent (msg_time); messages without a platform time are not here',
    senders  AggregateFunction(uniqExact, String, String, String) COMMENT 'State: distinct (source, app, sender) of the messages with a sender, hashed; read with uniqExactMerge. Counts stay after retention',
    servers  AggregateFunction(uniqExact, String, String) COMMENT 'State: distinct (app, server_id) of the QChat messages; read with uniqExactMerge',
    channels AggregateFunction(uniqExact, String, String, String) COMMENT 'State: distinct (app, server_id, channel_id) of the QChat messages; read with uniqExactMerge',
    `groups` AggregateFunction(uniqExact, String, String, String) COMMENT 'State: distinct (source, app, group_id) of the iLink/Maxim group and iLink topic messages; read with uniqExactMerge'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYear(month)
ORDER BY (source, app, month)
COMMENT 'Monthly distinct senders, servers, channels and groups per app, fed by message_monthly_apps_mv; each counted once, however often delivered. No content; counts outlive retention';

CREATE MATERIALIZED VIEW IF NOT EXISTS message_monthly_apps_mv TO message_monthly_apps
(
    source   LowCardinality(String) COMMENT 'Platform',
    app      LowCardinality(String) COMMENT 'Platform application',
    month    Date COMMENT 'First day of the UTC month of msg_time',
    senders  AggregateFunction(uniqExact, String, String, String) COMMENT 'State: (source, app, sender)',
    servers  AggregateFunction(uniqExact, String, String) COMMENT 'State: (app, server_id)',
    channels AggregateFunction(uniqExact, String, String, String) COMMENT 'State: (app, server_id, channel_id)',
    `groups` AggregateFunction(uniqExact, String, String, String) COMMENT 'State: (source, app, group_id)'
)
AS SELECT source, app, toStartOfMonth(msg_time) AS month,
    uniqExactStateIf(CAST(source AS String), CAST(app AS String), sender, sender != '') AS senders,
    uniqExactStateIf(CAST(app AS String), server_id, server_id != '') AS servers,
    uniqExactStateIf(CAST(app AS String), server_id, channel_id, channel_id != '') AS channels,
    uniqExactStateIf(CAST(source AS String), CAST(app AS String), group_id, group_id != '') AS `groups`
FROM messages_data
WHERE msg_time != toDateTime64(0, 3, 'UTC')
GROUP BY source, app, month;

-- Backfill: the messages archived before this migration (the states fold repeats, and rows the view
-- already counted).
INSERT INTO message_monthly_apps
SELECT source, app, toStartOfMonth(msg_time) AS month,
    uniqExactStateIf(CAST(source AS String), CAST(app AS String), sender, sender != ''),
    uniqExactStateIf(CAST(app AS String), server_id, server_id != ''),
    uniqExactStateIf(CAST(app AS String), server_id, channel_id, channel_id != ''),
    uniqExactStateIf(CAST(source AS String), CAST(app AS String), group_id, group_id != '')
FROM messages_data
WHERE msg_time != toDateTime64(0, 3, 'UTC')
GROUP BY source, app, month
