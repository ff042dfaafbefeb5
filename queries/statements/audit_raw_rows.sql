-- name: audit_raw_rows
-- summary: Every raw record of one partition in an offset span (every stored version, every Kafka topic ID), with its body re-hashed now and its headers, in offset order.
-- param: partition Int32  raw-topic partition
-- param: first Int64  first offset, inclusive
-- param: last Int64  last offset, inclusive
-- column: raw_offset Int64  offset
-- column: raw_topic_id String  Kafka topic ID (empty before schema 0070)
-- column: payload_sha256 String  hex SHA-256 of the body, computed now
-- column: source String  platform
-- column: app String  application
-- column: received_at DateTime64(3, 'UTC')  when received
-- column: event_id String  event_id
-- column: raw_key String  record key
-- column: path String  request path
-- column: remote_addr String  client address
-- column: http_headers Map(String, String)  request headers
-- column: meta Map(String, String)  other record headers
SELECT raw_offset, raw_topic_id, lower(hex(SHA256(body))) AS payload_sha256, toString(source) AS source, toString(app) AS app,
    received_at, event_id, raw_key, path, remote_addr, http_headers, meta
FROM raw_callbacks_data
WHERE raw_partition = {partition:Int32} AND raw_offset >= {first:Int64} AND raw_offset <= {last:Int64}
ORDER BY raw_offset, raw_topic_id, payload_sha256
