-- name: export_raw_callbacks
-- summary: The raw records of an export selection: every receipt of every selected event exactly as received (body as Base64 of the exact bytes), with its re-computed SHA-256 and its link in the hash chain.
-- param: app String  platform application; empty for any
-- param: account String  account the rows must be about; empty for any
-- param: channel_id String  QChat channel; empty for any
-- param: group_id String  iLink or Maxim group; empty for any
-- param: server_id String  QChat server; empty for any
-- param: from DateTime64(3, 'UTC')  start of the time range, inclusive
-- param: to DateTime64(3, 'UTC')  end of the time range, exclusive
-- column: raw_partition Int32  raw-topic partition
-- column: raw_offset Int64  raw-topic offset
-- column: received_at DateTime64(3, 'UTC')  when imarchive received it
-- column: source LowCardinality(String)  platform
-- column: app LowCardinality(String)  application
-- column: event_id String  event normalized from it
-- column: raw_key String  raw-topic record key
-- column: path String  request path
-- column: remote_addr String  client address
-- column: http_headers Map(String, String)  request headers (credentials redacted by ingest)
-- column: meta Map(String, String)  other record headers
-- column: body_sha256 String  hex SHA-256 of the body bytes
-- column: body_base64 String  the body, Base64 of the exact bytes
-- column: body String  the body as text when it is valid UTF-8, else empty
-- column: headers_sha256 String  chained hash of the canonical headers (empty when not chained yet)
-- column: prev_hash String  chain link to the previous record of the partition
-- column: chain_hash String  the record's hash in the chain
SELECT r.raw_partition AS raw_partition, r.raw_offset AS raw_offset, r.received_at AS received_at, r.source AS source, r.app AS app,
    r.event_id AS event_id, r.raw_key AS raw_key, r.path AS path, r.remote_addr AS remote_addr, r.http_headers AS http_headers,
    r.meta AS meta, lower(hex(SHA256(r.body))) AS body_sha256, base64Encode(r.body) AS body_base64,
    if(isValidUTF8(r.body), r.body, '') AS body, c.headers_sha256 AS headers_sha256, c.prev_hash AS prev_hash, c.hash AS chain_hash
FROM raw_callbacks AS r
LEFT JOIN
(
    SELECT raw_partition, raw_offset, raw_topic_id, any(headers_sha256) AS headers_sha256, any(prev_hash) AS prev_hash, any(hash) AS hash
    FROM raw_chain
    WHERE event_id IN (SELECT event_id FROM export_selection(app = {app:String}, account = {account:String}, channel_id = {channel_id:String}, group_id = {group_id:String}, server_id = {server_id:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')}))
    GROUP BY raw_partition, raw_offset, raw_topic_id
) AS c ON c.raw_partition = r.raw_partition AND c.raw_offset = r.raw_offset AND c.raw_topic_id = r.raw_topic_id
WHERE r.event_id != '' AND r.event_id IN (SELECT event_id FROM export_selection(app = {app:String}, account = {account:String}, channel_id = {channel_id:String}, group_id = {group_id:String}, server_id = {server_id:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')}))
ORDER BY received_at, raw_partition, raw_offset
