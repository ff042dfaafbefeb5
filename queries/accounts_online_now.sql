-- name: accounts_online_now
-- summary: Accounts online now by the online-state rule (an account is online while any of its connections is: a connection's last applied copy is a login or renewal, and on NetEase it came within the heartbeat period plus grace), with the expired and offline ones and the devices and connections online, per platform and application.
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- column: source LowCardinality(String)  platform
-- column: app LowCardinality(String)  application
-- column: online UInt64  accounts with a connection online now
-- column: expired UInt64  accounts with no connection online but one past its renewal deadline (its logout copy may be lost: the manual's case for the heartbeat)
-- column: offline UInt64  accounts whose every connection ended (logout, drop, kick, or closed by a reconnect)
-- column: accounts UInt64  accounts with any presence copy
-- column: devices_online UInt64  devices (device id and client type) with a connection online now
-- column: connections_online UInt64  connections online now
--
-- Reads the presence_state view, which applies the rule per connection (schema/0075_presence_connections.sql).
SELECT
    source,
    app,
    countIf(status = 'online') AS online,
    countIf(status = 'expired') AS expired,
    countIf(status = 'offline') AS offline,
    count() AS accounts,
    sum(devices_online) AS devices_online,
    sum(connections_online) AS connections_online
FROM presence_state
WHERE ({source:String} = '' OR source = {source:String})
  AND ({app:String} = '' OR app = {app:String})
GROUP BY source, app
ORDER BY source, app
