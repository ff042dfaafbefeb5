-- name: daily_active_senders
-- summary: Distinct accounts that sent at least one message, per UTC day, with the messages they sent; every day of the range is listed.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- param: channel_id String  only this QChat channel; empty for all
-- column: day Date  the UTC day
-- column: senders UInt64  distinct senders that day (an account is one per application)
-- column: messages UInt64  messages sent that day, each once
--
-- The whole UTC days of the range are read from the daily rollup (message_daily, schema 0105: each
-- message counted once by event_id, however often delivered); the partial days at its edges, and the
-- messages without a platform time, from the storage as the messages_as_sent view shows them. A
-- range shorter than a day, or one that starts and ends mid-day (now-24h), reads only the storage.
WITH
    toDate({from:DateTime64(3, 'UTC')}) + (toDateTime64(toDate({from:DateTime64(3, 'UTC')}), 3, 'UTC') < {from:DateTime64(3, 'UTC')}) AS whole_from,
    toDate({to:DateTime64(3, 'UTC')}) AS whole_to
SELECT
    day,
    uniqExactMerge(s) AS senders,
    uniqExactMerge(m) AS messages
FROM
(
    SELECT day AS day, senders AS s, sender_messages AS m
    FROM message_daily
    WHERE day >= whole_from AND day < whole_to
      AND ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
      AND ({server_id:String} = '' OR server_id = {server_id:String})
      AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
    UNION ALL
    SELECT toDate(sent_at) AS day, uniqExactStateIf(CAST(source AS String), CAST(app AS String), sender, sender != '') AS s,
        uniqExactStateIf(event_id, sender != '') AS m
    FROM
    (
        SELECT event_id, source, app, server_id, channel_id, sender, msg_time AS sent_at
        FROM messages_as_sent
        WHERE msg_time >= {from:DateTime64(3, 'UTC')}
          AND msg_time < {to:DateTime64(3, 'UTC')}
          AND (msg_time < toDateTime64(whole_from, 3, 'UTC') OR msg_time >= toDateTime64(whole_to, 3, 'UTC'))
        UNION ALL
        SELECT event_id, source, app, server_id, channel_id, sender, received_at AS sent_at
        FROM messages_data FINAL
        WHERE msg_time = toDateTime64(0, 3, 'UTC')
          AND received_at >= toDateTime64(whole_from, 3, 'UTC') AND received_at < toDateTime64(whole_to, 3, 'UTC')
    )
    WHERE ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
      AND ({server_id:String} = '' OR server_id = {server_id:String})
      AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
    GROUP BY day
)
GROUP BY day
ORDER BY day WITH FILL
    FROM toDate({from:DateTime64(3, 'UTC')})
    TO toDate({to:DateTime64(3, 'UTC')} - toIntervalMillisecond(1)) + 1
