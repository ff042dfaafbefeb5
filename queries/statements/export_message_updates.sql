-- name: export_message_updates
-- summary: The message_updates rows of an export selection (every update, append, recall and delete), oldest first: the columns of the message_updates view.
-- param: app String  platform application; empty for any
-- param: account String  account the rows must be about; empty for any
-- param: channel_id String  QChat channel; empty for any
-- param: group_id String  iLink or Maxim group; empty for any
-- param: server_id String  QChat server; empty for any
-- param: from DateTime64(3, 'UTC')  start of the time range, inclusive
-- param: to DateTime64(3, 'UTC')  end of the time range, exclusive
-- column: event_id String  as in the message_updates view
-- column: source LowCardinality(String)  as in the message_updates view
-- column: app LowCardinality(String)  as in the message_updates view
-- column: op LowCardinality(String)  as in the message_updates view
-- column: platform_type LowCardinality(String)  as in the message_updates view
-- column: platform_subtype LowCardinality(String)  as in the message_updates view
-- column: occurred_at DateTime64(3, 'UTC')  as in the message_updates view
-- column: received_at DateTime64(3, 'UTC')  as in the message_updates view
-- column: actor String  as in the message_updates view
-- column: actor_client_type LowCardinality(String)  as in the message_updates view
-- column: actor_ip String  as in the message_updates view
-- column: server_id String  as in the message_updates view
-- column: channel_id String  as in the message_updates view
-- column: msg_id String  as in the message_updates view
-- column: body String  as in the message_updates view
-- column: antispam Bool  as in the message_updates view
-- column: antispam_detail String  as in the message_updates view
-- column: note String  as in the message_updates view
-- column: attrs Map(String, String)  as in the message_updates view
SELECT event_id, source, app, op, platform_type, platform_subtype, occurred_at, received_at, actor, actor_client_type, actor_ip, server_id, channel_id, msg_id, body, antispam, antispam_detail, note, attrs
FROM message_updates
WHERE event_id IN (SELECT event_id FROM export_selection(app = {app:String}, account = {account:String}, channel_id = {channel_id:String}, group_id = {group_id:String}, server_id = {server_id:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')}) WHERE table_name = 'message_updates_data')
ORDER BY occurred_at, received_at, event_id
