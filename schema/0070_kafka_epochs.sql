-- Kafka epochs: the raw archive and its hash chain name a raw record by its topic incarnation too.
--
-- Offsets start again from zero when the raw topic is deleted and created again, when the pipeline is
-- pointed at another Kafka cluster, or when imarchive dev's in-memory Kafka restarts. Kafka gives every
-- topic a topic ID when it creates it (a UUID, printed by kafka-topics.sh --describe as TopicId): it
-- is what tells the new records at old offsets from the old ones. Rows written before this migration
-- have an empty raw_topic_id (the topic was not recorded then).
--
-- raw_callbacks_data keeps its key: a row is one receipt (source, app, received_at, partition, offset),
-- and a record re-delivered under its topic ID folds into the row written before this migration.
ALTER TABLE raw_callbacks_data
    ADD COLUMN IF NOT EXISTS raw_topic_id String DEFAULT '' COMMENT 'Kafka topic ID of the raw topic the record was read from (URL-safe Base64, as kafka-topics.sh prints it); empty for rows archived before schema 0070' AFTER raw_offset;

-- raw_chain: one chain per raw-topic partition and topic ID (a segment); the first row of a new segment
-- links to the last row of the partition's previous segment, so the segments of a partition form one
-- chain across topic incarnations and clusters, and imarchive audit verify names each boundary.
ALTER TABLE raw_chain
    ADD COLUMN IF NOT EXISTS raw_topic_id String DEFAULT '' COMMENT 'Kafka topic ID of the raw topic (the chain segment); empty for rows chained before schema 0070' AFTER raw_offset,
    ADD COLUMN IF NOT EXISTS kafka_cluster_id LowCardinality(String) DEFAULT '' COMMENT 'ID of the Kafka cluster the record was read from; empty for rows chained before schema 0070' AFTER raw_topic_id;

CREATE OR REPLACE VIEW raw_callbacks
(
    source        LowCardinality(String) COMMENT 'Platform the callback came in for',
    app           LowCardinality(String) COMMENT 'Platform application',
    received_at   DateTime64(3, 'UTC') COMMENT 'When imarchive received the callback, UTC',
    event_id      String COMMENT 'event_id of the canonical event normalized from it; empty when it could not be normalized',
    raw_key       String COMMENT 'Raw-topic record key',
    body          String COMMENT 'The request body, byte for byte as received',
    body_sha256   String COMMENT 'Hex SHA-256 of body',
    path          String COMMENT 'Request path',
    remote_addr   String COMMENT 'Client address',
    http_headers  Map(String, String) COMMENT 'Request headers by canonical name',
    meta          Map(String, String) COMMENT 'Any other header of the raw record',
    raw_partition Int32 COMMENT 'Raw-topic partition',
    raw_offset    Int64 COMMENT 'Raw-topic offset',
    raw_topic_id  String COMMENT 'Kafka topic ID of the raw topic (empty before schema 0070): with raw_partition and raw_offset, the record''s place in Kafka'
)
AS SELECT source, app, received_at, event_id, raw_key, body, body_sha256, path, remote_addr, http_headers, meta,
    raw_partition, raw_offset, raw_topic_id
FROM raw_callbacks_data FINAL;
