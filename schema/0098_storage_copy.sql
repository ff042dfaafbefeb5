-- Issue 21, step 3 of 4: every row of the old tables (0095 moved them aside) into the new ones, the
-- payload split as the consumer's inserts now split it (0096). The materialized views on the new tables
-- (the state tables', the rollups' of 0097) see these rows as they see the consumer's.
--
-- Safe to run again: a repeated copy writes rows with the same keys and versions, which fold (as a
-- re-delivery does), and the rollups count events by their ids. What it costs: the copy reads and
-- writes every row once (BENCHMARKS.md: 10 M messages with the rest of their archive in some minutes
-- on 2 cores), and the disk holds both copies until 0099 drops the old tables.
INSERT INTO messages_data
    (event_id, source, app, platform_type, platform_subtype, op, conversation, msg_time, occurred_at,
    received_at, sender, sender_nick, sender_client_type, sender_device_id, sender_ip, server_id,
    channel_id, group_id, to_account, msg_id, client_msg_id, msg_type, body, antispam, antispam_detail,
    reply_to_msg_id, reply_to_client_msg_id, reply_to_sender, reply_to_msg_time, thread_msg_id,
    thread_client_msg_id, thread_sender, thread_msg_time, attrs, kafka_partition, kafka_offset,
    inserted_at)
SELECT
    event_id, source, app, platform_type, platform_subtype, op, conversation, msg_time, occurred_at,
    received_at, sender, sender_nick, sender_client_type, sender_device_id, sender_ip, server_id,
    channel_id, group_id, to_account, msg_id, client_msg_id, msg_type, body, antispam, antispam_detail,
    reply_to_msg_id, reply_to_client_msg_id, reply_to_sender, reply_to_msg_time, thread_msg_id,
    thread_client_msg_id, thread_sender, thread_msg_time, attrs, kafka_partition, kafka_offset,
    inserted_at
FROM messages_data_0003;

INSERT INTO message_updates_data
    (event_id, source, app, op, platform_type, platform_subtype, occurred_at, received_at, actor,
    actor_client_type, actor_ip, server_id, channel_id, msg_id, body, antispam, antispam_detail, attrs,
    kafka_partition, kafka_offset, inserted_at)
SELECT
    event_id, source, app, op, platform_type, platform_subtype, occurred_at, received_at, actor,
    actor_client_type, actor_ip, server_id, channel_id, msg_id, body, antispam, antispam_detail, attrs,
    kafka_partition, kafka_offset, inserted_at
FROM message_updates_data_0004;

INSERT INTO notifications_data
    (event_id, source, app, kind, op, platform_type, platform_subtype, occurred_at, msg_time, received_at,
    sender, sender_nick, sender_client_type, sender_device_id, sender_ip, server_id, channel_id,
    to_account, msg_id, client_msg_id, body, attrs, kafka_partition, kafka_offset, inserted_at)
SELECT
    event_id, source, app, kind, op, platform_type, platform_subtype, occurred_at, msg_time, received_at,
    sender, sender_nick, sender_client_type, sender_device_id, sender_ip, server_id, channel_id,
    to_account, msg_id, client_msg_id, body, attrs, kafka_partition, kafka_offset, inserted_at
FROM notifications_data_0005;

INSERT INTO presence_events_data
    (event_id, source, app, account, connection, connection_id, op, online, reason, stale, arrival, since,
    platform_type, platform_subtype, occurred_at, received_at, device_id, client_type, client_ip,
    expires_at, attrs, kafka_partition, kafka_offset, inserted_at, login_time, client_port, sdk_version)
SELECT
    event_id, source, app, account, connection, connection_id, op, online, reason, stale, arrival, since,
    platform_type, platform_subtype, occurred_at, received_at, device_id, client_type, client_ip,
    expires_at, attrs, kafka_partition, kafka_offset, inserted_at, login_time, client_port, sdk_version
FROM presence_events_data_0006;

INSERT INTO community_events_data
    (event_id, source, app, kind, op, platform_type, platform_subtype, occurred_at, received_at, actor,
    actor_nick, actor_client_type, actor_ip, server_id, channel_id, target_account, accounts, role_id,
    role_ids, name, inviter, member_type, channel_type, channel_view_mode, role_priorities,
    channel_topic, attrs, kafka_partition, kafka_offset, inserted_at)
SELECT
    event_id, source, app, kind, op, platform_type, platform_subtype, occurred_at, received_at, actor,
    actor_nick, actor_client_type, actor_ip, server_id, channel_id, target_account, accounts, role_id,
    role_ids, name, inviter, member_type, channel_type, channel_view_mode, role_priorities,
    channel_topic, attrs, kafka_partition, kafka_offset, inserted_at
FROM community_events_data_0007;

INSERT INTO quick_comments_data
    (event_id, source, app, op, platform_type, platform_subtype, occurred_at, received_at, actor,
    actor_nick, actor_client_type, actor_device_id, actor_ip, server_id, channel_id, msg_id, msg_sender,
    msg_time, comment_type, attrs, kafka_partition, kafka_offset, inserted_at)
SELECT
    event_id, source, app, op, platform_type, platform_subtype, occurred_at, received_at, actor,
    actor_nick, actor_client_type, actor_device_id, actor_ip, server_id, channel_id, msg_id, msg_sender,
    msg_time, comment_type, attrs, kafka_partition, kafka_offset, inserted_at
FROM quick_comments_data_0008;

-- Before the old tables go (0099): every event of each is in the new one. FINAL counts each event once
-- in both (the sorting keys are fixed per event). The new tables may hold more: a consumer left running.
SELECT throwIf((SELECT count() FROM messages_data_0003 FINAL) > (SELECT count() FROM messages_data FINAL), 'messages_data holds fewer events than messages_data_0003: the copy is incomplete; run imarchive migrate again');
SELECT throwIf((SELECT count() FROM message_updates_data_0004 FINAL) > (SELECT count() FROM message_updates_data FINAL), 'message_updates_data holds fewer events than message_updates_data_0004: the copy is incomplete; run imarchive migrate again');
SELECT throwIf((SELECT count() FROM notifications_data_0005 FINAL) > (SELECT count() FROM notifications_data FINAL), 'notifications_data holds fewer events than notifications_data_0005: the copy is incomplete; run imarchive migrate again');
SELECT throwIf((SELECT count() FROM presence_events_data_0006 FINAL) > (SELECT count() FROM presence_events_data FINAL), 'presence_events_data holds fewer events than presence_events_data_0006: the copy is incomplete; run imarchive migrate again');
SELECT throwIf((SELECT count() FROM community_events_data_0007 FINAL) > (SELECT count() FROM community_events_data FINAL), 'community_events_data holds fewer events than community_events_data_0007: the copy is incomplete; run imarchive migrate again');
SELECT throwIf((SELECT count() FROM quick_comments_data_0008 FINAL) > (SELECT count() FROM quick_comments_data FINAL), 'quick_comments_data holds fewer events than quick_comments_data_0008: the copy is incomplete; run imarchive migrate again');
