-- name: message_changes
-- summary: Changes to messages per time bucket: edits (text replaced or appended), recalls and deletes; every bucket is listed.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: step_seconds UInt32  bucket width in seconds (3600 hour, 86400 day); buckets start at multiples of it since 1970-01-01 UTC
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- param: channel_id String  only this QChat channel; empty for all
-- column: time DateTime('UTC')  start of the bucket (by the change's platform time)
-- column: edits UInt64  text replaced (NetEase 81 status 0, Maxim REPLACE) or appended (Maxim APPEND)
-- column: recalls UInt64  messages recalled
-- column: deletes UInt64  messages deleted
SELECT
    toStartOfInterval(occurred_at, INTERVAL {step_seconds:UInt32} SECOND) AS time,
    countIf(op IN ('update', 'append')) AS edits,
    countIf(op = 'recall') AS recalls,
    countIf(op = 'delete') AS deletes
FROM message_updates
WHERE occurred_at >= {from:DateTime64(3, 'UTC')}
      AND occurred_at < {to:DateTime64(3, 'UTC')}
  AND ({source:String} = '' OR source = {source:String})
  AND ({app:String} = '' OR app = {app:String})
  AND ({server_id:String} = '' OR server_id = {server_id:String})
  AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
GROUP BY time
ORDER BY time WITH FILL
    FROM toStartOfInterval({from:DateTime64(3, 'UTC')}, INTERVAL {step_seconds:UInt32} SECOND)
    TO toDateTime({to:DateTime64(3, 'UTC')}, 'UTC')
    STEP toIntervalSecond({step_seconds:UInt32})
