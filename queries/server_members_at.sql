-- name: server_members_at
-- summary: Who was a member of a NetEase QChat server at a time, replayed from the archived server and membership events up to it (for iLink and Maxim groups see group_members_at, from synced snapshots).
-- param: app String  NetEase appkey
-- param: server_id String  QChat server id
-- param: at DateTime64(3, 'UTC')  the time asked about, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- column: account String  a member at that time
-- column: member_since DateTime64(3, 'UTC')  start of the membership in force: the first event that made or showed it a member after its last leave or kick
-- column: joined_by String  that event: create (the owner), accept_invite, accept_apply, invite (server invites need no consent), apply (applications need no approval), update_self or update_other (a member-info change shows it was a member)
-- column: operator String  the account that did it (the inviter's acceptance is the member itself; an accepted application, the approver)
-- column: last_event_at DateTime64(3, 'UTC')  the account's latest membership event up to the time asked
-- column: event_id String  event_id of the member_since event (query raw_payload)
-- column: member_type String  the member's type as the latest member-info or permission copy up to the time said (61, 62, 76 type): 1 owner, 0 ordinary member; empty when no copy said
--
-- The rule, from the NetEase copy events (eventType 50-62): a member joins by accepting an invitation
-- (54), by having an application accepted (57), by being invited when the server's invitemode is 1 (53:
-- no consent needed), or by applying when its applymode is 0 (56: no approval needed, the platform's
-- default); the creator (50, owner) is a member; a member-info change (61, 62) shows membership. A
-- leave (59) or kick (60) ends it; deleting the server (52) ends every membership. invitemode and
-- applymode are taken from the latest server create or update (50, 51) at or before each event, the
-- platform's defaults (invite needs consent, application needs none) when none was archived. Events
-- at the same time are ordered by event_id. Membership that began before the archive and never showed
-- in an event cannot be seen here.
WITH
    (
        SELECT arraySort(groupArray(tuple(occurred_at, toString(attrs['invitemode']), toString(attrs['applymode']))))
        FROM community_events
        WHERE app = {app:String} AND server_id = {server_id:String} AND kind = 'server' AND op IN ('create', 'update')
          AND occurred_at <= {at:DateTime64(3, 'UTC')}
    ) AS modes,
    (
        SELECT max(tuple(occurred_at, event_id))
        FROM community_events
        WHERE app = {app:String} AND server_id = {server_id:String} AND kind = 'server' AND op = 'delete'
          AND occurred_at <= {at:DateTime64(3, 'UTC')}
    ) AS deleted,
    effects AS
    (
        SELECT account, occurred_at, event_id, op, actor,
            multiIf(op IN ('create', 'accept_invite', 'accept_apply', 'update_self', 'update_other'), 'join',
                    op = 'invite' AND arrayLast(m -> tupleElement(m, 1) <= occurred_at AND tupleElement(m, 2) != '', modes).2 = '1', 'join',
                    op = 'apply' AND arrayLast(m -> tupleElement(m, 1) <= occurred_at AND tupleElement(m, 3) != '', modes).3 != '1', 'join',
                    op IN ('leave', 'kick'), 'leave',
                    '') AS effect
        FROM community_events
        ARRAY JOIN multiIf(
            op = 'create', [if(attrs['owner'] != '', toString(attrs['owner']), actor)],
            op IN ('invite', 'kick'), accounts,
            op IN ('accept_invite', 'apply', 'leave', 'update_self'), [actor],
            op IN ('accept_apply', 'update_other'), [target_account],
            emptyArrayString()) AS account
        WHERE app = {app:String} AND server_id = {server_id:String}
          AND ((kind = 'member') OR (kind = 'server' AND op = 'create'))
          AND occurred_at <= {at:DateTime64(3, 'UTC')}
          AND account != ''
    ),
    bounds AS
    (
        SELECT account,
            maxIf(tuple(occurred_at, event_id), effect = 'leave') AS last_leave,
            maxIf(tuple(occurred_at, event_id), effect = 'join') AS last_join,
            max(occurred_at) AS last_event_at
        FROM effects
        GROUP BY account
        HAVING last_join > last_leave AND last_join > deleted
    ),
    types AS
    (
        SELECT target_account AS member, argMax(toString(member_type), tuple(occurred_at, event_id)) AS latest_type
        FROM community_events
        WHERE app = {app:String} AND server_id = {server_id:String} AND member_type != '' AND target_account != ''
          AND occurred_at <= {at:DateTime64(3, 'UTC')}
        GROUP BY target_account
    )
SELECT
    m.account AS account,
    tupleElement(m.since, 1) AS member_since,
    tupleElement(m.since, 3) AS joined_by,
    tupleElement(m.since, 4) AS operator,
    m.last_event_at AS last_event_at,
    tupleElement(m.since, 2) AS event_id,
    ty.latest_type AS member_type
FROM
(
    SELECT e.account AS account,
        argMin(tuple(e.occurred_at, e.event_id, toString(e.op), e.actor), tuple(e.occurred_at, e.event_id)) AS since,
        any(b.last_event_at) AS last_event_at
    FROM effects AS e
    INNER JOIN bounds AS b ON b.account = e.account
    WHERE e.effect = 'join'
      -- the first join after the last leave (and after a deletion of the server, were it re-created)
      AND tuple(e.occurred_at, e.event_id) > if(b.last_leave > deleted, b.last_leave, deleted)
    GROUP BY e.account
) AS m
LEFT JOIN types AS ty ON ty.member = m.account
ORDER BY account
