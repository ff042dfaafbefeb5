-- Indexes for imarchive audit verify. It reads the raw archive by position (partition and offset), but
-- raw_callbacks_data is sorted by time: a min-max index on the position lets ClickHouse skip every
-- granule outside the offsets read (offsets grow with time within a partition, so granules are
-- narrow). raw_chain is sorted by position and searched by time for a range's span: a min-max index on
-- received_at. MATERIALIZE builds both for rows written before (background mutations).
ALTER TABLE raw_callbacks_data ADD INDEX IF NOT EXISTS idx_raw_position (raw_partition, raw_offset) TYPE minmax GRANULARITY 1;
ALTER TABLE raw_callbacks_data MATERIALIZE INDEX idx_raw_position;
ALTER TABLE raw_chain ADD INDEX IF NOT EXISTS idx_received_at received_at TYPE minmax GRANULARITY 1;
ALTER TABLE raw_chain MATERIALIZE INDEX idx_received_at;
