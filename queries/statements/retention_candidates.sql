-- name: retention_candidates
-- summary: Rows of a storage table received before the cutoff, each once, and how many of them a legal hold covers (imarchive retention apply counts before and after it deletes).
-- param: table Identifier  storage table (one of retention.Tables)
-- param: cutoff DateTime64(3, 'UTC')  rows received before this time are candidates
-- column: candidates UInt64  rows older than the cutoff
-- column: held UInt64  of those, rows whose event a legal hold covers (held_events)
SELECT count() AS candidates, countIf(event_id IN (SELECT event_id FROM held_events)) AS held
FROM {table:Identifier} FINAL
WHERE received_at < {cutoff:DateTime64(3, 'UTC')}
