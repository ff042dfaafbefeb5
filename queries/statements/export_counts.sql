-- name: export_counts
-- summary: Per table, how many events an export selection holds and their time span: the export checks each file's row count against it.
-- param: app String  platform application; empty for any
-- param: account String  account the rows must be about; empty for any
-- param: channel_id String  QChat channel; empty for any
-- param: group_id String  iLink or Maxim group; empty for any
-- param: server_id String  QChat server; empty for any
-- param: from DateTime64(3, 'UTC')  start of the time range, inclusive
-- param: to DateTime64(3, 'UTC')  end of the time range, exclusive
-- column: table_name String  storage table
-- column: rows UInt64  events selected
-- column: first_event_at DateTime64(3, 'UTC')  earliest event time
-- column: last_event_at DateTime64(3, 'UTC')  latest event time
SELECT sel.table_name AS table_name, count() AS rows, min(sel.first_at) AS first_event_at, max(sel.first_at) AS last_event_at
FROM export_selection(app = {app:String}, account = {account:String}, channel_id = {channel_id:String}, group_id = {group_id:String}, server_id = {server_id:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')})  AS sel
GROUP BY sel.table_name
ORDER BY table_name
