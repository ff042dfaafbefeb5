-- name: top_servers
-- summary: The QChat servers with the most messages in a time range, with their senders, active channels and current name.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: limit UInt32  how many servers
-- column: source LowCardinality(String)  platform
-- column: app LowCardinality(String)  application
-- column: server_id String  QChat server
-- column: server_name String  its latest name from the server events (create, update); empty when none was archived
-- column: messages UInt64  messages sent in the range, each once
-- column: senders UInt64  distinct senders
-- column: channels UInt64  channels with messages in the range
--
-- The servers are ranked by their messages first (one count per server), and only the limit's
-- busiest are then read again for their senders and channels, so distinct senders and channels are
-- counted for those servers only, not for every server of the range (as top_channels).
WITH names AS
(
    SELECT app, server_id, argMax(name, (occurred_at, event_id)) AS server_name
    FROM community_events
    WHERE kind = 'server' AND server_id != '' AND name != ''
    GROUP BY app, server_id
),
server_rows AS
(
    SELECT source, app, server_id, channel_id, sender
    FROM messages_as_sent
    WHERE msg_time >= {from:DateTime64(3, 'UTC')}
      AND msg_time < {to:DateTime64(3, 'UTC')}
      AND server_id != ''
      AND ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
)
SELECT
    c.source AS source,
    c.app AS app,
    c.server_id AS server_id,
    n.server_name AS server_name,
    c.messages AS messages,
    c.senders AS senders,
    c.channels AS channels
FROM
(
    SELECT source, app, server_id, count() AS messages, uniqExact(sender) AS senders,
        uniqExactIf(channel_id, channel_id != '') AS channels
    FROM server_rows
    WHERE (source, app, server_id) IN
      (
          SELECT source, app, server_id
          FROM server_rows
          GROUP BY source, app, server_id
          ORDER BY count() DESC, app, server_id, source
          LIMIT {limit:UInt32}
      )
    GROUP BY source, app, server_id
) AS c
LEFT JOIN names AS n ON n.app = c.app AND n.server_id = c.server_id
ORDER BY messages DESC, app, server_id, source
LIMIT {limit:UInt32}
