-- name: chain_head
-- summary: The last chained record of one raw-topic partition: where the chain consumer resumes.
-- param: partition Int32  raw-topic partition
-- column: raw_offset Int64  its offset
-- column: hash String  its hash, the next record's prev_hash
SELECT raw_offset, hash
FROM raw_chain
WHERE raw_partition = {partition:Int32}
ORDER BY raw_offset DESC, hash
LIMIT 1
