package ingest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/ingest/spool"
)

// produce is the Kafka produce of one callback's records. It runs to its end whatever the handler
// does: franz-go cannot fail an idempotent producer's records once their request is on the wire, so
// the handler never waits on the client beyond its own deadline; done closes when every record has
// its result.
type produce struct {
	done   chan struct{}
	mu     sync.Mutex
	left   int
	failed []bool // by record, set before done closes
	errs   []error
}

// startProduce hands recs to the producer without blocking. The records of one callback share a
// context of their own (never cancelled: the produce runs to its end).
func (r *Receiver) startProduce(recs []*kgo.Record) *produce {
	p := &produce{done: make(chan struct{}), left: len(recs), failed: make([]bool, len(recs))}
	ctx := context.WithValue(context.Background(), produceKey{}, p)
	for i, rec := range recs {
		r.prod.TryProduce(ctx, rec, func(rec *kgo.Record, err error) {
			p.mu.Lock()
			defer p.mu.Unlock()
			if err != nil {
				r.metrics.produceErrors.WithLabelValues(rec.Topic).Inc()
				p.failed[i] = true
				p.errs = append(p.errs, fmt.Errorf("produce to %s: %w", rec.Topic, err))
			}
			if p.left--; p.left == 0 {
				close(p.done)
			}
		})
	}
	return p
}

type produceKey struct{}

// err is the produce's outcome; call it once done is closed.
func (p *produce) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return errors.Join(p.errs...)
}

// refused reports whether Kafka refused a record for good (it would refuse it again): spooling it
// would only block the spool, so the platform is answered as without a spool.
func refused(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge) ||
		errors.Is(err, kerr.InvalidRecord) || errors.Is(err, kerr.CorruptMessage)
}

// errAckTimeout: Kafka did not acknowledge before the answer was due and no spool took the callback.
var errAckTimeout = errors.New("kafka did not acknowledge before the answer deadline")

// deliver makes a callback's records durable before its answer is due (ctx's deadline): in Kafka, or,
// with a spool, in the spool when Kafka does not acknowledge within SpoolAfter or the spool already
// holds records (so that nothing overtakes them). spooled says where they went.
func (r *Receiver) deliver(ctx context.Context, d delivery, receipt string, recs []*kgo.Record) (spooled bool, err error) {
	if r.spool != nil && r.spool.Pending() {
		return true, r.toSpool(ctx, d, receipt, recs, nil, "spooling")
	}
	p := r.startProduce(recs)
	wait := d.began.Add(r.cfg.AckTimeout)
	if r.spool != nil {
		wait = d.began.Add(r.cfg.SpoolAfter)
	}
	t := time.NewTimer(time.Until(wait))
	defer t.Stop()
	select {
	case <-p.done:
		err := p.err()
		if err == nil {
			return false, nil
		}
		if r.spool == nil || refused(err) {
			return false, err
		}
		r.log.Warn("kafka refused the callback's records; spooling them", "platform", d.platform, "app", d.app, "err", err)
		return true, r.toSpool(ctx, d, receipt, recs, nil, "kafka_error")
	case <-t.C:
		if r.spool == nil {
			return false, fmt.Errorf("%w (%s)", errAckTimeout, r.cfg.AckTimeout)
		}
		return true, r.toSpool(ctx, d, receipt, recs, p, "kafka_slow")
	}
}

// toSpool appends the callback to the spool and returns once it is fsynced. late, when not nil, is
// its produce still in flight: the forwarder sends the spooled copy only if that one fails.
func (r *Receiver) toSpool(ctx context.Context, d delivery, receipt string, recs []*kgo.Record, late *produce, reason string) error {
	data, err := EncodeSpoolEntry(r.topics, SpoolEntry{Receipt: receipt, Platform: d.platform, App: d.app, Received: d.start, Records: recs})
	if err != nil {
		return err
	}
	if late != nil {
		r.late.Store(receipt, late)
	}
	wasEmpty := !r.spool.Pending()
	if _, err := r.spool.Append(ctx, data); err != nil {
		if late != nil {
			r.late.Delete(receipt)
		}
		return fmt.Errorf("spool: %w", err)
	}
	r.metrics.spooled.WithLabelValues(d.platform, reason).Inc()
	if wasEmpty {
		r.log.Warn("degraded: spooling; callbacks are answered from the local spool until Kafka takes them again",
			"reason", reason, "spool", r.spool.Dir())
	}
	return nil
}

// newReceipt returns a fresh receipt id: 16 random bytes in hex.
func newReceipt() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// registerSpoolGauges exposes the spool's state (zeros without a spool), under the names the
// dashboards use.
func (r *Receiver) registerSpoolGauges(reg prometheus.Registerer) {
	stat := func(f func(s spoolStats) float64) func() float64 {
		return func() float64 {
			if r.spool == nil {
				return 0
			}
			st := r.spool.Stats()
			return f(spoolStats{records: st.Records, bytes: st.Bytes, oldest: st.Oldest, full: st.Full || st.Broken != nil})
		}
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "imarchive_ingest_spool_records",
			Help: "Callbacks in the local spool not yet forwarded to Kafka (above 0: degraded, spooling).",
		}, stat(func(s spoolStats) float64 { return float64(s.records) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "imarchive_ingest_spool_bytes",
			Help: "Bytes on disk of the spooled callbacks not yet forwarded.",
		}, stat(func(s spoolStats) float64 { return float64(s.bytes) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "imarchive_ingest_spool_oldest_record_age_seconds",
			Help: "Age of the oldest spooled callback not yet forwarded (0 when none).",
		}, stat(func(s spoolStats) float64 {
			if s.oldest.IsZero() {
				return 0
			}
			return max(0, time.Since(s.oldest).Seconds())
		})),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "imarchive_ingest_spool_full",
			Help: "1 when the spool refused a callback for want of space (or a failed write) and nothing was freed since: callbacks Kafka does not take are refused (503; iLink: no answer within 5 s).",
		}, stat(func(s spoolStats) float64 {
			if s.full {
				return 1
			}
			return 0
		})),
	)
}

type spoolStats struct {
	records int
	bytes   int64
	oldest  time.Time
	full    bool
}

// WithSpoolRecovery reports what the spool's recovery found in the receiver's metrics.
func WithSpoolRecovery(rec spool.Recovery) Option {
	return func(r *Receiver) { r.metrics.spoolDamaged.Add(float64(len(rec.Damaged))) }
}
