-- Issue 21, client types: per-day logins and messages by client type, kept by materialized views on
-- presence_events_data and messages_data, so client_type_mix (and the Presence panels "Client types")
-- read a few rows a day for the whole days of a range instead of every login and message of it with
-- FINAL (2.06-2.24 s for 90 days at 10M messages: presence is sorted by account, so a time range reads
-- whole months of it).
--
--   - login_client_daily: per platform, application, UTC day of occurred_at and client type, the
--     logins (presence ops login and online, as client_type_mix counts them) and the accounts behind
--     them. occurred_at is part of presence_events_data's key, fixed per event_id, so every copy of a
--     login lands in the same row, whichever insert brought it;
--   - message_client_daily: per platform, application, UTC day of msg_time and sender client type, the
--     messages and their senders (an empty sender counted as one, as client_type_mix always did). Like
--     0105's message_daily, the messages without a platform time (msg_time 1970-01-01, whose day is
--     their receive time, which differs from delivery to delivery) are left out; the query reads them,
--     and the partial days at a range's edges, from the storage.
--
-- Re-deliveries: a login or a message is counted by its event_id (uniqExactState(event_id)), an
-- account or sender by (source, app, account), never by rows, so the same event inserted again in
-- another insert (a platform re-send past ingest's dedupe window, a consumer re-inserting a batch
-- after a crash) changes no count, before or after the rows merge. Exact, not approximate. The
-- backfill below relies on it too: it runs after the views exist, so a row inserted meanwhile reaches
-- the rollup twice and counts once.
--
-- Retention (compliance/retention) deletes old rows of the storage and leaves these tables alone, as
-- 0105's: no content, no IPs, no payload; accounts and event ids only inside the uniqExact states, as
-- hashes; a day's counts outlive the events they counted. The analyst role may read both.
CREATE TABLE IF NOT EXISTS login_client_daily
(
    source      LowCardinality(String) COMMENT 'Platform: netease_qchat or ilink',
    app         LowCardinality(String) COMMENT 'Platform application',
    day         Date COMMENT 'UTC day of the login (occurred_at, the platform time)',
    client_type LowCardinality(String) COMMENT 'Client type of the connection (AOS, IOS, PC, WEB…); empty where the platform gives none',
    logins      AggregateFunction(uniqExact, String) COMMENT 'State: distinct event ids of the logins (ops login and online; each once, however often delivered); read with uniqExactMerge. Counts stay after retention',
    accounts    AggregateFunction(uniqExact, String, String, String) COMMENT 'State: distinct (source, app, account) that logged in, hashed; read with uniqExactMerge. Counts stay after retention'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (source, app, day, client_type)
COMMENT 'Daily logins per app and client type, fed by login_client_daily_mv; each login counted once by event_id. No content; counts outlive retention';

CREATE MATERIALIZED VIEW IF NOT EXISTS login_client_daily_mv TO login_client_daily
(
    source      LowCardinality(String) COMMENT 'Platform',
    app         LowCardinality(String) COMMENT 'Platform application',
    day         Date COMMENT 'UTC day of occurred_at',
    client_type LowCardinality(String) COMMENT 'Client type',
    logins      AggregateFunction(uniqExact, String) COMMENT 'State: event ids of the logins',
    accounts    AggregateFunction(uniqExact, String, String, String) COMMENT 'State: (source, app, account)'
)
AS SELECT source, app, toDate(occurred_at) AS day, client_type,
    uniqExactState(event_id) AS logins,
    uniqExactState(CAST(source AS String), CAST(app AS String), account) AS accounts
FROM presence_events_data
WHERE op IN ('login', 'online')
GROUP BY source, app, day, client_type;

CREATE TABLE IF NOT EXISTS message_client_daily
(
    source      LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app         LowCardinality(String) COMMENT 'Platform application',
    day         Date COMMENT 'UTC day the messages were sent (msg_time); messages without a platform time are not here',
    client_type LowCardinality(String) COMMENT 'Sender client type (fromClientType: AOS, IOS, WEB, PC, REST…); empty where the platform gives none',
    messages    AggregateFunction(uniqExact, String) COMMENT 'State: distinct event ids of the messages sent (each once, however often delivered); read with uniqExactMerge. Counts stay after retention',
    senders     AggregateFunction(uniqExact, String, String, String) COMMENT 'State: distinct (source, app, sender) of the messages, an empty sender included, hashed; read with uniqExactMerge. Counts stay after retention'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (source, app, day, client_type)
COMMENT 'Daily messages per app and sender client type, fed by message_client_daily_mv; each message counted once by event_id. No content; counts outlive retention';

CREATE MATERIALIZED VIEW IF NOT EXISTS message_client_daily_mv TO message_client_daily
(
    source      LowCardinality(String) COMMENT 'Platform',
    app         LowCardinality(String) COMMENT 'Platform application',
    day         Date COMMENT 'UTC day of msg_time',
    client_type LowCardinality(String) COMMENT 'Sender client type',
    messages    AggregateFunction(uniqExact, String) COMMENT 'State: event ids',
    senders     AggregateFunction(uniqExact, String, String, String) COMMENT 'State: (source, app, sender)'
)
AS SELECT source, app, toDate(msg_time) AS day, sender_client_type AS client_type,
    uniqExactState(event_id) AS messages,
    uniqExactState(CAST(source AS String), CAST(app AS String), sender) AS senders
FROM messages_data
WHERE msg_time != toDateTime64(0, 3, 'UTC')
GROUP BY source, app, day, client_type;

-- Backfill: the events archived before this migration (the states fold repeats, and rows the views
-- already counted).
INSERT INTO login_client_daily
SELECT source, app, toDate(occurred_at) AS day, client_type,
    uniqExactState(event_id), uniqExactState(CAST(source AS String), CAST(app AS String), account)
FROM presence_events_data
WHERE op IN ('login', 'online')
GROUP BY source, app, day, client_type;

INSERT INTO message_client_daily
SELECT source, app, toDate(msg_time) AS day, sender_client_type AS client_type,
    uniqExactState(event_id), uniqExactState(CAST(source AS String), CAST(app AS String), sender)
FROM messages_data
WHERE msg_time != toDateTime64(0, 3, 'UTC')
GROUP BY source, app, day, client_type
