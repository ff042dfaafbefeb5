-- name: audit_retention_cutoff
-- summary: The latest cutoff of a retention pass that deleted from the raw archive, and who ran it: raw records received before it may be gone by retention, not tampering.
-- column: cutoff DateTime64(3, 'UTC')  the greatest cutoff applied to raw_callbacks_data (1970 when none)
-- column: run_id String  the pass
-- column: actor String  who ran it
SELECT max(cutoff) AS cutoff, argMax(run_id, cutoff) AS run_id, argMax(actor, cutoff) AS actor
FROM retention_runs
WHERE table_name = 'raw_callbacks_data' AND NOT dry_run
