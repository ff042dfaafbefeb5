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
SELECT
    if(client_type = '', 'unknown', client_type) AS client_type,
    countIf(what = 'login') AS logins,
    uniqExactIf(account_key, what = 'login') AS login_accounts,
    countIf(what = 'message') AS messages,
    uniqExactIf(account_key, what = 'message') AS senders
FROM
(
    SELECT CAST(client_type AS String) AS client_type, 'login' AS what, (CAST(source AS String), CAST(app AS String), account) AS account_key
    FROM presence_events
    WHERE op IN ('login', 'online')
      AND occurred_at >= {from:DateTime64(3, 'UTC')}
      AND occurred_at < {to:DateTime64(3, 'UTC')}
      AND ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
    UNION ALL
    SELECT CAST(sender_client_type AS String), 'message', (CAST(source AS String), CAST(app AS String), sender)
    FROM messages_as_sent
    WHERE msg_time >= {from:DateTime64(3, 'UTC')}
      AND msg_time < {to:DateTime64(3, 'UTC')}
      AND ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
)
GROUP BY client_type
ORDER BY logins + messages DESC, client_type
