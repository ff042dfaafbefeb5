-- name: chain_heads
-- summary: The heads of the raw archive's hash chain, one per raw-topic partition and chain segment (a Kafka topic ID: a recreated topic or another cluster starts a new segment): an auditor who writes these down can later prove, with imarchive audit verify --anchor, that nothing up to them was removed or rewritten.
-- column: raw_partition Int32  raw-topic partition
-- column: raw_topic_id String  Kafka topic ID of the segment (empty for records chained before schema 0070)
-- column: kafka_cluster_id String  Kafka cluster the segment was read from
-- column: first_offset Int64  first chained offset
-- column: head_offset Int64  last chained offset
-- column: records UInt64  chain rows (one per record; more means a forged row beside an original: run audit verify)
-- column: head_hash String  hash of the last chained record (the anchor)
-- column: last_received_at DateTime64(3, 'UTC')  when the newest chained record was received
--
-- ClickHouse answers it from raw_chain's chain_heads projection (schema 0160), which holds these
-- aggregates per data part: a few rows per part, not one per chained record. Keep the aggregates and
-- the GROUP BY as the projection has them, or the query reads every row again (TestAuditorQueries).
SELECT
    raw_partition,
    raw_topic_id,
    toString(any(kafka_cluster_id)) AS kafka_cluster_id,
    min(raw_offset) AS first_offset,
    max(raw_offset) AS head_offset,
    count() AS records,
    argMax(hash, raw_offset) AS head_hash,
    max(received_at) AS last_received_at
FROM raw_chain
GROUP BY raw_partition, raw_topic_id
ORDER BY raw_partition, min(chained_at), raw_topic_id
