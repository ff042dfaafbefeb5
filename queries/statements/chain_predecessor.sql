-- name: chain_predecessor
-- summary: The partition's last chained record in another segment (another Kafka topic ID), the most recently chained one: where a new segment of the partition links to.
-- param: topic_id String  Kafka topic ID of the new segment
-- param: partition Int32  raw-topic partition
-- column: raw_topic_id String  topic ID of the segment it belongs to
-- column: raw_offset Int64  its offset
-- column: hash String  its hash, the new segment's first prev_hash
SELECT raw_topic_id, raw_offset, hash
FROM raw_chain
WHERE raw_partition = {partition:Int32} AND raw_topic_id != {topic_id:String}
ORDER BY chained_at DESC, raw_offset DESC, hash
LIMIT 1
