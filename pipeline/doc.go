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
// A batch is bounded by records (BatchRows) and bytes (BatchBytes). Nothing is polled while a batch is
// being written, and the Kafka client buffers at most one fetch of BatchBytes per broker: a slow or
// absent ClickHouse holds the consumer back instead of filling memory.
//
// When a batch is written (flush.go): ClickHouse's guidance is about one insert per second per table
// across every writer, and every table is written by one consumer group, once per batch. So each
// member writes at most one batch per InsertInterval × the members of its group holding partitions
// (read from Kafka with the lag, and again soon after every rebalance): the group keeps to about one
// insert per table and interval however many consume processes run. Within that bound a batch is
// written as soon as it is full, caught up (a poll returned fewer records than it asked for: nothing
// more was waiting) or BatchWait old; a full batch stops polling until the interval allows.
//
// Partitions move between members when one joins, stops or dies. Rebalances are blocked while a
// batch is polled and handled (franz-go's BlockRebalanceOnPoll), so a partition moves between
// batches, after its last batch was committed. Every move of a member's partitions — assigned,
// revoked or lost — makes its Sink forget what it keeps between batches (Reset) before the next
// batch: the presence states another member may have written meanwhile are read again from ClickHouse.
// With Config.InstanceID the member is static (group.instance.id): a restart within SessionTimeout
// rejoins with its partitions and moves nothing. A partition whose committed offset has not moved for
// StallAfter while it has lag is reported (Stalled, imarchive_pipeline_partition_stalled) by every
// member of its group. A batch is
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
// The NetEase manual (002, eventType 47) gives the rule: "由于登录和登出的事件抄送并不一定成对出现,可能出现乱序或
// 丢失 … 需要解析登录抄送的时间戳字段 time,并将其维护为'在线状态时间戳';如果新到达的登录登出抄送的时间戳小于已保存
// 的'在线状态时间戳',则需要忽略新到达的登录/登出抄送" — copies may come out of order or be lost; keep the time as
// the online-state timestamp and ignore a newly arrived copy whose time is smaller than it. presence.go
// applies it as follows, and schema 0075 builds the views from it; these are the readings taken:
//
//   - Per connection. The manual keeps one timestamp without saying of what; every copy carries consid
//     ("长连接唯一标识", the long connection's unique id), deviceId and clientType, and a user may be logged
//     in on several ends at once (types 4 and 5 exist because of it). One timestamp per account would
//     let a phone's logout hide the PC that is still connected, so the stamp is the connection's:
//     (source, app, accid, consid); a copy without consid is ordered by its device (deviceId,
//     clientType); a copy with neither — iLink status pushes, which carry only from_uid, time and type,
//     and Maxim — by its account, which is then its one connection. A copy without consid is not matched
//     with the consid connections of its device: the manual says every copy has one, so such a copy is
//     malformed, and guessing which connection it means would be worse than keeping it apart.
//   - Strictly smaller. Only a copy whose time is smaller ("小于") than its connection's stamp when it
//     arrives is stale: written with stale = true, without effect. An equal time is applied, and copies
//     of equal time take effect in arrival order (iLink's times are whole seconds, so an online and an
//     offline push of the same second end in whichever arrived last). Every applied copy sets the stamp.
//   - What a copy means. A connection is online after an applied 1 (登录) or 8 (心跳续约), offline after
//     an applied 2 (登出), 3 (掉线), 4 (互踢: kicked under the multi-device policy), 5 (SDK 主动踢掉用户登录
//     的其他端), 6 (服务器主动将用户踢下线) or 7. Type 7 is "重复连接导致的旧连接自动断开,一般出现在弱网环境导致
//     的自动重连": the old connection closed because the same client reconnected; it closes that
//     connection only, and the client's new connection (another consid) keeps the account online. The
//     copy's consid and loginTime are read as the old connection's: every type's copy reports the
//     connection whose state changed (in each of the manual's examples time follows loginTime by the
//     seconds of a test session). Were a 7 to name the new connection, that connection would show
//     offline until its next renewal (at most 30 minutes) reopens it.
//   - Accounts and devices. A device is online when any of its connections is; an account when any of
//     its connections is online and not expired. The heartbeat is "每30分钟同步一次,用于特殊情况下判断
//     用户是否正常在线。如网络抖动导致用户掉线抄送丢失时,可以通过心跳续约抄送判断用户是否已下线": a NetEase
//     connection whose last applied copy is online but older than the renewal period plus grace
//     (Config.Presence: 30 + 5 minutes) is expired, its logout copy presumably lost. iLink has no
//     renewal: its online states do not expire.
//   - Cases the manual leaves open. A 2–7 for a consid never seen logging in: the connection is
//     recorded offline, with that reason, and changes nothing for the account's other connections. A
//     heartbeat without a login: the connection is online (its login copy may be lost; the renewal is
//     the manual's own evidence of being online). loginTime (登录时间, on every copy of a connection) is kept as login_time, and a connection online
//     now counts as online since the earlier of its first applied online copy and loginTime.
//
// Arrival order is the order of the events topic: every copy of an account is keyed by the account, so
// on one partition, and a partition has one consumer at a time. Each copy's first arrival is numbered
// per account (arrival) and recorded with its verdict in presence_events_data; the state of a
// connection is its applied copy greatest by (time, arrival). The state lives only in ClickHouse: a
// connection's stamp is the greatest time of its recorded copies (a stale copy is older than an earlier
// one, so it never holds the maximum), loaded when it is first seen and after a rebalance, cached once
// a batch is written. A re-delivered copy (same event_id) — a consumer restart, a rebalance, a replay —
// keeps the verdict, arrival and since it was first given: every copy not above its connection's stamp
// is looked up in presence_events_data before it is decided, so restarts, re-deliveries, replays and
// rebalances give the same verdicts as one uninterrupted run.
//
// Existing data was recomputed by migration 0075, not by replay: replay re-delivers copies, which keep
// their recorded verdicts by design, and the raw topic may no longer hold everything. The migration
// orders the copies it finds by when they were received (received_at, then partition and offset) and
// gives each the verdict the rule gives in that order; a copy is stale exactly when an earlier copy of
// its connection has a greater time, so the verdicts need no replaying.
//
// presence_connections (per connection), presence_devices (per device: deviceId and clientType) and
// presence_state (per account) are views over one aggregate of the applied copies per connection; they
// tell one story: an account's connections_online is the sum over its devices.
//
// # Replay
//
// Replay reads the raw topic up to its end at the start, normalizes every record again with package normalize's
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
// imarchive_pipeline_consumer_lag_records{topic,partition},
// imarchive_pipeline_partition_stalled{topic,partition},
// imarchive_pipeline_partition_commit_age_seconds{topic,partition}, imarchive_pipeline_group_writers,
// imarchive_pipeline_insert_interval_seconds, imarchive_pipeline_batches_total{reason},
// imarchive_pipeline_partition_moves_total{change}; per table (PartsReporter, from system.parts):
// imarchive_pipeline_table_active_parts, imarchive_pipeline_table_created_parts; and for presence:
// imarchive_pipeline_presence_events_total, imarchive_pipeline_presence_stale_events_total,
// imarchive_pipeline_presence_state_loads_total (account and connection states read from ClickHouse).
package pipeline
