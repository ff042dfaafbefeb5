-- Issue 21: the receipts of the raw archive that repeat an earlier one, by received time, so
-- duplicates_discarded reads its range and no more. It counted a range's receipts less the keys
-- first received there, and to know which keys those are it looked every key of the range up in
-- raw_first_receipts (0100), sorted by key: a one-day range read the whole table (10M messages: 1.87 s
-- for 7 days, 3.55 s for 90; on the 1M bench archive 159 of 159 granules for any range).
--
-- A receipt repeats when its key (the event_id, or the raw key of a body that has none) has a receipt
-- less by (received_at, raw_partition, raw_offset). raw_repeats_mv decides it when a block is inserted,
-- from the block and from the key's rows of raw_receipt_keys (the least receipt of the key per insert,
-- as raw_first_receipts, with small granules so the block's keys are looked up, not the table read):
-- of every receipt it sees of a key — the block's and the rows found — each one greater than the least
-- of them is written to raw_repeats. That includes a row of raw_receipt_keys: a receipt written after
-- a later one of its key (out of order: a spool forwarded late, a replay) marks that later one too.
--
-- Exact, when the inserts that carry the receipts of one key do not run at the same time:
--   - never a receipt marked wrongly: each one written is greater than a receipt of its key;
--   - every repeat marked: for a repeat y, take the receipts of its key less than it. If one was
--     inserted before y's insert, y's insert finds it (or a lesser one) and marks y. If none was, the
--     first insert after y's that carries one finds the key's receipts inserted before it, all at
--     least y and y among them, so its least row is y (raw_receipt_keys keeps per insert the least,
--     and min() folds the rest) and y is marked then. Receipts of one insert are compared within it.
-- A receipt written again (a re-delivery, a consumer's batch re-inserted in other boundaries, this
-- file's copy run twice) is not greater than itself and marks nothing new; raw_repeats folds a
-- receipt marked twice (ReplacingMergeTree by the receipt's position, as raw_callbacks_data).
-- Two inserts carrying receipts of one key at the same time may each miss the other (neither sees the
-- other's rows), and the later receipt would stay unmarked. The pipeline does not do that: the raw
-- topic is keyed by the receipt key, so one key's receipts are in one partition, whose batches one
-- member writes one after another, and a member that lost the partition has its batch written again
-- by the next owner after it (pipeline/doc.go). What could: a raw topic given more partitions while a
-- key's older receipts still wait in the old one; a ClickHouse cluster (imarchive migrate --cluster:
-- the view reads raw_receipt_keys_local, the keys its own shard holds, and a replica may not hold
-- another replica's last insert yet). There the answers can miss repeats; on one server they are
-- exact under the pipeline.
--
-- raw_receipt_keys holds what raw_first_receipts holds, in granules of 256 instead of 8192 (a table's
-- granularity cannot be altered): a block of 1,000 keys reads some 256k rows of it, not 1,000 granules
-- of 8192 rows. raw_first_receipts is read by nothing after this file but its copies below.
-- Rows of receipts purged by retention stay, like raw_first_receipts': a later receipt of the same
-- event still repeats it. Neither table holds a payload: keys and positions.
CREATE TABLE IF NOT EXISTS raw_receipt_keys
(
    source      LowCardinality(String) COMMENT 'Platform the callback came in for',
    app         LowCardinality(String) COMMENT 'Platform application',
    receipt_key String COMMENT 'What repeats are counted by: the event_id, or the raw key of a body that has none',
    first       SimpleAggregateFunction(min, Tuple(DateTime64(3, 'UTC'), Int32, Int64)) COMMENT 'The least (received_at, raw_partition, raw_offset) of the key''s receipts, per insert until merged'
)
ENGINE = AggregatingMergeTree
ORDER BY (source, app, receipt_key)
SETTINGS index_granularity = 256
COMMENT 'Least receipt of each key of the raw archive (raw_receipt_keys_mv), in small granules: raw_repeats_mv looks up an inserted block''s keys';

CREATE MATERIALIZED VIEW IF NOT EXISTS raw_receipt_keys_mv TO raw_receipt_keys
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

-- From raw_first_receipts, the same least receipt of every key since 0100, those of purged rows too.
INSERT INTO raw_receipt_keys (source, app, receipt_key, first)
SELECT source, app, receipt_key, first
FROM raw_first_receipts;

CREATE TABLE IF NOT EXISTS raw_repeats
(
    source        LowCardinality(String) COMMENT 'Platform the callback came in for',
    app           LowCardinality(String) COMMENT 'Platform application',
    received_at   DateTime64(3, 'UTC') COMMENT 'When imarchive received the repeating callback, UTC (as in raw_callbacks_data)',
    raw_partition Int32 COMMENT 'Raw-topic partition of the repeating record',
    raw_offset    Int64 COMMENT 'Raw-topic offset of the repeating record'
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (source, app, received_at, raw_partition, raw_offset)
COMMENT 'Receipts of the raw archive that repeat an earlier receipt of their event (raw_repeats_mv), by position; may hold a receipt twice until merged';

CREATE MATERIALIZED VIEW IF NOT EXISTS raw_repeats_mv TO raw_repeats
(
    source        LowCardinality(String) COMMENT 'Platform the callback came in for',
    app           LowCardinality(String) COMMENT 'Platform application',
    received_at   DateTime64(3, 'UTC') COMMENT 'When imarchive received the repeating callback',
    raw_partition Int32 COMMENT 'Raw-topic partition of the repeating record',
    raw_offset    Int64 COMMENT 'Raw-topic offset of the repeating record'
)
AS
SELECT source, app, received_at, raw_partition, raw_offset
FROM
(
    SELECT source, app, received_at, raw_partition, raw_offset,
        min(tuple(received_at, raw_partition, raw_offset)) OVER (PARTITION BY source, app, receipt_key) AS key_first
    FROM
    (
        SELECT source, app, if(event_id != '', event_id, raw_key) AS receipt_key, received_at, raw_partition, raw_offset
        FROM raw_callbacks_data
        UNION ALL
        SELECT source, app, receipt_key, tupleElement(first, 1), tupleElement(first, 2), tupleElement(first, 3)
        FROM raw_receipt_keys
        WHERE (source, app, receipt_key) IN
        (
            SELECT source, app, if(event_id != '', event_id, raw_key)
            FROM raw_callbacks_data
        )
    )
)
WHERE tuple(received_at, raw_partition, raw_offset) > key_first;

-- The archive's receipts that repeat, against every receipt of their key: the archive's and the least
-- one raw_first_receipts kept (a purged first receipt still makes the later ones repeats).
INSERT INTO raw_repeats (source, app, received_at, raw_partition, raw_offset)
SELECT source, app, received_at, raw_partition, raw_offset
FROM
(
    SELECT source, app, received_at, raw_partition, raw_offset, archived,
        min(tuple(received_at, raw_partition, raw_offset)) OVER (PARTITION BY source, app, receipt_key) AS key_first
    FROM
    (
        SELECT source, app, if(event_id != '', event_id, raw_key) AS receipt_key, received_at, raw_partition, raw_offset, 1 AS archived
        FROM raw_callbacks_data
        UNION ALL
        SELECT source, app, receipt_key, tupleElement(first, 1), tupleElement(first, 2), tupleElement(first, 3), 0
        FROM raw_first_receipts
    )
)
WHERE archived AND tuple(received_at, raw_partition, raw_offset) > key_first;
