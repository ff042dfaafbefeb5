// Package audit makes the raw archive tamper-evident: a hash chain over the raw topic, written beside
// raw_callbacks_data by its own consumer, and Verify, which proves from ClickHouse that no raw record in
// a range was removed, altered or reordered, and names the first break.
//
// # One chain per raw-topic partition
//
// A chain needs one order that never changes and one writer that knows it. Kafka gives exactly that per
// partition: offsets are assigned by the partition leader, once, and a consumer group hands each
// partition to one member at a time. A chain per app would need a sequencer across partitions (records
// of one app are spread over all of them) — a second source of order that could itself disagree. So
// there is one chain per raw-topic partition, in offset order; the record's app is in its headers hash.
//
// # The hash
//
// For the record at (partition, offset), with payload = the body exactly as received:
//
//	payload_sha256 = SHA-256(payload)
//	headers_sha256 = SHA-256 of the canonical headers (HeadersDigest): the fields the raw archive keeps
//	                 besides the body — source, app, received_at_ms, event_id, raw_key, path,
//	                 remote_addr, every HTTP header and every other record header, sorted by name — each
//	                 name and value preceded by its length (4 bytes, big-endian), so no two different
//	                 header sets encode alike
//	hash           = SHA-256(prev_hash ‖ partition ‖ offset ‖ payload_sha256 ‖ headers_sha256)
//	                 with the hashes as their 32 bytes, partition as 4 and offset as 8 bytes big-endian
//
// prev_hash is the hash of the previous chained record of the partition, or 32 zero bytes (GenesisHash)
// for the first. Every hash commits to everything before it in its partition: a record cannot be
// changed, dropped or moved without changing every later hash.
//
// # Kafka epochs: one segment per topic ID
//
// Offsets name a record only within one incarnation of the raw topic. A topic deleted and created again,
// the pipeline pointed at another Kafka cluster, imarchive dev's in-memory Kafka restarted: offsets
// start again from zero. Kafka gives every topic a topic ID when it creates it (a UUID; kafka-topics.sh
// prints it as TopicId), and every raw row and chain row records it (raw_topic_id, schema 0070; rows
// written before have none, ""). A partition's chain is therefore cut into segments, one per topic ID:
// the first row of a new segment links (prev_hash) to the last row of the partition's previous
// segment — the genesis only for the very first — so all the segments of a partition are one chain
// across topics and clusters, and removing a whole earlier segment breaks the link into the next.
//
// # Writing it: ChainSink
//
// The chain consumer reads the raw topic in its own consumer group (default: the events group +
// "-chain"), independent of the raw-archive consumer, so that a slow or failed chain never holds back
// the archive (and the other way round). It runs in imarchive consume (--raw-chain, default on).
// Before it chains a segment it reads the segment's last chained offset and hash from ClickHouse; a
// record at or below that offset — a re-delivery after a crash, a rebalance, a reset group — is
// skipped, so re-delivery never forks the chain. A segment with no row yet links to the partition's
// most recently chained row of another segment; a record of it whose payload and headers were chained
// at its offset in that previous segment is the same record read again (the first run after schema
// 0070, a mirrored topic) and is skipped too. The chain is a pure function of the records and their
// order, so two members that briefly both hold a partition compute the same rows. A batch is written
// with the consumer's insert deduplication token, and offsets are committed only after ClickHouse
// acknowledged it (the pipeline's Consumer does that).
//
// # Proving it: Verify
//
// imarchive audit verify --from --to finds, per partition, the offsets of the raw records and chain
// rows received in the range, and checks every offset in that span, in every segment: every chain row
// links to the one before it in its segment (the first to the row before the span; a segment's first
// row to the genesis or to the last row of another segment — a boundary, reported with its reason:
// the topic recreated in the same cluster, another cluster, or rows from before schema 0070) and its
// hash re-computes; every raw record, every stored version of it, re-hashed now in ClickHouse (body)
// and here (headers), equals a chain row at its offset (matched by content across segments, so a
// record chained in one segment and archived under another topic ID — around the upgrade to schema
// 0070 — is still found); no raw record in the chained span lacks a chain row; no offset of a segment
// has two different chain rows; no second segment of a partition starts from the genesis. Breaks are named with their partition and offset: altered, reordered (the payload chained at
// another offset of the same window of offsets read together, 20000 by default, is found here;
// moved farther, it is reported as altered), removed (chain row without raw record), unchained (raw record without
// chain row), broken_link, bad_hash, forked, anchor. Raw records removed by a recorded retention pass
// are counted as expired, not as breaks; records the raw archive or the chain have not reached yet
// are counted as pending.
//
// What a chain inside the database cannot prove by itself is that its newest records were not cut
// off together with their chain rows, or that someone with write access did not recompute the whole
// chain: that needs a hash kept outside. Verify prints each segment's head (also the named query
// chain_heads, and every export's manifest); given back as --anchor PARTITION:OFFSET:HASH, a head
// proves that nothing up to it was rewritten or removed.
package audit
