-- Least-privilege roles of one imarchive database, applied by `imarchive access apply` with an
-- administrator's DSN (a user with access management) after `imarchive migrate`; idempotent.
-- Placeholders, replaced by quoted identifiers: {db} the database, {writer}, {analyst}, {auditor} the
-- roles (IMARCHIVE_ACCESS_ROLE_PREFIX + writer|analyst|auditor). `imarchive access sql` prints the
-- statements as they will run. Users are created by the command, each with one of the roles.
--
--   writer   consume (events and raw archive), the connectors' syncs, the audit chain: read and
--            insert every table of the database but the legal holds and the retention log; no DDL,
--            no DELETE, no access management.
--   analyst  analysts and Grafana: read every table and view, but not attrs (every payload field
--            verbatim), not the client IP addresses, not the view columns computed from attrs; of
--            the raw archive only the columns that say what arrived when (no body, headers, path or
--            client address); nothing of the legal holds (who is under hold, and why).
--   auditor  compliance: read everything; place and release legal holds.
--
-- Views are read with the invoker's rights (ClickHouse's default SQL SECURITY INVOKER), so a role
-- that reads a view is granted the storage table behind it too, and a view column computed from a
-- withheld column (attrs['attach'] AS attach) is withheld as well: reading it would read attrs.
CREATE ROLE IF NOT EXISTS {writer};
CREATE ROLE IF NOT EXISTS {analyst};
CREATE ROLE IF NOT EXISTS {auditor};

GRANT SELECT, INSERT ON {db}.* TO {writer};
-- A hold change is an INSERT: consume's credentials must not be able to release one.
REVOKE INSERT ON {db}.legal_holds FROM {writer};
REVOKE INSERT ON {db}.retention_runs FROM {writer};

-- The archive's views and the tables behind them (schema 0001-0010).
GRANT SELECT ON {db}.messages TO {analyst};
GRANT SELECT ON {db}.messages_as_sent TO {analyst};
GRANT SELECT ON {db}.messages_data TO {analyst};
GRANT SELECT ON {db}.messages_v1 TO {analyst};
GRANT SELECT ON {db}.message_updates TO {analyst};
GRANT SELECT ON {db}.message_updates_data TO {analyst};
GRANT SELECT ON {db}.message_update_latest TO {analyst};
-- Daily message counts (schema 0105): no content.
GRANT SELECT ON {db}.message_daily TO {analyst};
GRANT SELECT ON {db}.message_daily_apps TO {analyst};
-- Daily logins and messages by client type (schema 0150): no content.
GRANT SELECT ON {db}.login_client_daily TO {analyst};
GRANT SELECT ON {db}.message_client_daily TO {analyst};
-- Monthly distinct senders, servers, channels and groups (schema 0153, by month): no content.
GRANT SELECT ON {db}.message_app_months TO {analyst};
-- Monthly login accounts and senders by client type (schema 0153, by month): no content.
GRANT SELECT ON {db}.client_type_months TO {analyst};
GRANT SELECT ON {db}.notifications TO {analyst};
GRANT SELECT ON {db}.notifications_data TO {analyst};
GRANT SELECT ON {db}.presence_events TO {analyst};
GRANT SELECT ON {db}.presence_events_data TO {analyst};
GRANT SELECT ON {db}.presence_state TO {analyst};
GRANT SELECT ON {db}.presence_devices TO {analyst};
GRANT SELECT ON {db}.presence_connections TO {analyst};
GRANT SELECT ON {db}.presence_connection_agg TO {analyst};
GRANT SELECT ON {db}.presence_connection_last TO {analyst};
GRANT SELECT ON {db}.presence_leases TO {analyst};
GRANT SELECT ON {db}.community_events TO {analyst};
GRANT SELECT ON {db}.community_events_data TO {analyst};
GRANT SELECT ON {db}.quick_comments TO {analyst};
GRANT SELECT ON {db}.quick_comments_current TO {analyst};
GRANT SELECT ON {db}.quick_comments_data TO {analyst};
GRANT SELECT ON {db}.archive_events TO {analyst};
GRANT SELECT ON {db}.schema_version TO {analyst};
GRANT SELECT ON {db}.schema_migrations TO {analyst};
-- Not attrs, not IP addresses, not what is computed from attrs (schema 0080 keeps the note apart). The
-- payload's storage since schema 0096 (attrs_rest, attrs_promoted; attrs_full and attrs_columns give it
-- back, client IP included) is withheld as attrs is.
REVOKE SELECT(attrs, sender_ip, attach, ext) ON {db}.messages FROM {analyst};
REVOKE SELECT(attrs, sender_ip, attach, ext) ON {db}.messages_as_sent FROM {analyst};
REVOKE SELECT(attrs, attrs_columns, attrs_promoted, attrs_rest, attrs_full, sender_ip) ON {db}.messages_data FROM {analyst};
REVOKE SELECT(attrs, sender_ip) ON {db}.messages_v1 FROM {analyst};
REVOKE SELECT(attrs, actor_ip) ON {db}.message_updates FROM {analyst};
REVOKE SELECT(attrs, attrs_columns, attrs_promoted, attrs_rest, attrs_full, actor_ip) ON {db}.message_updates_data FROM {analyst};
REVOKE SELECT(attrs, sender_ip, to_type, attach) ON {db}.notifications FROM {analyst};
REVOKE SELECT(attrs, attrs_columns, attrs_promoted, attrs_rest, attrs_full, sender_ip) ON {db}.notifications_data FROM {analyst};
REVOKE SELECT(attrs, client_ip) ON {db}.presence_events FROM {analyst};
REVOKE SELECT(attrs, attrs_columns, attrs_promoted, attrs_rest, attrs_full, client_ip) ON {db}.presence_events_data FROM {analyst};
REVOKE SELECT(attrs, actor_ip, via_api) ON {db}.community_events FROM {analyst};
REVOKE SELECT(attrs, attrs_columns, attrs_promoted, attrs_rest, attrs_full, actor_ip) ON {db}.community_events_data FROM {analyst};
REVOKE SELECT(attrs, actor_ip) ON {db}.quick_comments FROM {analyst};
REVOKE SELECT(attrs, attrs_columns, attrs_promoted, attrs_rest, attrs_full, actor_ip) ON {db}.quick_comments_data FROM {analyst};
-- The raw archive without its payload: enough to count receipts and repeats (duplicates_discarded).
GRANT SELECT(source, app, received_at, event_id, raw_key, body_sha256, raw_partition, raw_offset) ON {db}.raw_callbacks TO {analyst};
GRANT SELECT(source, app, received_at, event_id, raw_key, body_sha256, raw_partition, raw_offset, inserted_at) ON {db}.raw_callbacks_data TO {analyst};
GRANT SELECT ON {db}.raw_first_receipt_ids TO {analyst};
-- Connector snapshots (0050-0053).
GRANT SELECT ON {db}.sync_runs TO {analyst};
GRANT SELECT ON {db}.sync_items TO {analyst};
GRANT SELECT ON {db}.group_snapshots TO {analyst};
GRANT SELECT ON {db}.group_member_snapshots TO {analyst};
GRANT SELECT ON {db}.roster_snapshots TO {analyst};
GRANT SELECT ON {db}.user_state_snapshots TO {analyst};
REVOKE SELECT(attrs) ON {db}.group_snapshots FROM {analyst};
REVOKE SELECT(attrs) ON {db}.group_member_snapshots FROM {analyst};
REVOKE SELECT(attrs) ON {db}.roster_snapshots FROM {analyst};
REVOKE SELECT(attrs) ON {db}.user_state_snapshots FROM {analyst};
-- Compliance tables (0060-0064): hashes and retention runs carry no payload. The legal holds (who
-- is under hold, and why: legal_holds, legal_holds_active, held_events) are the auditor's only.
GRANT SELECT ON {db}.archive_subjects TO {analyst};
GRANT SELECT ON {db}.raw_chain TO {analyst};
GRANT SELECT ON {db}.retention_runs TO {analyst};
GRANT SELECT ON {db}.schema_retention TO {analyst};
GRANT SELECT ON {db}.export_selection TO {analyst};

-- The auditor reads everything, and is with the administrator the only one who changes legal holds.
GRANT SELECT ON {db}.* TO {auditor};
GRANT INSERT ON {db}.legal_holds TO {auditor};
