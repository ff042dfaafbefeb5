-- name: export_quick_comments
-- summary: The quick_comments rows of an export selection (quick comments added and removed), oldest first: the columns of the quick_comments view.
-- param: app String  platform application; empty for any
-- param: account String  account the rows must be about; empty for any
-- param: channel_id String  QChat channel; empty for any
-- param: group_id String  iLink or Maxim group; empty for any
-- param: server_id String  QChat server; empty for any
-- param: from DateTime64(3, 'UTC')  start of the time range, inclusive
-- param: to DateTime64(3, 'UTC')  end of the time range, exclusive
-- column: event_id String  as in the quick_comments view
-- column: source LowCardinality(String)  as in the quick_comments view
-- column: app LowCardinality(String)  as in the quick_comments view
-- column: op LowCardinality(String)  as in the quick_comments view
-- column: platform_type LowCardinality(String)  as in the quick_comments view
-- column: platform_subtype LowCardinality(String)  as in the quick_comments view
-- column: occurred_at DateTime64(3, 'UTC')  as in the quick_comments view
-- column: received_at DateTime64(3, 'UTC')  as in the quick_comments view
-- column: actor String  as in the quick_comments view
-- column: actor_nick String  as in the quick_comments view
-- column: actor_client_type LowCardinality(String)  as in the quick_comments view
-- column: actor_device_id String  as in the quick_comments view
-- column: actor_ip String  as in the quick_comments view
-- column: server_id String  as in the quick_comments view
-- column: channel_id String  as in the quick_comments view
-- column: msg_id String  as in the quick_comments view
-- column: msg_sender String  as in the quick_comments view
-- column: msg_time DateTime64(3, 'UTC')  as in the quick_comments view
-- column: comment_type String  as in the quick_comments view
-- column: attrs Map(String, String)  as in the quick_comments view
SELECT event_id, source, app, op, platform_type, platform_subtype, occurred_at, received_at, actor, actor_nick, actor_client_type, actor_device_id, actor_ip, server_id, channel_id, msg_id, msg_sender, msg_time, comment_type, attrs
FROM quick_comments
WHERE event_id IN (SELECT event_id FROM export_selection(app = {app:String}, account = {account:String}, channel_id = {channel_id:String}, group_id = {group_id:String}, server_id = {server_id:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')}) WHERE table_name = 'quick_comments_data')
ORDER BY occurred_at, event_id
