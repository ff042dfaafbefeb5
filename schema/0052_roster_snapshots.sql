-- Roster (friend list) snapshots of Maxim accounts, taken by imarchive maxim sync from GET /user/rosters.
-- One row per (snapshot, account, contact); an account with an empty roster has a complete sync_items row
-- and no rows here. Read with FINAL; the named query roster_at uses complete snapshots only.
CREATE TABLE IF NOT EXISTS roster_snapshots
(
    source       LowCardinality(String) COMMENT 'Platform: maxim',
    app          String COMMENT 'Platform application: Maxim app_id',
    account      String COMMENT 'Account whose roster this is (Maxim user_id as decimal text)',
    contact      String COMMENT 'A roster entry: the contact''s user_id as decimal text',
    contact_name String COMMENT 'The contact''s name as the roster gives it',
    run_id       String COMMENT 'Sync run that took the snapshot',
    snapshot_id  String COMMENT 'Snapshot id (sync_items.snapshot_id)',
    synced_at    DateTime64(3, 'UTC') COMMENT 'When the roster was fetched',
    attrs        Map(String, String) COMMENT 'Every field of the roster entry as received (non-strings as JSON text)'
)
ENGINE = ReplacingMergeTree(synced_at)
PARTITION BY toYYYYMM(synced_at)
ORDER BY (source, app, account, snapshot_id, contact)
COMMENT 'Roster snapshots (read with FINAL; use complete snapshots only: query roster_at)';
