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
-- A receipt repeats an earlier one when it is not its key's first receipt (raw_first_receipts, kept by
-- a materialized view: the least received_at, raw partition and offset). Each key has one first
-- receipt, so a bucket's repeats are its receipts less the keys first received in it: no receipt is
-- joined with its first. Only the first receipt's time places it in a bucket, and the time of the least
-- (received_at, partition, offset) is the least received_at, so the keys' rows are folded by
-- min(received_at) alone (the min of a tuple was most of the cost). The keys first received in the
-- range are looked up by the range's key set up to eight days (by receipt_key alone, a set of strings:
-- half the CPU of a set of (source, app, receipt_key); exact, as the set only narrows what is read — a
-- key first received in the range was received there, so every row of it is read, and whatever other
-- key shares its receipt_key is still folded by its own source and app and kept only if its first
-- receipt is in the range); beyond, every key's first receipt is read with FINAL, the table's own
-- merge of each key's rows in key order (a fifth of the CPU of a GROUP BY of every key on the 1M bench
-- archive, 90 days). The range is filtered after that merge, never before it: a row of a key received
-- earlier, in another part, must still move the key out of the range (FINAL moves no condition on a
-- column outside the sorting key to PREWHERE; optimize_move_to_prewhere_if_final is off).
--
-- Retention may purge raw receipts and keeps their keys' first receipts (schema 0100): a bucket whose
-- receipts are gone has no receipts left to tell repeats in and counts none, never fewer than none.
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
        toUInt64(greatest(sum(duplicate), 0)) AS duplicates,
        sum(stale) AS stale_presence
    FROM
    (
        SELECT received_at, CAST(source AS String) AS source, toUInt64(1) AS receipt, toInt64(1) AS duplicate, toUInt64(0) AS stale
        FROM raw_callbacks
        WHERE received_at >= {from:DateTime64(3, 'UTC')}
          AND received_at < {to:DateTime64(3, 'UTC')}
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
        UNION ALL
        SELECT first_at, CAST(source AS String), toUInt64(0), toInt64(-1), toUInt64(0)
        FROM
        (
            SELECT source, tupleElement(first, 1) AS first_at
            FROM raw_first_receipts FINAL
            WHERE ({source:String} = '' OR source = {source:String})
              AND ({app:String} = '' OR app = {app:String})
              AND {from:DateTime64(3, 'UTC')} + INTERVAL 8 DAY < {to:DateTime64(3, 'UTC')}
            UNION ALL
            SELECT source, min(tupleElement(first, 1)) AS first_at
            FROM raw_first_receipts
            WHERE ({source:String} = '' OR source = {source:String})
              AND ({app:String} = '' OR app = {app:String})
              AND {from:DateTime64(3, 'UTC')} + INTERVAL 8 DAY >= {to:DateTime64(3, 'UTC')}
              AND receipt_key IN
              (
                  SELECT if(event_id != '', event_id, raw_key)
                  FROM raw_callbacks_data
                  WHERE received_at >= {from:DateTime64(3, 'UTC')}
                    AND received_at < {to:DateTime64(3, 'UTC')}
                    AND ({source:String} = '' OR source = {source:String})
                    AND ({app:String} = '' OR app = {app:String})
              )
            GROUP BY source, app, receipt_key
        )
        WHERE first_at >= {from:DateTime64(3, 'UTC')}
          AND first_at < {to:DateTime64(3, 'UTC')}
        UNION ALL
        SELECT received_at, CAST(source AS String), toUInt64(0), toInt64(0), toUInt64(stale)
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
