-- name: antispam_hits
-- summary: Content the platform's antispam flagged, per time bucket: messages flagged when sent, and edits flagged when made; every bucket is listed.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: step_seconds UInt32  bucket width in seconds (3600 hour, 86400 day); buckets start at multiples of it since 1970-01-01 UTC
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- param: channel_id String  only this QChat channel; empty for all
-- column: time DateTime('UTC')  start of the bucket
-- column: flagged_messages UInt64  messages sent in the bucket whose content was flagged as sent (NetEase antispam)
-- column: flagged_edits UInt64  message edits made in the bucket whose new content was flagged
SELECT
    toStartOfInterval(at, INTERVAL {step_seconds:UInt32} SECOND) AS time,
    countIf(what = 'message') AS flagged_messages,
    countIf(what = 'edit') AS flagged_edits
FROM
(
    -- The flag as sent is messages_as_sent's (messages shows the current content's); not attrs, which
    -- the analyst (Grafana) may not read.
    SELECT msg_time AS at, 'message' AS what
    FROM messages_as_sent
    WHERE antispam
      AND msg_time >= {from:DateTime64(3, 'UTC')}
      AND msg_time < {to:DateTime64(3, 'UTC')}
      AND ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
      AND ({server_id:String} = '' OR server_id = {server_id:String})
      AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
    UNION ALL
    SELECT occurred_at, 'edit'
    FROM message_updates
    WHERE antispam
      AND occurred_at >= {from:DateTime64(3, 'UTC')}
      AND occurred_at < {to:DateTime64(3, 'UTC')}
      AND ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
      AND ({server_id:String} = '' OR server_id = {server_id:String})
      AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
)
GROUP BY time
ORDER BY time WITH FILL
    FROM toStartOfInterval({from:DateTime64(3, 'UTC')}, INTERVAL {step_seconds:UInt32} SECOND)
    TO toDateTime({to:DateTime64(3, 'UTC')}, 'UTC')
    STEP toIntervalSecond({step_seconds:UInt32})
