-- name: legal_holds
-- summary: Legal holds, newest first, with who placed them and why, and, for released ones, who released them, when and why (imarchive hold list).
-- param: include_released UInt8  1 to list released holds too, 0 for the holds in force only
-- column: hold_id String  hold id (imarchive hold release --id)
-- column: active UInt8  1 while the hold is in force
-- column: app String  platform application
-- column: scope String  account, channel, group or server
-- column: subject String  the held account, channel, group or server id
-- column: placed_by String  who placed it
-- column: placed_at DateTime64(3, 'UTC')  when
-- column: reason String  why
-- column: released_by String  who released it (empty while active)
-- column: released_at Nullable(DateTime64(3, 'UTC'))  when (NULL while active)
-- column: release_reason String  why it was released
SELECT
    hold_id,
    toUInt8(countIf(action = 'release') = 0) AS active,
    argMinIf(app, at, action = 'add') AS app,
    toString(argMinIf(scope, at, action = 'add')) AS scope,
    argMinIf(subject, at, action = 'add') AS subject,
    argMinIf(actor, at, action = 'add') AS placed_by,
    minIf(at, action = 'add') AS placed_at,
    argMinIf(reason, at, action = 'add') AS reason,
    argMinIf(actor, at, action = 'release') AS released_by,
    if(countIf(action = 'release') > 0, minIf(at, action = 'release'), NULL) AS released_at,
    argMinIf(reason, at, action = 'release') AS release_reason
FROM legal_holds
GROUP BY hold_id
HAVING countIf(action = 'add') > 0 AND (active = 1 OR {include_released:UInt8} = 1)
ORDER BY placed_at DESC, hold_id
