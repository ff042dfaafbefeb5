-- The raw archive of the chunk: one receipt per row the events consumer wrote (a repeated delivery is
-- a second receipt of its event_id), the body a JSON payload of the event's fields (the size of a real
-- callback).
INSERT INTO raw_callbacks_data (source, app, received_at, event_id, raw_key, body, body_sha256, path, remote_addr, http_headers, meta,
    raw_partition, raw_offset, raw_topic_id, inserted_at)
SELECT source, app, received_at, event_id, event_id, body, lower(hex(SHA256(body))),
    concat(multiIf(source = 'netease_qchat', '/v1/netease/', source = 'ilink', '/v1/ilink/', '/v1/maxim/'), app),
    concat('10.0.', toString(kafka_partition), '.7:', toString(30000 + kafka_offset % 30000)),
    map('Content-Type', 'application/json;charset=utf-8', 'Curtime', toString(toUnixTimestamp(received_at)), 'Md5', lower(hex(MD5(body))),
        'Checksum', lower(hex(SHA1(body)))),
    map('imarchive.receipt_id', lower(hex(cityHash64(event_id, kafka_offset)))),
    kafka_partition, kafka_offset, 'scale-bench-topic', received_at
FROM
(
    SELECT source, app, if(kafka_offset >= 1000000000, inserted_at, received_at) AS received_at, event_id, kafka_partition, kafka_offset,
        toJSONString(map('eventType', platform_type, 'fromAccount', sender, 'fromNick', sender_nick, 'fromClientType', toString(sender_client_type),
            'fromDeviceId', sender_device_id, 'clientIp', sender_ip, 'serverId', server_id, 'channelId', channel_id, 'msgIdServer', msg_id,
            'msgIdClient', client_msg_id, 'msgType', toString(msg_type), 'msgTimestamp', toString(toUnixTimestamp64Milli(msg_time)),
            'time', toString(toUnixTimestamp64Milli(occurred_at)), 'body', body, 'ext', '{"v":1}')) AS body
    FROM messages_data
    WHERE msg_time >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC') AND msg_time < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
    UNION ALL
    SELECT source, app, received_at, event_id, kafka_partition, kafka_offset,
        toJSONString(map('eventType', platform_type, 'accid', account, 'type', platform_subtype, 'clientType', toString(client_type),
            'deviceId', device_id, 'consid', connection_id, 'clientIp', client_ip, 'time', toString(toUnixTimestamp64Milli(occurred_at))))
    FROM presence_events_data
    WHERE occurred_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC') AND occurred_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
    UNION ALL
    SELECT source, app, received_at, event_id, kafka_partition, kafka_offset,
        toJSONString(map('eventType', platform_type, 'msgId', msg_id, 'fromAccount', actor, 'body', body, 'time', toString(toUnixTimestamp64Milli(occurred_at))))
    FROM message_updates_data
    WHERE occurred_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC') AND occurred_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
    UNION ALL
    SELECT source, app, received_at, event_id, kafka_partition, kafka_offset,
        toJSONString(map('eventType', platform_type, 'accid', actor, 'serverId', server_id, 'channelId', channel_id, 'name', name,
            'time', toString(toUnixTimestamp64Milli(occurred_at))))
    FROM community_events_data
    WHERE occurred_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC') AND occurred_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
    UNION ALL
    SELECT source, app, received_at, event_id, kafka_partition, kafka_offset,
        toJSONString(map('eventType', platform_type, 'fromAccount', sender, 'serverId', server_id, 'body', body,
            'time', toString(toUnixTimestamp64Milli(occurred_at))))
    FROM notifications_data
    WHERE occurred_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC') AND occurred_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
    UNION ALL
    SELECT source, app, received_at, event_id, kafka_partition, kafka_offset,
        toJSONString(map('eventType', platform_type, 'fromAccount', actor, 'msgIdServer', msg_id, 'quickCommentType', comment_type,
            'time', toString(toUnixTimestamp64Milli(occurred_at))))
    FROM quick_comments_data
    WHERE occurred_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC') AND occurred_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
);
