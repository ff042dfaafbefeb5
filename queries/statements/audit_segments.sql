-- name: audit_segments
-- summary: Per raw-topic partition and Kafka topic ID (a chain segment): its chained offsets, head, first link and cluster, and the last offset the raw archive holds.
-- column: raw_partition Int32  partition
-- column: raw_topic_id String  Kafka topic ID (empty before schema 0070)
-- column: first_offset Int64  first chained offset (-1 when nothing is chained)
-- column: head_offset Int64  last chained offset (-1 when nothing is chained)
-- column: head_hash String  its hash
-- column: first_prev_hash String  the prev_hash of the first chained row: the genesis, or the head of the segment before
-- column: kafka_cluster_id String  the Kafka cluster the segment was read from
-- column: first_chained_at DateTime64(3, 'UTC')  when its first row was chained
-- column: raw_last_offset Int64  last offset of the partition and topic ID in raw_callbacks_data (-1 when none)
SELECT
    part AS raw_partition,
    topic_id AS raw_topic_id,
    if(countIf(chain_off >= 0) = 0, toInt64(-1), minIf(chain_off, chain_off >= 0)) AS first_offset,
    max(chain_off) AS head_offset,
    argMax(chain_hash, chain_off) AS head_hash,
    argMinIf(chain_prev, chain_off, chain_off >= 0) AS first_prev_hash,
    anyIf(cluster, chain_off >= 0) AS kafka_cluster_id,
    minIf(chained, chain_off >= 0) AS first_chained_at,
    max(raw_off) AS raw_last_offset
FROM
(
    SELECT c.raw_partition AS part, c.raw_topic_id AS topic_id, c.raw_offset AS chain_off, c.hash AS chain_hash,
        c.prev_hash AS chain_prev, toString(c.kafka_cluster_id) AS cluster, c.chained_at AS chained, toInt64(-1) AS raw_off
    FROM raw_chain AS c
    UNION ALL
    SELECT r.raw_partition, r.raw_topic_id, toInt64(-1), '', '', '', toDateTime64(0, 3, 'UTC'), r.raw_offset
    FROM raw_callbacks_data AS r
)
GROUP BY part, topic_id
ORDER BY part, first_chained_at, topic_id
