-- Least-privilege roles of one imarchive database, applied by `imarchive access apply` with an
-- administrator's DSN (a user with access management) after `imarchive migrate`; idempotent.
-- Placeholders, replaced by quoted identifiers: {db} the database, {writer}, {analyst}, {auditor} the
-- roles (IMARCHIVE_ACCESS_ROLE_PREFIX + writer|analyst|auditor). `imarchive access sql` prints the
-- statements as they will run. Users are created by the command, each with one of the roles.
--
--   writer   consume (events and raw archive), the connectors' syncs, the audit chain, legal holds:
--            read and insert every table of the database; no DDL, no DELETE, no access management.
--   analyst  analysts and Grafana: read every table and view, but of the raw archive only the
--            columns that say what arrived when (no body, headers, path or client address).
--   auditor  compliance: everything the analyst reads, and the raw payloads.
--
-- Views are read with the invoker's rights (ClickHouse's default SQL SECURITY INVOKER), so a role
-- that reads a view is granted the storage table behind it too.
CREATE ROLE IF NOT EXISTS {writer};
CREATE ROLE IF NOT EXISTS {analyst};
CREATE ROLE IF NOT EXISTS {auditor};

GRANT SELECT, INSERT ON {db}.* TO {writer};

-- The archive's views and the tables behind them (schema 0001-0010).
GRANT SELECT ON {db}.messages TO {analyst};
GRANT SELECT ON {db}.messages_data TO {analyst};
GRANT SELECT ON {db}.messages_v1 TO {analyst};
GRANT SELECT ON {db}.message_updates TO {analyst};
GRANT SELECT ON {db}.message_updates_data TO {analyst};
GRANT SELECT ON {db}.message_update_latest TO {analyst};
GRANT SELECT ON {db}.notifications TO {analyst};
GRANT SELECT ON {db}.notifications_data TO {analyst};
GRANT SELECT ON {db}.presence_events TO {analyst};
GRANT SELECT ON {db}.presence_events_data TO {analyst};
GRANT SELECT ON {db}.presence_state TO {analyst};
GRANT SELECT ON {db}.presence_devices TO {analyst};
GRANT SELECT ON {db}.presence_connections TO {analyst};
GRANT SELECT ON {db}.presence_connection_agg TO {analyst};
GRANT SELECT ON {db}.community_events TO {analyst};
GRANT SELECT ON {db}.community_events_data TO {analyst};
GRANT SELECT ON {db}.quick_comments TO {analyst};
GRANT SELECT ON {db}.quick_comments_current TO {analyst};
GRANT SELECT ON {db}.quick_comments_data TO {analyst};
GRANT SELECT ON {db}.archive_events TO {analyst};
GRANT SELECT ON {db}.schema_version TO {analyst};
GRANT SELECT ON {db}.schema_migrations TO {analyst};
-- The raw archive without its payload: enough to count receipts and repeats (duplicates_discarded).
GRANT SELECT(source, app, received_at, event_id, raw_key, body_sha256, raw_partition, raw_offset) ON {db}.raw_callbacks TO {analyst};
GRANT SELECT(source, app, received_at, event_id, raw_key, body_sha256, raw_partition, raw_offset, inserted_at) ON {db}.raw_callbacks_data TO {analyst};
-- Connector snapshots (0050-0053).
GRANT SELECT ON {db}.sync_runs TO {analyst};
GRANT SELECT ON {db}.sync_items TO {analyst};
GRANT SELECT ON {db}.group_snapshots TO {analyst};
GRANT SELECT ON {db}.group_member_snapshots TO {analyst};
GRANT SELECT ON {db}.roster_snapshots TO {analyst};
GRANT SELECT ON {db}.user_state_snapshots TO {analyst};
-- Compliance tables (0060-0064): hashes, holds and retention runs carry no payload.
GRANT SELECT ON {db}.archive_subjects TO {analyst};
GRANT SELECT ON {db}.raw_chain TO {analyst};
GRANT SELECT ON {db}.legal_holds TO {analyst};
GRANT SELECT ON {db}.legal_holds_active TO {analyst};
GRANT SELECT ON {db}.held_events TO {analyst};
GRANT SELECT ON {db}.retention_runs TO {analyst};
GRANT SELECT ON {db}.schema_retention TO {analyst};
GRANT SELECT ON {db}.export_selection TO {analyst};

GRANT {analyst} TO {auditor};
GRANT SELECT ON {db}.raw_callbacks TO {auditor};
GRANT SELECT ON {db}.raw_callbacks_data TO {auditor};
