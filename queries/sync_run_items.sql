-- name: sync_run_items
-- summary: The snapshot items of one sync run (group member lists, rosters, state batches) with their status; a resumed run continues from these.
-- param: source String  platform: ilink or maxim
-- param: app String  iLink appkey or Maxim app_id
-- param: run_id String  the sync run (query sync_runs lists them)
-- column: item_kind LowCardinality(String)  group_members, rosters or user_states
-- column: item_id String  group id, account, or state batch
-- column: snapshot_id String  snapshot id, the key of the item's rows
-- column: status LowCardinality(String)  partial, complete or skipped
-- column: started_at DateTime64(3, 'UTC')  first page fetched
-- column: synced_at DateTime64(3, 'UTC')  last page fetched: the snapshot time when complete
-- column: pages UInt32  pages fetched
-- column: rows UInt64  rows written
-- column: cursor String  cursor of the next page (partial items)
-- column: version String  the platform's list version, where given
-- column: detail String  why an item is empty or was skipped
SELECT
    item_kind,
    item_id,
    snapshot_id,
    status,
    started_at,
    synced_at,
    pages,
    `rows`,
    cursor,
    version,
    detail
FROM sync_items FINAL
WHERE source = {source:String}
  AND app = {app:String}
  AND run_id = {run_id:String}
ORDER BY item_kind, item_id, synced_at
