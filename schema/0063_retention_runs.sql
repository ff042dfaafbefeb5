-- Retention passes (imarchive retention apply): one row per table and pass, saying what was deleted,
-- what was kept because it is under a legal hold, who ran it and with which cutoff. imarchive audit
-- verify reads it to tell raw records removed by retention from raw records removed otherwise.
-- Append-only, never subject to retention itself.
CREATE TABLE IF NOT EXISTS retention_runs
(
    run_id      String COMMENT 'Retention pass id (r-<UTC time>-<random>): the same for every table of one pass',
    table_name  String COMMENT 'Storage table the pass applied to',
    time_column String COMMENT 'Column the age is counted from (received_at: when imarchive received the callback)',
    days        UInt32 COMMENT 'Retention in days: rows received before now minus this many days are deleted, unless held',
    cutoff      DateTime64(3, 'UTC') COMMENT 'Rows received before this time were candidates',
    candidates  UInt64 COMMENT 'Rows older than the cutoff before the pass (each event once)',
    held        UInt64 COMMENT 'Of those, rows kept because a legal hold covers them',
    deleted     UInt64 COMMENT 'Rows deleted (candidates minus held, counted again after the delete)',
    dry_run     Bool COMMENT 'Only counted, nothing deleted',
    actor       String COMMENT 'Who ran the pass',
    started_at  DateTime64(3, 'UTC') COMMENT 'When the pass started on this table',
    finished_at DateTime64(3, 'UTC') COMMENT 'When the delete was acknowledged'
)
ENGINE = MergeTree
ORDER BY (table_name, started_at, run_id)
COMMENT 'Retention passes, append-only: what was deleted, what legal holds kept, who ran it';

ALTER TABLE schema_retention MODIFY COMMENT 'Retention in force per storage table, as last applied by imarchive retention apply (read with FINAL); 0 seconds = kept forever. Rows are deleted by the retention pass, never by a TTL, so that legal holds are honoured';
