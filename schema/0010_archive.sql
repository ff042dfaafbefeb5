-- Views across the archive: every canonical event in one list (for completeness checks against the
-- raw archive), the schema version, and the retention in force.

-- Every archived event once, whatever its table. An auditor's completeness check: every event_id in
-- raw_callbacks is here, and every event_id here is in raw_callbacks.
CREATE VIEW IF NOT EXISTS archive_events
(
    event_id    String COMMENT 'Deterministic event id',
    source      LowCardinality(String) COMMENT 'Platform',
    app         LowCardinality(String) COMMENT 'Platform application',
    kind        LowCardinality(String) COMMENT 'message, message_update, notification, notification_update, presence, server, member, channel, role, permission, quick_comment',
    table_name  String COMMENT 'The view that holds it',
    occurred_at DateTime64(3, 'UTC') COMMENT 'Platform time of the event',
    received_at DateTime64(3, 'UTC') COMMENT 'When imarchive received it'
)
AS SELECT event_id, source, app, 'message' AS kind, 'messages' AS table_name, occurred_at, received_at FROM messages_data FINAL
UNION ALL SELECT event_id, source, app, 'message_update', 'message_updates', occurred_at, received_at FROM message_updates_data FINAL
UNION ALL SELECT event_id, source, app, kind, 'notifications', occurred_at, received_at FROM notifications_data FINAL
UNION ALL SELECT event_id, source, app, 'presence', 'presence_events', occurred_at, received_at FROM presence_events_data FINAL
UNION ALL SELECT event_id, source, app, kind, 'community_events', occurred_at, received_at FROM community_events_data FINAL
UNION ALL SELECT event_id, source, app, 'quick_comment', 'quick_comments', occurred_at, received_at FROM quick_comments_data FINAL;

CREATE VIEW IF NOT EXISTS schema_version
(
    version    UInt32 COMMENT 'The schema version: the greatest applied migration number',
    migrations UInt64 COMMENT 'Number of migrations applied',
    applied_at DateTime64(3, 'UTC') COMMENT 'When the latest migration was applied'
)
AS SELECT max(version) AS version, count() AS migrations, max(applied_at) AS applied_at
FROM (SELECT version, argMax(applied_at, applied_at) AS applied_at FROM schema_migrations GROUP BY version);

-- Retention (TTL) in force per table, as set by imarchive migrate --retention (schema.ApplyRetention).
CREATE TABLE IF NOT EXISTS schema_retention
(
    table_name String COMMENT 'Storage table the TTL is on',
    column     String COMMENT 'Time column the TTL counts from',
    seconds    UInt64 COMMENT 'Rows older than this many seconds are deleted by merges; 0 = kept forever',
    applied_at DateTime64(3, 'UTC') COMMENT 'When this retention was applied'
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY table_name
COMMENT 'Retention in force per storage table (read with FINAL); 0 seconds = no TTL';
