-- name: duplicates_discarded
-- summary: What the archive received twice or too late, per time bucket and platform: raw receipts, receipts that repeat an earlier one (a platform retry past ingest's dedupe window, folded into one event), and presence copies that arrived stale (kept, but did not change their connection's online state).
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: step_seconds UInt32  bucket width in seconds (3600 hour, 86400 day); buckets start at multiples of it since 1970-01-01 UTC
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- column: time DateTime('UTC')  start of the bucket (by received time)
-- column: source String  platform
-- column: receipts UInt64  callbacks archived raw in the bucket
-- column: duplicates UInt64  of them, receipts of an event (or an unreadable body) already received earlier: analysts see the event once
-- column: stale_presence UInt64  presence copies received in the bucket after a later copy of the same connection
--
-- A receipt repeats an earlier one when its key has a receipt less by (received_at, raw partition,
-- offset). raw_repeats (schema 0140) holds the receipts found to repeat, by received time, so the
-- range's repeats are read by the range: no receipt is looked up by its key at read time (that read
-- all of raw_first_receipts for any range). raw_repeats_mv decides when a block is written, from the
-- block and the key's earlier receipts, and marks a later receipt again when an earlier one is written
-- after it; exact while one key's receipts are not written by two inserts at the same time, which
-- the pipeline keeps (0140's header says why and when not). raw_repeats may hold a receipt twice
-- until merged: LIMIT 1 BY its position. The answer is the old one on the 1M bench archive (md5).
--
-- Stale presence copies: the versions received in the range of the copies found stale there
-- (idx_received_at), the last written of each (greatest inserted_at, as FINAL keeps) by LIMIT 1 BY its
-- sorting key — the same fold as stale_presence, the Presence dashboard's query. The consumer decides
-- stale when it writes a copy; a copy written again (re-delivery, a platform's re-send past the dedupe
-- window) is another version of the same row and counts once.
--
-- Retries that ingest answered from its dedupe window never reach the archive; they are counted in the
-- Prometheus metric imarchive_ingest_duplicates_total (Ingest health dashboard).
SELECT time, source, receipts, duplicates, stale_presence
FROM
(
    SELECT
        toStartOfInterval(received_at, INTERVAL {step_seconds:UInt32} SECOND) AS time,
        source,
        sum(receipt) AS receipts,
        sum(duplicate) AS duplicates,
        sum(stale) AS stale_presence
    FROM
    (
        SELECT received_at, CAST(source AS String) AS source, toUInt64(1) AS receipt, toUInt64(0) AS duplicate, toUInt64(0) AS stale
        FROM raw_callbacks
        WHERE received_at >= {from:DateTime64(3, 'UTC')}
          AND received_at < {to:DateTime64(3, 'UTC')}
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
        UNION ALL
        SELECT received_at, CAST(source AS String), toUInt64(0), toUInt64(1), toUInt64(0)
        FROM
        (
            SELECT source, received_at
            FROM raw_repeats
            WHERE received_at >= {from:DateTime64(3, 'UTC')}
              AND received_at < {to:DateTime64(3, 'UTC')}
              AND ({source:String} = '' OR source = {source:String})
              AND ({app:String} = '' OR app = {app:String})
            LIMIT 1 BY source, app, received_at, raw_partition, raw_offset
        )
        UNION ALL
        SELECT received_at, CAST(source AS String), toUInt64(0), toUInt64(0), toUInt64(stale)
        FROM presence_events_data
        WHERE received_at >= {from:DateTime64(3, 'UTC')}
          AND received_at < {to:DateTime64(3, 'UTC')}
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
          AND event_id IN
          (
              SELECT event_id
              FROM presence_events_data
              WHERE stale
                AND received_at >= {from:DateTime64(3, 'UTC')}
                AND received_at < {to:DateTime64(3, 'UTC')}
                AND ({source:String} = '' OR source = {source:String})
                AND ({app:String} = '' OR app = {app:String})
          )
        ORDER BY inserted_at DESC
        LIMIT 1 BY source, app, account, occurred_at, event_id
    )
    GROUP BY time, source
    ORDER BY source, time WITH FILL
        FROM toStartOfInterval({from:DateTime64(3, 'UTC')}, INTERVAL {step_seconds:UInt32} SECOND)
        TO toDateTime({to:DateTime64(3, 'UTC')}, 'UTC')
        STEP toIntervalSecond({step_seconds:UInt32})
)
WHERE source != ''
ORDER BY time, source
