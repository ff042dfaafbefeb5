-- name: sync_run_accounts
-- summary: The accounts listed as group members by one sync run (in any of its invocations, when it was resumed); the Maxim connector takes their rosters.
-- param: source String  platform: ilink or maxim
-- param: app String  iLink appkey or Maxim app_id
-- param: run_id String  the sync run (query sync_runs lists them)
-- column: account String  a member account listed by the run
SELECT account
FROM group_member_snapshots
WHERE source = {source:String}
  AND app = {app:String}
  AND run_id = {run_id:String}
GROUP BY account
ORDER BY account
