-- Issue 21: duplicates_discarded looked up the first receipt of every key of its range in
-- raw_first_receipts (schema 0100), sorted by key: any range read every key of the archive as a
-- string, and folded the range's keys by a GROUP BY of strings (10M bench archive: 1.4 s for one day,
-- 2.7 s for seven, 4.8 s for ninety). This table keeps the same fact, each key's first receipt, in a
-- form the query can read by time:
--
--   * the key as 128 bits: every key imarchive makes (event.ID: an event_id, or the raw key of a body
--     that has none) is 32 lowercase hex digits, the first half of a SHA-256; unhex is lossless for
--     them. Any other key (none is written today) is kept whole in key_rest with id 0, so two keys
--     are never folded together;
--   * only the time of the first receipt: the least (received_at, raw_partition, raw_offset) of a key
--     has the least received_at, and only that time places the key in a bucket;
--   * a projection of the same rows ordered by first_at, so "the keys whose first receipt here is in
--     the range" reads the range's granules only. A part's rows are already folded by key; a key
--     received in two inserts has a row in each part until they merge, and the query folds those.
--
-- min() keeps it safe as before: a raw record written twice (a re-delivery, a replay, the backfill
-- below racing the view) changes nothing. Retention purges raw receipts and leaves their first receipt
-- here, so a later receipt of a purged event still counts as a repeat. Merges rebuild the projection
-- from the merged rows (deduplicate_merge_projection_mode = 'rebuild'; an aggregating table refuses a
-- projection otherwise).
CREATE TABLE IF NOT EXISTS raw_first_receipt_ids
(
    source   LowCardinality(String) COMMENT 'Platform the callback came in for',
    app      LowCardinality(String) COMMENT 'Platform application',
    id       UInt128 COMMENT 'The receipt key (the event_id, or the raw key of a body that has none) as 128 bits, when it is 32 lowercase hex digits as imarchive makes them (reinterpretAsUInt128(unhex(key))); 0 otherwise',
    key_rest String COMMENT 'The receipt key when it is not 32 lowercase hex digits; empty when id holds it',
    first_at SimpleAggregateFunction(min, DateTime64(3, 'UTC')) COMMENT 'When the key was first received: the least received_at of its receipts',
    PROJECTION by_first_at (SELECT source, app, id, key_rest, first_at ORDER BY first_at)
)
ENGINE = AggregatingMergeTree
ORDER BY (source, app, id, key_rest)
SETTINGS deduplicate_merge_projection_mode = 'rebuild'
COMMENT 'First receipt of each event of the raw archive (raw_first_receipt_ids_mv); read with min(first_at) GROUP BY the key, or FINAL';

CREATE MATERIALIZED VIEW IF NOT EXISTS raw_first_receipt_ids_mv TO raw_first_receipt_ids
(
    source   LowCardinality(String) COMMENT 'Platform the callback came in for',
    app      LowCardinality(String) COMMENT 'Platform application',
    id       UInt128 COMMENT 'The receipt key as 128 bits (0 when it is not 32 lowercase hex digits)',
    key_rest String COMMENT 'The receipt key when it is not 32 lowercase hex digits',
    first_at DateTime64(3, 'UTC') COMMENT 'The least received_at of the inserted block''s receipts of the key'
)
AS
SELECT source, app,
    if(match(receipt_key, '^[0-9a-f]{32}$'), reinterpretAsUInt128(unhex(receipt_key)), toUInt128(0)) AS id,
    if(match(receipt_key, '^[0-9a-f]{32}$'), '', receipt_key) AS key_rest,
    min(received_at) AS first_at
FROM (SELECT source, app, if(event_id != '', event_id, raw_key) AS receipt_key, received_at FROM raw_callbacks_data)
GROUP BY source, app, receipt_key;

-- From raw_first_receipts, not from the raw archive: it keeps the first receipts retention purged.
INSERT INTO raw_first_receipt_ids (source, app, id, key_rest, first_at)
SELECT source, app,
    if(match(receipt_key, '^[0-9a-f]{32}$'), reinterpretAsUInt128(unhex(receipt_key)), toUInt128(0)) AS id,
    if(match(receipt_key, '^[0-9a-f]{32}$'), '', receipt_key) AS key_rest,
    min(tupleElement(first, 1)) AS first_at
FROM raw_first_receipts
GROUP BY source, app, receipt_key;

