-- name: server_list
-- summary: The QChat servers in the archive with their latest names, for a dashboard's server variable (value, then the text shown).
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- column: server_id String  QChat server id (the variable's value)
-- column: label String  its latest name and id, or the id alone (the text shown)
--
-- DISTINCT and argMax over the storage tables: repeats not yet merged change neither.
SELECT server_id, if(any(name) != '', concat(any(name), ' (', server_id, ')'), server_id) AS label
FROM
(
    SELECT server_id, argMax(name, occurred_at) AS name
    FROM
    (
        SELECT server_id, '' AS name, toDateTime64(0, 3, 'UTC') AS occurred_at
        FROM messages_data
        WHERE server_id != '' AND ({source:String} = '' OR source = {source:String}) AND ({app:String} = '' OR app = {app:String})
        UNION ALL
        SELECT server_id, if(kind = 'server', name, ''), if(kind = 'server' AND name != '', occurred_at, toDateTime64(0, 3, 'UTC'))
        FROM community_events_data
        WHERE server_id != '' AND ({source:String} = '' OR source = {source:String}) AND ({app:String} = '' OR app = {app:String})
    )
    GROUP BY server_id
)
GROUP BY server_id
ORDER BY label
