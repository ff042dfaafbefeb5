-- name: callback_delay
-- summary: How late callbacks arrive: the delay from the platform's time of an event to imarchive's receipt, per time bucket of receipt and platform, as exact percentiles.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: step_seconds UInt32  bucket width in seconds (3600 hour, 86400 day); buckets start at multiples of it since 1970-01-01 UTC
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- column: time DateTime('UTC')  start of the bucket (by received time)
-- column: source String  platform
-- column: events UInt64  archived events received in the bucket (each once)
-- column: p50_seconds Float64  median delay, seconds (quantileExact: the value at position floor(0.5 n) of the sorted delays)
-- column: p90_seconds Float64  90th percentile delay, seconds
-- column: p99_seconds Float64  99th percentile delay, seconds
-- column: max_seconds Float64  longest delay, seconds
--
-- Reads archive_events (every kind). Events without a platform time (Maxim sends none) are left out.
-- A negative delay means the platform's clock is ahead of ours. Buckets without events have no row.
SELECT time, source, events, q[1] AS p50_seconds, q[2] AS p90_seconds, q[3] AS p99_seconds, max_seconds
FROM
(
    SELECT
        toStartOfInterval(received_at, INTERVAL {step_seconds:UInt32} SECOND) AS time,
        CAST(source AS String) AS source,
        count() AS events,
        quantilesExact(0.5, 0.9, 0.99)(delay) AS q,
        max(delay) AS max_seconds
    FROM
    (
        SELECT source, received_at,
            (toUnixTimestamp64Milli(received_at) - toUnixTimestamp64Milli(occurred_at)) / 1000 AS delay
        FROM archive_events
        WHERE received_at >= {from:DateTime64(3, 'UTC')}
          AND received_at < {to:DateTime64(3, 'UTC')}
          AND toUnixTimestamp64Milli(occurred_at) != 0
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
    )
    GROUP BY time, source
)
ORDER BY time, source
