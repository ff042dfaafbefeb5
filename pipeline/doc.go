// Package pipeline consumes canonical events from Kafka and writes them into ClickHouse in batches.
//
// Delivery: a batch is bounded by rows and by time; it is written with an insert deduplication token
// derived from the partitions and offsets it holds; offsets are committed only after ClickHouse
// acknowledged the batch. While ClickHouse fails, the same batch is retried with backoff and nothing is
// skipped or committed. A consumer killed mid-batch re-delivers from the last commit: the token makes an
// identical batch a no-op and the tables' ReplacingMergeTree key (event_id) folds any other repeat, so
// analysts (who read with FINAL) see each event once. A record that can never be written (not an event,
// or a kind with no table) goes to the dead-letter topic with the reason, and consumption goes on.
package pipeline
