-- name: message_edit_history
-- summary: Every version of one message: as sent (version 0), then each update, append, recall and delete in the order they happened, with who did it.
-- param: app String  the platform application
-- param: msg_id String  server-side message id (messages.msg_id)
-- column: version UInt64  0 for the message as sent, then 1, 2, … for each change in order
-- column: at DateTime64(3, 'UTC')  when it was sent or changed (platform time; received time where the platform gives none)
-- column: op String  send, update, append, recall or delete
-- column: actor String  who sent or changed it
-- column: body String  the text of this version (an append's added text; empty where the platform sent none)
-- column: antispam Bool  the platform flagged this version
-- column: antispam_detail String  the platform's raw content-safety verdict, as received
-- column: note String  the operator's note on the change (NetEase msg)
-- column: source String  platform
-- column: received_at DateTime64(3, 'UTC')  when imarchive received it
-- column: event_id String  deterministic event id, the key to the raw payload (query raw_payload)
--
-- The message as sent is read with FINAL over its key prefix only (source, app, day, conversation:
-- every write of it is there, found first without FINAL by the bloom filter on msg_id), not over
-- every granule the bloom filter lets through. Its changes are read by their key (source, app, msg_id).
SELECT
    toUInt64(row_number() OVER (ORDER BY ord, at, received_at, event_id) - 1) AS version,
    at, op, actor, body, antispam, antispam_detail, note, source, received_at, event_id
FROM
(
    SELECT 0 AS ord, if(toUnixTimestamp64Milli(msg_time) = 0, received_at, msg_time) AS at, 'send' AS op, sender AS actor,
        body, antispam, antispam_detail, '' AS note, toString(source) AS source, received_at, event_id
    FROM messages_data FINAL
    WHERE app = {app:String} AND msg_id = {msg_id:String}
      AND (source, app, toDate(msg_time), conversation) IN
          (SELECT source, app, toDate(msg_time), conversation FROM messages_data WHERE app = {app:String} AND msg_id = {msg_id:String})
    UNION ALL
    SELECT 1, if(toUnixTimestamp64Milli(occurred_at) = 0, received_at, occurred_at), toString(op), actor, body, antispam,
        antispam_detail, note, toString(source), received_at, event_id
    FROM message_updates
    WHERE app = {app:String} AND msg_id = {msg_id:String}
)
ORDER BY version
