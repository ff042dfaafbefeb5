-- name: message_search
-- summary: Messages whose text as sent, or any edit of it, contains a piece of text (case-insensitive, any language), in a time range, oldest first, each message once in its current version; served by an n-gram index.
-- param: app String  the platform application; empty for every application
-- param: text String  the text to find (a substring: no wildcards; at least one character)
-- param: from DateTime64(3, 'UTC')  messages sent at or after this time (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  messages sent before this time
-- column: msg_time DateTime64(3, 'UTC')  when the message was sent
-- column: source LowCardinality(String)  platform
-- column: app LowCardinality(String)  platform application
-- column: conversation String  where it was said: channel:SERVER/CHANNEL, group:GROUP, conv:A/B
-- column: sender String  sending account
-- column: body String  current text (as last edited)
-- column: original_body String  text as sent
-- column: status LowCardinality(String)  sent, updated, recalled or deleted
-- column: matched_in String  sent (the text as sent matches), edit (an edit matches), or sent,edit
-- column: msg_id String  server-side message id (query message_edit_history for every version)
-- column: event_id String  deterministic event id, the key to the raw payload
--
-- The index is on lowerUTF8(body) of messages_data and message_updates_data (migration 0060); the
-- search expression is the same, so ClickHouse skips every granule whose n-grams cannot match.
SELECT
    m.msg_time AS msg_time,
    m.source AS source,
    m.app AS app,
    m.conversation AS conversation,
    m.sender AS sender,
    m.body AS body,
    m.original_body AS original_body,
    m.status AS status,
    arrayStringConcat(arrayFilter(x -> x != '', [if(s.hit = 1, 'sent', ''), if(e.hit = 1, 'edit', '')]), ',') AS matched_in,
    m.msg_id AS msg_id,
    m.event_id AS event_id
FROM messages AS m
LEFT JOIN
(
    SELECT DISTINCT event_id, toUInt8(1) AS hit
    FROM messages_data
    WHERE ({app:String} = '' OR app = {app:String})
      AND {text:String} != ''
      AND multiSearchAny(lowerUTF8(body), [lowerUTF8({text:String})])
) AS s ON s.event_id = m.event_id
LEFT JOIN
(
    SELECT DISTINCT source, app, msg_id, toUInt8(1) AS hit
    FROM message_updates_data
    WHERE ({app:String} = '' OR app = {app:String})
      AND {text:String} != ''
      AND msg_id != ''
      AND multiSearchAny(lowerUTF8(body), [lowerUTF8({text:String})])
) AS e ON e.source = m.source AND e.app = m.app AND e.msg_id = m.msg_id
WHERE ({app:String} = '' OR m.app = {app:String})
  AND m.msg_time >= {from:DateTime64(3, 'UTC')}
  AND m.msg_time < {to:DateTime64(3, 'UTC')}
  AND (s.hit = 1 OR e.hit = 1)
ORDER BY msg_time, event_id
