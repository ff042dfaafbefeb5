-- name: user_state_snapshots
-- summary: An account's polled online states in a time range (iLink ham_user), from complete sync runs, oldest first; the pushed status events are the primary record, these are the connector's checks beside them.
-- param: source String  platform: ilink
-- param: app String  iLink appkey
-- param: account String  the account (iLink UID)
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- column: synced_at DateTime64(3, 'UTC')  when the state was polled
-- column: online UInt8  1 online, 0 offline
-- column: state Int32  the platform's state code as received
-- column: run_id String  sync run that polled it
SELECT
    s.synced_at AS synced_at,
    s.online AS online,
    s.state AS state,
    s.run_id AS run_id
FROM user_state_snapshots AS s FINAL
WHERE s.source = {source:String}
  AND s.app = {app:String}
  AND s.account = {account:String}
  AND s.synced_at >= {from:DateTime64(3, 'UTC')}
  AND s.synced_at < {to:DateTime64(3, 'UTC')}
  AND s.snapshot_id IN (
      SELECT snapshot_id FROM sync_items FINAL
      WHERE source = {source:String} AND app = {app:String} AND item_kind = 'user_states' AND status = 'complete'
        AND run_id IN (
            SELECT run_id FROM sync_runs FINAL
            WHERE source = {source:String} AND app = {app:String} AND status = 'complete'
        )
  )
ORDER BY synced_at
