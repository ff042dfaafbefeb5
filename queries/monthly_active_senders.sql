-- name: monthly_active_senders
-- summary: Distinct accounts that sent at least one message, per calendar month (UTC), with the messages they sent; every month of the range is listed.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- param: channel_id String  only this QChat channel; empty for all
-- column: month Date  first day of the month
-- column: senders UInt64  distinct senders that month (an account is one per application)
-- column: messages UInt64  messages sent that month, each once
--
-- The whole UTC days of the range are read from the daily rollups (schema 0105: each message
-- counted once by event_id, however often delivered): message_daily_apps per application and day
-- when no server or channel is asked for, message_daily otherwise; the partial days at the range's
-- edges, and the messages without a platform time, from the storage as the messages_as_sent view
-- shows them. A range that starts and ends mid-day (now-24h) reads only the storage. An event is in
-- one (source, app, day) only, so the messages are the sum of each one's distinct event ids.
-- The senders of the whole months of the range come from message_app_months (schema 0153: one
-- state a month and application) when no server or channel is asked for, as message_totals reads
-- them; the daily senders' states of those days are then not read (1M bench archive, 90 days:
-- 380 → 310 ms of CPU; the merge of some 60 days of daily sender states becomes two months').
-- The edge days are also bounded on toDate(msg_time), the sorting key's third column, which a bound
-- on msg_time alone does not reach: without it they read their whole months.
WITH
    toDate({from:DateTime64(3, 'UTC')}) + (toDateTime64(toDate({from:DateTime64(3, 'UTC')}), 3, 'UTC') < {from:DateTime64(3, 'UTC')}) AS whole_from,
    toDate({to:DateTime64(3, 'UTC')}) AS whole_to,
    if(toDayOfMonth(whole_from) = 1, whole_from, addMonths(toStartOfMonth(whole_from), 1)) AS month_from,
    toStartOfMonth(whole_to) AS month_to
SELECT month, uniqExactMerge(s) AS senders, sum(n) AS messages
FROM
(
    SELECT toStartOfMonth(day) AS month, uniqExactMerge(m) AS n, uniqExactMergeState(s) AS s
    FROM
    (
        SELECT source, app, day, sender_messages AS m, senders AS s
        FROM message_daily_apps
        WHERE day >= whole_from AND day < whole_to AND NOT (day >= month_from AND day < month_to)
          AND {server_id:String} = '' AND {channel_id:String} = ''
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
        UNION ALL
        SELECT source, app, day, sender_messages AS m,
            arrayReduce('uniqExactState', emptyArrayString(), emptyArrayString(), emptyArrayString()) AS s
        FROM message_daily_apps
        WHERE day >= whole_from AND day < whole_to AND day >= month_from AND day < month_to
          AND {server_id:String} = '' AND {channel_id:String} = ''
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
        UNION ALL
        SELECT source, app, day, sender_messages AS m, senders AS s
        FROM message_daily
        WHERE day >= whole_from AND day < whole_to
          AND NOT ({server_id:String} = '' AND {channel_id:String} = '')
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
          AND ({server_id:String} = '' OR server_id = {server_id:String})
          AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
        UNION ALL
        SELECT source, app, toDate(sent_at) AS day, uniqExactStateIf(event_id, sender != '') AS m,
            uniqExactStateIf(CAST(source AS String), CAST(app AS String), sender, sender != '') AS s
        FROM
        (
            SELECT event_id, source, app, server_id, channel_id, group_id, sender, msg_time AS sent_at
            FROM messages_as_sent
            WHERE msg_time >= {from:DateTime64(3, 'UTC')}
              AND msg_time < {to:DateTime64(3, 'UTC')}
              AND (msg_time < toDateTime64(whole_from, 3, 'UTC') OR msg_time >= toDateTime64(whole_to, 3, 'UTC'))
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
    UNION ALL
    SELECT month, toUInt64(0) AS n, senders AS s
    FROM message_app_months
    WHERE month >= month_from AND month < month_to
      AND {server_id:String} = '' AND {channel_id:String} = ''
      AND ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
)
GROUP BY month
ORDER BY month WITH FILL
    FROM toStartOfMonth({from:DateTime64(3, 'UTC')})
    TO toStartOfMonth({to:DateTime64(3, 'UTC')} - toIntervalMillisecond(1)) + toIntervalMonth(1)
    STEP toIntervalMonth(1)
