-- name: audit_retention_cutoff
-- summary: The latest cutoff of a retention pass that deleted from the raw archive, and who ran it: raw records received before it may be gone by retention, not tampering.
-- column: last_cutoff DateTime64(3, 'UTC')  the greatest cutoff applied to raw_callbacks_data (1970 when none)
-- column: last_run_id String  the pass
-- column: last_actor String  who ran it
SELECT max(r.cutoff) AS last_cutoff, argMax(r.run_id, r.cutoff) AS last_run_id, argMax(r.actor, r.cutoff) AS last_actor
FROM retention_runs AS r
WHERE r.table_name = 'raw_callbacks_data' AND NOT r.dry_run
