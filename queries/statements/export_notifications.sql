-- name: export_notifications
-- summary: The notifications rows of an export selection (notifications and their updates), oldest first: the columns of the notifications view.
-- param: app String  platform application; empty for any
-- param: account String  account the rows must be about; empty for any
-- param: channel_id String  QChat channel; empty for any
-- param: group_id String  iLink or Maxim group; empty for any
-- param: server_id String  QChat server; empty for any
-- param: from DateTime64(3, 'UTC')  start of the time range, inclusive
-- param: to DateTime64(3, 'UTC')  end of the time range, exclusive
-- column: event_id String  as in the notifications view
-- column: source LowCardinality(String)  as in the notifications view
-- column: app LowCardinality(String)  as in the notifications view
-- column: kind LowCardinality(String)  as in the notifications view
-- column: op LowCardinality(String)  as in the notifications view
-- column: platform_type LowCardinality(String)  as in the notifications view
-- column: platform_subtype LowCardinality(String)  as in the notifications view
-- column: occurred_at DateTime64(3, 'UTC')  as in the notifications view
-- column: msg_time DateTime64(3, 'UTC')  as in the notifications view
-- column: received_at DateTime64(3, 'UTC')  as in the notifications view
-- column: sender String  as in the notifications view
-- column: sender_nick String  as in the notifications view
-- column: sender_client_type LowCardinality(String)  as in the notifications view
-- column: sender_device_id String  as in the notifications view
-- column: sender_ip String  as in the notifications view
-- column: server_id String  as in the notifications view
-- column: channel_id String  as in the notifications view
-- column: to_account String  as in the notifications view
-- column: msg_id String  as in the notifications view
-- column: client_msg_id String  as in the notifications view
-- column: body String  as in the notifications view
-- column: attrs Map(String, String)  as in the notifications view
SELECT event_id, source, app, kind, op, platform_type, platform_subtype, occurred_at, msg_time, received_at, sender, sender_nick, sender_client_type, sender_device_id, sender_ip, server_id, channel_id, to_account, msg_id, client_msg_id, body, attrs
FROM notifications
WHERE event_id IN (SELECT event_id FROM export_selection(app = {app:String}, account = {account:String}, channel_id = {channel_id:String}, group_id = {group_id:String}, server_id = {server_id:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')}) WHERE table_name = 'notifications_data')
ORDER BY occurred_at, event_id
