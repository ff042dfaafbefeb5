-- name: message_history
-- summary: Messages of one channel in a time range, oldest first, each message once, in its current version.
-- param: app String  the platform application (NetEase appkey)
-- param: channel_id String  the channel (NetEase channelId)
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: limit UInt32  at most this many messages (a page): the oldest first; to read on, pass the last one's msg_time and event_id as after_time and after_event_id (default 1000)
-- param: after_time DateTime64(3, 'UTC')  only messages after this one: its msg_time (with after_event_id: the previous page's last message) (default 1970-01-01 00:00:00)
-- param: after_event_id String  the event_id of that message: messages at exactly after_time come after it by event_id (default )
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
-- update applied; message_updates has every change. The channel's bloom filter finds its messages in
-- each day's part of the key.
-- A page is limit rows, oldest first; the next starts after the last row's msg_time and event_id
-- (after_time, after_event_id), which the key reaches as it reaches the range. The messages view joins
-- each message's edit state: query_plan_join_swap_table makes the join from the messages found (few)
-- and reads the edit state of those alone, instead of aggregating all of it first.
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
  AND (msg_time > {after_time:DateTime64(3, 'UTC')}
       OR (msg_time = {after_time:DateTime64(3, 'UTC')} AND event_id > {after_event_id:String}))
ORDER BY msg_time, event_id
LIMIT {limit:UInt32}
SETTINGS query_plan_join_swap_table = 'true'
