-- name: presence_reasons
-- summary: Presence copies of a time range by what happened: logins, renewals and iLink online; logouts, drops, kicks, and old connections closed by a reconnect (replaced) — the reasons connections ended.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- column: op LowCardinality(String)  login, heartbeat, online; logout, dropped, kicked_multi_device, kicked_by_sdk, kicked_by_server, replaced (NetEase 7: the old connection closed by a reconnect, not the account going offline), offline
-- column: state String  online or offline: what the copy means for its connection
-- column: events UInt64  copies (by platform time in the range), late ones included
-- column: accounts UInt64  distinct accounts (one per application)
-- column: stale UInt64  of them, copies that arrived after a later one of the same connection and did not change its state
SELECT
    op,
    if(online, 'online', 'offline') AS state,
    count() AS events,
    uniqExact(source, app, account) AS accounts,
    countIf(stale) AS stale
FROM presence_events
WHERE occurred_at >= {from:DateTime64(3, 'UTC')}
      AND occurred_at < {to:DateTime64(3, 'UTC')}
  AND ({source:String} = '' OR source = {source:String})
  AND ({app:String} = '' OR app = {app:String})
GROUP BY op, state
ORDER BY events DESC, op
