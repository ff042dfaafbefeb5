-- name: message_volume
-- summary: Messages sent per time bucket, one series per platform, app, server or channel; per hour with step_seconds=3600, per day (UTC) with 86400. Every bucket of the range is listed for each series, 0 where nothing was sent.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: step_seconds UInt32  bucket width in seconds (3600 hour, 86400 day); buckets start at multiples of it since 1970-01-01 UTC
-- param: by String  what a series is: platform, app, server or channel
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- param: channel_id String  only this QChat channel; empty for all
-- column: time DateTime('UTC')  start of the bucket
-- column: series String  the platform, app, server ('(no server)' outside QChat) or channel (QChat channel id, else group:GROUP, else '(direct)')
-- column: messages UInt64  messages sent in the bucket (by msg_time), each message once
--
-- Reads the messages view (each message once, FINAL). Channel series outside QChat are iLink/Maxim
-- groups (group:GROUP) and one-to-one messages together ('(direct)'). WITH FILL lists every bucket of
-- each series; a range without messages gives no rows (the fill's empty series is dropped).
SELECT time, series, messages
FROM
(
    SELECT
        toStartOfInterval(msg_time, INTERVAL {step_seconds:UInt32} SECOND) AS time,
        multiIf({by:String} = 'platform', CAST(source AS String),
                {by:String} = 'app', CAST(app AS String),
                {by:String} = 'server', if(server_id = '', '(no server)', server_id),
                multiIf(channel_id != '', channel_id, group_id != '', concat('group:', group_id), '(direct)')) AS series,
        count() AS messages
    FROM messages
    WHERE msg_time >= {from:DateTime64(3, 'UTC')}
      AND msg_time < {to:DateTime64(3, 'UTC')}
      AND ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
      AND ({server_id:String} = '' OR server_id = {server_id:String})
      AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
      AND throwIf({by:String} NOT IN ('platform', 'app', 'server', 'channel'), 'by must be platform, app, server or channel') = 0
    GROUP BY time, series
    ORDER BY series, time WITH FILL
        FROM toStartOfInterval({from:DateTime64(3, 'UTC')}, INTERVAL {step_seconds:UInt32} SECOND)
        TO toDateTime({to:DateTime64(3, 'UTC')}, 'UTC')
        STEP toIntervalSecond({step_seconds:UInt32})
)
WHERE series != ''
ORDER BY time, series
