-- Issue 21, the monthly rollups partitioned by month: message_monthly_apps (0151) and
-- client_type_monthly (0152) were partitioned by year, so every month of a year shared the newest
-- partition, which is never closed: its parts never settled to one, and every query read each month's
-- states as many times as there were parts (10M bench archive: message_monthly_apps 6 parts, 49 MiB;
-- 9 MiB a month once merged; the two whole months of a 90-day message_totals merged in 0.6 s, 0.1 s
-- from the merged rows). A partition key cannot be altered: these are the same tables, partitioned by
-- month, under new names, and a closed month is merged to one part (min_age_to_force_merge_seconds,
-- as the storage tables in 0096), so it is read once.
--
-- The same rows: message_app_months is message_monthly_apps, client_type_months is
-- client_type_monthly (see 0151 and 0152 for what they count and why it is exact). Each new table has
-- its views, created before the copy, so an insert that runs meanwhile reaches both the old table
-- and the new one; the copy is of the old tables, not of the storage, because their counts outlive
-- retention. Every state is a set, so a row copied twice (an insert racing the copy, this file run
-- again after an interruption) counts once. 0154 drops the old tables and their views.
--
-- The daily rollups (0105, 0150) and the raw archive get the same closed-partition merge: they were
-- left to the engine's own merges, which may leave a closed month in several parts.
CREATE TABLE IF NOT EXISTS message_app_months
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
PARTITION BY toYYYYMM(month)
ORDER BY (source, app, month)
SETTINGS min_age_to_force_merge_seconds = 21600, min_age_to_force_merge_on_partition_only = 1
COMMENT 'Monthly distinct senders, servers, channels and groups per app, fed by message_app_months_mv; each counted once, however often delivered. No content; counts outlive retention';

CREATE MATERIALIZED VIEW IF NOT EXISTS message_app_months_mv TO message_app_months
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

INSERT INTO message_app_months (source, app, month, senders, servers, channels, `groups`)
SELECT source, app, month, senders, servers, channels, `groups`
FROM message_monthly_apps;

CREATE TABLE IF NOT EXISTS client_type_months
(
    source         LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app            LowCardinality(String) COMMENT 'Platform application',
    month          Date COMMENT 'First day of the UTC month of the logins (occurred_at) and of the messages (msg_time); messages without a platform time are not here',
    client_type    LowCardinality(String) COMMENT 'Client type (AOS, IOS, PC, WEB, REST…) of the connection or of the sender; empty where the platform gives none',
    login_accounts AggregateFunction(uniqExact, String, String, String) COMMENT 'State: distinct (source, app, account) that logged in (presence ops login and online), hashed; read with uniqExactMerge. Counts stay after retention',
    senders        AggregateFunction(uniqExact, String, String, String) COMMENT 'State: distinct (source, app, sender) of the messages, an empty sender included, hashed; read with uniqExactMerge. Counts stay after retention'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(month)
ORDER BY (source, app, month, client_type)
SETTINGS min_age_to_force_merge_seconds = 21600, min_age_to_force_merge_on_partition_only = 1
COMMENT 'Monthly distinct login accounts and message senders per app and client type, fed by client_type_months_logins_mv and client_type_months_messages_mv; each counted once, however often delivered. No content; counts outlive retention';

CREATE MATERIALIZED VIEW IF NOT EXISTS client_type_months_logins_mv TO client_type_months
(
    source         LowCardinality(String) COMMENT 'Platform',
    app            LowCardinality(String) COMMENT 'Platform application',
    month          Date COMMENT 'First day of the UTC month of occurred_at',
    client_type    LowCardinality(String) COMMENT 'Client type of the connection',
    login_accounts AggregateFunction(uniqExact, String, String, String) COMMENT 'State: (source, app, account)'
)
AS SELECT source, app, toStartOfMonth(occurred_at) AS month, client_type,
    uniqExactState(CAST(source AS String), CAST(app AS String), account) AS login_accounts
FROM presence_events_data
WHERE op IN ('login', 'online')
GROUP BY source, app, month, client_type;

CREATE MATERIALIZED VIEW IF NOT EXISTS client_type_months_messages_mv TO client_type_months
(
    source      LowCardinality(String) COMMENT 'Platform',
    app         LowCardinality(String) COMMENT 'Platform application',
    month       Date COMMENT 'First day of the UTC month of msg_time',
    client_type LowCardinality(String) COMMENT 'Sender client type',
    senders     AggregateFunction(uniqExact, String, String, String) COMMENT 'State: (source, app, sender)'
)
AS SELECT source, app, toStartOfMonth(msg_time) AS month, sender_client_type AS client_type,
    uniqExactState(CAST(source AS String), CAST(app AS String), sender) AS senders
FROM messages_data
WHERE msg_time != toDateTime64(0, 3, 'UTC')
GROUP BY source, app, month, client_type;

INSERT INTO client_type_months (source, app, month, client_type, login_accounts, senders)
SELECT source, app, month, client_type, login_accounts, senders
FROM client_type_monthly;

ALTER TABLE message_daily MODIFY SETTING min_age_to_force_merge_seconds = 21600, min_age_to_force_merge_on_partition_only = 1;

ALTER TABLE message_daily_apps MODIFY SETTING min_age_to_force_merge_seconds = 21600, min_age_to_force_merge_on_partition_only = 1;

ALTER TABLE message_client_daily MODIFY SETTING min_age_to_force_merge_seconds = 21600, min_age_to_force_merge_on_partition_only = 1;

ALTER TABLE login_client_daily MODIFY SETTING min_age_to_force_merge_seconds = 21600, min_age_to_force_merge_on_partition_only = 1;

ALTER TABLE raw_callbacks_data MODIFY SETTING min_age_to_force_merge_seconds = 21600, min_age_to_force_merge_on_partition_only = 1;
