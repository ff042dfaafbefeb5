-- Text search over message bodies (named query message_search): an n-gram bloom-filter skip index on the
-- lower-cased text of messages as sent and of every edit. ngrambf_v1 rather than a tokenbf or the newer
-- text index: Chinese text has no word separators for a token index to split on, n-grams match any
-- substring (LIKE '%…%', multiSearchAny), and ngrambf_v1 is stable on every ClickHouse the project runs
-- (the text index is experimental on 25.8, the compose server, and changed syntax since). 3-grams of UTF-8
-- characters; 64 KiB of filter per granule of 8192 rows, 2 hash functions.
-- MATERIALIZE builds the index for rows written before this migration (a background mutation).
ALTER TABLE messages_data ADD INDEX IF NOT EXISTS idx_body_ngram lowerUTF8(body) TYPE ngrambf_v1(3, 65536, 2, 0) GRANULARITY 1;
ALTER TABLE messages_data MATERIALIZE INDEX idx_body_ngram;
ALTER TABLE message_updates_data ADD INDEX IF NOT EXISTS idx_body_ngram lowerUTF8(body) TYPE ngrambf_v1(3, 65536, 2, 0) GRANULARITY 1;
ALTER TABLE message_updates_data MATERIALIZE INDEX idx_body_ngram;
