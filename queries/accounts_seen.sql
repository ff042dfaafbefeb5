-- name: accounts_seen
-- summary: Accounts of one platform application seen in the archive: senders and recipients of messages, and members in group snapshots; the connectors sync these accounts' rosters and states.
-- param: source String  platform: ilink or maxim
-- param: app String  iLink appkey or Maxim app_id
-- column: account String  the account (iLink UID, Maxim user_id as decimal text)
SELECT account
FROM
(
    SELECT sender AS account FROM messages WHERE source = {source:String} AND app = {app:String}
    UNION DISTINCT
    SELECT to_account AS account FROM messages WHERE source = {source:String} AND app = {app:String}
    UNION DISTINCT
    SELECT account FROM group_member_snapshots WHERE source = {source:String} AND app = {app:String}
)
WHERE account != ''
GROUP BY account
ORDER BY account
