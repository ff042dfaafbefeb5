-- name: chain_heads
-- summary: The head of the raw archive's hash chain per raw-topic partition: an auditor who writes these down can later prove, with imarchive audit verify --anchor, that nothing up to them was removed or rewritten.
-- column: raw_partition Int32  raw-topic partition (one chain each)
-- column: first_offset Int64  first chained offset
-- column: head_offset Int64  last chained offset
-- column: records UInt64  chain rows (one per record; more means a forged row beside an original: run audit verify)
-- column: head_hash String  hash of the last chained record (the anchor)
-- column: last_received_at DateTime64(3, 'UTC')  when the newest chained record was received
SELECT
    raw_partition,
    min(raw_offset) AS first_offset,
    max(raw_offset) AS head_offset,
    count() AS records,
    argMax(hash, raw_offset) AS head_hash,
    max(received_at) AS last_received_at
FROM raw_chain
GROUP BY raw_partition
ORDER BY raw_partition
