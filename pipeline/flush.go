package pipeline

import "time"

// flushPolicy decides when the batch in hand is written. ClickHouse's guidance is about one insert
// per second per table, across every writer, in batches of thousands of rows; every table is written
// by one consumer group, once per batch. So each member writes at most one batch per interval: the
// group's InsertInterval times the members that hold partitions. Within that bound a batch is written
// as early as it can be: at once when it is full or caught up, else when its first record has waited
// BatchWait.
type flushPolicy struct {
	rows     int           // BatchRows: the most records a batch holds; a batch this large is due
	bytes    int           // BatchBytes: likewise in record bytes (the memory bound)
	wait     time.Duration // BatchWait: a batch whose first record waited this long is due
	interval time.Duration // InsertInterval × the group's writers: the least time between two batches
	// noCaughtUp: a batch is due only when full or wait old (Config.NoCaughtUpFlush).
	noCaughtUp bool
}

// fill is the batch in hand.
type fill struct {
	rows, bytes int
	first       time.Time // when its first record was polled
	// caughtUp: the last poll returned fewer records than it asked for — the client held no more,
	// the consumer has read everything there was.
	caughtUp bool
}

// flushAction is what the consumer does next.
type flushAction int

const (
	actPoll  flushAction = iota // poll for more records, waiting at most until the returned time
	actWait                     // the batch is as large as it may be: poll no more, wait until the time, then write
	actFlush                    // write the batch now
)

// next says what to do at now with batch f, the previous batch having been written at last (zero:
// none yet). For actPoll and actWait it returns until when; for actPoll with an empty batch, the zero
// time: poll for at most BatchWait.
func (p flushPolicy) next(now, last time.Time, f fill) (flushAction, time.Time) {
	if f.rows == 0 {
		return actPoll, time.Time{}
	}
	allowed := last.Add(p.interval)
	capped := f.rows >= p.rows || f.bytes >= p.bytes
	due := capped || (f.caughtUp && !p.noCaughtUp) || !now.Before(f.first.Add(p.wait))
	switch {
	case due && !now.Before(allowed):
		return actFlush, time.Time{}
	case capped:
		return actWait, allowed
	case due:
		return actPoll, allowed // more records may join until the interval allows
	}
	return actPoll, f.first.Add(p.wait)
}
