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
-- A receipt repeats an earlier one when it is not its key's first receipt (raw_first_receipt_ids, kept
-- by a materialized view: the least received_at of the key's receipts, the time of its least
-- (received_at, partition, offset)). Each key has one first receipt, so a bucket's repeats are its
-- receipts less the keys first received in it: no receipt is joined with its first. A key received
-- in two inserts has a row in each part until they merge, so the keys are folded here (the least
-- first_at of each) and the range is filtered after the fold, never before it: a row of the key in
-- another part, before the range, must still move the key out of it.
--
-- The fold is by id alone, a hash aggregation with one min: an id names its source and app, which
-- event.ID hashes in with the key (two platforms or applications share an id only by a 128-bit
-- SHA-256 collision). The other keys (id 0, none written today) are folded by (source, app,
-- key_rest). The source rides the fold as cityHash64(source), computed on the LowCardinality
-- dictionary, and is named again from the table's distinct sources once the keys are counted per
-- bucket. On the 10M bench archive, 90 days, the fold took 2.0-2.5 s of CPU this way, 3.1 s with
-- any(source) (each row's string materialized) and 4.1 s as FINAL, the table's own merge.
-- Up to eight days, only the keys with a row in the range are folded: the rows whose id's low 32
-- bits are among those of the range's keys (a small set, probed cheaply; its few false matches are
-- other keys, folded and dropped like any key first received outside the range). Seven days: the
-- whole query in 0.7 s, against 1.2-1.4 s with the lookup by whole key this replaces. Past eight
-- days the set is left empty (its own condition says so before it is read) and every key is folded.
--
-- Retention may purge raw receipts and keeps their keys' first receipts (schemas 0100, 0161): a bucket
-- whose receipts are gone has no receipts left to tell repeats in and counts none, never fewer than
-- none, and a platform with no receipt and no stale copy left in the range is not listed.
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
        SELECT bucket, transform(key_source, arrayMap(name -> cityHash64(name), source_names), source_names, ''), toUInt64(0), -toInt64(firsts), toUInt64(0)
        FROM
        (
            WITH (SELECT groupArray(name) FROM (SELECT DISTINCT CAST(source AS String) AS name FROM raw_first_receipt_ids)) AS source_names
            SELECT toStartOfInterval(key_first_at, INTERVAL {step_seconds:UInt32} SECOND) AS bucket, key_source, count() AS firsts, source_names
            FROM
            (
                SELECT min(first_at) AS key_first_at, any(cityHash64(source)) AS key_source
                FROM raw_first_receipt_ids
                WHERE id != 0
                  AND ({source:String} = '' OR source = {source:String})
                  AND ({app:String} = '' OR app = {app:String})
                  AND ({from:DateTime64(3, 'UTC')} + INTERVAL 8 DAY < {to:DateTime64(3, 'UTC')} OR toUInt32(id) IN
                  (
                      SELECT toUInt32(id)
                      FROM raw_first_receipt_ids
                      WHERE {from:DateTime64(3, 'UTC')} + INTERVAL 8 DAY >= {to:DateTime64(3, 'UTC')}
                        AND first_at >= {from:DateTime64(3, 'UTC')}
                        AND first_at < {to:DateTime64(3, 'UTC')}
                        AND id != 0
                        AND ({source:String} = '' OR source = {source:String})
                        AND ({app:String} = '' OR app = {app:String})
                  ))
                GROUP BY id
                UNION ALL
                SELECT min(first_at), any(cityHash64(source))
                FROM raw_first_receipt_ids
                WHERE id = 0
                  AND ({source:String} = '' OR source = {source:String})
                  AND ({app:String} = '' OR app = {app:String})
                GROUP BY source, app, key_rest
            )
            WHERE key_first_at >= {from:DateTime64(3, 'UTC')}
              AND key_first_at < {to:DateTime64(3, 'UTC')}
            GROUP BY bucket, key_source
        )
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
    HAVING receipts > 0 OR stale_presence > 0
    ORDER BY source, time WITH FILL
        FROM toStartOfInterval({from:DateTime64(3, 'UTC')}, INTERVAL {step_seconds:UInt32} SECOND)
        TO toDateTime({to:DateTime64(3, 'UTC')}, 'UTC')
        STEP toIntervalSecond({step_seconds:UInt32})
)
WHERE source != ''
ORDER BY time, source
