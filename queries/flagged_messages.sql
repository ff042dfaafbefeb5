-- name: flagged_messages
-- summary: Messages recalled, deleted or flagged by the platform's content safety (as sent or in any edit), in a time range, oldest first, with every flag that applies and the current and original text.
-- param: app String  the platform application; empty for every application
-- param: from DateTime64(3, 'UTC')  messages sent at or after this time (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  messages sent before this time
-- param: limit UInt32  at most this many messages (a page): the oldest first; to read on, pass the last one's msg_time and event_id as after_time and after_event_id (default 1000)
-- param: after_time DateTime64(3, 'UTC')  only messages after this one: its msg_time (with after_event_id: the previous page's last message) (default 1970-01-01 00:00:00)
-- param: after_event_id String  the event_id of that message: messages at exactly after_time come after it by event_id (default )
-- column: msg_time DateTime64(3, 'UTC')  when the message was sent
-- column: source LowCardinality(String)  platform
-- column: app LowCardinality(String)  platform application
-- column: conversation String  where it was said
-- column: sender String  sending account
-- column: flags Array(String)  recalled, deleted, antispam: every one that ever applied (an edit may have undone it since; see status)
-- column: status LowCardinality(String)  the latest change: sent, updated, recalled or deleted
-- column: antispam_detail String  the platform's raw content-safety verdict on the current text, as received (NetEase yidunRes)
-- column: body String  current text
-- column: original_body String  text as sent
-- column: updated_at DateTime64(3, 'UTC')  time of the latest change
-- column: msg_id String  server-side message id (query message_edit_history for every version)
-- column: event_id String  deterministic event id, the key to the raw payload
--
-- The candidates first: messages of the range flagged as sent (messages_as_sent, the range reaching
-- its key) and messages with a recall, a delete or a flagged edit (message_updates_data, changes made
-- since the range began, less a day for clocks that disagree, or without a platform time: a change is
-- made after its message). Every candidate has a flag, so a page is known before any message is read
-- in its current version: the first limit candidates after the cursor by (msg_time, event_id), found
-- in messages_as_sent without its text, and only as far into the range as the page needs: the first
-- day from where the page starts (the range's start, or the cursor), then the next 7 days only when
-- that day holds fewer than limit, then the rest only when those 8 days do (conditions known before
-- the stretch is read: ClickHouse reads nothing for them). Then those messages alone in their current
-- version: the messages view read by their sorting key (source, app, day, conversation, msg_time,
-- event_id: a few granules each, between the page's first and last msg_time), joined to the edit
-- state of these messages only (query_plan_join_swap_table), and their flags from the changes to
-- these messages only (message_updates_data by its key). A page is limit rows, oldest first; the next
-- starts after the last row's msg_time and event_id.
-- Every bound on msg_time is also given as a bound on toDate(msg_time), the sorting key's third
-- column, which a bound on msg_time alone does not reach (on the 10M bench archive, 90 days: 2.6 s of
-- CPU → 0.9 s). The day bounds are kept in Date's range
-- (1970-01-01 to 2149-06-06), where toDate would wrap.
WITH
    candidates AS
    (
        SELECT msg_time, event_id, source, app, conversation, msg_id, antispam AS flagged_sent
        FROM messages_as_sent
        WHERE msg_time >= {from:DateTime64(3, 'UTC')}
          AND msg_time < {to:DateTime64(3, 'UTC')}
          AND toDate(msg_time) >= toDate(least(greatest({from:DateTime64(3, 'UTC')}, toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC')))
          AND toDate(msg_time) <= toDate(least(greatest({to:DateTime64(3, 'UTC')}, toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC')))
          AND ({app:String} = '' OR app = {app:String})
          AND (antispam OR (source, app, msg_id) IN
              (
                  SELECT source, app, msg_id
                  FROM message_updates_data
                  WHERE ({app:String} = '' OR app = {app:String}) AND msg_id != '' AND (op IN ('recall', 'delete') OR antispam)
                    AND (occurred_at >= {from:DateTime64(3, 'UTC')} - INTERVAL 1 DAY OR toUnixTimestamp64Milli(occurred_at) = 0)
              ))
          AND (msg_time > {after_time:DateTime64(3, 'UTC')}
               OR (msg_time = {after_time:DateTime64(3, 'UTC')} AND event_id > {after_event_id:String}))
    ),
    greatest({from:DateTime64(3, 'UTC')}, {after_time:DateTime64(3, 'UTC')}) AS start_at,
    (SELECT groupArray(p) FROM (SELECT (msg_time, event_id, source, app, conversation, msg_id, flagged_sent) AS p FROM candidates
        WHERE msg_time >= start_at AND msg_time < start_at + INTERVAL 1 DAY
            AND toDate(msg_time) >= toDate(least(greatest(start_at, toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC'))) AND toDate(msg_time) <= toDate(least(greatest(start_at + INTERVAL 1 DAY, toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC')))
        ORDER BY msg_time, event_id LIMIT {limit:UInt32})) AS first_day,
    (SELECT groupArray(p) FROM (SELECT (msg_time, event_id, source, app, conversation, msg_id, flagged_sent) AS p FROM candidates
        WHERE length(first_day) < {limit:UInt32} AND msg_time >= start_at + INTERVAL 1 DAY AND msg_time < start_at + INTERVAL 8 DAY
            AND toDate(msg_time) >= toDate(least(greatest(start_at + INTERVAL 1 DAY, toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC'))) AND toDate(msg_time) <= toDate(least(greatest(start_at + INTERVAL 8 DAY, toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC')))
        ORDER BY msg_time, event_id LIMIT {limit:UInt32})) AS first_week,
    (SELECT groupArray(p) FROM (SELECT (msg_time, event_id, source, app, conversation, msg_id, flagged_sent) AS p FROM candidates
        WHERE length(first_day) + length(first_week) < {limit:UInt32} AND msg_time >= start_at + INTERVAL 8 DAY
            AND toDate(msg_time) >= toDate(least(greatest(start_at + INTERVAL 8 DAY, toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC')))
        ORDER BY msg_time, event_id LIMIT {limit:UInt32})) AS the_rest,
    arraySlice(arrayConcat(first_day, first_week, the_rest), 1, {limit:UInt32}) AS page
SELECT
    m.msg_time AS msg_time,
    m.source AS source,
    m.app AS app,
    m.conversation AS conversation,
    m.sender AS sender,
    arrayFilter(x -> x != '', [
        if(c.recalled OR m.status = 'recalled', 'recalled', ''),
        if(c.deleted OR m.status = 'deleted', 'deleted', ''),
        if(c.antispam OR m.antispam OR m.event_id IN (SELECT tupleElement(p, 2) FROM (SELECT arrayJoin(page) AS p) WHERE tupleElement(p, 7)), 'antispam', '')]) AS flags,
    m.status AS status,
    m.antispam_detail AS antispam_detail,
    m.body AS body,
    m.original_body AS original_body,
    m.updated_at AS updated_at,
    m.msg_id AS msg_id,
    m.event_id AS event_id
FROM messages AS m
LEFT JOIN
(
    SELECT source, app, msg_id,
        max(op = 'recall') AS recalled, max(op = 'delete') AS deleted, max(antispam) AS antispam
    FROM message_updates_data
    WHERE ({app:String} = '' OR app = {app:String}) AND msg_id != ''
      AND (occurred_at >= {from:DateTime64(3, 'UTC')} - INTERVAL 1 DAY OR toUnixTimestamp64Milli(occurred_at) = 0)
      AND (source, app, msg_id) IN (SELECT tupleElement(p, 3), tupleElement(p, 4), tupleElement(p, 6) FROM (SELECT arrayJoin(page) AS p))
    GROUP BY source, app, msg_id
    HAVING recalled OR deleted OR antispam
) AS c ON c.source = m.source AND c.app = m.app AND c.msg_id = m.msg_id
WHERE ({app:String} = '' OR m.app = {app:String})
  AND m.msg_time >= {from:DateTime64(3, 'UTC')}
  AND m.msg_time < {to:DateTime64(3, 'UTC')}
  AND m.msg_time >= tupleElement(page[1], 1)
  AND m.msg_time <= tupleElement(page[-1], 1)
  AND toDate(m.msg_time) >= toDate(least(greatest(tupleElement(page[1], 1), toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC')))
  AND toDate(m.msg_time) <= toDate(least(greatest(tupleElement(page[-1], 1), toDateTime64(0, 3, 'UTC')), toDateTime64('2149-06-06 00:00:00', 3, 'UTC')))
  AND (m.source, m.app, toDate(m.msg_time), m.conversation, m.msg_time, m.event_id) IN
      (SELECT tupleElement(p, 3), tupleElement(p, 4), toDate(tupleElement(p, 1)), tupleElement(p, 5), tupleElement(p, 1), tupleElement(p, 2)
       FROM (SELECT arrayJoin(page) AS p))
  AND notEmpty(flags)
ORDER BY msg_time, event_id
LIMIT {limit:UInt32}
SETTINGS query_plan_join_swap_table = 'true'
