-- name: legal_holds
-- summary: Legal holds, newest first, with who placed them and why, and, for released ones, who released them, when and why (imarchive hold list).
-- param: include_released UInt8  1 to list released holds too, 0 for the holds in force only
-- column: hold_id String  hold id (imarchive hold release --id)
-- column: active UInt8  1 while the hold is in force
-- column: app String  platform application
-- column: scope String  account, channel, group or server
-- column: subject String  the held account, channel, group or server id
-- column: placed_by String  who placed it, as they said (hold add --by)
-- column: placed_by_user String  the ClickHouse user that placed it (recorded by the server)
-- column: placed_at DateTime64(3, 'UTC')  when
-- column: reason String  why
-- column: released_by String  who released it (empty while active)
-- column: released_by_user String  the ClickHouse user that released it
-- column: released_at Nullable(DateTime64(3, 'UTC'))  when (NULL while active)
-- column: release_reason String  why it was released
SELECT
    h.hold_id AS hold_id,
    toUInt8(countIf(h.action = 'release') = 0) AS active,
    argMinIf(h.app, h.at, h.action = 'add') AS app,
    toString(argMinIf(h.scope, h.at, h.action = 'add')) AS scope,
    argMinIf(h.subject, h.at, h.action = 'add') AS subject,
    argMinIf(h.actor, h.at, h.action = 'add') AS placed_by,
    argMinIf(h.db_user, h.at, h.action = 'add') AS placed_by_user,
    minIf(h.at, h.action = 'add') AS placed_at,
    argMinIf(h.reason, h.at, h.action = 'add') AS reason,
    argMinIf(h.actor, h.at, h.action = 'release') AS released_by,
    argMinIf(h.db_user, h.at, h.action = 'release') AS released_by_user,
    if(countIf(h.action = 'release') > 0, minIf(h.at, h.action = 'release'), NULL) AS released_at,
    argMinIf(h.reason, h.at, h.action = 'release') AS release_reason
FROM legal_holds AS h
GROUP BY h.hold_id
HAVING countIf(h.action = 'add') > 0 AND (active = 1 OR {include_released:UInt8} = 1)
ORDER BY placed_at DESC, hold_id
