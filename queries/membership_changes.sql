-- name: membership_changes
-- summary: QChat server membership per time bucket: accounts that joined (accepted an invitation, or were accepted on application), left, or were kicked; every bucket is listed.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: step_seconds UInt32  bucket width in seconds (3600 hour, 86400 day); buckets start at multiples of it since 1970-01-01 UTC
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- column: time DateTime('UTC')  start of the bucket
-- column: joins UInt64  accounts that joined: the invitee accepting (NetEase 54) or the applicant accepted (57)
-- column: leaves UInt64  accounts that left (59)
-- column: kicks UInt64  accounts kicked (60; one event may kick several)
SELECT
    toStartOfInterval(occurred_at, INTERVAL {step_seconds:UInt32} SECOND) AS time,
    countIf(op IN ('accept_invite', 'accept_apply')) AS joins,
    countIf(op = 'leave') AS leaves,
    sumIf(toUInt64(length(accounts)), op = 'kick') AS kicks
FROM community_events
WHERE kind = 'member'
  AND occurred_at >= {from:DateTime64(3, 'UTC')}
      AND occurred_at < {to:DateTime64(3, 'UTC')}
  AND ({source:String} = '' OR source = {source:String})
  AND ({app:String} = '' OR app = {app:String})
  AND ({server_id:String} = '' OR server_id = {server_id:String})
GROUP BY time
ORDER BY time WITH FILL
    FROM toStartOfInterval({from:DateTime64(3, 'UTC')}, INTERVAL {step_seconds:UInt32} SECOND)
    TO toDateTime({to:DateTime64(3, 'UTC')}, 'UTC')
    STEP toIntervalSecond({step_seconds:UInt32})
