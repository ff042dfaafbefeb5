-- name: recent_message_changes
-- summary: The latest edits, recalls and deletes of messages in a time range, newest first, with who made them and the operator's note.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- param: channel_id String  only this QChat channel; empty for all
-- param: limit UInt32  how many changes
-- column: occurred_at DateTime64(3, 'UTC')  platform time of the change
-- column: op LowCardinality(String)  update, append, recall or delete
-- column: actor String  account that made the change
-- column: source LowCardinality(String)  platform
-- column: app LowCardinality(String)  application
-- column: server_id String  QChat server
-- column: channel_id String  QChat channel
-- column: msg_id String  server-side id of the message changed (message_history shows it)
-- column: note String  the operator's note (NetEase msg)
-- column: antispam Bool  the platform flagged the new content
-- column: event_id String  the change's event id, the key to its raw payload
SELECT occurred_at, op, actor, source, app, server_id, channel_id, msg_id, note, antispam, event_id
FROM message_updates
WHERE occurred_at >= {from:DateTime64(3, 'UTC')}
      AND occurred_at < {to:DateTime64(3, 'UTC')}
  AND ({source:String} = '' OR source = {source:String})
  AND ({app:String} = '' OR app = {app:String})
  AND ({server_id:String} = '' OR server_id = {server_id:String})
  AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
ORDER BY occurred_at DESC, event_id
LIMIT {limit:UInt32}
