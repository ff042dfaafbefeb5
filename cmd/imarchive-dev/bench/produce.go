package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/kafka"
)

// pair is what ingest produces for one callback: the raw record and the event record.
type pair struct{ raw, ev *kgo.Record }

// readBack reads n records of the raw and of the events topic, as ingest produced them, for the
// producers to send again with the same bytes, keys and headers. They are paired by position, not by
// callback: for producing, only their sizes and keys matter.
func readBack(ctx context.Context, tc kafka.Config, n int) ([]pair, error) {
	cl, err := kgo.NewClient(append(tc.ClientOptions(discard),
		kgo.ConsumeTopics(tc.Raw(), tc.Events()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var raws, evs []*kgo.Record
	for len(raws) < n || len(evs) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read back %d records of %s and %s: got %d and %d: %w", n, tc.Raw(), tc.Events(), len(raws), len(evs), err)
		}
		if err := fs.Err0(); err != nil {
			return nil, fmt.Errorf("read back: %w", err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Topic == tc.Raw() {
				raws = append(raws, r)
			} else {
				evs = append(evs, r)
			}
		})
	}
	out := make([]pair, n)
	for i := range out {
		out[i] = pair{raws[i], evs[i]}
	}
	return out, nil
}

// sample is a closed-loop run's outcome: operations done and their latencies in ms.
type sample struct {
	ops     int
	elapsed time.Duration
	lat     []float64
	errs    int
	firstE  error
	cpu     cpuUse
}

func (s sample) rate() float64 { return float64(s.ops) / s.elapsed.Seconds() }

// closedLoop runs op from conc goroutines, each starting its next call when the last one returned,
// for d, and records each call's latency.
func closedLoop(ctx context.Context, conc int, d time.Duration, op func(ctx context.Context, i int) error) sample {
	var (
		mu   sync.Mutex
		all  sample
		next atomic.Int64
		wg   sync.WaitGroup
	)
	mark := markCPU()
	start := mark.at
	deadline := start.Add(d)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []float64
			var errs int
			var first error
			for time.Now().Before(deadline) && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				t0 := time.Now()
				if err := op(ctx, i); err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
			}
			mu.Lock()
			all.lat = append(all.lat, lat...)
			all.errs += errs
			if all.firstE == nil {
				all.firstE = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	all.cpu = markCPU().since(mark, 0)
	all.elapsed = all.cpu.wall
	all.ops = len(all.lat)
	return all
}

// quantile of sorted xs (nearest rank), NaN for none.
func quantile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func (s sample) row(area, name, unit string) Row {
	l := slices.Clone(s.lat)
	slices.Sort(l)
	r := Row{Area: area, Name: name, Value: s.rate(), Unit: unit, P50: quantile(l, .5), P99: quantile(l, .99), P999: quantile(l, .999),
		Note: s.cpu.note("producer", s.ops)}
	if s.errs > 0 {
		r.Err = fmt.Sprintf("%d of %d operations failed, first: %v", s.errs, s.errs+s.ops, s.firstE)
	}
	return r
}

// producer sends one pair and returns when the broker acknowledged both records.
type producer struct {
	send  func(ctx context.Context, p pair) error
	close func()
}

func franzProducer(tc kafka.Config, idempotent bool) (*producer, error) {
	opts := producerOptions(tc, discard)
	if !idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(5))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return &producer{
		send: func(ctx context.Context, p pair) error {
			return cl.ProduceSync(ctx,
				&kgo.Record{Topic: tc.Raw(), Key: p.raw.Key, Value: p.raw.Value, Headers: p.raw.Headers},
				&kgo.Record{Topic: tc.Events(), Key: p.ev.Key, Value: p.ev.Value, Headers: p.ev.Headers},
			).FirstErr()
		},
		close: cl.Close,
	}, nil
}

// kafkaGoProducer is segmentio/kafka-go's Writer with the durability it can give: RequiredAcks all
// and retries (MaxAttempts 10), but no idempotent producer (a retried batch may be written twice).
// Its batches wait at most BatchTimeout (default 1 s) to fill; 1 ms is the nearest it comes to
// franz-go's linger 0. Compression is snappy, franz-go's default; keys are partitioned by murmur2,
// as franz-go and the Java client do.
func kafkaGoProducer(tc kafka.Config) *producer {
	w := &kafkago.Writer{
		Addr:         kafkago.TCP(tc.Brokers...),
		Balancer:     &kafkago.Murmur2Balancer{},
		RequiredAcks: kafkago.RequireAll,
		MaxAttempts:  10,
		BatchTimeout: time.Millisecond,
		Compression:  kafkago.Snappy,
	}
	header := func(hs []kgo.RecordHeader) []kafkago.Header {
		out := make([]kafkago.Header, len(hs))
		for i, h := range hs {
			out[i] = kafkago.Header{Key: h.Key, Value: h.Value}
		}
		return out
	}
	return &producer{
		send: func(ctx context.Context, p pair) error {
			return w.WriteMessages(ctx,
				kafkago.Message{Topic: tc.Raw(), Key: p.raw.Key, Value: p.raw.Value, Headers: header(p.raw.Headers)},
				kafkago.Message{Topic: tc.Events(), Key: p.ev.Key, Value: p.ev.Value, Headers: header(p.ev.Headers)},
			)
		},
		close: func() { w.Close() },
	}
}

// produceRun warms the producer up, then sends pairs (cycling through them) from conc goroutines for d.
func (b *run) produceRun(ctx context.Context, p *producer, pairs []pair, d time.Duration) (sample, error) {
	if len(pairs) == 0 {
		return sample{}, errors.New("no records to produce")
	}
	op := func(ctx context.Context, i int) error {
		return p.send(ctx, pairs[i%len(pairs)])
	}
	if b.cfg.Warmup > 0 {
		if s := closedLoop(ctx, b.cfg.Concurrency, b.cfg.Warmup, op); s.errs > 0 {
			return s, fmt.Errorf("warm-up: %d sends failed, first: %w", s.errs, s.firstE)
		}
	}
	return closedLoop(ctx, b.cfg.Concurrency, d, op), ctx.Err()
}
