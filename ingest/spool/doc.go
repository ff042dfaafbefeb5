// Package spool is serve's local, append-only spool: the callbacks Kafka did not acknowledge in time,
// kept on disk until a forwarder has handed them to Kafka.
//
// # Guarantees
//
//   - Append returns only once the record is written and fsynced (and, for a new segment file, its
//     directory too). Concurrent appends share one write and one fsync (group commit).
//   - Records are read back in the order they were appended, by one reader, and removed from the
//     front only when the reader acknowledges them (Ack): a checkpoint file, written by rename,
//     records the last forwarded sequence number, and segment files holding only forwarded records
//     are deleted.
//   - Every record carries a CRC32C (Castagnoli). Open recovers the directory after a crash: every
//     intact record after the checkpoint is kept; a stretch holding no intact record — a record cut
//     short by the crash, a changed byte — is copied into damaged/ (never deleted), logged and
//     reported in Recovery, and the records after it are found again by their magic and checksum.
//     Appends after a restart go to a new segment, so a damaged tail is never written over.
//   - The spool is bounded (Options.MaxBytes over its segment files): an append past it fails with
//     ErrFull. A failed write or fsync makes the spool refuse appends (ErrBroken) until it is opened
//     again, since what a failed fsync left on disk cannot be trusted; recovery sorts it out.
//   - One process at a time: Open takes an advisory lock on the directory (ErrLocked). Inspect reads
//     a spool without taking it over or changing it.
//
// A crash between forwarding records and acknowledging them sends them again on the next start:
// the reader is at-least-once, and the callers' records are made to fold downstream.
//
// # Why not a library
//
// tidwall/wal, the Go write-ahead log the module proxy serves, has no checksums and refuses to open
// a log whose last entry is torn; hashicorp/raft-wal is bound to raft's log types and a bolt meta
// store. The format here is small: see frame.go.
package spool
