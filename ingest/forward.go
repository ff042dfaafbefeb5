package ingest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/ingest/spool"
	"github.com/imarchive/imarchive/kafka"
)

// Forwarding batches: at most this many spool records, or about this many bytes, at a time.
const (
	forwardBatch      = 256
	forwardBatchBytes = 4 << 20
)

// pending is one spool record on its way to Kafka.
type forwardItem struct {
	rec    spool.Record
	entry  SpoolEntry
	bad    error         // it does not decode: set aside
	remain []*kgo.Record // records not yet acknowledged
	errs   []error       // of the last attempt
	late   *produce      // the callback's own produce, when it was still in flight as it was spooled
}

// Forward drains the spool to Kafka, in order, until ctx ends or the spool closes; run it in its own
// goroutine beside the HTTP server. A batch of records is acknowledged in the spool (and so removed)
// only after Kafka acknowledged every record in it up to the first that failed; what failed is sent
// again with backoff. A crash before the spool's acknowledgement re-sends: events fold by event_id,
// and the raw re-send carries the receipt id (imarchive.receipt_id) of the first, so auditors tell it
// from a platform retry. A record Kafka refuses for good (too large) is set aside, never dropped.
func (r *Receiver) Forward(ctx context.Context) error {
	if r.spool == nil {
		return nil
	}
	rd := r.spool.NewReader()
	now, cancel := context.WithCancel(context.Background())
	cancel() // a done context: Next returns only what is already durable
	var batch []*forwardItem
	backoff := 100 * time.Millisecond
	for {
		if len(batch) == 0 {
			rec, err := rd.Next(ctx)
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, spool.ErrClosed) {
					return nil
				}
				return fmt.Errorf("read spool: %w", err)
			}
			batch = append(batch, r.forwardItem(rec))
		}
		size := 0
		for _, it := range batch {
			size += len(it.rec.Payload)
		}
		for len(batch) < forwardBatch && size < forwardBatchBytes {
			rec, err := rd.Next(now)
			if err != nil {
				break
			}
			batch = append(batch, r.forwardItem(rec))
			size += len(rec.Payload)
		}
		if err := r.forwardOnce(ctx, batch); err != nil {
			return nil // ctx ended
		}
		done := 0
		for _, it := range batch {
			if len(it.remain) > 0 || it.bad != nil {
				break
			}
			done++
		}
		if done > 0 {
			if err := r.spool.Ack(batch[done-1].rec.Seq); err != nil {
				r.log.Warn("spool: checkpoint not written; its records would be sent again after a restart", "err", err)
			}
			r.metrics.forwarded.Add(float64(done))
			batch = batch[done:]
			backoff = 100 * time.Millisecond
			if !r.spool.Pending() {
				r.log.Info("spool drained: callbacks go straight to Kafka again", "spool", r.spool.Dir())
			}
		}
		if len(batch) > 0 {
			r.metrics.forwardErrors.Inc()
			r.log.Warn("spool: kafka did not take forwarded records; retrying", "seq", batch[0].rec.Seq,
				"retry_in", backoff, "err", errors.Join(batch[0].errs...))
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}
}

// forwardItem decodes a spool record and marks its raw (and dead-letter) record as forwarded from
// the spool.
func (r *Receiver) forwardItem(rec spool.Record) *forwardItem {
	it := &forwardItem{rec: rec}
	e, err := DecodeSpoolEntry(r.topics, rec.Payload)
	if err != nil {
		it.bad = err
		return it
	}
	it.entry = e
	mark := []kgo.RecordHeader{
		{Key: kafka.HeaderSpooledAt, Value: []byte(strconv.FormatInt(rec.At.UnixMilli(), 10))},
		{Key: kafka.HeaderSpoolSeq, Value: []byte(strconv.FormatUint(rec.Seq, 10))},
	}
	for _, kr := range e.Records {
		if kr.Topic != r.topics.Events() {
			kr.Headers = append(kr.Headers, mark...)
		}
	}
	it.remain = e.Records
	if p, ok := r.late.LoadAndDelete(e.Receipt); ok {
		it.late = p.(*produce)
	}
	return it
}

// forwardOnce sends what remains of the batch's records and waits for Kafka's answers. Items that
// do not decode, or whose records Kafka refuses for good, are set aside. It returns ctx's error
// when ctx ended first.
func (r *Receiver) forwardOnce(ctx context.Context, batch []*forwardItem) error {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed = make([][]*kgo.Record, len(batch))
		errs   = make([][]error, len(batch))
	)
	for i, it := range batch {
		if it.bad != nil {
			r.setAside(it, it.bad)
			continue
		}
		if it.late != nil {
			// The callback's own produce, still in flight when it was spooled: Kafka takes records in
			// order, so it ends before anything sent now would; send only what it did not deliver.
			select {
			case <-it.late.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			var left []*kgo.Record
			for j, kr := range it.remain {
				if it.late.failed[j] {
					left = append(left, kr)
				}
			}
			if len(left) == 0 {
				r.metrics.alreadyDelivered.Inc()
			}
			it.remain, it.late = left, nil
		}
		for _, kr := range it.remain {
			wg.Add(1)
			r.prod.TryProduce(ctx, kr, func(kr *kgo.Record, err error) {
				defer wg.Done()
				if err != nil {
					r.metrics.produceErrors.WithLabelValues(kr.Topic).Inc()
					mu.Lock()
					failed[i] = append(failed[i], kr)
					errs[i] = append(errs[i], fmt.Errorf("produce to %s: %w", kr.Topic, err))
					mu.Unlock()
				}
			})
		}
	}
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		return ctx.Err()
	}
	for i, it := range batch {
		if it.bad != nil {
			continue
		}
		it.remain, it.errs = failed[i], errs[i]
		if err := errors.Join(it.errs...); err != nil && refused(err) {
			r.setAside(it, err)
		}
	}
	return nil
}

// setAside keeps a spool record that cannot be delivered in the spool's damaged directory, and lets
// the forwarder move on.
func (r *Receiver) setAside(it *forwardItem, reason error) {
	if err := r.spool.SetAside(it.rec, reason.Error()); err != nil {
		// Not kept aside: it stays in the spool (it.bad or it.remain keep it from being acknowledged)
		// and is tried again.
		r.log.Error("spool: cannot set aside a record kafka refuses or that does not decode; trying again", "seq", it.rec.Seq, "err", err)
		it.errs = []error{reason, err}
		return
	}
	r.metrics.spoolRejected.Inc()
	r.log.Error("spool: record set aside, not forwarded: kafka refuses it or it does not decode; it is kept in the spool's damaged directory",
		"seq", it.rec.Seq, "receipt", it.entry.Receipt, "dir", r.spool.Dir(), "reason", reason)
	it.remain, it.bad = nil, nil
}
