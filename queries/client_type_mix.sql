-- name: client_type_mix
-- summary: Client types (AOS, IOS, PC, WEB…) of a time range: logins (NetEase login, iLink online) and the accounts behind them, messages and their senders; 'unknown' where the platform gives no client type.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- column: client_type String  the platform's client type, or unknown
-- column: logins UInt64  login events from that client type
-- column: login_accounts UInt64  distinct accounts that logged in from it
-- column: messages UInt64  messages sent from it, each once
-- column: senders UInt64  distinct accounts that sent from it
--
-- The whole UTC days of the range are read from the daily rollups (schema 0150: each login and
-- message counted once by event_id, however often delivered): login_client_daily and
-- message_client_daily; the partial days at the range's edges, and the messages without a platform
-- time, from the storage: the logins from presence_events_data without FINAL (the states count each
-- event_id once, and every copy of a login has the same time, client type and account), the messages
-- as the messages_as_sent view shows them. A range that starts and ends mid-day (now-24h) reads only
-- the storage. An event is in one (source, app, day, client type) only, so the logins and messages are
-- the sums of each one's distinct event ids. The accounts and senders of the whole months of the
-- range come from client_type_months (schema 0153: one state a month, application and client type),
-- whose days' daily account and sender states are then not read: merging ~60 days of them cost the
-- most at 10M (on the 1M archive's messages folded 10 to a day, the senders' merge 790 → 460 ms of
-- CPU; the 1M archive itself, with about one message per sender and day, gains nothing: 330 ms).
-- toDate(msg_time) beside msg_time lets the edge days reach the sorting key's day (a condition on
-- msg_time alone reaches only the partitions).
WITH
    toDate({from:DateTime64(3, 'UTC')}) + (toDateTime64(toDate({from:DateTime64(3, 'UTC')}), 3, 'UTC') < {from:DateTime64(3, 'UTC')}) AS whole_from,
    toDate({to:DateTime64(3, 'UTC')}) AS whole_to,
    if(toDayOfMonth(whole_from) = 1, whole_from, addMonths(toStartOfMonth(whole_from), 1)) AS month_from,
    toStartOfMonth(whole_to) AS month_to
SELECT client_type, logins, login_accounts, messages, senders
FROM
(
    SELECT client_type, sum(n) AS logins, uniqExactMerge(a) AS login_accounts
    FROM
    (
        SELECT if(client_type = '', 'unknown', client_type) AS client_type, source, app, day,
            uniqExactMerge(l) AS n, uniqExactMergeState(a) AS a
        FROM
        (
            SELECT CAST(client_type AS String) AS client_type, source, app, day, logins AS l, accounts AS a
            FROM login_client_daily
            WHERE day >= whole_from AND day < whole_to AND NOT (day >= month_from AND day < month_to)
              AND ({source:String} = '' OR source = {source:String})
              AND ({app:String} = '' OR app = {app:String})
            UNION ALL
            SELECT CAST(client_type AS String) AS client_type, source, app, day, logins AS l, arrayReduce('uniqExactState', emptyArrayString(), emptyArrayString(), emptyArrayString()) AS a
            FROM login_client_daily
            WHERE day >= whole_from AND day < whole_to AND day >= month_from AND day < month_to
              AND ({source:String} = '' OR source = {source:String})
              AND ({app:String} = '' OR app = {app:String})
            UNION ALL
            SELECT CAST(client_type AS String) AS client_type, source, app, toDate(occurred_at) AS day,
                uniqExactState(event_id) AS l, uniqExactState(CAST(source AS String), CAST(app AS String), account) AS a
            FROM presence_events_data
            WHERE op IN ('login', 'online')
              AND occurred_at >= {from:DateTime64(3, 'UTC')}
              AND occurred_at < {to:DateTime64(3, 'UTC')}
              AND (occurred_at < toDateTime64(whole_from, 3, 'UTC') OR occurred_at >= toDateTime64(whole_to, 3, 'UTC'))
              AND ({source:String} = '' OR source = {source:String})
              AND ({app:String} = '' OR app = {app:String})
            GROUP BY client_type, source, app, day
        )
        GROUP BY client_type, source, app, day
        UNION ALL
        SELECT if(client_type = '', 'unknown', CAST(client_type AS String)) AS client_type, source, app, month AS day,
            toUInt64(0) AS n, login_accounts AS a
        FROM client_type_months
        WHERE month >= month_from AND month < month_to
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
    )
    GROUP BY client_type
) AS l
FULL OUTER JOIN
(
    SELECT client_type, sum(n) AS messages, uniqExactMerge(s) AS senders
    FROM
    (
        SELECT if(client_type = '', 'unknown', client_type) AS client_type, source, app, day,
            uniqExactMerge(m) AS n, uniqExactMergeState(s) AS s
        FROM
        (
            SELECT CAST(client_type AS String) AS client_type, source, app, day, messages AS m, senders AS s
            FROM message_client_daily
            WHERE day >= whole_from AND day < whole_to AND NOT (day >= month_from AND day < month_to)
              AND ({source:String} = '' OR source = {source:String})
              AND ({app:String} = '' OR app = {app:String})
            UNION ALL
            SELECT CAST(client_type AS String) AS client_type, source, app, day, messages AS m, arrayReduce('uniqExactState', emptyArrayString(), emptyArrayString(), emptyArrayString()) AS s
            FROM message_client_daily
            WHERE day >= whole_from AND day < whole_to AND day >= month_from AND day < month_to
              AND ({source:String} = '' OR source = {source:String})
              AND ({app:String} = '' OR app = {app:String})
            UNION ALL
            SELECT CAST(sender_client_type AS String) AS client_type, source, app, toDate(sent_at) AS day,
                uniqExactState(event_id) AS m, uniqExactState(CAST(source AS String), CAST(app AS String), sender) AS s
            FROM
            (
                SELECT event_id, source, app, sender, sender_client_type, msg_time AS sent_at
                FROM messages_as_sent
                WHERE msg_time >= {from:DateTime64(3, 'UTC')}
                  AND msg_time < {to:DateTime64(3, 'UTC')}
                  AND toDate(msg_time) >= toDate({from:DateTime64(3, 'UTC')}) AND toDate(msg_time) <= toDate({to:DateTime64(3, 'UTC')})
                  AND (toDate(msg_time) < whole_from OR toDate(msg_time) >= whole_to)
                UNION ALL
                SELECT event_id, source, app, sender, sender_client_type, received_at AS sent_at
                FROM messages_data FINAL
                WHERE msg_time = toDateTime64(0, 3, 'UTC')
                  AND received_at >= toDateTime64(whole_from, 3, 'UTC') AND received_at < toDateTime64(whole_to, 3, 'UTC')
            )
            WHERE ({source:String} = '' OR source = {source:String})
              AND ({app:String} = '' OR app = {app:String})
            GROUP BY client_type, source, app, day
        )
        GROUP BY client_type, source, app, day
        UNION ALL
        SELECT if(client_type = '', 'unknown', CAST(client_type AS String)) AS client_type, source, app, month AS day,
            toUInt64(0) AS n, senders AS s
        FROM client_type_months
        WHERE month >= month_from AND month < month_to
          AND ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
    )
    GROUP BY client_type
) AS m USING (client_type)
ORDER BY logins + messages DESC, client_type
