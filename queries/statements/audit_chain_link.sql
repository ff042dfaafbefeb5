-- name: audit_chain_link
-- summary: The chain row of a partition that has a hash: where the first row of a segment links to (the last row of the segment before it).
-- param: partition Int32  raw-topic partition
-- param: hash String  the hash a segment's first row names as prev_hash
-- column: raw_topic_id String  topic ID of the segment holding it
-- column: raw_offset Int64  its offset
-- column: kafka_cluster_id String  the Kafka cluster it was read from
SELECT raw_topic_id, raw_offset, toString(kafka_cluster_id) AS kafka_cluster_id
FROM raw_chain
WHERE raw_partition = {partition:Int32} AND hash = {hash:String}
ORDER BY raw_offset, raw_topic_id
LIMIT 1
