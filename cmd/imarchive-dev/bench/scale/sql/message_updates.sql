-- Changes of 3 % of the chunk's messages, a minute to two days after them: NetEase edits (81, half of
-- them flagged 1 in 50), recalls and deletes; Maxim REPLACE and APPEND; iLink recalls.
INSERT INTO message_updates_data (event_id, source, app, op, platform_type, platform_subtype, occurred_at, received_at, actor,
    actor_client_type, actor_ip, server_id, channel_id, msg_id, body, antispam, antispam_detail, attrs, kafka_partition,
    kafka_offset, inserted_at)
SELECT substring(lower(hex(SHA256(concat(source, '\x1f', app, '\x1f', 'update', '\x1f', msg_id, '\x1f', op)))), 1, 32) AS event_id,
    source, app, op, platform_type, platform_subtype, occurred_at, received_at, sender, sender_client_type, sender_ip, server_id,
    channel_id, msg_id, new_body, new_antispam, if(new_antispam, '{"result":"flagged"}', ''),
    if(source = 'netease_qchat',
        map('eventType', '81', 'msgId', msg_id, 'fromAccount', sender, 'serverId', server_id, 'channelId', channel_id,
            'body', new_body, 'status', platform_subtype, 'time', toString(toUnixTimestamp64Milli(occurred_at)), 'msg', 'edited by the sender'),
        map('type', platform_type, 'msgId', msg_id, 'content', new_body)),
    toInt32(kafka_partition), toInt64(3000000000 + kafka_offset), received_at
FROM
(
    SELECT source, app, msg_id, sender, sender_client_type, sender_ip, server_id, channel_id, cityHash64(event_id, 'v') AS h,
        multiIf(source = 'maxim', if(h % 2 = 0, 'update', 'append'), source = 'ilink', 'recall',
                h % 10 < 5, 'update', h % 10 < 8, 'recall', 'delete') AS op,
        multiIf(source = 'netease_qchat', '81', source = 'ilink', '6', op = 'update', 'REPLACE', 'APPEND') AS platform_type,
        multiIf(source != 'netease_qchat', '', op = 'update', '2', op = 'recall', '3', '4') AS platform_subtype,
        fromUnixTimestamp64Milli(toUnixTimestamp64Milli(msg_time) + 60000 + h % 172800000, 'UTC') AS occurred_at,
        fromUnixTimestamp64Milli(toUnixTimestamp64Milli(occurred_at) + 300 + h % 2000, 'UTC') AS received_at,
        if(op IN ('update', 'append'), concat(if(op = 'update', '', ' '), '修改后的内容 ', body), '') AS new_body,
        op = 'update' AND h % 50 = 0 AS new_antispam,
        kafka_partition, kafka_offset
    FROM messages_data
    WHERE msg_time >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC') AND msg_time < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
      AND kafka_offset < 1000000000 AND cityHash64(event_id, 'u') % 100 < 3
);
