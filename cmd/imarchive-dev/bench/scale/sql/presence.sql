-- Presence copies number lo to hi (a quarter as many as messages: a fifth of the archive), as the
-- events consumer writes them with the rule's verdict: 70 % NetEase (47: logins, renewals every half
-- hour, logouts, drops, kicks, reconnects; two connections a day per account), 30 % iLink status.
-- 1 % arrive late (stale: ten minutes older than a copy of their connection that came before).
INSERT INTO presence_events_data (event_id, source, app, account, connection, connection_id, op, online, reason, stale, arrival,
    since, platform_type, platform_subtype, occurred_at, received_at, device_id, client_type, client_ip, expires_at, attrs,
    kafka_partition, kafka_offset, login_time, client_port, sdk_version, inserted_at)
SELECT substring(lower(hex(SHA256(concat(source, '\x1f', app, '\x1f', 'presence', '\x1f', toString(j))))), 1, 32) AS event_id,
    source, app, account, if(source = 'netease_qchat', concat('consid:', consid), ''), if(source = 'netease_qchat', consid, ''),
    op, online, if(online, '', op), stale, j + 1, if(stale, toDateTime64(0, 3, 'UTC'), occurred_at),
    if(source = 'netease_qchat', '47', '4'), subtype, occurred_at, received_at, device_id, client_type, ip,
    if(source = 'netease_qchat' AND online, fromUnixTimestamp64Milli(toUnixTimestamp64Milli(occurred_at) + 2100000, 'UTC'), toDateTime64(0, 3, 'UTC')),
    if(source = 'netease_qchat',
        map('accid', account, 'clientIp', ip, 'clientPort', toString(20000 + h % 40000), 'clientType', client_type, 'consid', consid,
            'deviceId', device_id, 'eventType', '47', 'loginTime', toString(toUnixTimestamp64Milli(occurred_at) - h % 3600000),
            'sdkVersion', '250', 'sdkHumanVersion', '9.0.0', 'time', toString(toUnixTimestamp64Milli(occurred_at)), 'type', subtype),
        map('from_uid', account, 'msg_type', '4', 'time', toString(toUnixTimestamp(occurred_at)), 'type', subtype)),
    toInt32(j % 8), toInt64(2000000000 + intDiv(j, 8)),
    if(source = 'netease_qchat', fromUnixTimestamp64Milli(toUnixTimestamp64Milli(occurred_at) - h % 3600000, 'UTC'), toDateTime64(0, 3, 'UTC')),
    if(source = 'netease_qchat', toString(20000 + h % 40000), ''), if(source = 'netease_qchat', '250', ''), received_at
FROM
(
    SELECT j, h,
        if(h % 10 < 7, 'netease_qchat', 'ilink') AS source,
        if(source = 'netease_qchat', ['nim-a', 'nim-a', 'nim-a', 'nim-a', 'nim-a', 'nim-b', 'nim-b', 'nim-b', 'nim-c', 'nim-c'][1 + h2 % 10],
           ['il-a', 'il-a', 'il-a', 'il-b'][1 + h2 % 4]) AS app,
        concat('u', toString(toUInt32(pow((h3 % 1000003) / 1000003, 2) * 100000))) AS account,
        h4 % 1000 < 10 AS stale,
        fromUnixTimestamp64Milli(toInt64({start_ms:UInt64} + intDiv(j * {span_ms:UInt64}, intDiv({n:UInt64}, 4)) + h % 1000
            - if(stale, 600000, 0)), 'UTC') AS occurred_at,
        fromUnixTimestamp64Milli(toUnixTimestamp64Milli(occurred_at) + if(stale, 600000, 0) + 100 + h4 % 1500, 'UTC') AS received_at,
        if(source = 'netease_qchat',
           ['login', 'login', 'login', 'login', 'login', 'heartbeat', 'heartbeat', 'heartbeat', 'heartbeat', 'heartbeat',
            'heartbeat', 'heartbeat', 'heartbeat', 'heartbeat', 'heartbeat', 'logout', 'logout', 'dropped', 'kicked_multi_device', 'replaced'][1 + h5 % 20],
           if(h5 % 100 < 55, 'online', 'offline')) AS op,
        op IN ('login', 'heartbeat', 'online') AS online,
        multiIf(source = 'ilink', if(online, '1', '0'), op = 'login', '1', op = 'logout', '2', op = 'dropped', '3',
                op = 'kicked_multi_device', '4', op = 'replaced', '7', '8') AS subtype,
        lower(hex(cityHash64(account, toDate(occurred_at), h5 % 2))) AS consid,
        if(source = 'netease_qchat', ['AOS', 'AOS', 'IOS', 'IOS', 'IOS', 'WEB', 'PC'][1 + cityHash64(account) % 7], '') AS client_type,
        if(source = 'netease_qchat', concat('dev-', account, '-', client_type), '') AS device_id,
        if(source = 'netease_qchat', IPv4NumToString(toUInt32(h2)), '') AS ip,
        cityHash64(j, 12) AS h2, cityHash64(j, 13) AS h3, cityHash64(j, 14) AS h4, cityHash64(j, 15) AS h5
    FROM (SELECT number AS j, cityHash64(number, 11) AS h FROM numbers(intDiv({lo:UInt64}, 4), intDiv({hi:UInt64}, 4) - intDiv({lo:UInt64}, 4)))
);
