-- name: top_channels
-- summary: The QChat channels with the most messages in a time range, with their senders and their current name.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- param: limit UInt32  how many channels
-- column: source LowCardinality(String)  platform
-- column: app LowCardinality(String)  application
-- column: server_id String  QChat server
-- column: channel_id String  QChat channel
-- column: channel_name String  its latest name from the channel events (create, update); empty when none was archived
-- column: messages UInt64  messages sent in the range, each once
-- column: senders UInt64  distinct senders
-- column: last_message_at DateTime64(3, 'UTC')  when the latest of them was sent
--
-- The whole UTC days of the range are read from the daily rollup (message_daily, schema 0105: each
-- message counted once by event_id, however often delivered); the partial days at its edges, and the
-- messages without a platform time, from the storage as the messages_as_sent view shows them. A
-- range shorter than a day, or one that starts and ends mid-day (now-24h), reads only the storage.
WITH
    toDate({from:DateTime64(3, 'UTC')}) + (toDateTime64(toDate({from:DateTime64(3, 'UTC')}), 3, 'UTC') < {from:DateTime64(3, 'UTC')}) AS whole_from,
    toDate({to:DateTime64(3, 'UTC')}) AS whole_to,
names AS
(
    SELECT app, server_id, channel_id, argMax(name, (occurred_at, event_id)) AS channel_name
    FROM community_events
    WHERE kind = 'channel' AND channel_id != '' AND name != ''
    GROUP BY app, server_id, channel_id
)
SELECT
    c.source AS source,
    c.app AS app,
    c.server_id AS server_id,
    c.channel_id AS channel_id,
    n.channel_name AS channel_name,
    c.messages AS messages,
    c.senders AS senders,
    c.last_message_at AS last_message_at
FROM
(
    SELECT source, app, server_id, channel_id, uniqExactMerge(m) AS messages, uniqExactMerge(s) AS senders,
        CAST(max(last_at) AS DateTime64(3, 'UTC')) AS last_message_at
    FROM
    (
        SELECT source, app, server_id, channel_id, messages AS m, senders AS s, last_message_at AS last_at
        FROM message_daily
        WHERE day >= whole_from AND day < whole_to
          AND channel_id != ''
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
          AND ({server_id:String} = '' OR server_id = {server_id:String})
        UNION ALL
        SELECT source, app, server_id, channel_id, uniqExactState(event_id) AS m,
            uniqExactStateIf(CAST(source AS String), CAST(app AS String), sender, sender != '') AS s, max(sent_at) AS last_at
        FROM
        (
            SELECT event_id, source, app, server_id, channel_id, sender, msg_time AS sent_at
            FROM messages_as_sent
            WHERE msg_time >= {from:DateTime64(3, 'UTC')}
              AND msg_time < {to:DateTime64(3, 'UTC')}
              AND (msg_time < toDateTime64(whole_from, 3, 'UTC') OR msg_time >= toDateTime64(whole_to, 3, 'UTC'))
            UNION ALL
            SELECT event_id, source, app, server_id, channel_id, sender, received_at AS sent_at
            FROM messages_data FINAL
            WHERE msg_time = toDateTime64(0, 3, 'UTC')
              AND received_at >= toDateTime64(whole_from, 3, 'UTC') AND received_at < toDateTime64(whole_to, 3, 'UTC')
        )
        WHERE channel_id != ''
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
          AND ({server_id:String} = '' OR server_id = {server_id:String})
        GROUP BY source, app, server_id, channel_id
    )
    GROUP BY source, app, server_id, channel_id
) AS c
LEFT JOIN names AS n ON n.app = c.app AND n.server_id = c.server_id AND n.channel_id = c.channel_id
ORDER BY messages DESC, app, server_id, channel_id
LIMIT {limit:UInt32}
