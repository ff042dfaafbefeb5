-- name: account_history
-- summary: Everything one account did or had done to it, across every platform and application, oldest first: messages sent and received, changes to them, notifications, logins and logouts, server and membership events, quick comments.
-- param: account String  the account (NetEase accid, iLink UID, Maxim user_id as decimal text)
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: limit UInt32  at most this many rows (a page): the oldest first; to read on, pass the last one's at and event_id as after_time and after_event_id (default 1000)
-- param: after_time DateTime64(3, 'UTC')  only rows after this one: its at (with after_event_id: the previous page's last row) (default 1970-01-01 00:00:00)
-- param: after_event_id String  the event_id of that row: rows at exactly after_time come after it by event_id (default )
-- column: at DateTime64(3, 'UTC')  when it happened (send time of a message, platform time otherwise; received time where the platform gives none)
-- column: source String  platform
-- column: app String  platform application
-- column: view String  where the full row is: messages, message_updates, notifications, presence_events, community_events, quick_comments
-- column: kind String  message, message_update, notification, notification_update, presence, server, member, channel, role, permission, quick_comment
-- column: op String  what happened (send, update, recall, login, kick, invite, add, …)
-- column: role String  the account's part: sender, recipient, editor, author (of the message changed or commented on), self (presence), operator, subject (acted upon), inviter (whose invitation a member answered, or who invited the member concerned), commenter
-- column: place String  conversation (channel:SERVER/CHANNEL, group:G, conv:A/B), server/channel, or client type, device and connection id (presence)
-- column: counterpart String  the other account(s) involved, where there are
-- column: text String  message or notification text, the name of what was created or changed, or why a connection of the account ended
-- column: event_id String  deterministic event id, the key to the raw payload (query raw_payload)
--
-- A page is limit rows, oldest first by (at, event_id); the next starts after the last row's at and
-- event_id (imarchive export writes an account's whole history at once). Every table is read from
-- where the page starts (the range's start, or the cursor). The messages, the bulk of a busy
-- account's history, only as far as the page needs: 8 days when the account's messages and logins of
-- those 8 days alone fill a page, else 32 days when those of 32 days do, else the rest of the range;
-- the other tables, small, over the rest of the range (a row past the stretch cannot be on the page
-- when the stretch holds a page). The counts are distinct event ids in messages_data and
-- presence_events_data without FINAL (each is a row of the history, and a lower bound of them is all
-- the cut needs), over the stretch only, and nothing is read for them when the range is shorter than
-- the stretch or 8 days already fill the page (1M bench archive, busiest sender, 90 days: the
-- messages read over 32 days, 370 → 200 ms of CPU; at 10M its first 8 days fill a page). Changes to
-- messages are read by their platform time, those without one by their receive time; the messages
-- with their current text, the edit state joined for the stretch's messages of the account only
-- (query_plan_join_swap_table). A change to a message of the account is found by the message's key
-- whenever the message was sent. The messages' bounds are also given on toDate(msg_time), the sorting
-- key's third column, which a bound on msg_time alone does not reach (10M bench archive, 7 days: 2.1
-- → 0.9-1.0 s of CPU).
WITH
    greatest({from:DateTime64(3, 'UTC')}, {after_time:DateTime64(3, 'UTC')}) AS start_at,
    (SELECT uniqExact(event_id) FROM
    (
        SELECT event_id
        FROM messages_data
        WHERE start_at + INTERVAL 8 DAY < {to:DateTime64(3, 'UTC')}
          AND (sender = {account:String} OR to_account = {account:String})
          AND toUnixTimestamp64Milli(msg_time) != 0
          AND msg_time >= start_at AND msg_time < start_at + INTERVAL 8 DAY
          AND toDate(msg_time) >= toDate(start_at) AND toDate(msg_time) <= toDate(start_at + INTERVAL 8 DAY)
          AND (msg_time > {after_time:DateTime64(3, 'UTC')} OR (msg_time = {after_time:DateTime64(3, 'UTC')} AND event_id > {after_event_id:String}))
        UNION ALL
        SELECT event_id
        FROM presence_events_data
        WHERE start_at + INTERVAL 8 DAY < {to:DateTime64(3, 'UTC')}
          AND account = {account:String}
          AND occurred_at >= start_at AND occurred_at < start_at + INTERVAL 8 DAY
          AND (occurred_at > {after_time:DateTime64(3, 'UTC')} OR (occurred_at = {after_time:DateTime64(3, 'UTC')} AND event_id > {after_event_id:String}))
    )) AS in_8_days,
    (SELECT uniqExact(event_id) FROM
    (
        SELECT event_id
        FROM messages_data
        WHERE in_8_days < {limit:UInt32} AND start_at + INTERVAL 32 DAY < {to:DateTime64(3, 'UTC')}
          AND (sender = {account:String} OR to_account = {account:String})
          AND toUnixTimestamp64Milli(msg_time) != 0
          AND msg_time >= start_at AND msg_time < start_at + INTERVAL 32 DAY
          AND toDate(msg_time) >= toDate(start_at) AND toDate(msg_time) <= toDate(start_at + INTERVAL 32 DAY)
          AND (msg_time > {after_time:DateTime64(3, 'UTC')} OR (msg_time = {after_time:DateTime64(3, 'UTC')} AND event_id > {after_event_id:String}))
        UNION ALL
        SELECT event_id
        FROM presence_events_data
        WHERE in_8_days < {limit:UInt32} AND start_at + INTERVAL 32 DAY < {to:DateTime64(3, 'UTC')}
          AND account = {account:String}
          AND occurred_at >= start_at AND occurred_at < start_at + INTERVAL 32 DAY
          AND (occurred_at > {after_time:DateTime64(3, 'UTC')} OR (occurred_at = {after_time:DateTime64(3, 'UTC')} AND event_id > {after_event_id:String}))
    )) AS in_32_days,
    (SELECT multiIf(start_at + INTERVAL 8 DAY < {to:DateTime64(3, 'UTC')} AND in_8_days >= {limit:UInt32}, start_at + INTERVAL 8 DAY,
            start_at + INTERVAL 32 DAY < {to:DateTime64(3, 'UTC')} AND in_32_days >= {limit:UInt32}, start_at + INTERVAL 32 DAY,
            {to:DateTime64(3, 'UTC')})) AS until
SELECT at, source, app, view, kind, op, role, place, counterpart, text, event_id
FROM
(
    SELECT msg_time AS at, toString(source) AS source, toString(app) AS app, 'messages' AS view, 'message' AS kind, 'send' AS op,
        if(sender = {account:String}, 'sender', 'recipient') AS role, conversation AS place,
        if(sender = {account:String}, to_account, sender) AS counterpart, body AS text, event_id
    FROM messages
    WHERE (sender = {account:String} OR to_account = {account:String})
      AND msg_time >= start_at AND msg_time < until
      AND toDate(msg_time) >= toDate(start_at) AND toDate(msg_time) <= toDate(until)
    UNION ALL
    SELECT if(toUnixTimestamp64Milli(occurred_at) = 0, received_at, occurred_at), toString(source), toString(app), 'message_updates',
        'message_update', toString(op), if(actor = {account:String}, 'editor', 'author'),
        if(channel_id != '', concat('channel:', server_id, '/', channel_id), concat('msg:', msg_id)),
        if(actor = {account:String}, '', actor), body, event_id
    FROM message_updates
    WHERE (actor = {account:String}
           OR (source, app, msg_id) IN (SELECT source, app, msg_id FROM messages_data WHERE sender = {account:String} AND msg_id != ''))
      AND ((toUnixTimestamp64Milli(occurred_at) != 0 AND occurred_at >= start_at AND occurred_at < {to:DateTime64(3, 'UTC')})
           OR (toUnixTimestamp64Milli(occurred_at) = 0 AND received_at >= start_at AND received_at < {to:DateTime64(3, 'UTC')}))
    UNION ALL
    SELECT occurred_at, toString(source), toString(app), 'notifications', toString(kind), toString(op),
        if(sender = {account:String}, 'sender', 'recipient'),
        concat('server:', server_id, if(channel_id != '', concat('/', channel_id), '')),
        if(sender = {account:String}, to_account, sender), body, event_id
    FROM notifications
    WHERE (sender = {account:String} OR to_account = {account:String})
      AND occurred_at >= start_at AND occurred_at < {to:DateTime64(3, 'UTC')}
    UNION ALL
    SELECT occurred_at, toString(source), toString(app), 'presence_events', 'presence', toString(op), 'self',
        trim(concat(toString(client_type), ' ', device_id, ' ', connection_id)), '',
        if(stale, concat(toString(reason), ' (stale: did not change its connection''s state)'), toString(reason)),
        event_id
    FROM presence_events
    WHERE account = {account:String}
      AND occurred_at >= start_at AND occurred_at < {to:DateTime64(3, 'UTC')}
    UNION ALL
    SELECT occurred_at, toString(source), toString(app), 'community_events', toString(kind), toString(op),
        multiIf(actor = {account:String}, 'operator',
                target_account = {account:String} OR has(accounts, {account:String}), 'subject',
                'inviter'),
        concat('server:', server_id, if(channel_id != '', concat('/', channel_id), '')),
        if(actor = {account:String}, arrayStringConcat(arrayFilter(a -> a != {account:String}, accounts), ','), actor), name, event_id
    FROM community_events
    WHERE (actor = {account:String} OR target_account = {account:String} OR has(accounts, {account:String}) OR inviter = {account:String})
      AND occurred_at >= start_at AND occurred_at < {to:DateTime64(3, 'UTC')}
    UNION ALL
    SELECT occurred_at, toString(source), toString(app), 'quick_comments', 'quick_comment', toString(op),
        if(actor = {account:String}, 'commenter', 'author'),
        concat('channel:', server_id, '/', channel_id),
        if(actor = {account:String}, msg_sender, actor), comment_type, event_id
    FROM quick_comments
    WHERE (actor = {account:String} OR msg_sender = {account:String})
      AND occurred_at >= start_at AND occurred_at < {to:DateTime64(3, 'UTC')}
)
WHERE at > {after_time:DateTime64(3, 'UTC')} OR (at = {after_time:DateTime64(3, 'UTC')} AND event_id > {after_event_id:String})
ORDER BY at, event_id
LIMIT {limit:UInt32}
SETTINGS query_plan_join_swap_table = 'true'
