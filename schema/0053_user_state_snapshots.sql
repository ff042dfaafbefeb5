-- Online-state snapshots the connectors polled (iLink ham_user action 1), beside the status events the
-- platform pushes. A poll is an observation at synced_at, not an event: the online-state rule (greatest
-- platform time wins) applies to the pushed events; these rows let an auditor check them. Read with FINAL;
-- use rows of complete runs only (query user_state_snapshots).
CREATE TABLE IF NOT EXISTS user_state_snapshots
(
    source      LowCardinality(String) COMMENT 'Platform: ilink',
    app         String COMMENT 'Platform application: iLink appkey',
    account     String COMMENT 'Account (iLink UID)',
    online      UInt8 COMMENT '1 online, 0 offline (iLink state)',
    state       Int32 COMMENT 'The platform''s state code as received',
    run_id      String COMMENT 'Sync run that took the snapshot',
    snapshot_id String COMMENT 'Snapshot id of the batch (sync_items.snapshot_id)',
    synced_at   DateTime64(3, 'UTC') COMMENT 'When the state was polled',
    attrs       Map(String, String) COMMENT 'Every field of the state entry as received (non-strings as JSON text)'
)
ENGINE = ReplacingMergeTree(synced_at)
PARTITION BY toYYYYMM(synced_at)
ORDER BY (source, app, account, snapshot_id)
COMMENT 'Polled online states (read with FINAL; use complete runs only: query user_state_snapshots)';
