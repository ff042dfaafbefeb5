-- name: server_membership
-- summary: QChat servers' membership changes in a time range: joins, leaves, kicks, invitations sent, and the net change.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- column: app LowCardinality(String)  application
-- column: server_id String  QChat server
-- column: server_name String  its latest name from the server events; empty when none was archived
-- column: joins UInt64  accounts that joined (accepted invitation 54, accepted application 57)
-- column: leaves UInt64  accounts that left (59)
-- column: kicks UInt64  accounts kicked (60)
-- column: invited UInt64  accounts invited (53), whether or not they accepted
-- column: net Int64  joins minus leaves minus kicks
WITH names AS
(
    SELECT app, server_id, argMax(name, (occurred_at, event_id)) AS server_name
    FROM community_events
    WHERE kind = 'server' AND server_id != '' AND name != ''
    GROUP BY app, server_id
)
SELECT
    c.app AS app,
    c.server_id AS server_id,
    n.server_name AS server_name,
    c.joins AS joins,
    c.leaves AS leaves,
    c.kicks AS kicks,
    c.invited AS invited,
    toInt64(c.joins) - toInt64(c.leaves) - toInt64(c.kicks) AS net
FROM
(
    SELECT app, server_id,
        countIf(op IN ('accept_invite', 'accept_apply')) AS joins,
        countIf(op = 'leave') AS leaves,
        sumIf(toUInt64(length(accounts)), op = 'kick') AS kicks,
        sumIf(toUInt64(length(accounts)), op = 'invite') AS invited
    FROM community_events
    WHERE kind = 'member'
      AND server_id != ''
      AND occurred_at >= {from:DateTime64(3, 'UTC')}
      AND occurred_at < {to:DateTime64(3, 'UTC')}
      AND ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
      AND ({server_id:String} = '' OR server_id = {server_id:String})
    GROUP BY app, server_id
) AS c
LEFT JOIN names AS n ON n.app = c.app AND n.server_id = c.server_id
ORDER BY joins + leaves + kicks + invited DESC, app, server_id
