// Package ingest receives the IM platforms' HTTP callbacks, verifies them, keeps the bytes exactly as
// received on the raw topic, normalizes them into canonical events on the events topic, and answers the
// platform only after Kafka acknowledged the records (acks=all, idempotent producer).
//
// Status codes are chosen for the platforms' retry rules: NetEase counts 200 and 500 as delivered and
// retries anything else, so a failure on our side that must be retried (Kafka unreachable or slow) is a
// 503, never a 500. A forged or stale request is a 401 and produces nothing.
package ingest
