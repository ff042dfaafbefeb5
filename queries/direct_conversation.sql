-- name: direct_conversation
-- summary: The one-to-one conversation between two accounts in a time range, both directions, oldest first, each message once, in its current version.
-- param: app String  the platform application (iLink appkey, Maxim app_id, NetEase appkey)
-- param: account_a String  one account
-- param: account_b String  the other account (the order does not matter)
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: limit UInt32  at most this many messages (a page): the oldest first; to read on, pass the last one's msg_time and event_id as after_time and after_event_id (default 1000)
-- param: after_time DateTime64(3, 'UTC')  only messages after this one: its msg_time (with after_event_id: the previous page's last message) (default 1970-01-01 00:00:00)
-- param: after_event_id String  the event_id of that message: messages at exactly after_time come after it by event_id (default )
-- column: msg_time DateTime64(3, 'UTC')  when the message was sent (when it was received, where the platform gives no time)
-- column: sender String  sending account
-- column: to_account String  receiving account
-- column: body String  message text, as last edited
-- column: status LowCardinality(String)  sent, updated, recalled or deleted (the latest change)
-- column: original_body String  message text as sent
-- column: msg_type LowCardinality(String)  the platform's message type
-- column: antispam Bool  the platform flagged the current content
-- column: msg_id String  server-side message id
-- column: source LowCardinality(String)  platform
-- column: event_id String  deterministic event id, the key to the raw payload (query raw_payload)
-- column: received_at DateTime64(3, 'UTC')  when imarchive received it
--
-- A one-to-one message's conversation is conv:A/B with the two accounts in byte order, whichever sent it
-- (the key's part after the day).
-- A page is limit rows, oldest first; the next starts after the last row's msg_time and event_id
-- (after_time, after_event_id), which the key reaches as it reaches the range. The messages view joins
-- each message's edit state: query_plan_join_swap_table makes the join from the messages found (few)
-- and reads the edit state of those alone, instead of aggregating all of it first.
SELECT
    msg_time,
    sender,
    to_account,
    body,
    status,
    original_body,
    msg_type,
    antispam,
    msg_id,
    source,
    event_id,
    received_at
FROM messages
WHERE app = {app:String}
  AND conversation = concat('conv:', least({account_a:String}, {account_b:String}), '/', greatest({account_a:String}, {account_b:String}))
  AND msg_time >= {from:DateTime64(3, 'UTC')}
  AND msg_time < {to:DateTime64(3, 'UTC')}
  AND (msg_time > {after_time:DateTime64(3, 'UTC')}
       OR (msg_time = {after_time:DateTime64(3, 'UTC')} AND event_id > {after_event_id:String}))
ORDER BY msg_time, event_id
LIMIT {limit:UInt32}
SETTINGS query_plan_join_swap_table = 'true'
