-- name: audit_heads
-- summary: Per raw-topic partition, the last chained offset and its hash, and the last archived raw offset.
-- column: raw_partition Int32  partition
-- column: head_offset Int64  last chained offset (-1 when none)
-- column: head_hash String  its hash
-- column: raw_last_offset Int64  last offset in raw_callbacks_data (-1 when none)
SELECT
    part AS raw_partition,
    max(chain_off) AS head_offset,
    argMax(chain_hash, chain_off) AS head_hash,
    max(raw_off) AS raw_last_offset
FROM
(
    SELECT c.raw_partition AS part, c.raw_offset AS chain_off, c.hash AS chain_hash, toInt64(-1) AS raw_off FROM raw_chain AS c
    UNION ALL
    SELECT r.raw_partition, toInt64(-1), '', r.raw_offset FROM raw_callbacks_data AS r
)
GROUP BY part
ORDER BY part
