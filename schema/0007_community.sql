-- Community events: QChat servers (NetEase eventType 50-52), membership (53-62), channels (63-67),
-- roles and permissions (68-79), one row per event_id in one table, told apart by kind and op. The
-- fields common to most types are columns; the type-specific rest is in attrs, verbatim.
-- Deduplication: ReplacingMergeTree on a key fixed per event_id, read with FINAL by the view.
CREATE TABLE IF NOT EXISTS community_events_data
(
    event_id          String COMMENT 'Deterministic event id; the deduplication key',
    source            LowCardinality(String) COMMENT 'Platform: netease_qchat',
    app               LowCardinality(String) COMMENT 'Platform application (NetEase appkey)',
    kind              LowCardinality(String) COMMENT 'server, member, channel, role or permission',
    op                LowCardinality(String) COMMENT 'What happened, platform-independent (create, update, delete, invite, join, leave, kick, …)',
    platform_type     LowCardinality(String) COMMENT 'The platform''s own event type code (NetEase eventType 50-79)',
    platform_subtype  LowCardinality(String) COMMENT 'The platform''s refinement, where it has one',
    occurred_at       DateTime64(3, 'UTC') COMMENT 'Platform time of the operation (NetEase time), UTC',
    received_at       DateTime64(3, 'UTC') COMMENT 'When imarchive received the callback, UTC',
    actor             String COMMENT 'Account that did it (NetEase accid: the operator)',
    actor_nick        String COMMENT 'Operator user name or nickname (username, fromNick)',
    actor_client_type LowCardinality(String) COMMENT 'Operator client type, where given',
    actor_ip          String COMMENT 'Operator IP address, where given',
    server_id         String COMMENT 'QChat server (community) id',
    channel_id        String COMMENT 'QChat channel id (channel, channel role and channel permission events)',
    target_account    String COMMENT 'The one account acted upon (invited, applying, member changed, given custom permissions), where there is one',
    accounts          Array(String) COMMENT 'Every account acted upon, from the platform''s lists (inviteAccids, kickAccids, memberAccids, accids, targetAccidList) and target_account',
    role_id           String COMMENT 'Role (身份组) id a role or permission event is about (roleid, identifyId)',
    role_ids          Array(String) COMMENT 'Role ids of a bulk role event (roleids; the roles of roleIdPriority, ascending)',
    name              String COMMENT 'Name of the server, channel or role created or changed',
    attrs             Map(String, String) COMMENT 'Every top-level field of the payload as received (owner, invitemode, applymode, viewmode, topic, allow, deny, auths, priority, custom, api, consid, …)',
    kafka_partition   Int32 COMMENT 'Events-topic partition the row was read from',
    kafka_offset      Int64 COMMENT 'Events-topic offset the row was read from',
    inserted_at       DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the row was written; the version',
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_channel channel_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_accounts accounts TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (source, app, server_id, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Storage of community events (may hold not yet merged repeats): read the community_events view';

CREATE VIEW IF NOT EXISTS community_events
(
    event_id          String COMMENT 'Deterministic event id; the key to the raw payload',
    source            LowCardinality(String) COMMENT 'Platform',
    app               LowCardinality(String) COMMENT 'Platform application',
    kind              LowCardinality(String) COMMENT 'server, member, channel, role or permission',
    op                LowCardinality(String) COMMENT 'What happened (create, update, delete, invite, join, leave, kick, …)',
    platform_type     LowCardinality(String) COMMENT 'The platform''s own event type code (NetEase 50-79)',
    platform_subtype  LowCardinality(String) COMMENT 'The platform''s refinement, where it has one',
    occurred_at       DateTime64(3, 'UTC') COMMENT 'Platform time of the operation, UTC',
    received_at       DateTime64(3, 'UTC') COMMENT 'When imarchive received it',
    actor             String COMMENT 'Account that did it',
    actor_nick        String COMMENT 'Operator user name or nickname',
    actor_client_type LowCardinality(String) COMMENT 'Operator client type',
    actor_ip          String COMMENT 'Operator IP address',
    server_id         String COMMENT 'QChat server id',
    channel_id        String COMMENT 'QChat channel id',
    target_account    String COMMENT 'The one account acted upon, where there is one',
    accounts          Array(String) COMMENT 'Every account acted upon',
    role_id           String COMMENT 'Role id of a role or permission event',
    role_ids          Array(String) COMMENT 'Role ids of a bulk role event',
    name              String COMMENT 'Name of the server, channel or role',
    via_api           Bool COMMENT 'Done through the platform''s server API rather than an SDK (NetEase api = true)',
    attrs             Map(String, String) COMMENT 'Every top-level field of the payload as received'
)
AS SELECT event_id, source, app, kind, op, platform_type, platform_subtype, occurred_at, received_at, actor, actor_nick,
    actor_client_type, actor_ip, server_id, channel_id, target_account, accounts, role_id, role_ids, name,
    lower(attrs['api']) = 'true' AS via_api, attrs
FROM community_events_data FINAL;
