-- name: audit_chain_prev
-- summary: The chain row just before an offset in one chain segment (the link the first row of a span must follow).
-- param: topic_id String  Kafka topic ID of the segment (empty before schema 0070)
-- param: partition Int32  raw-topic partition
-- param: before Int64  offset
-- column: raw_offset Int64  offset of the row before
-- column: hash String  its hash
SELECT raw_offset, hash
FROM raw_chain
WHERE raw_partition = {partition:Int32} AND raw_topic_id = {topic_id:String} AND raw_offset < {before:Int64}
ORDER BY raw_offset DESC, hash
LIMIT 1
