-- Connector sync runs and the snapshot items they took (connectors/, imarchive ilink sync, imarchive maxim sync).
-- A run is 'running' until it ends 'complete' or 'failed'; a killed run stays 'running'. Each status change
-- is a new row (ReplacingMergeTree on updated_at): read with FINAL. The named queries use only complete
-- items of complete runs, so a sync that stopped part-way is never taken for a snapshot.
CREATE TABLE IF NOT EXISTS sync_runs
(
    source      LowCardinality(String) COMMENT 'Platform: ilink or maxim',
    app         String COMMENT 'Platform application: iLink appkey or Maxim app_id',
    run_id      String COMMENT 'Sync run id (time-ordered: r<UTC start time>-<random>)',
    status      LowCardinality(String) COMMENT 'running, complete or failed; only complete runs count as snapshots',
    started_at  DateTime64(3, 'UTC') COMMENT 'When the run started (the first start when resumed)',
    finished_at Nullable(DateTime64(3, 'UTC')) COMMENT 'When it completed or failed; NULL while running',
    updated_at  DateTime64(3, 'UTC') COMMENT 'When this status row was written (the row version)',
    resumes     UInt32 COMMENT 'How many times the run was resumed after stopping part-way',
    error       String COMMENT 'Why it failed (secrets masked); empty otherwise',
    `groups`    UInt64 COMMENT 'Group member lists completed by the run',
    members     UInt64 COMMENT 'Group member rows written',
    accounts    UInt64 COMMENT 'Accounts whose roster or online state was taken',
    contacts    UInt64 COMMENT 'Roster rows written (Maxim)',
    skipped     UInt64 COMMENT 'Items skipped: fresh enough (incremental), or unreadable (see the log)',
    host        String COMMENT 'Host that ran the sync'
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (source, app, run_id)
COMMENT 'Connector sync runs, one row per run (read with FINAL)';

CREATE TABLE IF NOT EXISTS sync_items
(
    source      LowCardinality(String) COMMENT 'Platform: ilink or maxim',
    app         String COMMENT 'Platform application: iLink appkey or Maxim app_id',
    item_kind   LowCardinality(String) COMMENT 'group_members, rosters or user_states',
    item_id     String COMMENT 'The group id (group_members), the account (rosters), the batch (user_states)',
    run_id      String COMMENT 'Sync run that took the snapshot',
    snapshot_id String COMMENT 'Snapshot id, the key of its rows in the *_snapshots tables',
    status      LowCardinality(String) COMMENT 'partial (pages written so far; resumable from cursor), complete (a snapshot; detail says when the platform reported the group or account gone, an empty snapshot) or skipped (unreadable: no snapshot)',
    started_at  DateTime64(3, 'UTC') COMMENT 'When the first page was fetched',
    synced_at   DateTime64(3, 'UTC') COMMENT 'When the last page written so far was fetched: the snapshot time of a complete item',
    pages       UInt32 COMMENT 'Pages fetched so far',
    `rows`      UInt64 COMMENT 'Rows written so far',
    cursor      String COMMENT 'Platform cursor of the next page (partial items)',
    version     String COMMENT 'The platform''s version of the list, where it gives one (Maxim member_list version)',
    detail      String COMMENT 'Why an item is empty or was skipped (the platform''s code and its meaning)',
    updated_at  DateTime64(3, 'UTC') COMMENT 'When this row was written (the row version)'
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (source, app, item_kind, item_id, run_id, snapshot_id)
COMMENT 'Snapshot items of connector sync runs (read with FINAL); complete items of complete runs are snapshots';
