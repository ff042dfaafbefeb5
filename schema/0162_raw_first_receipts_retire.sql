-- One fact, one table: raw_first_receipt_ids (schema 0161) keeps each key's first receipt, backfilled
-- from raw_first_receipts, which nothing reads any more. A file of its own, after the backfill's, so
-- that re-running either one interrupted half-way is safe.
DROP VIEW IF EXISTS raw_first_receipts_mv;

DROP TABLE IF EXISTS raw_first_receipts;
