-- Issue 21, message rollups: per-day counts of the messages, kept by materialized views on
-- messages_data, so the named queries and the Messaging panels read a day's rows for a day instead
-- of every message of it (a 90-day count read every message with FINAL: 2-6.5 s at 3M messages).
--
--   - message_daily: per platform, application, UTC day of msg_time, QChat server and channel and
--     iLink/Maxim group (every one of them fixed per event_id, so every delivery of a message lands
--     in the same row): the messages, the messages with a sender, the senders, the latest send time;
--   - message_daily_apps: the same per platform, application and day only (a few rows a day), for
--     the counts of whole applications, the dashboards' default.
--
-- Re-deliveries: a message is counted by its event_id (uniqExactState(event_id)), never by rows, so
-- the same event inserted again in another insert (a platform re-send past ingest's dedupe window, a
-- consumer re-inserting a batch after a crash) changes no count, before or after the rows merge; a
-- sender is counted by (source, app, sender) the same way. Exact, not approximate: these are the
-- product's counts. The backfill below relies on it too: it runs after the views exist, so a row
-- inserted meanwhile reaches the rollup twice and counts once.
--
-- Messages without a platform time (msg_time 1970-01-01: the messages views show them at their
-- receive time, which differs from delivery to delivery) are left out: their day is not fixed per
-- event_id. The queries read them, and the partial days at a range's edges, from the storage.
--
-- Retention (compliance/retention) deletes old rows of messages_data and leaves these tables alone:
-- they hold no content (no bodies, no IPs, no payload; senders and event ids only inside the uniqExact
-- states, as hashes), and a day's counts outlive the messages they counted, as the column comments
-- say: a count is not the message. The analyst role may read both.
CREATE TABLE IF NOT EXISTS message_daily
(
    source          LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app             LowCardinality(String) COMMENT 'Platform application',
    day             Date COMMENT 'UTC day the messages were sent (msg_time); messages without a platform time are not here',
    server_id       String COMMENT 'QChat server id; empty for other platforms',
    channel_id      String COMMENT 'QChat channel id; empty for other platforms',
    group_id        String COMMENT 'iLink/Maxim group or iLink topic id; empty for channel and one-to-one messages',
    messages        AggregateFunction(uniqExact, String) COMMENT 'State: distinct event ids of the messages sent (each message once, however often delivered); read with uniqExactMerge. Counts stay after retention deletes the messages',
    sender_messages AggregateFunction(uniqExact, String) COMMENT 'State: distinct event ids of the messages with a sender; read with uniqExactMerge. Counts stay after retention',
    senders         AggregateFunction(uniqExact, String, String, String) COMMENT 'State: distinct (source, app, sender) of the messages with a sender, hashed; read with uniqExactMerge. Counts stay after retention',
    last_message_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'When the latest of them was sent'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (source, app, day, server_id, channel_id, group_id)
COMMENT 'Daily message counts per app, server, channel and group, fed by message_daily_mv; each message counted once by event_id. No content; counts outlive retention';

CREATE MATERIALIZED VIEW IF NOT EXISTS message_daily_mv TO message_daily
(
    source          LowCardinality(String) COMMENT 'Platform',
    app             LowCardinality(String) COMMENT 'Platform application',
    day             Date COMMENT 'UTC day of msg_time',
    server_id       String COMMENT 'QChat server id',
    channel_id      String COMMENT 'QChat channel id',
    group_id        String COMMENT 'Group id',
    messages        AggregateFunction(uniqExact, String) COMMENT 'State: event ids',
    sender_messages AggregateFunction(uniqExact, String) COMMENT 'State: event ids of messages with a sender',
    senders         AggregateFunction(uniqExact, String, String, String) COMMENT 'State: (source, app, sender)',
    last_message_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'Latest send time'
)
AS SELECT source, app, toDate(msg_time) AS day, server_id, channel_id, group_id,
    uniqExactState(event_id) AS messages,
    uniqExactStateIf(event_id, sender != '') AS sender_messages,
    uniqExactStateIf(CAST(source AS String), CAST(app AS String), sender, sender != '') AS senders,
    max(msg_time) AS last_message_at
FROM messages_data
WHERE msg_time != toDateTime64(0, 3, 'UTC')
GROUP BY source, app, day, server_id, channel_id, group_id;

CREATE TABLE IF NOT EXISTS message_daily_apps
(
    source          LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app             LowCardinality(String) COMMENT 'Platform application',
    day             Date COMMENT 'UTC day the messages were sent (msg_time); messages without a platform time are not here',
    messages        AggregateFunction(uniqExact, String) COMMENT 'State: distinct event ids of the messages sent (each message once, however often delivered); read with uniqExactMerge. Counts stay after retention deletes the messages',
    sender_messages AggregateFunction(uniqExact, String) COMMENT 'State: distinct event ids of the messages with a sender; read with uniqExactMerge. Counts stay after retention',
    senders         AggregateFunction(uniqExact, String, String, String) COMMENT 'State: distinct (source, app, sender) of the messages with a sender, hashed; read with uniqExactMerge. Counts stay after retention'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (source, app, day)
COMMENT 'Daily message counts per app, fed by message_daily_apps_mv: message_daily without the server, channel and group, a few rows a day, for the counts of a whole app; each message counted once by event_id. No content; counts outlive retention';

CREATE MATERIALIZED VIEW IF NOT EXISTS message_daily_apps_mv TO message_daily_apps
(
    source          LowCardinality(String) COMMENT 'Platform',
    app             LowCardinality(String) COMMENT 'Platform application',
    day             Date COMMENT 'UTC day of msg_time',
    messages        AggregateFunction(uniqExact, String) COMMENT 'State: event ids',
    sender_messages AggregateFunction(uniqExact, String) COMMENT 'State: event ids of messages with a sender',
    senders         AggregateFunction(uniqExact, String, String, String) COMMENT 'State: (source, app, sender)'
)
AS SELECT source, app, toDate(msg_time) AS day,
    uniqExactState(event_id) AS messages,
    uniqExactStateIf(event_id, sender != '') AS sender_messages,
    uniqExactStateIf(CAST(source AS String), CAST(app AS String), sender, sender != '') AS senders
FROM messages_data
WHERE msg_time != toDateTime64(0, 3, 'UTC')
GROUP BY source, app, day;

-- Backfill: the messages archived before this migration (the states fold repeats, and rows the views
-- already counted).
INSERT INTO message_daily
SELECT source, app, toDate(msg_time) AS day, server_id, channel_id, group_id,
    uniqExactState(event_id), uniqExactStateIf(event_id, sender != ''),
    uniqExactStateIf(CAST(source AS String), CAST(app AS String), sender, sender != ''), max(msg_time)
FROM messages_data
WHERE msg_time != toDateTime64(0, 3, 'UTC')
GROUP BY source, app, day, server_id, channel_id, group_id;

INSERT INTO message_daily_apps
SELECT source, app, toDate(msg_time) AS day,
    uniqExactState(event_id), uniqExactStateIf(event_id, sender != ''),
    uniqExactStateIf(CAST(source AS String), CAST(app AS String), sender, sender != '')
FROM messages_data
WHERE msg_time != toDateTime64(0, 3, 'UTC')
GROUP BY source, app, day
