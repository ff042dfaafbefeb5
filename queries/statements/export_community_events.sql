-- name: export_community_events
-- summary: The community_events rows of an export selection (server, membership, channel, role and permission events), oldest first: the columns of the community_events view.
-- param: app String  platform application; empty for any
-- param: account String  account the rows must be about; empty for any
-- param: channel_id String  QChat channel; empty for any
-- param: group_id String  iLink or Maxim group; empty for any
-- param: server_id String  QChat server; empty for any
-- param: from DateTime64(3, 'UTC')  start of the time range, inclusive
-- param: to DateTime64(3, 'UTC')  end of the time range, exclusive
-- column: event_id String  as in the community_events view
-- column: source LowCardinality(String)  as in the community_events view
-- column: app LowCardinality(String)  as in the community_events view
-- column: kind LowCardinality(String)  as in the community_events view
-- column: op LowCardinality(String)  as in the community_events view
-- column: platform_type LowCardinality(String)  as in the community_events view
-- column: platform_subtype LowCardinality(String)  as in the community_events view
-- column: occurred_at DateTime64(3, 'UTC')  as in the community_events view
-- column: received_at DateTime64(3, 'UTC')  as in the community_events view
-- column: actor String  as in the community_events view
-- column: actor_nick String  as in the community_events view
-- column: actor_client_type LowCardinality(String)  as in the community_events view
-- column: actor_ip String  as in the community_events view
-- column: server_id String  as in the community_events view
-- column: channel_id String  as in the community_events view
-- column: target_account String  as in the community_events view
-- column: accounts Array(String)  as in the community_events view
-- column: role_id String  as in the community_events view
-- column: role_ids Array(String)  as in the community_events view
-- column: name String  as in the community_events view
-- column: attrs Map(String, String)  as in the community_events view
SELECT event_id, source, app, kind, op, platform_type, platform_subtype, occurred_at, received_at, actor, actor_nick, actor_client_type, actor_ip, server_id, channel_id, target_account, accounts, role_id, role_ids, name, attrs
FROM community_events
WHERE event_id IN (SELECT event_id FROM export_selection(app = {app:String}, account = {account:String}, channel_id = {channel_id:String}, group_id = {group_id:String}, server_id = {server_id:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')}) WHERE table_name = 'community_events_data')
ORDER BY occurred_at, event_id
