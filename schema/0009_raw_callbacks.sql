-- The raw archive: every callback imarchive accepted, the body exactly as received with its headers,
-- one row per record of the raw topic (a platform's retry of a callback is a second receipt and a
-- second row; both carry the same event_id). Written by the raw-archive consumer group.
-- Deduplication: ReplacingMergeTree keyed by the raw record's position (partition, offset), so a
-- consumer re-delivery folds into the same row; the raw_callbacks view reads with FINAL.
-- Retention: none by default (imarchive migrate --retention raw_callbacks_data=… sets one).
CREATE TABLE IF NOT EXISTS raw_callbacks_data
(
    source        LowCardinality(String) COMMENT 'Platform the callback came in for (netease_qchat, ilink, maxim)',
    app           LowCardinality(String) COMMENT 'Platform application named in the callback path',
    received_at   DateTime64(3, 'UTC') COMMENT 'When imarchive received the callback, UTC',
    event_id      String COMMENT 'event_id of the canonical event normalized from it; empty when it could not be normalized (see the dead-letter topic)',
    raw_key       String COMMENT 'Raw-topic record key (the event_id, or a hash of source, app and body when there is none)',
    body          String COMMENT 'The request body, byte for byte as received',
    body_sha256   String COMMENT 'Hex SHA-256 of body, to prove an export complete and unaltered',
    path          String COMMENT 'Request path (e.g. /v1/netease/APPKEY)',
    remote_addr   String COMMENT 'Client address of the HTTP connection',
    http_headers  Map(String, String) COMMENT 'Request headers by canonical name (CurTime, MD5, CheckSum, Content-Type, …); repeated headers joined with '', '' (RFC 9110)',
    meta          Map(String, String) COMMENT 'Any other header of the raw record, verbatim',
    raw_partition Int32 COMMENT 'Raw-topic partition of the record',
    raw_offset    Int64 COMMENT 'Raw-topic offset of the record',
    inserted_at   DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the row was written; the version',
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(received_at)
ORDER BY (source, app, received_at, raw_partition, raw_offset)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Storage of the raw archive (may hold not yet merged repeats): read the raw_callbacks view';

CREATE VIEW IF NOT EXISTS raw_callbacks
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
    raw_offset    Int64 COMMENT 'Raw-topic offset'
)
AS SELECT source, app, received_at, event_id, raw_key, body, body_sha256, path, remote_addr, http_headers, meta,
    raw_partition, raw_offset
FROM raw_callbacks_data FINAL;
