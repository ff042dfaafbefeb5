-- name: channel_settings
-- summary: The QChat channels of a server as last created or changed: name, topic, type (message or custom) and view mode (public or private), and when each was created, last changed and deleted (NetEase 63, 64, 65).
-- param: app String  the platform application (NetEase appkey)
-- param: server_id String  QChat server id; empty for every server
-- column: server_id String  QChat server
-- column: channel_id String  QChat channel
-- column: name String  latest name
-- column: topic String  latest topic
-- column: channel_type String  latest type: 0 message channel, 100 custom (the platform's code; empty when no copy said)
-- column: channel_view_mode String  latest view mode: 0 public, 1 private (the platform's code; empty when no copy said)
-- column: created_at Nullable(DateTime64(3, 'UTC'))  when it was created (63), if archived
-- column: changed_at Nullable(DateTime64(3, 'UTC'))  its latest change (65), if any
-- column: deleted_at Nullable(DateTime64(3, 'UTC'))  when it was deleted (64), if it was
-- column: events UInt64  channel create, change and delete events archived for it
--
-- A 65 carries only what changed, and the manual's 64 names no server: each setting is the latest
-- value any create or change sent, not the latest event's, and a channel is one row whatever its
-- events name (the manual's 64 names the channel by channelId alone).
SELECT
    argMaxIf(server_id, (occurred_at, event_id), server_id != '') AS server_id,
    channel_id,
    argMaxIf(name, (occurred_at, event_id), name != '') AS name,
    argMaxIf(channel_topic, (occurred_at, event_id), channel_topic != '') AS topic,
    argMaxIf(toString(channel_type), (occurred_at, event_id), channel_type != '') AS channel_type,
    argMaxIf(toString(channel_view_mode), (occurred_at, event_id), channel_view_mode != '') AS channel_view_mode,
    if(countIf(op = 'create') > 0, minIf(occurred_at, op = 'create'), NULL) AS created_at,
    if(countIf(op = 'update') > 0, maxIf(occurred_at, op = 'update'), NULL) AS changed_at,
    if(countIf(op = 'delete') > 0, maxIf(occurred_at, op = 'delete'), NULL) AS deleted_at,
    count() AS events
FROM community_events
WHERE kind = 'channel' AND op IN ('create', 'update', 'delete')
  AND app = {app:String}
  AND channel_id != ''
GROUP BY channel_id
HAVING {server_id:String} = '' OR server_id = {server_id:String}
ORDER BY server_id, channel_id
