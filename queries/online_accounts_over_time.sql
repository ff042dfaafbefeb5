-- name: online_accounts_over_time
-- summary: Accounts online at some moment of each time bucket, per platform, by the online-state rule applied through time: a connection is online from an online copy (login, renewal, iLink online) until its next copy by platform time or its renewal deadline, whichever comes first, and an account while any of its connections is. Every bucket is listed for each platform with presence events.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: step_seconds UInt32  bucket width in seconds (3600 hour, 86400 day); buckets start at multiples of it since 1970-01-01 UTC
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- column: time DateTime('UTC')  start of the bucket
-- column: source String  platform
-- column: online_accounts UInt64  distinct accounts online at some moment of the bucket
--
-- Every presence copy counts, late (stale) ones included: at their own time they were the latest
-- word on their connection. Copies of one connection at the same time are ordered as the rule applies
-- them, by arrival, so the later of them decides. At most 10000 buckets.
--
-- Only the range is read copy by copy: the copies from the first bucket's start on, and of each
-- connection the one copy before it that is last by (time, arrival) — every earlier copy ends at a
-- later one, before the first bucket, so it cannot count. That last copy is found by a GROUP BY over
-- the earlier copies' key columns (no window over the whole history). FINAL folds re-written copies
-- partition by partition (a copy's writes share its time, hence its month).
WITH
    toInt64(toUnixTimestamp(toStartOfInterval({from:DateTime64(3, 'UTC')}, INTERVAL {step_seconds:UInt32} SECOND))) AS first_s,
    first_s * 1000 AS first_ms,
    toInt64({step_seconds:UInt32}) * 1000 AS step_ms,
    least(toInt64(ceil((toUnixTimestamp64Milli({to:DateTime64(3, 'UTC')}) - first_ms) / step_ms)), 10000) AS buckets
SELECT time, source, online_accounts
FROM
(
    SELECT
        toDateTime(first_s + k * {step_seconds:UInt32}, 'UTC') AS time,
        source,
        uniqExact(app, account) AS online_accounts
    FROM
    (
        SELECT
            CAST(source AS String) AS source,
            CAST(app AS String) AS app,
            account,
            greatest(0, toInt64(floor((toUnixTimestamp64Milli(occurred_at) - first_ms) / step_ms))) AS first_k,
            least(buckets - 1, toInt64(ceil((toUnixTimestamp64Milli(least(next_at, if(toUnixTimestamp64Milli(expires_at) > 0, expires_at, next_at))) - first_ms) / step_ms)) - 1) AS last_k
        FROM
        (
            SELECT source, app, account, connection, online, occurred_at, expires_at,
                leadInFrame(occurred_at, 1, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC')) OVER w AS next_at
            FROM
            (
                SELECT source, app, account, connection, online, occurred_at, arrival, expires_at
                FROM presence_events_data FINAL
                WHERE occurred_at >= toDateTime64(first_s, 3, 'UTC')
                  AND occurred_at < {to:DateTime64(3, 'UTC')}
                  AND ({source:String} = '' OR source = {source:String})
                  AND ({app:String} = '' OR app = {app:String})
                UNION ALL
                SELECT source, app, account, connection, tupleElement(last, 3) AS online, tupleElement(last, 1) AS occurred_at,
                    tupleElement(last, 2) AS arrival, tupleElement(last, 4) AS expires_at
                FROM
                (
                    SELECT source, app, account, connection, max(tuple(occurred_at, arrival, online, expires_at)) AS last
                    FROM presence_events_data FINAL
                    WHERE occurred_at < toDateTime64(first_s, 3, 'UTC')
                      AND ({source:String} = '' OR source = {source:String})
                      AND ({app:String} = '' OR app = {app:String})
                    GROUP BY source, app, account, connection
                )
            )
            WINDOW w AS (PARTITION BY source, app, account, connection ORDER BY occurred_at, arrival ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING)
        )
        WHERE online
          AND least(next_at, if(toUnixTimestamp64Milli(expires_at) > 0, expires_at, next_at)) > occurred_at
    )
    ARRAY JOIN range(first_k, last_k + 1) AS k
    GROUP BY time, source
    ORDER BY source, time WITH FILL
        FROM toDateTime(first_s, 'UTC')
        TO toDateTime({to:DateTime64(3, 'UTC')}, 'UTC')
        STEP toIntervalSecond({step_seconds:UInt32})
)
WHERE source != ''
ORDER BY time, source
SETTINGS do_not_merge_across_partitions_select_final = 1
