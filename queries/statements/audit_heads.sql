-- name: audit_heads
-- summary: Per raw-topic partition, the head of its newest chain segment (the last record chained), and the last archived raw offset of that segment's Kafka topic ID.
-- column: raw_partition Int32  partition
-- column: head_offset Int64  last chained offset (-1 when none)
-- column: head_hash String  its hash
-- column: raw_last_offset Int64  last offset in raw_callbacks_data of the head's topic ID (-1 when none)
SELECT
    c.raw_partition AS raw_partition,
    c.head_offset AS head_offset,
    c.head_hash AS head_hash,
    ifNull(r.raw_last, toInt64(-1)) AS raw_last_offset
FROM
(
    SELECT raw_partition, argMax(raw_topic_id, (chained_at, raw_offset)) AS topic_id,
        argMax(raw_offset, (chained_at, raw_offset)) AS head_offset, argMax(hash, (chained_at, raw_offset)) AS head_hash
    FROM raw_chain
    GROUP BY raw_partition
) AS c
LEFT JOIN
(
    SELECT raw_partition, raw_topic_id, max(raw_offset) AS raw_last
    FROM raw_callbacks_data
    GROUP BY raw_partition, raw_topic_id
) AS r ON r.raw_partition = c.raw_partition AND r.raw_topic_id = c.topic_id
ORDER BY raw_partition
SETTINGS join_use_nulls = 1
