-- name: raw_payload
-- summary: The callback exactly as received for an event_id: every receipt (a platform retry is a second one), its headers and body, the body's SHA-256 re-computed now beside the one stored and the one chained, and its place in the hash chain.
-- param: event_id String  the event's deterministic id (every query's event_id column)
-- column: received_at DateTime64(3, 'UTC')  when imarchive received this copy
-- column: source LowCardinality(String)  platform
-- column: app LowCardinality(String)  platform application
-- column: path String  request path
-- column: remote_addr String  client address of the HTTP connection
-- column: http_headers Map(String, String)  request headers by canonical name (credentials redacted by ingest)
-- column: body String  the request body as received (as text; see body_base64 for the exact bytes)
-- column: body_base64 String  the request body, Base64 of the exact bytes
-- column: body_sha256 String  hex SHA-256 of the body, computed now
-- column: stored_sha256 String  hex SHA-256 written with the row when it was archived
-- column: chained_sha256 String  payload hash in the hash chain (raw_chain); empty when not chained yet
-- column: intact UInt8  1 when the three hashes agree
-- column: raw_partition Int32  raw-topic partition
-- column: raw_offset Int64  raw-topic offset
-- column: raw_topic_id String  Kafka topic ID of the raw topic (empty before schema 0070): a recreated topic or another cluster has another, and its offsets start again
-- column: chain_hash String  the record's hash in its partition's chain (imarchive audit verify checks the links)
-- column: raw_key String  raw-topic record key
--
-- The receipts are read from the storage table without FINAL: its event_id bloom filter finds the
-- granules of this event, and each receipt (the sorting key: source, app, received_at, position) is
-- taken once, in its newest write (LIMIT 1 BY the key, newest inserted_at first: what FINAL keeps),
-- from those granules alone (FINAL would merge every granule its key ranges overlap). The chain rows
-- are looked up by the receipts' positions, raw_chain's sorting key.
WITH receipts AS
(
    SELECT received_at, source, app, path, remote_addr, http_headers, body, body_sha256,
        raw_partition, raw_offset, raw_topic_id, raw_key
    FROM raw_callbacks_data
    WHERE event_id = {event_id:String}
    ORDER BY inserted_at DESC
    LIMIT 1 BY source, app, received_at, raw_partition, raw_offset
)
SELECT
    r.received_at AS received_at,
    r.source AS source,
    r.app AS app,
    r.path AS path,
    r.remote_addr AS remote_addr,
    r.http_headers AS http_headers,
    r.body AS body,
    base64Encode(r.body) AS body_base64,
    lower(hex(SHA256(r.body))) AS body_sha256,
    r.body_sha256 AS stored_sha256,
    c.payload_sha256 AS chained_sha256,
    toUInt8(body_sha256 = stored_sha256 AND body_sha256 = chained_sha256) AS intact,
    r.raw_partition AS raw_partition,
    r.raw_offset AS raw_offset,
    r.raw_topic_id AS raw_topic_id,
    c.hash AS chain_hash,
    r.raw_key AS raw_key
FROM receipts AS r
LEFT JOIN
(
    SELECT raw_partition, raw_offset, raw_topic_id, any(payload_sha256) AS payload_sha256, any(hash) AS hash
    FROM raw_chain
    WHERE (raw_partition, raw_offset) IN (SELECT raw_partition, raw_offset FROM receipts)
      AND event_id = {event_id:String}
    GROUP BY raw_partition, raw_offset, raw_topic_id
) AS c ON c.raw_partition = r.raw_partition AND c.raw_offset = r.raw_offset AND c.raw_topic_id = r.raw_topic_id
ORDER BY received_at, raw_partition, raw_offset
