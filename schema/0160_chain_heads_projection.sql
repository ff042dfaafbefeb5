-- Issue 21: chain_heads read every row of raw_chain (one per raw record, its 64-character hash
-- included) to find each segment's first and last offset, count and head hash: 1.08 s at 10M messages
-- on the bench archive. An aggregate projection keeps those per data part, written with the part
-- itself, so the query (unchanged) reads a few rows per part instead; ClickHouse chooses it by itself
-- (optimize_use_projections) and falls back to the rows where a part lacks it.
--
-- A projection is part of each part, not a table beside it: it holds exactly the rows the part holds.
-- A forged row inserted beside an original is counted in `records` as before, and a row deleted or
-- rewritten (what audit verify exists to find) changes the heads as it did: lightweight deletes rebuild
-- the projection of the parts they touch (lightweight_mutation_projection_mode = 'rebuild'; the default
-- refuses a DELETE on a table with projections), and ALTER … UPDATE mutations rebuild it as well.
-- MATERIALIZE PROJECTION builds it for the parts written before this migration.
ALTER TABLE raw_chain MODIFY SETTING lightweight_mutation_projection_mode = 'rebuild';

ALTER TABLE raw_chain ADD PROJECTION IF NOT EXISTS chain_heads
(
    SELECT
        raw_partition,
        raw_topic_id,
        any(kafka_cluster_id),
        min(raw_offset),
        max(raw_offset),
        count(),
        argMax(hash, raw_offset),
        max(received_at),
        min(chained_at)
    GROUP BY raw_partition, raw_topic_id
);

ALTER TABLE raw_chain MATERIALIZE PROJECTION chain_heads;
