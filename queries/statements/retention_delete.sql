-- name: retention_delete
-- summary: Delete the rows of a storage table received before the cutoff, except those a legal hold covers (a lightweight DELETE: the rows disappear from every query at once; the space is reclaimed by merges).
-- param: table Identifier  storage table (one of retention.Tables)
-- param: cutoff DateTime64(3, 'UTC')  rows received before this time are deleted unless held
--
-- held_events is read when the DELETE runs: a hold placed before it is honoured. A raw record is held
-- when the event normalized from it is (raw_callbacks_data.event_id); a raw record that could not be
-- normalized has no event_id and is never held.
DELETE FROM {table:Identifier}
WHERE received_at < {cutoff:DateTime64(3, 'UTC')}
  AND event_id NOT IN (SELECT event_id FROM held_events)
