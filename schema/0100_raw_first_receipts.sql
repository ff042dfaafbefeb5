-- Issue 21: the first receipt of every event (or unreadable body) of the raw archive, kept by a
-- materialized view, so duplicates_discarded tells a repeat from a first receipt by reading only the
-- range asked for (it read the whole archive up to the range's end to number the receipts).
-- The first receipt is the least (received_at, raw_partition, raw_offset) of the key's rows — the order
-- duplicates_discarded numbered them in. min() is what makes it safe: a raw record written twice (a
-- consumer's re-delivery, a replay, the copy below racing the view) changes nothing. Rows purged by
-- retention leave their first receipt here: a later receipt of the same event still counts as a repeat.
CREATE TABLE IF NOT EXISTS raw_first_receipts
(
    source      LowCardinality(String) COMMENT 'Platform the callback came in for',
    app         LowCardinality(String) COMMENT 'Platform application',
    receipt_key String COMMENT 'What repeats are counted by: the event_id, or the raw key of a body that has none',
    first       SimpleAggregateFunction(min, Tuple(DateTime64(3, 'UTC'), Int32, Int64)) COMMENT 'The first receipt: (received_at, raw_partition, raw_offset), the least of every receipt of the key'
)
ENGINE = AggregatingMergeTree
ORDER BY (source, app, receipt_key)
COMMENT 'First receipt of each event of the raw archive (raw_first_receipts_mv); read with min(first) GROUP BY the key';

CREATE MATERIALIZED VIEW IF NOT EXISTS raw_first_receipts_mv TO raw_first_receipts
(
    source      LowCardinality(String) COMMENT 'Platform the callback came in for',
    app         LowCardinality(String) COMMENT 'Platform application',
    receipt_key String COMMENT 'The event_id, or the raw key of a body that has none',
    first       Tuple(DateTime64(3, 'UTC'), Int32, Int64) COMMENT 'The least (received_at, raw_partition, raw_offset) of the inserted block''s receipts of the key'
)
AS
SELECT source, app, if(event_id != '', event_id, raw_key) AS receipt_key,
    min(tuple(received_at, raw_partition, raw_offset)) AS first
FROM raw_callbacks_data
GROUP BY source, app, receipt_key;

INSERT INTO raw_first_receipts (source, app, receipt_key, first)
SELECT source, app, if(event_id != '', event_id, raw_key) AS receipt_key,
    min(tuple(received_at, raw_partition, raw_offset)) AS first
FROM raw_callbacks_data
GROUP BY source, app, receipt_key;

-- Stale presence copies are counted by received time; the table is sorted by account and partitioned
-- by platform time, so a min-max index on received_at lets a range skip the rest.
ALTER TABLE presence_events_data ADD INDEX IF NOT EXISTS idx_received_at received_at TYPE minmax GRANULARITY 1;

ALTER TABLE presence_events_data MATERIALIZE INDEX idx_received_at;
