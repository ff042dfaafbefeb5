-- Tamper evidence for the raw archive: a hash chain per raw-topic partition, in offset order (the one
-- order Kafka fixes), written by the chain consumer (package audit, its own consumer group) beside
-- raw_callbacks_data. Each row links one raw record to the one before it in its partition:
--
--   hash = SHA-256(prev_hash ‖ partition ‖ offset ‖ payload_sha256 ‖ headers_sha256)   (binary, see audit/doc.go)
--
-- imarchive audit verify re-hashes raw_callbacks_data against these rows and walks the links, so a raw
-- record removed, altered or moved is found and named. Plain MergeTree, not Replacing: a second row
-- for a position is never merged away, so a forged row stays visible beside the original (verify reports
-- a position with two different hashes). A batch re-sent after a crash carries the same
-- insert_deduplication_token and is dropped by ClickHouse; a re-delivered record is skipped by the
-- chain consumer, which resumes after the last chained offset. No retention: the rows are small and
-- they are the proof.
CREATE TABLE IF NOT EXISTS raw_chain
(
    raw_partition  Int32 COMMENT 'Raw-topic partition: one chain per partition',
    raw_offset     Int64 COMMENT 'Raw-topic offset of the record; the chain runs in offset order',
    event_id       String COMMENT 'event_id of the record (empty when it could not be normalized)',
    source         LowCardinality(String) COMMENT 'Platform the callback came in for',
    app            LowCardinality(String) COMMENT 'Platform application',
    received_at    DateTime64(3, 'UTC') COMMENT 'When imarchive received the callback, UTC (as in raw_callbacks_data)',
    payload_sha256 String COMMENT 'Hex SHA-256 of the body as received',
    headers_sha256 String COMMENT 'Hex SHA-256 of the record''s canonical headers: source, app, received time, event_id, key, path, remote address, HTTP and other headers (audit.HeadersDigest)',
    prev_hash      String COMMENT 'hash of the previous chained record of the partition; 64 zeros for the first',
    hash           String COMMENT 'Hex SHA-256(prev_hash ‖ partition ‖ offset ‖ payload_sha256 ‖ headers_sha256), binary big-endian fields',
    chained_at     DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the chain row was written'
)
ENGINE = MergeTree
ORDER BY (raw_partition, raw_offset)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Hash chain over the raw archive, one row per raw record, per partition in offset order (imarchive audit verify)';
