-- name: export_presence_events
-- summary: The presence_events rows of an export selection (logins, logouts, kicks and heartbeats with the online-state rule's verdict), oldest first: the columns of the presence_events view.
-- param: app String  platform application; empty for any
-- param: account String  account the rows must be about; empty for any
-- param: channel_id String  QChat channel; empty for any
-- param: group_id String  iLink or Maxim group; empty for any
-- param: server_id String  QChat server; empty for any
-- param: from DateTime64(3, 'UTC')  start of the time range, inclusive
-- param: to DateTime64(3, 'UTC')  end of the time range, exclusive
-- column: event_id String  as in the presence_events view
-- column: source LowCardinality(String)  as in the presence_events view
-- column: app LowCardinality(String)  as in the presence_events view
-- column: account String  as in the presence_events view
-- column: op LowCardinality(String)  as in the presence_events view
-- column: online Bool  as in the presence_events view
-- column: reason LowCardinality(String)  as in the presence_events view
-- column: stale Bool  as in the presence_events view
-- column: arrival UInt64  as in the presence_events view
-- column: platform_type LowCardinality(String)  as in the presence_events view
-- column: platform_subtype LowCardinality(String)  as in the presence_events view
-- column: occurred_at DateTime64(3, 'UTC')  as in the presence_events view
-- column: received_at DateTime64(3, 'UTC')  as in the presence_events view
-- column: connection String  as in the presence_events view
-- column: connection_id String  as in the presence_events view
-- column: device_id String  as in the presence_events view
-- column: client_type LowCardinality(String)  as in the presence_events view
-- column: client_ip String  as in the presence_events view
-- column: client_port String  as in the presence_events view
-- column: sdk_version LowCardinality(String)  as in the presence_events view
-- column: login_time DateTime64(3, 'UTC')  as in the presence_events view
-- column: since DateTime64(3, 'UTC')  as in the presence_events view
-- column: expires_at DateTime64(3, 'UTC')  as in the presence_events view
-- column: attrs Map(String, String)  as in the presence_events view
SELECT event_id, source, app, account, op, online, reason, stale, arrival, platform_type, platform_subtype, occurred_at, received_at, connection, connection_id, device_id, client_type, client_ip, client_port, sdk_version, login_time, since, expires_at, attrs
FROM presence_events
WHERE event_id IN (SELECT event_id FROM export_selection(app = {app:String}, account = {account:String}, channel_id = {channel_id:String}, group_id = {group_id:String}, server_id = {server_id:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')}) WHERE table_name = 'presence_events_data')
ORDER BY occurred_at, event_id
