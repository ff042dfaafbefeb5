// Package bench measures imarchive beside its ceilings and a peer, in one run, and prints one table
// (imarchive-dev bench, make bench). It is a measuring harness, not a test: speed is never asserted.
//
// It runs on a real Kafka broker and ClickHouse engine — given (Config.KafkaBrokers,
// Config.ClickHouseDSN) or started from the source tree's scripts/kafka.sh and scripts/chdb.sh on
// ports of its own — in topics and a database of its own, removed at the end. The parts:
//
//   - Ingest: signed NetEase QChat message callbacks (eventType 48) from imarchive's load generator,
//     run as a separate process (the bench re-executes its own binary), against the real receiver
//     (ingest.Receiver: verification, normalization, dedupe, produce with acks=all and the
//     idempotent producer, built with serve's client options); and, with the same generator, against
//     a bare net/http handler that reads the body and answers 200. Then the records the receiver
//     produced are read back and produced again by a raw franz-go client with no HTTP: the second
//     ceiling. Ingest is given as a ratio of each ceiling, and again at half of its peak rate.
//   - Ingest while spooling: the same receiver with its Kafka unreachable (a closed port) and a spool
//     in a temporary directory: after the first callbacks wait --spool-after, every callback is
//     answered once fsynced to the spool — serve during a Kafka outage. Beside the Kafka path's row.
//   - Producer peer: the same records through github.com/segmentio/kafka-go's Writer with
//     RequiredAcks all (kafka-go has no idempotent producer), and through franz-go with idempotence
//     off, which is kafka-go's durability.
//   - Consumer: the events written by the ingest runs, consumed by the real pipeline consumers
//     (pipeline.NewEventConsumer, pipeline.NewRawConsumer, default batching) into ClickHouse; then
//     end-to-end latency at a fixed offered load: from the load generator's receipt of the 200 to the
//     message showing in the named query message_history.
//   - Scaling: ingest throughput for 1, 2, 4 partitions and 1, 2, 4 ingest workers (receivers with a
//     Kafka producer client each, as serve replicas would be, behind one listener).
//   - Memory and allocations: go test -bench -benchmem of the hot path in ingest/ and pipeline/
//     (decode, verify, normalize, encode, dedupe; batch building) and the dedupe window's memory per
//     100k entries, run from the source tree.
package bench
