-- name: online_connections
-- summary: The connections online now, one row each, newest session first: which account, on which device and client type, from which port, on which SDK build, since when, and when the connection lapses without a renewal (the online-state rule per connection: NetEase consid; iLink's account is its one connection).
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: account String  only this account; empty for all
-- param: limit UInt32  at most this many rows
-- column: source LowCardinality(String)  platform
-- column: app LowCardinality(String)  application
-- column: account String  account
-- column: connection_id String  the platform's id of the long connection (NetEase consid); empty where the copies name none
-- column: device_id String  device id (NetEase deviceId)
-- column: client_type String  client type (AOS, IOS, PC, WEB…)
-- column: client_port String  client port (NetEase clientPort)
-- column: sdk_version String  SDK build (NetEase sdkVersion)
-- column: login_time DateTime64(3, 'UTC')  when it logged in, as the platform says (NetEase loginTime); 1970-01-01 where absent
-- column: since DateTime64(3, 'UTC')  since when it has been online (the earlier of its first applied login or renewal and loginTime)
-- column: last_renewal DateTime64(3, 'UTC')  its online-state timestamp: the time of its last applied login or renewal
-- column: expires_at DateTime64(3, 'UTC')  when it lapses without a renewal; 1970-01-01 for never (iLink)
SELECT source, app, account, connection_id, device_id, client_type, client_port, sdk_version, login_time, since,
    state_time AS last_renewal, expires_at
FROM presence_connections
WHERE online
  AND ({source:String} = '' OR source = {source:String})
  AND ({app:String} = '' OR app = {app:String})
  AND ({account:String} = '' OR account = {account:String})
ORDER BY since DESC, source, app, account, connection_id
LIMIT {limit:UInt32}
