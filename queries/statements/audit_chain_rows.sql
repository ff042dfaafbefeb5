-- name: audit_chain_rows
-- summary: Every chain row of one partition in an offset span, of every segment (Kafka topic ID), in offset order (every row: a forged one beside an original is a break).
-- param: partition Int32  raw-topic partition
-- param: first Int64  first offset, inclusive
-- param: last Int64  last offset, inclusive
-- column: raw_offset Int64  offset
-- column: raw_topic_id String  Kafka topic ID: the segment (empty before schema 0070)
-- column: kafka_cluster_id String  Kafka cluster the record was read from
-- column: event_id String  event_id
-- column: received_at DateTime64(3, 'UTC')  when received
-- column: payload_sha256 String  chained payload hash
-- column: headers_sha256 String  chained headers hash
-- column: prev_hash String  link to the previous record
-- column: hash String  this record's hash
SELECT raw_offset, raw_topic_id, toString(kafka_cluster_id) AS kafka_cluster_id, event_id, received_at, payload_sha256,
    headers_sha256, prev_hash, hash
FROM raw_chain
WHERE raw_partition = {partition:Int32} AND raw_offset >= {first:Int64} AND raw_offset <= {last:Int64}
ORDER BY raw_offset, raw_topic_id, hash
