-- Legal holds, and what every archived event is about.
--
-- legal_holds is an append-only log: a hold is placed by an 'add' row and lifted by a 'release' row of
-- the same hold_id, each saying who and why. Nothing is ever updated or deleted here (retention does not
-- touch this table), so the log is the record of every hold there ever was.
CREATE TABLE IF NOT EXISTS legal_holds
(
    hold_id String COMMENT 'Hold id (h-<UTC time>-<random>), given by imarchive hold add',
    action  LowCardinality(String) COMMENT 'add (the hold is placed) or release (it is lifted)',
    app     String COMMENT 'Platform application the hold is in (NetEase appkey, iLink appkey, Maxim app_id)',
    scope   LowCardinality(String) COMMENT 'What is held: account, channel (QChat channel), group (iLink/Maxim group or iLink topic) or server (QChat server)',
    subject String COMMENT 'The held account, channel, group or server id',
    actor   String COMMENT 'Who placed or released the hold',
    reason  String COMMENT 'Why: the case, matter or instruction',
    at      DateTime64(3, 'UTC') COMMENT 'When the hold was placed or released'
)
ENGINE = MergeTree
ORDER BY (hold_id, at)
COMMENT 'Legal holds and releases, append-only (who, why, when); held rows are exempt from retention';

CREATE VIEW IF NOT EXISTS legal_holds_active
(
    hold_id   String COMMENT 'Hold id',
    app       String COMMENT 'Platform application',
    scope     String COMMENT 'account, channel, group or server',
    subject   String COMMENT 'The held account, channel, group or server id',
    placed_by String COMMENT 'Who placed it',
    reason    String COMMENT 'Why it was placed',
    placed_at DateTime64(3, 'UTC') COMMENT 'When it was placed'
)
AS SELECT hold_id,
    argMinIf(app, at, action = 'add') AS app,
    toString(argMinIf(scope, at, action = 'add')) AS scope,
    argMinIf(subject, at, action = 'add') AS subject,
    argMinIf(actor, at, action = 'add') AS placed_by,
    argMinIf(reason, at, action = 'add') AS reason,
    minIf(at, action = 'add') AS placed_at
FROM legal_holds
GROUP BY hold_id
HAVING countIf(action = 'add') > 0 AND countIf(action = 'release') = 0;

-- What each archived event is about: one row per (event, subject), subject_kind account, channel,
-- group or server. The one definition used by legal holds (held_events), exports (export_selection) and
-- account history. A message is about its sender, its recipient, its channel, server or group; an edit,
-- recall or delete is also about the message's sender, recipient and group; a community event about its
-- operator and every account it acts upon; a presence event about its account; and every event about
-- itself (kind event), so that a selection by time alone finds it. at is the event's time
-- (the send time for messages), or when it was received where the platform gives none.
CREATE VIEW IF NOT EXISTS archive_subjects
(
    table_name   String COMMENT 'Storage table of the event (messages_data, message_updates_data, notifications_data, presence_events_data, community_events_data, quick_comments_data)',
    event_id     String COMMENT 'Deterministic event id',
    source       String COMMENT 'Platform',
    app          String COMMENT 'Platform application',
    at           DateTime64(3, 'UTC') COMMENT 'Time of the event: send time of a message, platform time otherwise; received time where the platform gives none',
    subject_kind String COMMENT 'account, channel, group or server; event for the row every event has about itself (subject = event_id)',
    subject      String COMMENT 'The account, channel, group or server id (the event_id for kind event)'
)
AS SELECT table_name, event_id, source, app, at, tupleElement(s, 1) AS subject_kind, tupleElement(s, 2) AS subject
FROM
(
    SELECT 'messages_data' AS table_name, event_id, toString(source) AS source, toString(app) AS app,
        if(toUnixTimestamp64Milli(msg_time) = 0, received_at, msg_time) AS at,
        [('account', sender), ('account', to_account), ('channel', channel_id), ('server', server_id), ('group', group_id)] AS subjects
    FROM messages_data
    UNION ALL
    SELECT 'message_updates_data', u.event_id, toString(u.source), toString(u.app),
        if(toUnixTimestamp64Milli(u.occurred_at) = 0, u.received_at, u.occurred_at),
        [('account', u.actor), ('account', m.sender), ('account', m.to_account), ('channel', u.channel_id), ('server', u.server_id), ('group', m.group_id)]
    FROM message_updates_data AS u
    LEFT JOIN
    (
        SELECT source, app, msg_id, any(sender) AS sender, any(to_account) AS to_account, any(group_id) AS group_id
        FROM messages_data
        WHERE msg_id != ''
        GROUP BY source, app, msg_id
    ) AS m ON u.source = m.source AND u.app = m.app AND u.msg_id = m.msg_id
    UNION ALL
    SELECT 'notifications_data', event_id, toString(source), toString(app),
        if(toUnixTimestamp64Milli(occurred_at) = 0, received_at, occurred_at),
        [('account', sender), ('account', to_account), ('channel', channel_id), ('server', server_id)]
    FROM notifications_data
    UNION ALL
    SELECT 'presence_events_data', event_id, toString(source), toString(app),
        if(toUnixTimestamp64Milli(occurred_at) = 0, received_at, occurred_at),
        [('account', account)]
    FROM presence_events_data
    UNION ALL
    SELECT 'community_events_data', event_id, toString(source), toString(app),
        if(toUnixTimestamp64Milli(occurred_at) = 0, received_at, occurred_at),
        arrayConcat([('account', actor), ('account', target_account), ('channel', channel_id), ('server', server_id)],
            arrayMap(a -> ('account', a), accounts))
    FROM community_events_data
    UNION ALL
    SELECT 'quick_comments_data', event_id, toString(source), toString(app),
        if(toUnixTimestamp64Milli(occurred_at) = 0, received_at, occurred_at),
        [('account', actor), ('account', msg_sender), ('channel', channel_id), ('server', server_id)]
    FROM quick_comments_data
)
ARRAY JOIN arrayPushFront(subjects, ('event', event_id)) AS s
WHERE tupleElement(s, 2) != '';

-- Events under an active legal hold: retention never deletes them, nor their raw records.
CREATE VIEW IF NOT EXISTS held_events
(
    table_name String COMMENT 'Storage table of the held event',
    event_id   String COMMENT 'Deterministic event id of the held event'
)
AS SELECT DISTINCT table_name, event_id
FROM archive_subjects
WHERE (app, subject_kind, subject) IN (SELECT app, scope, subject FROM legal_holds_active);

-- The events an export selects (imarchive export): by application, account, channel, group and server
-- (each '' for any; the given ones must all hold) and a time range [from, to) on the event's time.
-- A parameterized view, so the selection is defined once for every exported table and the raw payloads.
CREATE VIEW IF NOT EXISTS export_selection
AS SELECT table_name, event_id, min(at) AS at
FROM archive_subjects
WHERE ({app:String} = '' OR app = {app:String})
  AND at >= {from:DateTime64(3, 'UTC')}
  AND at < {to:DateTime64(3, 'UTC')}
GROUP BY table_name, event_id
HAVING ({account:String} = '' OR has(groupArray(tuple(subject_kind, subject)), tuple('account', {account:String})))
   AND ({channel_id:String} = '' OR has(groupArray(tuple(subject_kind, subject)), tuple('channel', {channel_id:String})))
   AND ({group_id:String} = '' OR has(groupArray(tuple(subject_kind, subject)), tuple('group', {group_id:String})))
   AND ({server_id:String} = '' OR has(groupArray(tuple(subject_kind, subject)), tuple('server', {server_id:String})));
