-- name: sync_runs
-- summary: Connector sync runs of one platform application started since a time, newest first, with their status and counts.
-- param: source String  platform: ilink or maxim
-- param: app String  iLink appkey or Maxim app_id
-- param: since DateTime64(3, 'UTC')  runs started at or after this time (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- column: run_id String  sync run id
-- column: status LowCardinality(String)  running, complete or failed (a killed run stays running)
-- column: started_at DateTime64(3, 'UTC')  when the run started
-- column: finished_at Nullable(DateTime64(3, 'UTC'))  when it completed or failed
-- column: resumes UInt32  times it was resumed
-- column: groups UInt64  group member lists completed
-- column: members UInt64  group member rows written
-- column: accounts UInt64  accounts whose roster or state was taken
-- column: contacts UInt64  roster rows written
-- column: skipped UInt64  items skipped (fresh enough, or unreadable)
-- column: error String  why it failed (secrets masked)
SELECT
    run_id,
    status,
    started_at,
    finished_at,
    resumes,
    `groups`,
    members,
    accounts,
    contacts,
    skipped,
    error
FROM sync_runs FINAL
WHERE source = {source:String}
  AND app = {app:String}
  AND started_at >= {since:DateTime64(3, 'UTC')}
ORDER BY started_at DESC, run_id DESC
