-- name: retention_runs
-- summary: Retention passes since a time, newest first: per table the cutoff, rows deleted, rows kept under legal hold, and who ran it (imarchive retention apply).
-- param: since DateTime64(3, 'UTC')  passes started at or after this time (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- column: run_id String  pass id, shared by the tables of one pass
-- column: table_name String  storage table
-- column: days UInt32  retention in days
-- column: cutoff DateTime64(3, 'UTC')  rows received before it were candidates
-- column: candidates UInt64  rows older than the cutoff before the pass
-- column: held UInt64  kept because a legal hold covers them
-- column: deleted UInt64  rows deleted
-- column: dry_run Bool  only counted
-- column: actor String  who ran it
-- column: started_at DateTime64(3, 'UTC')  when the table's pass started
-- column: finished_at DateTime64(3, 'UTC')  when it finished
SELECT run_id, table_name, days, cutoff, candidates, held, deleted, dry_run, actor, started_at, finished_at
FROM retention_runs
WHERE started_at >= {since:DateTime64(3, 'UTC')}
ORDER BY started_at DESC, table_name
