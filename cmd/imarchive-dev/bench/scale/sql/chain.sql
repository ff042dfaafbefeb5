-- The hash chain's rows for the whole raw archive, once every chunk is written (the links are not
-- real hashes: nothing verifies them here; raw_payload reads the row's payload hash and hash).
INSERT INTO raw_chain (raw_partition, raw_offset, raw_topic_id, kafka_cluster_id, event_id, source, app, received_at, payload_sha256,
    headers_sha256, prev_hash, hash, chained_at)
SELECT raw_partition, raw_offset, raw_topic_id, 'scale-bench-cluster', event_id, source, app, received_at, body_sha256,
    lower(hex(SHA256(toString(http_headers)))), lower(hex(SHA256(toString(raw_offset - 1)))), lower(hex(SHA256(toString(raw_offset)))), received_at
FROM raw_callbacks_data
WHERE raw_topic_id = 'scale-bench-topic';
