-- name: message_history
-- summary: Messages of one channel in a time range, oldest first, each message once, in its current version.
-- param: app String  the platform application (NetEase appkey)
-- param: channel_id String  the channel (NetEase channelId)
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- column: msg_time DateTime64(3, 'UTC')  when the message was sent
-- column: sender String  sending account
-- column: sender_nick String  sender nickname at send time
-- column: msg_type LowCardinality(String)  TEXT, PICTURE, FILE, …
-- column: body String  message text, as last edited
-- column: server_id String  QChat server
-- column: channel_id String  QChat channel
-- column: msg_id String  server-side message id
-- column: client_msg_id String  client-generated message id
-- column: source LowCardinality(String)  platform
-- column: event_id String  deterministic event id, the key to the raw payload
-- column: received_at DateTime64(3, 'UTC')  when imarchive received it
-- column: status LowCardinality(String)  sent, updated, recalled or deleted (the latest change)
-- column: original_body String  message text as sent
-- column: antispam Bool  the platform flagged the current content
--
-- The messages view holds each message once (ReplacingMergeTree read with FINAL) with its latest
-- update applied; message_updates has every change.
SELECT
    msg_time,
    sender,
    sender_nick,
    msg_type,
    body,
    server_id,
    channel_id,
    msg_id,
    client_msg_id,
    source,
    event_id,
    received_at,
    status,
    original_body,
    antispam
FROM messages
WHERE app = {app:String}
  AND channel_id = {channel_id:String}
  AND msg_time >= {from:DateTime64(3, 'UTC')}
  AND msg_time < {to:DateTime64(3, 'UTC')}
ORDER BY msg_time, event_id
