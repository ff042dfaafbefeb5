-- Who did it, as ClickHouse knows it, and an operator's note the analyst may read without the payload.
--
-- legal_holds.db_user and retention_runs.db_user are the ClickHouse user of the INSERT, filled by the
-- server (MATERIALIZED currentUser()): an INSERT cannot set them, so a hold or retention pass is
-- tied to the credentials that made it, whatever the free-text actor says. Only the auditor and the
-- administrator may insert holds (schema/access/roles.sql).
ALTER TABLE legal_holds ADD COLUMN IF NOT EXISTS db_user String MATERIALIZED currentUser()
    COMMENT 'ClickHouse user that recorded the row, set by the server (an INSERT cannot give it)';
ALTER TABLE retention_runs ADD COLUMN IF NOT EXISTS db_user String MATERIALIZED currentUser()
    COMMENT 'ClickHouse user that ran the pass, set by the server (an INSERT cannot give it)';

CREATE OR REPLACE VIEW legal_holds_active
(
    hold_id        String COMMENT 'Hold id',
    app            String COMMENT 'Platform application',
    scope          String COMMENT 'account, channel, group or server',
    subject        String COMMENT 'The held account, channel, group or server id',
    placed_by      String COMMENT 'Who placed it, as they said (imarchive hold add --by; the OS user by default)',
    placed_by_user String COMMENT 'The ClickHouse user that placed it',
    reason         String COMMENT 'Why it was placed',
    placed_at      DateTime64(3, 'UTC') COMMENT 'When it was placed'
)
AS SELECT hold_id,
    argMinIf(app, at, action = 'add') AS app,
    toString(argMinIf(scope, at, action = 'add')) AS scope,
    argMinIf(subject, at, action = 'add') AS subject,
    argMinIf(actor, at, action = 'add') AS placed_by,
    argMinIf(db_user, at, action = 'add') AS placed_by_user,
    argMinIf(reason, at, action = 'add') AS reason,
    minIf(at, action = 'add') AS placed_at
FROM legal_holds
GROUP BY hold_id
HAVING countIf(action = 'add') > 0 AND countIf(action = 'release') = 0;

-- The operator's note of a message change (NetEase msg) as a column of its own, so that reading it
-- does not need attrs, which the analyst may not read.
ALTER TABLE message_updates_data ADD COLUMN IF NOT EXISTS note String MATERIALIZED attrs['msg']
    COMMENT 'The operator''s note on the change (NetEase msg), from attrs at insert';
ALTER TABLE message_updates_data MATERIALIZE COLUMN note;

CREATE OR REPLACE VIEW message_updates
(
    event_id          String COMMENT 'Deterministic event id of the update; the key to the raw payload',
    source            LowCardinality(String) COMMENT 'Platform: netease_qchat, ilink or maxim',
    app               LowCardinality(String) COMMENT 'Platform application',
    op                LowCardinality(String) COMMENT 'update, append, recall or delete',
    platform_type     LowCardinality(String) COMMENT 'The platform''s own event type code (NetEase 81)',
    platform_subtype  LowCardinality(String) COMMENT 'The platform''s status code of the message after the change',
    occurred_at       DateTime64(3, 'UTC') COMMENT 'Platform time of the change, UTC',
    received_at       DateTime64(3, 'UTC') COMMENT 'When imarchive received it, UTC',
    actor             String COMMENT 'Account that made the change',
    actor_client_type LowCardinality(String) COMMENT 'Client type of that account',
    actor_ip          String COMMENT 'IP address of that account',
    server_id         String COMMENT 'QChat server id',
    channel_id        String COMMENT 'QChat channel id',
    msg_id            String COMMENT 'Server-side id of the message that changed',
    body              String COMMENT 'Message text after the change',
    antispam          Bool COMMENT 'The platform flagged the new content',
    antispam_detail   String COMMENT 'The platform''s raw content-safety verdict, as received',
    note              String COMMENT 'The operator''s note on the change (NetEase msg)',
    attrs             Map(String, String) COMMENT 'Every top-level field of the payload as received'
)
AS SELECT event_id, source, app, op, platform_type, platform_subtype, occurred_at, received_at, actor, actor_client_type,
    actor_ip, server_id, channel_id, msg_id, body, antispam, antispam_detail, note, attrs
FROM message_updates_data FINAL;
