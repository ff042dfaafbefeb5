-- export_selection (0062) named its time column at, like the column of archive_subjects it filters on,
-- so ClickHouse read the filter as the aggregate. Replaced, with the event's time as first_at.
CREATE OR REPLACE VIEW export_selection
AS SELECT s.table_name AS table_name, s.event_id AS event_id, min(s.at) AS first_at
FROM archive_subjects AS s
WHERE ({app:String} = '' OR s.app = {app:String})
  AND s.at >= {from:DateTime64(3, 'UTC')}
  AND s.at < {to:DateTime64(3, 'UTC')}
GROUP BY s.table_name, s.event_id
HAVING ({account:String} = '' OR has(groupArray(tuple(s.subject_kind, s.subject)), tuple('account', {account:String})))
   AND ({channel_id:String} = '' OR has(groupArray(tuple(s.subject_kind, s.subject)), tuple('channel', {channel_id:String})))
   AND ({group_id:String} = '' OR has(groupArray(tuple(s.subject_kind, s.subject)), tuple('group', {group_id:String})))
   AND ({server_id:String} = '' OR has(groupArray(tuple(s.subject_kind, s.subject)), tuple('server', {server_id:String})));
