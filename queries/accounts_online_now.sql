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
-- The rule per connection as presence_state applies it (schema/0075_presence_connections.sql), read
-- from schema/0125_presence_connection_last.sql: with FINAL, each connection's last applied copy (by
-- occurred_at, then arrival) as plain columns; then per account, then per application (the views
-- merge twenty columns per connection this count does not need).
SELECT
    source,
    app,
    countIf(n_online > 0) AS online,
    countIf(n_online = 0 AND n_expired > 0) AS expired,
    countIf(n_online = 0 AND n_expired = 0) AS offline,
    count() AS accounts,
    sum(d_online) AS devices_online,
    sum(n_online) AS connections_online
FROM
(
    SELECT source, app, account,
        countIf(status = 'online') AS n_online,
        countIf(status = 'expired') AS n_expired,
        uniqExactIf(tuple(device_id, client_type), status = 'online') AS d_online
    FROM
    (
        SELECT source, app, account,
            multiIf(NOT online, 'offline',
                    toUnixTimestamp64Milli(expires_at) != 0 AND expires_at < now64(3), 'expired',
                    'online') AS status,
            device_id, client_type
        FROM presence_connection_last FINAL
        WHERE ({source:String} = '' OR source = {source:String})
          AND ({app:String} = '' OR app = {app:String})
    )
    GROUP BY source, app, account
)
GROUP BY source, app
ORDER BY source, app
