// Package schema holds the ClickHouse DDL as numbered, forward-only migration files, embedded in the
// binary, and applies them.
//
// A file is NNNN_name.sql (numbers unique and increasing; gaps are allowed, so parallel work can reserve
// ranges); its statements end with a semicolon at the end of a line. Migrate records each
// applied file (version, name, SHA-256 of the text, time) in schema_migrations and never applies a file
// twice; the DDL itself uses IF NOT EXISTS so that re-running a file interrupted half-way is safe. A file
// that changed after it was applied is an error: add a new file instead. The view schema_version shows
// the version.
//
// # The archive (0002–0010)
//
// Storage tables end in _data; analysts and auditors read the views named without it, which show each
// event once (every table and column has a comment: DESCRIBE messages):
//
//	raw_callbacks        every callback accepted, body byte for byte, headers, event_id (one row per
//	                     receipt), and its place in Kafka: raw_topic_id (0070), raw_partition, raw_offset
//	messages             every platform's messages, one model told apart by source, in their current
//	                     version (latest edit or append, recall or delete status, antispam)
//	message_updates      every edit, append, recall and delete (NetEase 81, Maxim REPLACE/APPEND)
//	notifications        custom system notifications and their updates (NetEase 49, 82)
//	presence_events      every login, logout, drop, kick, heartbeat (NetEase 47, iLink status), with stale
//	presence_connections per connection (NetEase consid; else device; else account): online, offline or
//	                     expired, by the online-state rule (0075)
//	presence_devices     per account and device: online when any of its connections is
//	presence_state       per account: online when any of its connections is; devices and connections online
//	community_events     servers, membership, channels, roles, permissions (NetEase 50–79)
//	quick_comments       quick comments (NetEase 80); quick_comments_current: those in force
//	archive_events       every event once, whatever its table (completeness checks against raw_callbacks)
//
// Deduplication, so that no query sees an event twice: every storage table is a ReplacingMergeTree
// whose sorting key ends with event_id (the raw archive: the raw record's partition and offset), with
// the other key columns derived from the event itself, so every delivery of an event (a platform retry,
// a consumer re-delivery, a replay) has the same key; version inserted_at, so the newest write wins.
// Merges fold repeats at an unpredictable time; the views read with FINAL, so they show each event once
// at any time. Query the views; query a _data table only with FINAL. The state tables
// (message_update_latest, presence_connection_agg) are AggregatingMergeTree fed by
// materialized views with argMax and uniqExact, which a repeated row does not change.
//
// Keys and partitions follow the questions asked: messages by (source, app, conversation, msg_time),
// presence by (source, app, account, time), community events by (source, app, server, time), the raw
// archive by (source, app, received_at), partitioned by month, with bloom-filter indexes on event_id,
// msg_id, channel and sender. Platform times are DateTime64(3, 'UTC'); enums are LowCardinality.
//
// Every table written with an insert deduplication token (the consumers' storage tables, raw_chain)
// has a deduplication window (non_replicated_deduplication_window); migrate runs every statement with
// chconn.DDLSettings (alter_sync = 2, mutations_sync = 2: an ALTER or a MATERIALIZE INDEX is complete
// before the next statement, and before the migration is recorded).
package schema
