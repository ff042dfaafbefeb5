// Package pipeline consumes Kafka into ClickHouse: the events topic into the archive's tables, with
// the online-state rule applied to presence events, and the raw topic into the raw archive; and
// replays the raw topic into the events topic.
//
// # Consumers
//
// NewEventConsumer (group Config.Group) writes each canonical event into the storage table of its kind
// (TableFor: messages_data, message_updates_data, notifications_data, presence_events_data,
// community_events_data, quick_comments_data); NewRawConsumer (its own group, Config.RawGroupName)
// writes every raw record, body byte for byte with its headers, into raw_callbacks_data. Analysts and
// auditors read the views of the same names without _data (see schema/).
//
// # Delivery
//
// A batch is bounded by records (BatchRows), bytes (BatchBytes) and time (BatchWait). Nothing is polled
// while a batch is being written, and the Kafka client buffers at most one fetch of BatchBytes per
// broker: a slow or absent ClickHouse holds the consumer back instead of filling memory. A batch is
// written with one INSERT per table, stating the settings it relies on (chconn.InsertSettings:
// async_insert = 0, wait_for_async_insert = 1, insert_deduplicate = 1) and an insert deduplication
// token that names the batch's records (batchToken: a SHA-256 over every record's topic, Kafka topic
// ID, partition, offset, timestamp, key, value and headers); offsets are committed only after
// ClickHouse acknowledged every insert of the batch. While ClickHouse (or the dead-letter topic) is
// unavailable, the same rows are retried with the same token, with exponential backoff (RetryMin..
// RetryMax), and nothing is skipped or committed.
//
// The token names the records, not only their offsets: offsets start again from zero when a topic is
// deleted and created again, when the pipeline is pointed at another Kafka cluster, or when imarchive
// dev's in-memory Kafka restarts, and a token of offsets alone would make ClickHouse drop the new
// records as a repeat of the old ones without an error. Each Item carries its Epoch (the topic ID and
// the cluster ID) for the raw archive and the hash chain. A consumer whose topic is deleted (Kafka
// answers UNKNOWN_TOPIC_ID) follows the topic of its name from its start.
//
// A consumer killed mid-batch (kill -9) re-delivers from its last commit. The same batch again carries
// the same token, and ClickHouse drops the repeat; a re-delivery in other batch boundaries writes rows
// again, which fold by event_id: every storage table is a ReplacingMergeTree whose sorting key ends with
// event_id and whose other key columns are derived from the event itself, so every delivery of an
// event has the same key. The analysts' views read with FINAL and show each event once, before and
// after background merges.
//
// A record that can never be written (Check: not a canonical event, no event_id, a kind with no
// table, a time out of ClickHouse's range, a presence event the rule cannot place) goes to the
// dead-letter topic with the reason (headers imarchive.reason, imarchive.stage = pipeline.consume,
// and imarchive.dl.topic/partition/offset), and consumption goes on. Dead letters are produced before
// the batch's rows are written: a crash in between may dead-letter a record twice, never lose it.
//
// A row ClickHouse refuses for its data (chconn.IsDataError: a value it cannot parse or convert, a
// constraint, a throwIf; the codes are listed in chconn/errors.go) is found by writing the batch in
// halves, each part with its own token and followed by Written, down to the refused rows alone. The
// other rows are written; each refused row goes to the dead-letter topic with ClickHouse's words
// ("ClickHouse refused the row: code 469 VIOLATED_CONSTRAINT: …"), is counted in
// imarchive_pipeline_refused_rows_total, and the batch is committed: the partition moves on. Every
// other error is an outage and is retried, never dead-lettered: connection refused, timeouts, a 5xx
// from a proxy, TOO_MANY_PARTS, MEMORY_LIMIT_EXCEEDED, a table or column the schema lacks, an unknown
// code. The parts depend only on the rows, so a crash during the halving repeats the same inserts;
// refused rows are dead-lettered after the others are written and before the commit, so a crash in
// between may dead-letter a row twice, never lose it.
//
// # Online state
//
// Presence events are decided by the online-state rule (presence.go): per account, the event with the
// greatest (time, online, event_id) is the state; an event arriving after a greater one is written
// with stale = true. The state lives in ClickHouse (presence_events_data) and is cached in memory per
// consumer; a re-delivered event keeps the verdict recorded for it, so restarts, re-deliveries,
// replays and rebalances (each partition, so each account, has one consumer at a time) give the same
// verdicts. presence_state and presence_devices are materialized from the events.
//
// # Replay
//
// Replay reads the raw topic up to its end at the start, normalizes every record again with ingest's
// normalizers and produces the events to the events topic; the consumers rebuild the tables from them,
// idempotently.
//
// # Metrics
//
// With a label consumer="events" or "raw": imarchive_pipeline_rows_written_total,
// imarchive_pipeline_batch_rows, imarchive_pipeline_batch_bytes,
// imarchive_pipeline_insert_latency_seconds{table}, imarchive_pipeline_insert_retries_total,
// imarchive_pipeline_dead_letters_total, imarchive_pipeline_refused_rows_total,
// imarchive_pipeline_topic_recreations_total, imarchive_pipeline_commit_errors_total,
// imarchive_pipeline_consumer_lag_records{topic,partition}; and for presence:
// imarchive_pipeline_presence_events_total, imarchive_pipeline_presence_stale_events_total,
// imarchive_pipeline_presence_state_loads_total.
package pipeline
