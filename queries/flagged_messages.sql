-- name: flagged_messages
-- summary: Messages recalled, deleted or flagged by the platform's content safety (as sent or in any edit), in a time range, oldest first, with every flag that applies and the current and original text.
-- param: app String  the platform application; empty for every application
-- param: from DateTime64(3, 'UTC')  messages sent at or after this time (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  messages sent before this time
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
WITH
    changes AS
    (
        SELECT source, app, msg_id,
            max(op = 'recall') AS recalled, max(op = 'delete') AS deleted, max(antispam) AS antispam
        FROM message_updates_data
        WHERE ({app:String} = '' OR app = {app:String}) AND msg_id != ''
        GROUP BY source, app, msg_id
        HAVING recalled OR deleted OR antispam
    ),
    flagged_sent AS
    (
        SELECT event_id FROM messages_data WHERE ({app:String} = '' OR app = {app:String}) AND antispam
    )
SELECT
    m.msg_time AS msg_time,
    m.source AS source,
    m.app AS app,
    m.conversation AS conversation,
    m.sender AS sender,
    arrayFilter(x -> x != '', [
        if(c.recalled OR m.status = 'recalled', 'recalled', ''),
        if(c.deleted OR m.status = 'deleted', 'deleted', ''),
        if(c.antispam OR m.antispam OR m.event_id IN (SELECT event_id FROM flagged_sent), 'antispam', '')]) AS flags,
    m.status AS status,
    m.antispam_detail AS antispam_detail,
    m.body AS body,
    m.original_body AS original_body,
    m.updated_at AS updated_at,
    m.msg_id AS msg_id,
    m.event_id AS event_id
FROM messages AS m
LEFT JOIN changes AS c ON c.source = m.source AND c.app = m.app AND c.msg_id = m.msg_id
WHERE ({app:String} = '' OR m.app = {app:String})
  AND m.msg_time >= {from:DateTime64(3, 'UTC')}
  AND m.msg_time < {to:DateTime64(3, 'UTC')}
  AND notEmpty(flags)
ORDER BY msg_time, event_id
