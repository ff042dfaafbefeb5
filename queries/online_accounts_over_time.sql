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
-- What is read: the copies of the range, and before it only what can reach its first bucket. A span
-- ends at its connection's next copy, so only a connection's last copy before the first bucket can
-- reach into it, and a copy with a renewal deadline reaches no further than that: on a platform whose
-- every online copy has one (presence_leases: not open_ended), copies older than the first bucket
-- minus the platform's longest lease are not read (their spans, and those of every copy before them,
-- end before it). Copies of a platform with open-ended online copies (iLink) are read from the
-- beginning, as the span of a connection's last copy before the range can be of any length.
--
-- How: one GROUP BY account gathers its copies in an array sorted by connection, time and arrival,
-- so a copy's next copy is the next element when it is of the same connection (no window over every
-- copy: sorting them all by connection was half the time). Each online span becomes a bucket span;
-- the union of an account's bucket spans is where the running sum of its +1 (first bucket) and -1
-- (after the last) steps goes from 0 to 1 and back, and those edges are summed per platform and
-- bucket: the cost is the spans, not accounts times buckets. 1M bench archive, 90 days (every copy):
-- 0.8-1.05 s of CPU with the window and a merge by arrayFold, 0.55-0.7 s so; 1 and 7 days unchanged.
WITH
    toInt64(toUnixTimestamp(toStartOfInterval({from:DateTime64(3, 'UTC')}, INTERVAL {step_seconds:UInt32} SECOND))) AS first_s,
    first_s * 1000 AS first_ms,
    toInt64({step_seconds:UInt32}) * 1000 AS step_ms,
    least(toInt64(ceil((toUnixTimestamp64Milli({to:DateTime64(3, 'UTC')}) - first_ms) / step_ms)), 10000) AS buckets,
    (SELECT CAST(groupArrayIf(source, open_ended = 0), 'Array(String)')
     FROM (SELECT CAST(source AS String) AS source, max(open_ended) AS open_ended FROM presence_leases GROUP BY source)) AS leased_sources,
    (SELECT toInt64(max(longest_lease_ms)) FROM presence_leases) AS longest_lease_ms,
    toUnixTimestamp64Milli(toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC')) AS never_ms
SELECT time, source, online_accounts
FROM
(
    SELECT
        toDateTime(first_s + k * {step_seconds:UInt32}, 'UTC') AS time,
        source,
        toUInt64(sum(delta) OVER (PARTITION BY source ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS online_accounts
    FROM
    (
    SELECT source, tupleElement(e, 1) AS k, sum(tupleElement(e, 2)) AS delta
    FROM
    (
    SELECT source,
        arraySort(groupArray(tuple(connection, toUnixTimestamp64Milli(occurred_at), arrival, online, toUnixTimestamp64Milli(expires_at)))) AS copies,
        arrayMap(i -> if(i < length(copies) AND tupleElement(copies[i + 1], 1) = tupleElement(copies[i], 1), tupleElement(copies[i + 1], 2), never_ms),
                 arrayEnumerate(copies)) AS nexts,
        arrayMap((x, n) -> least(n, if(tupleElement(x, 5) > 0, tupleElement(x, 5), n)), copies, nexts) AS ends,
        arrayFilter(sp -> tupleElement(sp, 2) >= tupleElement(sp, 1),
            arrayMap((x, e) -> tuple(greatest(0, toInt64(floor((tupleElement(x, 2) - first_ms) / step_ms))),
                                     least(buckets - 1, toInt64(ceil((e - first_ms) / step_ms)) - 1)),
                     arrayFilter((x, e) -> tupleElement(x, 4) AND e > tupleElement(x, 2), copies, ends),
                     arrayFilter((e, x) -> tupleElement(x, 4) AND e > tupleElement(x, 2), ends, copies))) AS bucket_spans,
        arraySort(arrayConcat(arrayMap(sp -> tuple(tupleElement(sp, 1), toInt64(1)), bucket_spans),
                              arrayMap(sp -> tuple(tupleElement(sp, 2) + 1, toInt64(-1)), bucket_spans))) AS steps,
        arrayCumSum(arrayMap(st -> tupleElement(st, 2), steps)) AS running,
        arrayFilter((st, r) -> r = if(tupleElement(st, 2) > 0, 1, 0), steps, running) AS edges
    FROM
    (
        SELECT CAST(source AS String) AS source, CAST(app AS String) AS app, account, connection, online, occurred_at, expires_at, arrival
        FROM presence_events
        WHERE occurred_at < {to:DateTime64(3, 'UTC')}
          AND occurred_at >= fromUnixTimestamp64Milli(first_ms - longest_lease_ms, 'UTC')
          AND has(leased_sources, source)
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
        UNION ALL
        SELECT CAST(source AS String) AS source, CAST(app AS String) AS app, account, connection, online, occurred_at, expires_at, arrival
        FROM presence_events
        WHERE occurred_at < {to:DateTime64(3, 'UTC')}
          AND NOT has(leased_sources, source)
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
    )
    GROUP BY source, app, account
    )
    ARRAY JOIN edges AS e
    WHERE tupleElement(e, 1) < buckets
    GROUP BY source, k
    ORDER BY source, k WITH FILL FROM 0 TO buckets STEP 1
    )
    ORDER BY source, time WITH FILL
        FROM toDateTime(first_s, 'UTC')
        TO toDateTime({to:DateTime64(3, 'UTC')}, 'UTC')
        STEP toIntervalSecond({step_seconds:UInt32})
)
WHERE source != ''
ORDER BY time, source
