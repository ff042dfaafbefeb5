-- name: table_parts
-- summary: The database's tables as ClickHouse stores them now: active data parts, partitions, the most parts in one partition (ClickHouse delays inserts into a partition from parts_to_delay_insert parts and refuses them from parts_to_throw_insert), rows and bytes on disk.
-- column: table String  table of this database
-- column: parts UInt64  active data parts
-- column: partitions UInt64  partitions with active parts
-- column: max_parts_per_partition UInt64  the most active parts in one partition
-- column: rows UInt64  rows in the active parts, repeats not yet merged included
-- column: bytes_on_disk UInt64  compressed bytes of the active parts
--
-- system.parts lists only the tables the user may read. Not bound to a time range: it is the state now.
SELECT
    table,
    sum(part_count) AS parts,
    count() AS partitions,
    max(part_count) AS max_parts_per_partition,
    sum(part_rows) AS rows,
    sum(part_bytes) AS bytes_on_disk
FROM
(
    SELECT table, partition_id, count() AS part_count, sum(rows) AS part_rows, sum(bytes_on_disk) AS part_bytes
    FROM system.parts
    WHERE active AND database = currentDatabase()
    GROUP BY table, partition_id
)
GROUP BY table
ORDER BY parts DESC, table
