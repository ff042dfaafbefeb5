-- name: message_thread
-- summary: A QChat thread: its root message and every message in it, oldest first, each once, in its current version, with the message each one replies to (NetEase 48 threadMsg…, replyMsg…).
-- param: app String  the platform application (NetEase appkey)
-- param: msg_id String  server-side id of the thread's root message, or of any message in the thread
-- column: msg_time DateTime64(3, 'UTC')  when the message was sent
-- column: part String  root (the message the thread grew from) or reply
-- column: sender String  sending account
-- column: sender_nick String  sender nickname at send time
-- column: body String  message text, as last edited
-- column: status LowCardinality(String)  sent, updated, recalled or deleted (the latest change)
-- column: msg_id String  server-side message id
-- column: reply_to_msg_id String  server-side id of the message it replies to; empty for the root
-- column: reply_to_sender String  sender of the message it replies to
-- column: reply_to_msg_time DateTime64(3, 'UTC')  when the message it replies to was sent; 1970-01-01 when none
-- column: thread_msg_id String  the thread's root message id
-- column: server_id String  QChat server
-- column: channel_id String  QChat channel
-- column: event_id String  deterministic event id, the key to the raw payload (query raw_payload)
--
-- The root is the thread_msg_id of the message asked about, or that message itself when it names no
-- thread. A root that was never archived (the thread began before the archive) is simply absent: the
-- replies still list it as their thread_msg_id.
-- The thread's messages are found first in the storage, without FINAL (the bloom filters on msg_id and
-- thread_msg_id; every write of them), for the key prefix they are under: (source, app, day,
-- conversation), the day as the messages view shows it (the receive day of a message without a
-- platform time, of any of its writes). The messages view is then read over those key ranges only:
-- FINAL and the filter over a few granules instead of every granule of the app.
WITH
    (
        SELECT if(thread_msg_id != '', thread_msg_id, msg_id)
        FROM messages_data
        WHERE app = {app:String} AND msg_id = {msg_id:String} AND msg_id != ''
        ORDER BY inserted_at DESC
        LIMIT 1
    ) AS root
SELECT
    msg_time,
    if(msg_id = root, 'root', 'reply') AS part,
    sender,
    sender_nick,
    body,
    status,
    msg_id,
    reply_to_msg_id,
    reply_to_sender,
    reply_to_msg_time,
    if(msg_id = root, '', thread_msg_id) AS thread_msg_id,
    server_id,
    channel_id,
    event_id
FROM messages
WHERE app = {app:String}
  AND root != ''
  AND (msg_id = root OR thread_msg_id = root)
  AND (source, app, toDate(msg_time), conversation) IN
  (
      SELECT source, app, if(toUnixTimestamp64Milli(msg_time) = 0, toDate(received_at), toDate(msg_time)), conversation
      FROM messages_data
      WHERE app = {app:String} AND (msg_id = root OR thread_msg_id = root)
  )
ORDER BY msg_time, event_id
