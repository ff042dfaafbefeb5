-- Issue 21, client types by month: per platform, application, UTC month and client type, the accounts
-- that logged in and the senders of the messages, kept by materialized views on presence_events_data
-- and messages_data, so client_type_mix (and the Presence panels "Client types") count the distinct
-- accounts and senders of the whole months of a range from one row a month and client type instead of
-- merging some 90 days of 0150's daily states (client_type_mix 90 days: 1.05 s at 10M messages
-- against the 1 s budget of a rollup-served row). The whole days outside whole months still come from
-- 0150's tables, the partial days from the storage; the logins and messages stay sums of 0150's
-- per-day counts (every copy of an event has the same day and client type).
--
-- The rows are those 0150 counts: logins are presence ops login and online by occurred_at (part of
-- presence_events_data's key, fixed per event_id); messages by msg_time, an empty sender counted as
-- one, those without a platform time (msg_time 1970-01-01: their month is their receive time, which
-- differs from delivery to delivery) left out, as in 0105, 0150 and 0151: the query reads them from
-- the storage.
--
-- Re-deliveries: both states are sets (uniqExactState of (source, app, account or sender), fixed per
-- event_id), so the same event inserted again in another insert changes no count, before or after the
-- rows merge; the backfill below relies on it too (a row inserted while it runs reaches the table
-- twice and counts once). Exact, not approximate. Each view writes its own state and leaves the other
-- empty; the rows of a key merge into one.
--
-- Retention (compliance/retention) leaves this table alone, as 0150's: no content, no IPs, no
-- payload; accounts and senders only inside the uniqExact states, as hashes; a month's counts outlive
-- the events they counted. The analyst role may read it.
CREATE TABLE IF NOT EXISTS client_type_monthly
(
    source         LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app            LowCardinality(String) COMMENT 'Platform application',
    month          Date COMMENT 'First day of the UTC month of the logins (occurred_at) and of the messages (msg_time); messages without a platform time are not here',
    client_type    LowCardinality(String) COMMENT 'Client type (AOS, IOS, PC, WEB, REST…) of the connection or of the sender; empty where the platform gives none',
    login_accounts AggregateFunction(uniqExact, String, String, String) COMMENT 'State: distinct (source, app, account) that logged in (presence ops login and online), hashed; read with uniqExactMerge. Counts stay after retention',
    senders        AggregateFunction(uniqExact, String, String, String) COMMENT 'State: distinct (source, app, sender) of the messages, an empty sender included, hashed; read with uniqExactMerge. Counts stay after retention'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYear(month)
ORDER BY (source, app, month, client_type)
COMMENT 'Monthly distinct login accounts and message senders per app and client type, fed by client_type_monthly_logins_mv and client_type_monthly_messages_mv; each counted once, however often delivered. No content; counts outlive retention';

CREATE MATERIALIZED VIEW IF NOT EXISTS client_type_monthly_logins_mv TO client_type_monthly
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

CREATE MATERIALIZED VIEW IF NOT EXISTS client_type_monthly_messages_mv TO client_type_monthly
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

-- Backfill: the events archived before this migration (the states fold repeats, and rows the views
-- already counted).
INSERT INTO client_type_monthly (source, app, month, client_type, login_accounts)
SELECT source, app, toStartOfMonth(occurred_at) AS month, client_type,
    uniqExactState(CAST(source AS String), CAST(app AS String), account)
FROM presence_events_data
WHERE op IN ('login', 'online')
GROUP BY source, app, month, client_type;

INSERT INTO client_type_monthly (source, app, month, client_type, senders)
SELECT source, app, toStartOfMonth(msg_time) AS month, sender_client_type AS client_type,
    uniqExactState(CAST(source AS String), CAST(app AS String), sender)
FROM messages_data
WHERE msg_time != toDateTime64(0, 3, 'UTC')
GROUP BY source, app, month, client_type
