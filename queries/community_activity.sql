-- name: community_activity
-- summary: QChat community events per time bucket, one series per kind (server, channel, member, role, permission); every bucket is listed for each kind with events in the range.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: step_seconds UInt32  bucket width in seconds (3600 hour, 86400 day); buckets start at multiples of it since 1970-01-01 UTC
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- column: time DateTime('UTC')  start of the bucket
-- column: kind String  server, channel, member, role or permission
-- column: events UInt64  events of that kind in the bucket, each once
SELECT time, kind, events
FROM
(
    SELECT
        toStartOfInterval(occurred_at, INTERVAL {step_seconds:UInt32} SECOND) AS time,
        CAST(kind AS String) AS kind,
        count() AS events
    FROM community_events
    WHERE occurred_at >= {from:DateTime64(3, 'UTC')}
      AND occurred_at < {to:DateTime64(3, 'UTC')}
      AND ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
      AND ({server_id:String} = '' OR server_id = {server_id:String})
    GROUP BY time, kind
    ORDER BY kind, time WITH FILL
        FROM toStartOfInterval({from:DateTime64(3, 'UTC')}, INTERVAL {step_seconds:UInt32} SECOND)
        TO toDateTime({to:DateTime64(3, 'UTC')}, 'UTC')
        STEP toIntervalSecond({step_seconds:UInt32})
)
WHERE kind != ''
ORDER BY time, kind
