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
-- The channels are ranked by their messages first (one count per channel), and only the limit's
-- busiest are then read again for their senders: the rows of a channel are found by the sorting key's
-- conversation (channel:SERVER/CHANNEL, as the consumer writes it), so distinct senders are counted
-- for those channels only, not for every channel of the range (10M, 90 days: 2.6-2.8 s of CPU against
-- 3.7 s).
WITH names AS
(
    SELECT app, server_id, channel_id, argMax(name, (occurred_at, event_id)) AS channel_name
    FROM community_events
    WHERE kind = 'channel' AND channel_id != '' AND name != ''
    GROUP BY app, server_id, channel_id
),
channel_rows AS
(
    SELECT source, app, conversation, server_id, channel_id, sender, msg_time
    FROM messages_as_sent
    WHERE msg_time >= {from:DateTime64(3, 'UTC')}
      AND msg_time < {to:DateTime64(3, 'UTC')}
      AND channel_id != ''
      AND ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
      AND ({server_id:String} = '' OR server_id = {server_id:String})
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
    SELECT source, app, server_id, channel_id, count() AS messages, uniqExact(sender) AS senders,
        max(msg_time) AS last_message_at
    FROM channel_rows
    WHERE (source, app, conversation, server_id, channel_id) IN
      (
          SELECT source, app, concat('channel:', server_id, '/', channel_id), server_id, channel_id
          FROM channel_rows
          GROUP BY source, app, server_id, channel_id
          ORDER BY count() DESC, app, server_id, channel_id, source
          LIMIT {limit:UInt32}
      )
    GROUP BY source, app, server_id, channel_id
) AS c
LEFT JOIN names AS n ON n.app = c.app AND n.server_id = c.server_id AND n.channel_id = c.channel_id
ORDER BY messages DESC, app, server_id, channel_id, source
LIMIT {limit:UInt32}
