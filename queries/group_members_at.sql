-- name: group_members_at
-- summary: Who was in a group at a time, per the latest complete snapshot taken at or before it (iLink or Maxim group sync); no rows when no snapshot was complete by then.
-- param: source String  platform: ilink or maxim
-- param: app String  iLink appkey or Maxim app_id
-- param: group_id String  the group (as in messages.group_id)
-- param: at DateTime64(3, 'UTC')  the time asked about (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- column: account String  member account (iLink lists members without the UID the connector calls as)
-- column: joined_at Nullable(DateTime64(3, 'UTC'))  when the member joined, where the platform says (Maxim)
-- column: snapshot_at DateTime64(3, 'UTC')  when the snapshot used was taken (at or before the time asked)
-- column: next_snapshot_at Nullable(DateTime64(3, 'UTC'))  the next complete snapshot after it, if any: changes in between are not seen
-- column: run_id String  sync run that took the snapshot
-- column: snapshot_id String  snapshot id
WITH snaps AS
(
    SELECT snapshot_id, run_id, synced_at
    FROM sync_items FINAL
    WHERE source = {source:String}
      AND app = {app:String}
      AND item_kind = 'group_members'
      AND item_id = {group_id:String}
      AND status = 'complete'
      AND run_id IN (
          SELECT run_id FROM sync_runs FINAL
          WHERE source = {source:String} AND app = {app:String} AND status = 'complete'
      )
),
used AS
(
    SELECT snapshot_id, run_id, synced_at
    FROM snaps
    WHERE synced_at <= {at:DateTime64(3, 'UTC')}
    ORDER BY synced_at DESC, snapshot_id DESC
    LIMIT 1
)
SELECT
    m.account AS account,
    m.joined_at AS joined_at,
    u.synced_at AS snapshot_at,
    (SELECT min(synced_at) FROM snaps WHERE synced_at > (SELECT max(synced_at) FROM used)) AS next_snapshot_at,
    u.run_id AS run_id,
    u.snapshot_id AS snapshot_id
FROM group_member_snapshots AS m FINAL
INNER JOIN used AS u ON m.snapshot_id = u.snapshot_id
WHERE m.source = {source:String}
  AND m.app = {app:String}
  AND m.group_id = {group_id:String}
ORDER BY account
