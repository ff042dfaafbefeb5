-- Group and group-membership snapshots taken by the connectors. One row per (snapshot, group) and per
-- (snapshot, group, member); a snapshot is usable only when its sync_items row is complete and its run
-- is complete (the named queries group_members_at and account_groups_at do that join). ReplacingMergeTree
-- keyed by the snapshot: a page written twice (a retry, a resumed run) folds into one row; read with FINAL.
CREATE TABLE IF NOT EXISTS group_snapshots
(
    source       LowCardinality(String) COMMENT 'Platform: ilink or maxim',
    app          String COMMENT 'Platform application: iLink appkey or Maxim app_id',
    group_id     String COMMENT 'Group id as the platform gives it (Maxim numeric ids as decimal text, as in messages.group_id)',
    run_id       String COMMENT 'Sync run that took the snapshot',
    snapshot_id  String COMMENT 'Snapshot id (sync_items.snapshot_id)',
    synced_at    DateTime64(3, 'UTC') COMMENT 'When the snapshot was complete (its last page fetched)',
    status       LowCardinality(String) COMMENT 'present, or gone when the platform says the group no longer exists',
    name         String COMMENT 'Group name (iLink group_name); empty where the platform gives none (Maxim member_list)',
    created_at   Nullable(DateTime64(3, 'UTC')) COMMENT 'When the group was created (iLink create_time, read as China time UTC+8)',
    member_count UInt64 COMMENT 'Members listed in this snapshot',
    version      String COMMENT 'The platform''s member-list version (Maxim member_list version)',
    attrs        Map(String, String) COMMENT 'Every field of the platform''s group entry as received (non-strings as JSON text)'
)
ENGINE = ReplacingMergeTree(synced_at)
PARTITION BY toYYYYMM(synced_at)
ORDER BY (source, app, group_id, snapshot_id)
COMMENT 'Group snapshots from the platforms'' APIs (read with FINAL; use complete snapshots only)';

CREATE TABLE IF NOT EXISTS group_member_snapshots
(
    source      LowCardinality(String) COMMENT 'Platform: ilink or maxim',
    app         String COMMENT 'Platform application: iLink appkey or Maxim app_id',
    group_id    String COMMENT 'Group id (as in messages.group_id)',
    account     String COMMENT 'Member account: iLink UID, Maxim user_id as decimal text (as in messages.sender)',
    run_id      String COMMENT 'Sync run that took the snapshot',
    snapshot_id String COMMENT 'Snapshot id (sync_items.snapshot_id)',
    synced_at   DateTime64(3, 'UTC') COMMENT 'When the page listing this member was fetched',
    joined_at   Nullable(DateTime64(3, 'UTC')) COMMENT 'When the member joined (Maxim join_time); NULL where the platform does not say (iLink)',
    attrs       Map(String, String) COMMENT 'Every field of the platform''s member entry as received (non-strings as JSON text)'
)
ENGINE = ReplacingMergeTree(synced_at)
PARTITION BY toYYYYMM(synced_at)
ORDER BY (source, app, group_id, snapshot_id, account)
COMMENT 'Group members per snapshot (read with FINAL; use complete snapshots only: queries group_members_at, account_groups_at)';
