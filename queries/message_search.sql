-- name: message_search
-- summary: Messages whose text as sent, or any edit of it, contains a piece of text (case-insensitive, any language), in a time range, oldest first, each message once in its current version; served by an n-gram index.
-- param: app String  the platform application; empty for every application
-- param: text String  the text to find (a substring: no wildcards; at least one character)
-- param: from DateTime64(3, 'UTC')  messages sent at or after this time (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  messages sent before this time
-- param: limit UInt32  at most this many messages (a page): the oldest first; to read on, pass the last one's msg_time and event_id as after_time and after_event_id (default 1000)
-- param: after_time DateTime64(3, 'UTC')  only messages after this one: its msg_time (with after_event_id: the previous page's last message) (default 1970-01-01 00:00:00)
-- param: after_event_id String  the event_id of that message: messages at exactly after_time come after it by event_id (default )
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
-- The page is found before any message is read in its current version, and the range is read only as
-- far as the page needs: first 8 days from where the page starts (the range's start, or the cursor),
-- then the rest of the range only when those 8 days hold fewer than limit matches (a condition known
-- before the rest is read: ClickHouse reads nothing for it). A text common enough to fill a page in
-- 8 days is read over 8 days whatever the range; a rarer one is read over the range through the n-gram
-- index, which skips the granules that cannot match.
-- The matches: messages whose text as sent contains the text (sent_hits: the range reaches the key of
-- messages_as_sent, the n-gram index on lowerUTF8(body) of migration 0060 skips every granule whose
-- n-grams cannot match) and messages with an edit that contains it (edit_hits on message_updates_data,
-- the same index; an edit is found whenever it was made after the range began, less a day for clocks
-- that disagree, or when it has no platform time: an edit is made after its message), their messages
-- found in the stretch read (edited, through the msg_id bloom filter: a common text's edits are many,
-- and the filter then skips little, so this too is read only as far as the page needs). Then the
-- page's messages alone in their current version (the messages view between the page's first and
-- last msg_time, by event_id: query_plan_join_swap_table joins the edit state of these messages
-- only). A page is limit rows, oldest first; the next starts after the last row's msg_time and
-- event_id.
-- Every bound on msg_time, the page's included, is also given as a bound on toDate(msg_time), the
-- sorting key's third column, which a bound on msg_time alone does not reach (on the 10M bench
-- archive, 7 days: 2.5 s of CPU → 1.4 s). The day bounds are kept in Date's range (1970-01-01 to
-- 2149-06-06), where toDate would wrap: a range reaching outside it still reads every message inside.
WITH
    sent_hits AS
    (
        SELECT source, app, conversation, msg_time, event_id
        FROM messages_as_sent
        WHERE msg_time >= {from:DateTime64(3, 'UTC')}
          AND msg_time < {to:DateTime64(3, 'UTC')}
          AND toDate(msg_time) >= toDate(least(greatest({from:DateTime64(3, 'UTC')}, toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC')))
          AND toDate(msg_time) <= toDate(least(greatest({to:DateTime64(3, 'UTC')}, toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC')))
          AND ({app:String} = '' OR app = {app:String})
          AND {text:String} != ''
          AND multiSearchAny(lowerUTF8(body), [lowerUTF8({text:String})])
    ),
    edit_hits AS
    (
        SELECT DISTINCT source, app, msg_id
        FROM message_updates_data
        WHERE ({app:String} = '' OR app = {app:String})
          AND {text:String} != ''
          AND (occurred_at >= {from:DateTime64(3, 'UTC')} - INTERVAL 1 DAY OR toUnixTimestamp64Milli(occurred_at) = 0)
          AND msg_id != ''
          AND multiSearchAny(lowerUTF8(body), [lowerUTF8({text:String})])
    ),
    edited AS
    (
        SELECT msg_time, event_id, source, app, conversation
        FROM messages_as_sent
        WHERE msg_time >= {from:DateTime64(3, 'UTC')}
          AND msg_time < {to:DateTime64(3, 'UTC')}
          AND toDate(msg_time) >= toDate(least(greatest({from:DateTime64(3, 'UTC')}, toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC')))
          AND toDate(msg_time) <= toDate(least(greatest({to:DateTime64(3, 'UTC')}, toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC')))
          AND ({app:String} = '' OR app = {app:String})
          AND msg_id IN (SELECT msg_id FROM edit_hits)
          AND (source, app, msg_id) IN edit_hits
    ),
    hits AS
    (
        SELECT msg_time, event_id, source, app, conversation, groupBitOr(how) AS how
        FROM
        (
            SELECT msg_time, event_id, source, app, conversation, toUInt8(1) AS how FROM sent_hits
            UNION ALL
            SELECT msg_time, event_id, source, app, conversation, toUInt8(2) FROM edited
        )
        WHERE msg_time > {after_time:DateTime64(3, 'UTC')}
           OR (msg_time = {after_time:DateTime64(3, 'UTC')} AND event_id > {after_event_id:String})
        GROUP BY msg_time, event_id, source, app, conversation
    ),
    greatest({from:DateTime64(3, 'UTC')}, {after_time:DateTime64(3, 'UTC')}) AS start_at,
    (SELECT groupArray(h) FROM (SELECT (msg_time, event_id, how) AS h FROM hits
        WHERE msg_time >= start_at AND msg_time < start_at + INTERVAL 8 DAY
            AND toDate(msg_time) >= toDate(least(greatest(start_at, toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC'))) AND toDate(msg_time) <= toDate(least(greatest(start_at + INTERVAL 8 DAY, toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC')))
        ORDER BY msg_time, event_id LIMIT {limit:UInt32})) AS first_week,
    (SELECT groupArray(h) FROM (SELECT (msg_time, event_id, how) AS h FROM hits
        WHERE length(first_week) < {limit:UInt32} AND msg_time >= start_at + INTERVAL 8 DAY
            AND toDate(msg_time) >= toDate(least(greatest(start_at + INTERVAL 8 DAY, toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC')))
        ORDER BY msg_time, event_id LIMIT {limit:UInt32})) AS the_rest,
    arraySlice(arrayConcat(first_week, the_rest), 1, {limit:UInt32}) AS page
SELECT
    m.msg_time AS msg_time,
    m.source AS source,
    m.app AS app,
    m.conversation AS conversation,
    m.sender AS sender,
    m.body AS body,
    m.original_body AS original_body,
    m.status AS status,
    arrayStringConcat(arrayFilter(x -> x != '', [
        if(m.event_id IN (SELECT tupleElement(h, 2) FROM (SELECT arrayJoin(page) AS h) WHERE bitTest(tupleElement(h, 3), 0)), 'sent', ''),
        if(m.event_id IN (SELECT tupleElement(h, 2) FROM (SELECT arrayJoin(page) AS h) WHERE bitTest(tupleElement(h, 3), 1)), 'edit', '')]), ',') AS matched_in,
    m.msg_id AS msg_id,
    m.event_id AS event_id
FROM messages AS m
WHERE ({app:String} = '' OR m.app = {app:String})
  AND m.msg_time >= {from:DateTime64(3, 'UTC')}
  AND m.msg_time < {to:DateTime64(3, 'UTC')}
  AND m.msg_time >= tupleElement(page[1], 1)
  AND m.msg_time <= tupleElement(page[-1], 1)
  AND toDate(m.msg_time) >= toDate(least(greatest(tupleElement(page[1], 1), toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC')))
  AND toDate(m.msg_time) <= toDate(least(greatest(tupleElement(page[-1], 1), toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC')))
  AND m.event_id IN (SELECT tupleElement(h, 2) FROM (SELECT arrayJoin(page) AS h))
ORDER BY msg_time, event_id
LIMIT {limit:UInt32}
SETTINGS query_plan_join_swap_table = 'true'
