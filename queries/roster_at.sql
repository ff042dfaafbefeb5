-- name: roster_at
-- summary: An account's roster (friend list) at a time, per the latest complete snapshot taken at or before it (Maxim sync); no rows when none was complete by then, or the roster was empty.
-- param: source String  platform: maxim
-- param: app String  Maxim app_id
-- param: account String  the account (Maxim user_id)
-- param: at DateTime64(3, 'UTC')  the time asked about (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- column: contact String  a roster entry's user_id
-- column: contact_name String  the name the roster gives it
-- column: snapshot_at DateTime64(3, 'UTC')  when the snapshot used was taken
-- column: run_id String  sync run that took it
-- column: snapshot_id String  snapshot id
WITH used AS
(
    SELECT snapshot_id, run_id, synced_at
    FROM sync_items FINAL
    WHERE source = {source:String}
      AND app = {app:String}
      AND item_kind = 'rosters'
      AND item_id = {account:String}
      AND status = 'complete'
      AND synced_at <= {at:DateTime64(3, 'UTC')}
      AND run_id IN (
          SELECT run_id FROM sync_runs FINAL
          WHERE source = {source:String} AND app = {app:String} AND status = 'complete'
      )
    ORDER BY synced_at DESC, snapshot_id DESC
    LIMIT 1
)
SELECT
    r.contact AS contact,
    r.contact_name AS contact_name,
    u.synced_at AS snapshot_at,
    u.run_id AS run_id,
    u.snapshot_id AS snapshot_id
FROM roster_snapshots AS r FINAL
INNER JOIN used AS u ON r.snapshot_id = u.snapshot_id
WHERE r.source = {source:String}
  AND r.app = {app:String}
  AND r.account = {account:String}
ORDER BY contact
