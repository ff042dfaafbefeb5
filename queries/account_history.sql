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
-- event_id (imarchive export writes an account's whole history at once). The page is found before
-- any row is read whole, and a range longer than 3 days is read only as far as the page needs: the
-- rows' (at, event_id) over 3 days from where the page starts (the range's start, or the cursor),
-- then over the rest of the range only when those 3 days hold fewer than limit rows (a condition
-- known before the rest is read: ClickHouse reads nothing for it). Then the rows between the page's
-- first and last at alone (a range of 3 days or less is read once, whole): messages as sent
-- (messages_as_sent, the range reaching its key) with their current text (the messages view over
-- the same span: query_plan_join_swap_table joins the edit state of these messages only). A change
-- to a message of the account is found by the message's key whenever the message was sent; the
-- changes are read by their platform time (its partitions), those without one by their receive time.
WITH
    history AS
    (
        SELECT msg_time AS at, toString(source) AS source, toString(app) AS app, 'messages' AS view, 'message' AS kind, 'send' AS op,
            if(sender = {account:String}, 'sender', 'recipient') AS role, conversation AS place,
            if(sender = {account:String}, to_account, sender) AS counterpart, '' AS text, event_id
        FROM messages_as_sent
        WHERE (sender = {account:String} OR to_account = {account:String})
          AND msg_time >= {from:DateTime64(3, 'UTC')} AND msg_time < {to:DateTime64(3, 'UTC')}
        UNION ALL
        SELECT if(toUnixTimestamp64Milli(occurred_at) = 0, received_at, occurred_at), toString(source), toString(app), 'message_updates',
            'message_update', toString(op), if(actor = {account:String}, 'editor', 'author'),
            if(channel_id != '', concat('channel:', server_id, '/', channel_id), concat('msg:', msg_id)),
            if(actor = {account:String}, '', actor), body, event_id
        FROM message_updates
        WHERE (actor = {account:String}
               OR (source, app, msg_id) IN (SELECT source, app, msg_id FROM messages_data WHERE sender = {account:String} AND msg_id != ''))
          AND ((toUnixTimestamp64Milli(occurred_at) != 0 AND occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')})
               OR (toUnixTimestamp64Milli(occurred_at) = 0 AND received_at >= {from:DateTime64(3, 'UTC')} AND received_at < {to:DateTime64(3, 'UTC')}))
        UNION ALL
        SELECT occurred_at, toString(source), toString(app), 'notifications', toString(kind), toString(op),
            if(sender = {account:String}, 'sender', 'recipient'),
            concat('server:', server_id, if(channel_id != '', concat('/', channel_id), '')),
            if(sender = {account:String}, to_account, sender), body, event_id
        FROM notifications
        WHERE (sender = {account:String} OR to_account = {account:String})
          AND occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')}
        UNION ALL
        SELECT occurred_at, toString(source), toString(app), 'presence_events', 'presence', toString(op), 'self',
            trim(concat(toString(client_type), ' ', device_id, ' ', connection_id)), '',
            if(stale, concat(toString(reason), ' (stale: did not change its connection''s state)'), toString(reason)),
            event_id
        FROM presence_events
        WHERE account = {account:String}
          AND occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')}
        UNION ALL
        SELECT occurred_at, toString(source), toString(app), 'community_events', toString(kind), toString(op),
            multiIf(actor = {account:String}, 'operator',
                    target_account = {account:String} OR has(accounts, {account:String}), 'subject',
                    'inviter'),
            concat('server:', server_id, if(channel_id != '', concat('/', channel_id), '')),
            if(actor = {account:String}, arrayStringConcat(arrayFilter(a -> a != {account:String}, accounts), ','), actor), name, event_id
        FROM community_events
        WHERE (actor = {account:String} OR target_account = {account:String} OR has(accounts, {account:String}) OR inviter = {account:String})
          AND occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')}
        UNION ALL
        SELECT occurred_at, toString(source), toString(app), 'quick_comments', 'quick_comment', toString(op),
            if(actor = {account:String}, 'commenter', 'author'),
            concat('channel:', server_id, '/', channel_id),
            if(actor = {account:String}, msg_sender, actor), comment_type, event_id
        FROM quick_comments
        WHERE (actor = {account:String} OR msg_sender = {account:String})
          AND occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')}
    ),
    greatest({from:DateTime64(3, 'UTC')}, {after_time:DateTime64(3, 'UTC')}) AS start_at,
    {to:DateTime64(3, 'UTC')} <= start_at + INTERVAL 3 DAY AS short,
    (SELECT groupArray(h) FROM (SELECT (at, event_id) AS h FROM history
        WHERE NOT short AND at >= start_at AND at < start_at + INTERVAL 3 DAY
          AND (at > {after_time:DateTime64(3, 'UTC')} OR (at = {after_time:DateTime64(3, 'UTC')} AND event_id > {after_event_id:String}))
        ORDER BY at, event_id LIMIT {limit:UInt32})) AS first_days,
    (SELECT groupArray(h) FROM (SELECT (at, event_id) AS h FROM history
        WHERE NOT short AND length(first_days) < {limit:UInt32} AND at >= start_at + INTERVAL 3 DAY
        ORDER BY at, event_id LIMIT {limit:UInt32})) AS the_rest,
    arraySlice(arrayConcat(first_days, the_rest), 1, {limit:UInt32}) AS page,
    if(short, start_at, tupleElement(page[1], 1)) AS page_from,
    if(short, {to:DateTime64(3, 'UTC')}, tupleElement(page[-1], 1) + INTERVAL 1 MILLISECOND) AS page_to
SELECT h.at AS at, h.source AS source, h.app AS app, h.view AS view, h.kind AS kind, h.op AS op, h.role AS role,
    h.place AS place, h.counterpart AS counterpart, if(h.view = 'messages', m.body, h.text) AS text, h.event_id AS event_id
FROM history AS h
LEFT JOIN
(
    SELECT event_id, body
    FROM messages
    WHERE msg_time >= page_from AND msg_time < page_to AND (sender = {account:String} OR to_account = {account:String})
) AS m ON m.event_id = h.event_id
WHERE h.at >= page_from AND h.at < page_to
  AND (h.at > {after_time:DateTime64(3, 'UTC')} OR (h.at = {after_time:DateTime64(3, 'UTC')} AND h.event_id > {after_event_id:String}))
  AND (short OR (h.at, h.event_id) IN (SELECT arrayJoin(page)))
ORDER BY at, event_id
LIMIT {limit:UInt32}
SETTINGS query_plan_join_swap_table = 'true'
