-- name: channel_list
-- summary: The QChat channels in the archive with their latest names, for a dashboard's channel variable (value, then the text shown).
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- column: channel_id String  QChat channel id (the variable's value)
-- column: label String  its latest name and id, or the id alone (the text shown)
--
-- DISTINCT and argMax over the storage tables: repeats not yet merged change neither.
SELECT channel_id, if(name != '', concat(name, ' (', channel_id, ')'), channel_id) AS label
FROM
(
    SELECT channel_id, argMax(name, occurred_at) AS name
    FROM
    (
        SELECT channel_id, '' AS name, toDateTime64(0, 3, 'UTC') AS occurred_at
        FROM messages_data
        WHERE channel_id != '' AND ({source:String} = '' OR source = {source:String}) AND ({app:String} = '' OR app = {app:String}) AND ({server_id:String} = '' OR server_id = {server_id:String})
        UNION ALL
        SELECT channel_id, if(kind = 'channel', name, ''), if(kind = 'channel' AND name != '', occurred_at, toDateTime64(0, 3, 'UTC'))
        FROM community_events_data
        WHERE channel_id != '' AND ({source:String} = '' OR source = {source:String}) AND ({app:String} = '' OR app = {app:String}) AND ({server_id:String} = '' OR server_id = {server_id:String})
    )
    GROUP BY channel_id
)
ORDER BY label
