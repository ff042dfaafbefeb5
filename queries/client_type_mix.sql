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
-- Messages: the whole UTC days of the range are read from the daily rollup (message_daily_clients, schema 0105: each
-- message counted once by event_id, however often delivered); the partial days at its edges, and the
-- messages without a platform time, from the storage as the messages_as_sent view shows them. A
-- range shorter than a day, or one that starts and ends mid-day (now-24h), reads only the storage.
-- Logins: presence_events over the range.
WITH
    toDate({from:DateTime64(3, 'UTC')}) + (toDateTime64(toDate({from:DateTime64(3, 'UTC')}), 3, 'UTC') < {from:DateTime64(3, 'UTC')}) AS whole_from,
    toDate({to:DateTime64(3, 'UTC')}) AS whole_to
SELECT
    if(client_type = '', 'unknown', client_type) AS client_type,
    sum(logins) AS logins,
    uniqExactMerge(la) AS login_accounts,
    uniqExactMerge(m) AS messages,
    uniqExactMerge(s) AS senders
FROM
(
    SELECT CAST(client_type AS String) AS client_type, count() AS logins,
        uniqExactState(CAST(source AS String), CAST(app AS String), account) AS la,
        uniqExactStateIf(event_id, 0) AS m, uniqExactStateIf(CAST(source AS String), CAST(app AS String), account, 0) AS s
    FROM presence_events
    WHERE op IN ('login', 'online')
      AND occurred_at >= {from:DateTime64(3, 'UTC')}
      AND occurred_at < {to:DateTime64(3, 'UTC')}
      AND ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
    GROUP BY client_type
    UNION ALL
    SELECT CAST(client_type AS String), 0, uniqExactStateIf('', '', '', 0), uniqExactMergeState(messages), uniqExactMergeState(senders)
    FROM message_daily_clients
    WHERE day >= whole_from AND day < whole_to
      AND ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
    GROUP BY client_type
    UNION ALL
    SELECT CAST(sender_client_type AS String), 0, uniqExactStateIf('', '', '', 0), uniqExactState(event_id),
        uniqExactState(CAST(source AS String), CAST(app AS String), sender)
    FROM
    (
        SELECT event_id, source, app, sender, sender_client_type
        FROM messages_as_sent
        WHERE msg_time >= {from:DateTime64(3, 'UTC')}
          AND msg_time < {to:DateTime64(3, 'UTC')}
          AND (msg_time < toDateTime64(whole_from, 3, 'UTC') OR msg_time >= toDateTime64(whole_to, 3, 'UTC'))
        UNION ALL
        SELECT event_id, source, app, sender, sender_client_type
        FROM messages_data FINAL
        WHERE msg_time = toDateTime64(0, 3, 'UTC')
          AND received_at >= toDateTime64(whole_from, 3, 'UTC') AND received_at < toDateTime64(whole_to, 3, 'UTC')
    )
    WHERE ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
    GROUP BY sender_client_type
)
GROUP BY client_type
ORDER BY logins + messages DESC, client_type
