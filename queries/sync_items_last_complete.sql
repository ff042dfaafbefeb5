-- name: sync_items_last_complete
-- summary: For each item of a kind (each group's member list, each account's roster), the time of its latest complete snapshot in a complete run; incremental syncs skip items fresher than their refresh age.
-- param: source String  platform: ilink or maxim
-- param: app String  iLink appkey or Maxim app_id
-- param: item_kind String  group_members, rosters or user_states
-- column: item_id String  group id or account
-- column: synced_at DateTime64(3, 'UTC')  time of its latest complete snapshot
-- column: run_id String  the run that took it
SELECT
    i.item_id AS item_id,
    max(i.synced_at) AS synced_at,
    argMax(i.run_id, i.synced_at) AS run_id
FROM sync_items AS i FINAL
WHERE i.source = {source:String}
  AND i.app = {app:String}
  AND i.item_kind = {item_kind:String}
  AND i.status = 'complete'
  AND i.run_id IN (
      SELECT run_id FROM sync_runs FINAL
      WHERE source = {source:String} AND app = {app:String} AND status = 'complete'
  )
GROUP BY i.item_id
ORDER BY item_id
