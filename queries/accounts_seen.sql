-- name: accounts_seen
-- summary: Accounts of one platform application seen in the archive (message senders and recipients, accounts in presence events) or in group snapshots; the connectors sync these accounts' rosters and states.
-- param: source String  platform: ilink or maxim
-- param: app String  iLink appkey or Maxim app_id
-- column: account String  the account (iLink UID, Maxim user_id as decimal text)
-- Reads the storage tables, not the views: a set of ids needs no FINAL (repeats fold in GROUP BY).
SELECT account
FROM
(
    SELECT sender AS account FROM messages_data WHERE source = {source:String} AND app = {app:String}
    UNION ALL
    SELECT to_account AS account FROM messages_data WHERE source = {source:String} AND app = {app:String}
    UNION ALL
    SELECT account FROM presence_events_data WHERE source = {source:String} AND app = {app:String}
    UNION ALL
    SELECT account FROM group_member_snapshots WHERE source = {source:String} AND app = {app:String}
)
WHERE account != ''
GROUP BY account
ORDER BY account
