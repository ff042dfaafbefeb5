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
SELECT
    toStartOfMonth(msg_time) AS month,
    uniqExact(source, app, sender) AS senders,
    count() AS messages
FROM messages_as_sent
WHERE msg_time >= {from:DateTime64(3, 'UTC')}
      AND msg_time < {to:DateTime64(3, 'UTC')}
      AND sender != ''
      AND ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
      AND ({server_id:String} = '' OR server_id = {server_id:String})
      AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
GROUP BY month
ORDER BY month WITH FILL
    FROM toStartOfMonth({from:DateTime64(3, 'UTC')})
    TO toStartOfMonth({to:DateTime64(3, 'UTC')} - toIntervalMillisecond(1)) + toIntervalMonth(1)
    STEP toIntervalMonth(1)
