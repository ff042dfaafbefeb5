-- name: community_ops
-- summary: QChat community events of a time range by kind and what happened (create, update, delete, invite, join, kick, role membership…), with the operators and accounts involved.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- column: kind LowCardinality(String)  server, channel, member, role or permission
-- column: op LowCardinality(String)  what happened (create, update, delete, invite, accept_invite, apply, accept_apply, leave, kick, add_members, …)
-- column: events UInt64  events, each once
-- column: actors UInt64  distinct operators
-- column: accounts UInt64  accounts acted upon, summed over the events (an invitation of two counts two)
SELECT
    kind,
    op,
    count() AS events,
    uniqExact(app, actor) AS actors,
    sum(toUInt64(length(accounts))) AS accounts
FROM community_events
WHERE occurred_at >= {from:DateTime64(3, 'UTC')}
      AND occurred_at < {to:DateTime64(3, 'UTC')}
  AND ({source:String} = '' OR source = {source:String})
  AND ({app:String} = '' OR app = {app:String})
  AND ({server_id:String} = '' OR server_id = {server_id:String})
GROUP BY kind, op
ORDER BY kind, events DESC, op
