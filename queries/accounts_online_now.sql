-- name: accounts_online_now
-- summary: Accounts online now by the online-state rule (per account, the presence event with the greatest platform time decides; a NetEase online state lapses without a renewal), with the expired and offline ones, per platform and application.
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- column: source LowCardinality(String)  platform
-- column: app LowCardinality(String)  application
-- column: online UInt64  accounts whose deciding event is online and not expired
-- column: expired UInt64  accounts whose online state passed its renewal deadline (lost logout copies)
-- column: offline UInt64  accounts whose deciding event is offline (logout, drop, kick, replacement)
-- column: accounts UInt64  accounts with any presence event
--
-- Reads the presence_state view, which applies the rule (schema/0006_presence.sql).
SELECT
    source,
    app,
    countIf(status = 'online') AS online,
    countIf(status = 'expired') AS expired,
    countIf(status = 'offline') AS offline,
    count() AS accounts
FROM presence_state
WHERE ({source:String} = '' OR source = {source:String})
  AND ({app:String} = '' OR app = {app:String})
GROUP BY source, app
ORDER BY source, app
