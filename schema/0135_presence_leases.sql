-- Issue 21, presence over time: how far back a presence copy can reach, per platform, so that
-- online_accounts_over_time reads a range plus the copies that can still hold a connection online at
-- its start, instead of every copy before its end (1.56 s for one day at 10M messages, 2.69 s for 90).
--
-- A connection's online span runs from an online copy to its next copy or its renewal deadline
-- (expires_at), whichever comes first. Where every online copy of a platform has a deadline no further
-- than longest_lease_ms after its time (NetEase: renewal period + grace, 35 minutes by default), a copy
-- older than a range's start minus that lease cannot reach the range, nor can any copy before it: the
-- query reads that platform's copies from there. A platform with online copies without a deadline
-- (open_ended: iLink, whose online states last until an offline copy) is read as before.
--
-- Re-deliveries: both columns are maxima over copies, so a copy inserted again (a re-delivery, a
-- consumer's re-inserted batch, this file's backfill repeating a row the view wrote meanwhile) changes
-- nothing. Retention may delete the copies that set a maximum; the bound then stays wider than needed,
-- never narrower, and the answers are the same. Holds no content (no account, no IP): the analyst
-- role reads it.
CREATE TABLE IF NOT EXISTS presence_leases
(
    source           LowCardinality(String) COMMENT 'Platform',
    longest_lease_ms SimpleAggregateFunction(max, Int64) COMMENT 'Greatest expires_at - occurred_at of an online copy with a renewal deadline, in milliseconds; 0 when there is none',
    open_ended       SimpleAggregateFunction(max, UInt8) COMMENT '1 when the platform has an online copy without a deadline (expires_at 1970-01-01): its online states last until its next copy'
)
ENGINE = AggregatingMergeTree
ORDER BY source
COMMENT 'How far back a presence copy can reach, per platform (fed by presence_leases_mv); read with max() by queries/online_accounts_over_time.sql';

CREATE MATERIALIZED VIEW IF NOT EXISTS presence_leases_mv TO presence_leases
(
    source           LowCardinality(String) COMMENT 'Platform',
    longest_lease_ms SimpleAggregateFunction(max, Int64) COMMENT 'Greatest expires_at - occurred_at of an online copy with a deadline',
    open_ended       SimpleAggregateFunction(max, UInt8) COMMENT '1 when the platform has an online copy without a deadline'
)
AS
SELECT source,
    max(if(online AND toUnixTimestamp64Milli(expires_at) > 0, toUnixTimestamp64Milli(expires_at) - toUnixTimestamp64Milli(occurred_at), toInt64(0))) AS longest_lease_ms,
    max(toUInt8(online AND toUnixTimestamp64Milli(expires_at) <= 0)) AS open_ended
FROM presence_events_data
GROUP BY source;

-- The copies archived before this migration (a repeat of a row the view already wrote changes nothing).
INSERT INTO presence_leases (source, longest_lease_ms, open_ended)
SELECT source,
    max(if(online AND toUnixTimestamp64Milli(expires_at) > 0, toUnixTimestamp64Milli(expires_at) - toUnixTimestamp64Milli(occurred_at), toInt64(0))) AS longest_lease_ms,
    max(toUInt8(online AND toUnixTimestamp64Milli(expires_at) <= 0)) AS open_ended
FROM presence_events_data
GROUP BY source;
