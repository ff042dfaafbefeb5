-- name: audit_span
-- summary: Per raw-topic partition, the offsets of the chain rows and raw records received in a time range: the span imarchive audit verify checks.
-- param: from DateTime64(3, 'UTC')  start, inclusive
-- param: to DateTime64(3, 'UTC')  end, exclusive
-- column: raw_partition Int32  partition
-- column: first_offset Int64  smallest offset of a chain row or raw record received in the range
-- column: last_offset Int64  greatest such offset
SELECT raw_partition, min(raw_offset) AS first_offset, max(raw_offset) AS last_offset
FROM
(
    SELECT raw_partition, raw_offset FROM raw_chain
    WHERE received_at >= {from:DateTime64(3, 'UTC')} AND received_at < {to:DateTime64(3, 'UTC')}
    UNION ALL
    SELECT raw_partition, raw_offset FROM raw_callbacks_data
    WHERE received_at >= {from:DateTime64(3, 'UTC')} AND received_at < {to:DateTime64(3, 'UTC')}
)
GROUP BY raw_partition
ORDER BY raw_partition
