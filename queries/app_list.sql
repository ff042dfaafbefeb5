-- name: app_list
-- summary: The applications in the archive, for a dashboard's app variable.
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- column: app String  application (NetEase appkey, iLink appkey, Maxim app_id)
--
-- DISTINCT over the storage tables: a repeat not yet merged does not change which apps exist, and a
-- dropdown should not scan every view with FINAL.
SELECT DISTINCT app
FROM
(
    SELECT CAST(app AS String) AS app FROM messages_data WHERE ({source:String} = '' OR source = {source:String})
    UNION ALL
    SELECT CAST(app AS String) FROM presence_events_data WHERE ({source:String} = '' OR source = {source:String})
    UNION ALL
    SELECT CAST(app AS String) FROM community_events_data WHERE ({source:String} = '' OR source = {source:String})
)
ORDER BY app
