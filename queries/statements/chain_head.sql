-- name: chain_head
-- summary: The last chained record of one chain segment — a raw-topic partition of one Kafka topic ID: where the chain consumer resumes.
-- param: topic_id String  Kafka topic ID of the raw topic (empty for rows chained before schema 0070)
-- param: partition Int32  raw-topic partition
-- column: raw_offset Int64  its offset
-- column: hash String  its hash, the next record's prev_hash
SELECT raw_offset, hash
FROM raw_chain
WHERE raw_partition = {partition:Int32} AND raw_topic_id = {topic_id:String}
ORDER BY raw_offset DESC, hash
LIMIT 1
