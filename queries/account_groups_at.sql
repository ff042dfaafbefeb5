-- name: account_groups_at
-- summary: The groups an account was a member of at a time, per each group's latest complete snapshot taken at or before it.
-- param: source String  platform: ilink or maxim
-- param: app String  iLink appkey or Maxim app_id
-- param: account String  the account (iLink UID, Maxim user_id)
-- param: at DateTime64(3, 'UTC')  the time asked about (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- column: group_id String  a group the account was in
-- column: group_name String  its name in that snapshot (iLink; empty for Maxim)
-- column: joined_at Nullable(DateTime64(3, 'UTC'))  when the account joined, where the platform says (Maxim)
-- column: snapshot_at DateTime64(3, 'UTC')  when the group's snapshot used was taken
-- column: run_id String  sync run that took it
WITH used AS
(
    SELECT
        i.item_id AS group_id,
        argMax(i.snapshot_id, (i.synced_at, i.snapshot_id)) AS snapshot_id,
        argMax(i.run_id, (i.synced_at, i.snapshot_id)) AS run_id,
        max(i.synced_at) AS synced_at
    FROM sync_items AS i FINAL
    WHERE i.source = {source:String}
      AND i.app = {app:String}
      AND i.item_kind = 'group_members'
      AND i.status = 'complete'
      AND i.synced_at <= {at:DateTime64(3, 'UTC')}
      AND i.run_id IN (
          SELECT run_id FROM sync_runs FINAL
          WHERE source = {source:String} AND app = {app:String} AND status = 'complete'
      )
    GROUP BY i.item_id
),
names AS
(
    SELECT snapshot_id, any(name) AS name
    FROM group_snapshots FINAL
    WHERE source = {source:String} AND app = {app:String}
    GROUP BY snapshot_id
)
SELECT
    u.group_id AS group_id,
    n.name AS group_name,
    m.joined_at AS joined_at,
    u.synced_at AS snapshot_at,
    u.run_id AS run_id
FROM group_member_snapshots AS m FINAL
INNER JOIN used AS u ON m.snapshot_id = u.snapshot_id
LEFT JOIN names AS n ON n.snapshot_id = u.snapshot_id
WHERE m.source = {source:String}
  AND m.app = {app:String}
  AND m.account = {account:String}
ORDER BY group_id
