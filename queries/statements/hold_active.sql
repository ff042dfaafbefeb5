-- name: hold_active
-- summary: One legal hold, when it is in force (no row when it is unknown or released).
-- param: hold_id String  the hold
-- column: app String  platform application
-- column: scope String  account, channel, group or server
-- column: subject String  the held id
-- column: placed_by String  who placed it
-- column: reason String  why
SELECT app, scope, subject, placed_by, reason
FROM legal_holds_active
WHERE hold_id = {hold_id:String}
