-- name: groups_seen
-- summary: Groups of one platform application seen in the archive (group messages) or in earlier group snapshots, leaving out groups the platform reported gone since their last message; the Maxim connector syncs these groups' members.
-- param: source String  platform: ilink or maxim
-- param: app String  iLink appkey or Maxim app_id
-- column: group_id String  the group id
-- column: last_seen DateTime64(3, 'UTC')  its latest message received or snapshot taken
-- Reads the storage table messages_data, not the messages view: a set of ids needs no FINAL.
WITH gone AS
(
    SELECT group_id, max(synced_at) AS gone_at
    FROM group_snapshots FINAL
    WHERE source = {source:String} AND app = {app:String}
    GROUP BY group_id
    HAVING argMax(status, synced_at) = 'gone'
)
SELECT s.group_id AS group_id, s.last_seen AS last_seen
FROM
(
    SELECT group_id, max(seen) AS last_seen
    FROM
    (
        SELECT group_id, received_at AS seen FROM messages_data WHERE source = {source:String} AND app = {app:String}
        UNION ALL
        SELECT group_id, synced_at AS seen FROM group_snapshots WHERE source = {source:String} AND app = {app:String} AND status = 'present'
    )
    WHERE group_id != ''
    GROUP BY group_id
) AS s
LEFT JOIN gone AS g ON g.group_id = s.group_id
WHERE s.last_seen > g.gone_at
ORDER BY group_id
