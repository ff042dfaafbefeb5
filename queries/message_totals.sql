-- name: message_totals
-- summary: Totals of a time range: messages sent, distinct senders, and the QChat servers and channels and the groups they were sent in.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- param: channel_id String  only this QChat channel; empty for all
-- column: messages UInt64  messages sent in the range, each once
-- column: senders UInt64  distinct senders (an account is one per application)
-- column: servers UInt64  distinct QChat servers with messages
-- column: channels UInt64  distinct QChat channels with messages
-- column: groups UInt64  distinct iLink/Maxim groups (and iLink topics) with messages
--
-- The message count is the sum of each (source, app, day)'s distinct event ids (an event is in one
-- day only): the whole UTC days of the range from the daily rollups of schema 0105 (each message
-- counted once by event_id, however often delivered), message_daily_apps per application and day when
-- no server or channel is asked for, message_daily otherwise; the partial days at the range's edges,
-- and the messages without a platform time, from the storage as the messages_as_sent view shows them.
-- The distinct senders, servers, channels and groups are merged from the states of the whole months
-- of the range (message_app_months, schema 0153, when no server or channel is asked for), of the
-- other whole days (message_daily_apps' senders and message_daily's rows, or message_daily alone when
-- a server or channel is asked for) and of the edges. A range that starts and ends mid-day (now-24h)
-- reads only the storage. toDate(msg_time) beside msg_time lets the edge days reach the sorting key's
-- day (a condition on msg_time alone reaches only the partitions).
WITH
    toDate({from:DateTime64(3, 'UTC')}) + (toDateTime64(toDate({from:DateTime64(3, 'UTC')}), 3, 'UTC') < {from:DateTime64(3, 'UTC')}) AS whole_from,
    toDate({to:DateTime64(3, 'UTC')}) AS whole_to,
    if(toDayOfMonth(whole_from) = 1, whole_from, addMonths(toStartOfMonth(whole_from), 1)) AS month_from,
    toStartOfMonth(whole_to) AS month_to,
    {server_id:String} = '' AND {channel_id:String} = '' AS whole_apps
SELECT t.messages AS messages, d.senders AS senders, d.servers AS servers, d.channels AS channels, d.`groups` AS `groups`
FROM
(
    SELECT sum(n) AS messages
    FROM
    (
        SELECT source, app, day, uniqExactMerge(m) AS n
        FROM
        (
            SELECT source, app, day, messages AS m
            FROM message_daily_apps
            WHERE day >= whole_from AND day < whole_to AND whole_apps
              AND ({source:String} = '' OR source = {source:String})
              AND ({app:String} = '' OR app = {app:String})
            UNION ALL
            SELECT source, app, day, messages AS m
            FROM message_daily
            WHERE day >= whole_from AND day < whole_to AND NOT whole_apps
              AND ({source:String} = '' OR source = {source:String})
              AND ({app:String} = '' OR app = {app:String})
              AND ({server_id:String} = '' OR server_id = {server_id:String})
              AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
            UNION ALL
            SELECT source, app, toDate(sent_at) AS day, uniqExactState(event_id) AS m
            FROM
            (
                SELECT event_id, source, app, server_id, channel_id, group_id, sender, msg_time AS sent_at
                FROM messages_as_sent
                WHERE msg_time >= {from:DateTime64(3, 'UTC')}
                  AND msg_time < {to:DateTime64(3, 'UTC')}
                  AND toDate(msg_time) >= toDate({from:DateTime64(3, 'UTC')}) AND toDate(msg_time) <= toDate({to:DateTime64(3, 'UTC')})
                  AND (toDate(msg_time) < whole_from OR toDate(msg_time) >= whole_to)
                UNION ALL
                SELECT event_id, source, app, server_id, channel_id, group_id, sender, received_at AS sent_at
                FROM messages_data FINAL
                WHERE msg_time = toDateTime64(0, 3, 'UTC')
                  AND received_at >= toDateTime64(whole_from, 3, 'UTC') AND received_at < toDateTime64(whole_to, 3, 'UTC')
            )
            WHERE ({source:String} = '' OR source = {source:String})
              AND ({app:String} = '' OR app = {app:String})
              AND ({server_id:String} = '' OR server_id = {server_id:String})
              AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
            GROUP BY source, app, day
        )
        GROUP BY source, app, day
    )
) AS t
CROSS JOIN
(
    SELECT uniqExactMerge(s) AS senders, uniqExactMerge(sv) AS servers, uniqExactMerge(ch) AS channels, uniqExactMerge(g) AS `groups`
    FROM
    (
        SELECT senders AS s, servers AS sv, channels AS ch, `groups` AS g
        FROM message_app_months
        WHERE month >= month_from AND month < month_to AND whole_apps
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
        UNION ALL
        SELECT senders AS s, arrayReduce('uniqExactState', emptyArrayString(), emptyArrayString()) AS sv,
            arrayReduce('uniqExactState', emptyArrayString(), emptyArrayString(), emptyArrayString()) AS ch,
            arrayReduce('uniqExactState', emptyArrayString(), emptyArrayString(), emptyArrayString()) AS g
        FROM message_daily_apps
        WHERE day >= whole_from AND day < whole_to AND NOT (day >= month_from AND day < month_to) AND whole_apps
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
        UNION ALL
        SELECT arrayReduce('uniqExactState', emptyArrayString(), emptyArrayString(), emptyArrayString()) AS s,
            uniqExactStateIf(CAST(app AS String), server_id, server_id != '') AS sv,
            uniqExactStateIf(CAST(app AS String), server_id, channel_id, channel_id != '') AS ch,
            uniqExactStateIf(CAST(source AS String), CAST(app AS String), group_id, group_id != '') AS g
        FROM message_daily
        WHERE day >= whole_from AND day < whole_to AND NOT (day >= month_from AND day < month_to) AND whole_apps
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
        UNION ALL
        SELECT uniqExactMergeState(senders) AS s,
            uniqExactStateIf(CAST(app AS String), server_id, server_id != '') AS sv,
            uniqExactStateIf(CAST(app AS String), server_id, channel_id, channel_id != '') AS ch,
            uniqExactStateIf(CAST(source AS String), CAST(app AS String), group_id, group_id != '') AS g
        FROM message_daily
        WHERE day >= whole_from AND day < whole_to AND NOT whole_apps
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
          AND ({server_id:String} = '' OR server_id = {server_id:String})
          AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
        UNION ALL
        SELECT uniqExactStateIf(CAST(source AS String), CAST(app AS String), sender, sender != '') AS s,
            uniqExactStateIf(CAST(app AS String), server_id, server_id != '') AS sv,
            uniqExactStateIf(CAST(app AS String), server_id, channel_id, channel_id != '') AS ch,
            uniqExactStateIf(CAST(source AS String), CAST(app AS String), group_id, group_id != '') AS g
        FROM
        (
            SELECT event_id, source, app, server_id, channel_id, group_id, sender, msg_time AS sent_at
            FROM messages_as_sent
            WHERE msg_time >= {from:DateTime64(3, 'UTC')}
              AND msg_time < {to:DateTime64(3, 'UTC')}
              AND toDate(msg_time) >= toDate({from:DateTime64(3, 'UTC')}) AND toDate(msg_time) <= toDate({to:DateTime64(3, 'UTC')})
              AND (toDate(msg_time) < whole_from OR toDate(msg_time) >= whole_to)
            UNION ALL
            SELECT event_id, source, app, server_id, channel_id, group_id, sender, received_at AS sent_at
            FROM messages_data FINAL
            WHERE msg_time = toDateTime64(0, 3, 'UTC')
              AND received_at >= toDateTime64(whole_from, 3, 'UTC') AND received_at < toDateTime64(whole_to, 3, 'UTC')
        )
        WHERE ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
          AND ({server_id:String} = '' OR server_id = {server_id:String})
          AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
    )
) AS d