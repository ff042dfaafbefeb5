-- name: audit_heads
-- summary: Per raw-topic partition, the last chained offset and its hash, and the last archived raw offset.
-- column: raw_partition Int32  partition
-- column: head_offset Int64  last chained offset (-1 when none)
-- column: head_hash String  its hash
-- column: raw_last_offset Int64  last offset in raw_callbacks_data (-1 when none)
SELECT
    raw_partition,
    max(chain_offset) AS head_offset,
    argMax(chain_hash, chain_offset) AS head_hash,
    max(raw_offset) AS raw_last_offset
FROM
(
    SELECT raw_partition, raw_offset AS chain_offset, hash AS chain_hash, toInt64(-1) AS raw_offset FROM raw_chain
    UNION ALL
    SELECT raw_partition, toInt64(-1), '', raw_offset FROM raw_callbacks_data
)
GROUP BY raw_partition
ORDER BY raw_partition
