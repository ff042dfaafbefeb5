-- QChat community events number lo to hi (one for every 200 messages) of the 300 servers and 5,000
-- channels: joins, leaves, kicks and invitations (60 %), channel creations, updates and deletions
-- (15 %), roles (15 %), servers (5 %), permissions (5 %).
INSERT INTO community_events_data (event_id, source, app, kind, op, platform_type, platform_subtype, occurred_at, received_at,
    actor, actor_nick, actor_client_type, actor_ip, server_id, channel_id, target_account, accounts, role_id, role_ids, name,
    inviter, member_type, channel_type, channel_view_mode, role_priorities, attrs, kafka_partition, kafka_offset, inserted_at)
SELECT substring(lower(hex(SHA256(concat('netease_qchat', '\x1f', app, '\x1f', 'community', '\x1f', toString(k))))), 1, 32),
    'netease_qchat', app, kind, op, platform_type, '', occurred_at, received_at, actor, actor, 'AOS', IPv4NumToString(toUInt32(h2)),
    server_id, channel_id, target, if(target != '', [target], []), role_id, [], name, '', '', '', '', map(),
    map('eventType', platform_type, 'accid', actor, 'serverId', server_id, 'channelId', channel_id, 'name', name,
        'time', toString(toUnixTimestamp64Milli(occurred_at))),
    toInt32(k % 8), toInt64(4000000000 + intDiv(k, 8)), received_at
FROM
(
    SELECT k, h, h2,
        ['nim-a', 'nim-a', 'nim-a', 'nim-a', 'nim-a', 'nim-b', 'nim-b', 'nim-b', 'nim-c', 'nim-c'][1 + h2 % 10] AS app,
        fromUnixTimestamp64Milli(toInt64({start_ms:UInt64} + intDiv(k * {span_ms:UInt64}, intDiv({n:UInt64}, 200)) + h % 1000), 'UTC') AS occurred_at,
        fromUnixTimestamp64Milli(toUnixTimestamp64Milli(occurred_at) + 200 + h % 1500, 'UTC') AS received_at,
        multiIf(h % 100 < 60, 'member', h % 100 < 75, 'channel', h % 100 < 90, 'role', h % 100 < 95, 'server', 'permission') AS kind,
        multiIf(kind = 'member', ['join', 'join', 'join', 'leave', 'kick', 'invite'][1 + h3 % 6],
                kind = 'channel', ['create', 'update', 'update', 'delete'][1 + h3 % 4],
                kind = 'role', ['create', 'update', 'delete', 'add_members'][1 + h3 % 4],
                kind = 'server', ['create', 'update', 'update', 'delete'][1 + h3 % 4], 'update') AS op,
        multiIf(kind = 'member', ['57', '57', '54', '59', '60', '53'][1 + h3 % 6], kind = 'channel', ['63', '65', '65', '64'][1 + h3 % 4],
                kind = 'role', ['68', '69', '70', '77'][1 + h3 % 4], kind = 'server', ['50', '51', '51', '52'][1 + h3 % 4], '76') AS platform_type,
        toUInt32(pow((h4 % 1000003) / 1000003, 2) * 5000) AS ch,
        toString(900000 + intDiv(ch * 300, 5000)) AS server_id,
        if(kind IN ('channel', 'permission'), toString(1000000 + ch), '') AS channel_id,
        concat('u', toString(toUInt32(pow((h3 % 1000003) / 1000003, 2) * 100000))) AS actor,
        if(kind IN ('member', 'permission'), concat('u', toString(toUInt32(pow((h4 % 1000003) / 1000003, 2) * 100000))), '') AS target,
        if(kind = 'role', toString(h2 % 100000), '') AS role_id,
        multiIf(kind = 'channel' AND op != 'delete', concat('频道-', channel_id), kind = 'server' AND op != 'delete', concat('社区-', server_id),
                kind = 'role' AND op = 'create', concat('role-', role_id), '') AS name
    FROM (SELECT number AS k, cityHash64(number, 21) AS h, cityHash64(number, 22) AS h2, cityHash64(number, 23) AS h3,
              cityHash64(number, 24) AS h4
          FROM numbers(intDiv({lo:UInt64}, 200), intDiv({hi:UInt64}, 200) - intDiv({lo:UInt64}, 200)))
);

-- Notifications (NetEase 49), one for every 200 messages, to a server, a channel or an account.
INSERT INTO notifications_data (event_id, source, app, kind, op, platform_type, platform_subtype, occurred_at, msg_time, received_at,
    sender, sender_nick, sender_client_type, sender_device_id, sender_ip, server_id, channel_id, to_account, msg_id, client_msg_id,
    body, attrs, kafka_partition, kafka_offset, inserted_at)
SELECT substring(lower(hex(SHA256(concat('netease_qchat', '\x1f', app, '\x1f', 'notification', '\x1f', toString(k))))), 1, 32),
    'netease_qchat', app, 'notification', 'send', '49', '100', occurred_at, occurred_at, received_at, sender, sender, 'AOS',
    concat('dev-', sender), IPv4NumToString(toUInt32(h)), server_id, channel_id, to_account, toString(7000000000 + k),
    lower(hex(MD5(toString(k)))), body,
    map('eventType', '49', 'fromAccount', sender, 'serverId', server_id, 'channelId', channel_id, 'toType', '1', 'body', body,
        'attach', '{"k":1}', 'msgIdServer', toString(7000000000 + k), 'time', toString(toUnixTimestamp64Milli(occurred_at))),
    toInt32(k % 8), toInt64(5000000000 + intDiv(k, 8)), received_at
FROM
(
    SELECT k, h,
        ['nim-a', 'nim-a', 'nim-a', 'nim-b', 'nim-c'][1 + h % 5] AS app,
        fromUnixTimestamp64Milli(toInt64({start_ms:UInt64} + intDiv(k * {span_ms:UInt64}, intDiv({n:UInt64}, 200)) + h % 1000), 'UTC') AS occurred_at,
        fromUnixTimestamp64Milli(toUnixTimestamp64Milli(occurred_at) + 200 + h % 1500, 'UTC') AS received_at,
        concat('u', toString(toUInt32(pow((cityHash64(k, 32) % 1000003) / 1000003, 3) * 100000))) AS sender,
        toUInt32(pow((cityHash64(k, 33) % 1000003) / 1000003, 2) * 5000) AS ch,
        toString(900000 + intDiv(ch * 300, 5000)) AS server_id,
        if(h % 3 = 0, toString(1000000 + ch), '') AS channel_id,
        if(h % 3 = 1, concat('u', toString(cityHash64(k, 34) % 100000)), '') AS to_account,
        concat('系统通知 ', toString(k)) AS body
    FROM (SELECT number AS k, cityHash64(number, 31) AS h FROM numbers(intDiv({lo:UInt64}, 200), intDiv({hi:UInt64}, 200) - intDiv({lo:UInt64}, 200)))
);

-- Quick comments (NetEase 80) on 2 % of the chunk's QChat messages, added (80 %) or removed.
INSERT INTO quick_comments_data (event_id, source, app, op, platform_type, platform_subtype, occurred_at, received_at, actor, actor_nick,
    actor_client_type, actor_device_id, actor_ip, server_id, channel_id, msg_id, msg_sender, msg_time, comment_type, attrs,
    kafka_partition, kafka_offset, inserted_at)
SELECT substring(lower(hex(SHA256(concat(source, '\x1f', app, '\x1f', 'quick', '\x1f', msg_id)))), 1, 32),
    source, app, if(h % 5 = 0, 'remove', 'add'), '80', '', occurred_at, received_at, actor, actor, 'IOS', concat('dev-', actor), '',
    server_id, channel_id, msg_id, sender, msg_time, toString(1 + h % 5),
    map('eventType', '80', 'fromAccount', actor, 'msgIdServer', msg_id, 'quickCommentType', toString(1 + h % 5), 'opeType', if(h % 5 = 0, '2', '1')),
    kafka_partition, toInt64(6000000000 + kafka_offset), received_at
FROM
(
    SELECT source, app, msg_id, sender, server_id, channel_id, msg_time, kafka_partition, kafka_offset, cityHash64(event_id, 'q') AS h,
        fromUnixTimestamp64Milli(toUnixTimestamp64Milli(msg_time) + 5000 + h % 3600000, 'UTC') AS occurred_at,
        fromUnixTimestamp64Milli(toUnixTimestamp64Milli(occurred_at) + 200, 'UTC') AS received_at,
        concat('u', toString(toUInt32(pow((cityHash64(event_id, 'a') % 1000003) / 1000003, 2) * 100000))) AS actor
    FROM messages_data
    WHERE msg_time >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC') AND msg_time < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
      AND source = 'netease_qchat' AND kafka_offset < 1000000000 AND cityHash64(event_id, 'q') % 100 < 2
);
