-- name: group_snapshot_history
-- summary: Every snapshot of a group's members taken in a time range, complete or not, with its run's status and what changed since the previous complete snapshot; shows an auditor how well a period is covered.
-- param: source String  platform: ilink or maxim
-- param: app String  iLink appkey or Maxim app_id
-- param: group_id String  the group
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- column: synced_at DateTime64(3, 'UTC')  when the snapshot was taken (its last page fetched)
-- column: usable UInt8  1 when the item and its run are complete: the membership queries use only these
-- column: item_status LowCardinality(String)  partial, complete or skipped
-- column: run_status String  running, complete or failed
-- column: members UInt64  members listed
-- column: joined Array(String)  accounts listed now but not in the previous usable snapshot (usable snapshots after the first only)
-- column: left Array(String)  accounts in the previous usable snapshot but not listed now (same)
-- column: detail String  why it is empty or was skipped
-- column: run_id String  sync run
-- column: snapshot_id String  snapshot id
WITH
items AS
(
    SELECT i.snapshot_id AS snapshot_id, i.run_id AS run_id, i.synced_at AS synced_at, i.status AS item_status,
           i.detail AS detail, r.status AS run_status,
           toUInt8(i.status = 'complete' AND r.status = 'complete') AS usable
    FROM sync_items AS i FINAL
    LEFT JOIN (
        SELECT run_id, status FROM sync_runs FINAL WHERE source = {source:String} AND app = {app:String}
    ) AS r ON r.run_id = i.run_id
    WHERE i.source = {source:String}
      AND i.app = {app:String}
      AND i.item_kind = 'group_members'
      AND i.item_id = {group_id:String}
      AND i.synced_at < {to:DateTime64(3, 'UTC')}
),
member_sets AS
(
    SELECT snapshot_id, groupArray(account) AS accounts
    FROM group_member_snapshots FINAL
    WHERE source = {source:String} AND app = {app:String} AND group_id = {group_id:String}
      AND snapshot_id IN (SELECT snapshot_id FROM items)
    GROUP BY snapshot_id
),
usable_seq AS
(
    SELECT snapshot_id,
           lagInFrame(accounts, 1, []) OVER w AS prev,
           row_number() OVER w AS n
    FROM
    (
        SELECT it.snapshot_id AS snapshot_id, it.synced_at AS synced_at, ms.accounts AS accounts
        FROM items AS it
        LEFT JOIN member_sets AS ms ON ms.snapshot_id = it.snapshot_id
        WHERE it.usable = 1
    )
    WINDOW w AS (ORDER BY synced_at, snapshot_id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
)
SELECT
    it.synced_at AS synced_at,
    it.usable AS usable,
    it.item_status AS item_status,
    it.run_status AS run_status,
    toUInt64(length(ms.accounts)) AS members,
    if(us.n > 1, arraySort(arrayFilter(a -> NOT has(us.prev, a), ms.accounts)), []) AS joined,
    if(us.n > 1, arraySort(arrayFilter(a -> NOT has(ms.accounts, a), us.prev)), []) AS left,
    it.detail AS detail,
    it.run_id AS run_id,
    it.snapshot_id AS snapshot_id
FROM items AS it
LEFT JOIN member_sets AS ms ON ms.snapshot_id = it.snapshot_id
LEFT JOIN usable_seq AS us ON us.snapshot_id = it.snapshot_id
WHERE it.synced_at >= {from:DateTime64(3, 'UTC')}
ORDER BY synced_at, snapshot_id
