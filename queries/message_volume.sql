-- name: message_volume
-- summary: Messages sent per time bucket, one series per platform, app, server or channel — the busiest series_limit of the range, the rest summed as (other); per hour with step_seconds=3600, per day (UTC) with 86400. Every bucket of the range is listed for each series, 0 where nothing was sent.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: step_seconds UInt32  bucket width in seconds (3600 hour, 86400 day); buckets start at multiples of it since 1970-01-01 UTC
-- param: by String  what a series is: platform, app, server or channel
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- param: channel_id String  only this QChat channel; empty for all
-- param: series_limit UInt32  how many series to keep, the busiest of the range (ties by name); the rest are summed as (other); 0 keeps every one (default 10)
-- column: time DateTime('UTC')  start of the bucket
-- column: series String  the platform, app, server ('(no server)' outside QChat) or channel (QChat channel id, else group:GROUP, else '(direct)'); '(other)' for the series beyond series_limit
-- column: messages UInt64  messages sent in the bucket (by msg_time), each message once
--
-- Reads messages_as_sent (each message once; the time range reaches its key, no edits needed to
-- count). Channel series outside QChat are iLink/Maxim groups (group:GROUP) and one-to-one messages
-- together ('(direct)'). The series are ranked by their messages in the range. Two ways, the same
-- answer: where few series are counted or few buckets (platforms, apps, servers; channels over up to
-- 100 buckets), the buckets of every series are counted at once and each series' buckets gathered
-- into one row, so ranking costs one row per series; for channels (thousands of series) over more
-- buckets, the series are ranked first (one count per series) and the rows then counted per bucket
-- under their series' name or '(other)': two reads of the range, each grouping few keys, instead of
-- one count per bucket and series of every series (10M, 90 days by channel at 3 hours: 5.7 s of CPU,
-- 3.8 s this way; the "Messages by platform" panel, 90 days: 932 ms the first way, 1.65 s this way).
-- series_rows, the range's messages each named by its series, is read by both ways; the way not
-- taken is cut by rank_first, a constant, and reads nothing.
-- WITH FILL lists every bucket of each series kept; a range without messages gives no rows.
WITH {series_limit:UInt32} > 0 AND {by:String} = 'channel'
    AND intDiv(dateDiff('second', {from:DateTime64(3, 'UTC')}, {to:DateTime64(3, 'UTC')}), {step_seconds:UInt32}) > 100 AS rank_first,
    series_rows AS
    (
        SELECT msg_time, multiIf({by:String} = 'platform', CAST(source AS String),
                {by:String} = 'app', CAST(app AS String),
                {by:String} = 'server', if(server_id = '', '(no server)', server_id),
                multiIf(channel_id != '', channel_id, group_id != '', concat('group:', group_id), '(direct)')) AS raw_series
        FROM messages_as_sent
        WHERE msg_time >= {from:DateTime64(3, 'UTC')}
          AND msg_time < {to:DateTime64(3, 'UTC')}
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
          AND ({server_id:String} = '' OR server_id = {server_id:String})
          AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
          AND throwIf({by:String} NOT IN ('platform', 'app', 'server', 'channel'), 'by must be platform, app, server or channel') = 0
    )
SELECT time, series, messages
FROM
(
    SELECT time, series, sum(n) AS messages
    FROM
    (
        SELECT tupleElement(bucket, 1) AS time,
            if({series_limit:UInt32} = 0 OR rank <= {series_limit:UInt32}, raw_series, '(other)') AS series,
            tupleElement(bucket, 2) AS n
        FROM
        (
            SELECT raw_series, buckets, row_number() OVER (ORDER BY total DESC, raw_series) AS rank
            FROM
            (
                SELECT raw_series, groupArray((time, n)) AS buckets, sum(n) AS total
                FROM
                (
                    SELECT toStartOfInterval(msg_time, INTERVAL {step_seconds:UInt32} SECOND) AS time, raw_series, count() AS n
                    FROM series_rows
                    WHERE NOT rank_first
                    GROUP BY time, raw_series
                )
                GROUP BY raw_series
            )
        )
        ARRAY JOIN buckets AS bucket
        UNION ALL
        SELECT toStartOfInterval(msg_time, INTERVAL {step_seconds:UInt32} SECOND) AS time,
            if({series_limit:UInt32} = 0 OR raw_series IN
               (
                   SELECT raw_series
                   FROM series_rows
                   WHERE rank_first
                   GROUP BY raw_series
                   ORDER BY count() DESC, raw_series
                   LIMIT {series_limit:UInt32}
               ), raw_series, '(other)') AS series, toUInt64(1) AS n
        FROM series_rows
        WHERE rank_first
    )
    GROUP BY time, series
    ORDER BY series, time WITH FILL
        FROM toStartOfInterval({from:DateTime64(3, 'UTC')}, INTERVAL {step_seconds:UInt32} SECOND)
        TO toDateTime({to:DateTime64(3, 'UTC')}, 'UTC')
        STEP toIntervalSecond({step_seconds:UInt32})
)
WHERE series != ''
ORDER BY time, series
