-- Messages number lo to hi (of n), as the events consumer writes them into messages_data: sent
-- evenly over the span from start_ms, so a chunk is a stretch of time, inserted in time order.
-- 60 % NetEase QChat (channel messages of 5,000 channels in 300 servers), 25 % iLink (group or
-- one-to-one), 15 % Maxim; senders drawn from 100,000 accounts with a skew (the busiest sends 0.3 %);
-- bodies of Chinese words. Every value is a hash of the message's number, so a run is repeatable and a
-- later statement can compute the same message again.
INSERT INTO messages_data (event_id, source, app, platform_type, platform_subtype, op, conversation, msg_time, occurred_at,
    received_at, sender, sender_nick, sender_client_type, sender_device_id, sender_ip, server_id, channel_id, group_id,
    to_account, msg_id, client_msg_id, msg_type, body, antispam, antispam_detail, reply_to_msg_id, reply_to_client_msg_id,
    reply_to_sender, reply_to_msg_time, thread_msg_id, thread_client_msg_id, thread_sender, thread_msg_time, attrs,
    kafka_partition, kafka_offset, inserted_at)
SELECT event_id, source, app, platform_type, '', 'send', conversation, msg_time, msg_time AS occurred_at,
    received_at, sender, sender AS sender_nick, client_type, device_id, ip, server_id, channel_id, group_id,
    to_account, msg_id, client_msg_id, msg_type, body, antispam, antispam_detail, '', '', '', toDateTime64(0, 3, 'UTC'),
    '', '', '', toDateTime64(0, 3, 'UTC'),
    multiIf(source = 'netease_qchat', map('body', body, 'channelId', channel_id, 'clientIp', ip, 'clientPort', toString(20000 + h % 40000),
                'eventType', '48', 'ext', '{"v":1}', 'fromAccount', sender, 'fromClientType', client_type, 'fromDeviceId', device_id,
                'fromNick', sender, 'msgIdClient', client_msg_id, 'msgIdServer', msg_id,
                'msgTimestamp', toString(toUnixTimestamp64Milli(msg_time)), 'msgType', msg_type, 'serverId', server_id,
                'time', toString(toUnixTimestamp64Milli(msg_time)), 'antispam', if(antispam, 'true', 'false')),
            source = 'ilink', map('content', base64Encode(body), 'create_time', toString(toUnixTimestamp(msg_time)), 'from_uid', sender,
                'msg_type', platform_type, 'msg_id', msg_id, if(group_id != '', 'group_id', 'to_uid'), if(group_id != '', group_id, to_account)),
            map('appId', app, 'config', '{}', 'content', body, 'ctype', msg_type, 'ext', '{"source":"app"}',
                'from', concat('{"uid":', sender, '}'), 'msgId', msg_id, 'to', concat('{"uid":', if(group_id != '', group_id, to_account), '}'),
                'type', if(group_id != '', 'GROUPCHAT', 'CHAT'), 'timestamp', toString(toUnixTimestamp64Milli(msg_time)))) AS attrs,
    toInt32(i % 8), toInt64(intDiv(i, 8)) + if({repeat:UInt8} = 1, 1000000000, 0),
    if({repeat:UInt8} = 1, fromUnixTimestamp64Milli(toUnixTimestamp64Milli(received_at) + 600000 + h3 % 86400000, 'UTC'), received_at)
FROM
(
    SELECT i, h,
        multiIf(h % 100 < 60, 'netease_qchat', h % 100 < 85, 'ilink', 'maxim') AS source,
        multiIf(source = 'netease_qchat', ['nim-a', 'nim-a', 'nim-a', 'nim-a', 'nim-a', 'nim-b', 'nim-b', 'nim-b', 'nim-c', 'nim-c'][1 + h2 % 10],
                source = 'ilink', ['il-a', 'il-a', 'il-a', 'il-b'][1 + h2 % 4], 'mx-a') AS app,
        multiIf(source = 'netease_qchat', '48', source = 'ilink', if(direct, '1', '3'), if(direct, 'CHAT', 'GROUPCHAT')) AS platform_type,
        fromUnixTimestamp64Milli(toInt64({start_ms:UInt64} + intDiv(i * {span_ms:UInt64}, {n:UInt64}) + h3 % 1000), 'UTC') AS msg_time,
        fromUnixTimestamp64Milli(toUnixTimestamp64Milli(msg_time) + 200 + h3 % 2800, 'UTC') AS received_at,
        -- 100,000 accounts, skewed: u^2 gives the busiest 0.3 % of the messages, the 1,000 busiest 10 %.
        concat(if(source = 'maxim', '', 'u'), toString(if(source = 'maxim', 200000, 0) + toUInt32(pow((h4 % 1000003) / 1000003, 2) * 100000))) AS sender,
        source != 'netease_qchat' AND (h5 % 100 < if(source = 'ilink', 30, 50)) AS direct,
        concat(if(source = 'maxim', '', 'u'), toString(if(source = 'maxim', 200000, 0) + toUInt32(pow((h6 % 1000003) / 1000003, 2) * 100000))) AS peer,
        toUInt32(pow((h5 % 1000003) / 1000003, 2) * 5000) AS ch,
        if(source = 'netease_qchat', toString(900000 + intDiv(ch * 300, 5000)), '') AS server_id,
        if(source = 'netease_qchat', toString(1000000 + ch), '') AS channel_id,
        if(source != 'netease_qchat' AND NOT direct, concat(if(source = 'maxim', '6', 'g-'), toString(toUInt32(pow((h6 % 1000003) / 1000003, 2) * 2000))), '') AS group_id,
        if(direct, peer, '') AS to_account,
        multiIf(channel_id != '', concat('channel:', server_id, '/', channel_id), group_id != '', concat('group:', group_id),
                concat('conv:', least(sender, to_account), '/', greatest(sender, to_account))) AS conversation,
        multiIf(source = 'netease_qchat', toString(5000000000 + i), source = 'ilink', concat('il', toString(i)), toString(3074681428834398208 + i)) AS msg_id,
        lower(hex(SHA256(concat(source, '\x1f', app, '\x1f', 'msg', '\x1f', msg_id)))) AS event_id_full,
        substring(event_id_full, 1, 32) AS event_id,
        if(source = 'netease_qchat', lower(hex(MD5(toString(i)))), '') AS client_msg_id,
        ['AOS', 'AOS', 'AOS', 'AOS', 'IOS', 'IOS', 'IOS', 'IOS', 'WEB', 'PC'][1 + h2 % 10 % 10] AS client_type,
        if(source = 'netease_qchat', concat('dev-', sender, '-', client_type), '') AS device_id,
        if(source = 'netease_qchat', IPv4NumToString(toUInt32(h7)), '') AS ip,
        multiIf(h7 % 100 < 85, 'TEXT', h7 % 100 < 95, 'PICTURE', 'FILE') AS msg_type,
        arrayStringConcat(arrayMap(k -> ['你好', '收到', '谢谢', '明天', '开会', '项目', '进度', '文档', '发布', '新版本', '问题', '已经',
            '处理', '客户', '反馈', '退款', '订单', '支付', '成功', '失败', '请', '确认', '一下', '好的', '没问题', '周末', '加班', '晚上',
            '吃饭', '哈哈', '我们', '你们', '他们', '今天', '昨天', '会议', '记录', '链接', '图片', '文件', '上传', '下载', '测试', '环境',
            '服务器', '数据库', '重启', '报警', '延迟', '用户', '登录', '注册', '活动', '优惠', '价格', '库存', '发货', '物流', '地址', 'ok',
            'hello', '👍', '#', '2026'][1 + cityHash64(i, k) % 64], range(2 + h3 % 11)), '') AS body,
        h7 % 1000 < 3 AS antispam,
        if(antispam, '{"result":"{\\"antispam\\":{\\"suggestion\\":2}}"}', '') AS antispam_detail,
        cityHash64(i, 2) AS h2, cityHash64(i, 3) AS h3, cityHash64(i, 4) AS h4, cityHash64(i, 5) AS h5, cityHash64(i, 6) AS h6,
        cityHash64(i, 7) AS h7
    FROM (SELECT number AS i, cityHash64(number, 1) AS h FROM numbers({lo:UInt64}, {hi:UInt64} - {lo:UInt64}))
    -- {repeat} = 1: the 2 % delivered again (a consumer re-delivery or a platform retry past ingest's
    -- window), 10 minutes to a day later, at other offsets.
    WHERE {repeat:UInt8} = 0 OR cityHash64(i, 8) % 50 = 0
);
