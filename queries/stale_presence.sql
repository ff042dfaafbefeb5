-- name: stale_presence
-- summary: Presence copies that arrived stale, per time bucket of receipt and platform: copies older (by platform time) than a copy of the same connection that arrived before them — kept in the log, flagged stale, without effect on the online state.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: step_seconds UInt32  bucket width in seconds (3600 hour, 86400 day); buckets start at multiples of it since 1970-01-01 UTC
-- param: source String  only this platform (netease_qchat, ilink); empty for all
-- param: app String  only this application; empty for all
-- column: time DateTime('UTC')  start of the bucket (by received time)
-- column: source String  platform (those with presence copies received in the range; buckets without stale copies are 0)
-- column: stale_presence UInt64  presence copies received in the bucket after a later copy of the same connection (each copy once)
--
-- The stale_presence column of duplicates_discarded, for the Presence dashboard, without the raw archive.
-- The consumer decides stale when it writes a copy; a copy written again (a consumer's re-delivery, a
-- platform's re-send past ingest's dedupe window) is another version of the same row of
-- presence_events_data, and counts once: the last written version (greatest inserted_at, as FINAL keeps)
-- of each copy received in the range. Only the range is read (idx_received_at): the stale copies first,
-- then every version received in the range of those copies (by event_id), folded with LIMIT 1 BY.
SELECT time, source, stale_presence
FROM
(
    SELECT
        toStartOfInterval(received_at, INTERVAL {step_seconds:UInt32} SECOND) AS time,
        source,
        sum(stale) AS stale_presence
    FROM
    (
        SELECT received_at, CAST(source AS String) AS source, toUInt64(stale) AS stale
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
        UNION ALL
        SELECT DISTINCT toStartOfInterval({from:DateTime64(3, 'UTC')}, INTERVAL {step_seconds:UInt32} SECOND),
            CAST(source AS String), toUInt64(0)
        FROM presence_events_data
        WHERE received_at >= {from:DateTime64(3, 'UTC')}
          AND received_at < {to:DateTime64(3, 'UTC')}
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
    )
    GROUP BY time, source
    ORDER BY source, time WITH FILL
        FROM toStartOfInterval({from:DateTime64(3, 'UTC')}, INTERVAL {step_seconds:UInt32} SECOND)
        TO toDateTime({to:DateTime64(3, 'UTC')}, 'UTC')
        STEP toIntervalSecond({step_seconds:UInt32})
)
WHERE source != ''
ORDER BY time, source
