package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/pipeline"
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// profile starts a CPU profile into ProfileDir (when set), as <name>_cpu.pprof; the returned
// function stops it and writes the allocation profile, <name>_allocs.pprof.
func (b *run) profile(name string) func() error {
	if b.cfg.ProfileDir == "" {
		return func() error { return nil }
	}
	if err := os.MkdirAll(b.cfg.ProfileDir, 0o755); err != nil {
		return func() error { return err }
	}
	f, err := os.Create(filepath.Join(b.cfg.ProfileDir, name+"_cpu.pprof"))
	if err != nil {
		return func() error { return err }
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() error { return fmt.Errorf("cpu profile: %w", err) }
	}
	return func() error {
		pprof.StopCPUProfile()
		errs := []error{f.Close()}
		a, err := os.Create(filepath.Join(b.cfg.ProfileDir, name+"_allocs.pprof"))
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		errs = append(errs, pprof.Lookup("allocs").WriteTo(a, 0), a.Close())
		return errors.Join(errs...)
	}
}

// Producer rows.
const (
	nameFranz      = "franz-go, idempotent, acks=all, linger 0 (serve's client)"
	nameFranzNoIdm = "franz-go, idempotence off, 5 requests in flight, acks=all"
	nameKafkaGo    = "segmentio/kafka-go Writer, RequiredAcks all, BatchTimeout 1 ms"
)

// peerPhase sends the records ingest produced through kafka-go's Writer, and through franz-go with
// kafka-go's durability (no idempotence).
func (b *run) peerPhase(ctx context.Context) error {
	franz := b.add(noLatency(Row{Area: areaProducer, Name: nameFranz, Value: b.rawCeiling, Unit: "callbacks/s",
		Note: "the raw ceiling above: the same run"}))
	noIdm := b.add(failed(areaProducer, nameFranzNoIdm, errors.New("not run")))
	kgo := b.add(failed(areaProducer, nameKafkaGo, errors.New("not run")))
	if len(b.pairs) == 0 {
		err := errors.New("no records: the ingest run failed")
		*franz, *noIdm, *kgo = failed(areaProducer, nameFranz, err), failed(areaProducer, nameFranzNoIdm, err), failed(areaProducer, nameKafkaGo, err)
		return err
	}
	for _, r := range b.rows {
		if r.Name == nameRaw {
			franz.P50, franz.P99, franz.P999 = r.P50, r.P99, r.P999
		}
	}
	p, err := franzProducer(b.produceTopics, false)
	if err != nil {
		*noIdm = failed(areaProducer, nameFranzNoIdm, err)
	} else {
		s, err := b.produceRun(ctx, p, b.pairs, b.cfg.Duration)
		p.close()
		if err != nil {
			*noIdm = failed(areaProducer, nameFranzNoIdm, err)
		} else {
			*noIdm = s.row(areaProducer, nameFranzNoIdm, "callbacks/s")
			noIdm.Compare = ratio(noIdm.Value, b.rawCeiling) + " franz-go idempotent"
			noIdm.Note = "kafka-go's durability: a retried batch may be written twice; " + noIdm.Note
		}
	}
	kp := kafkaGoProducer(b.produceTopics)
	s, err := b.produceRun(ctx, kp, b.pairs, b.cfg.Duration)
	kp.close()
	if err != nil {
		*kgo = failed(areaProducer, nameKafkaGo, err)
		return err
	}
	*kgo = s.row(areaProducer, nameKafkaGo, "callbacks/s")
	kgo.Compare = ratio(kgo.Value, b.rawCeiling) + " franz-go idempotent"
	if noIdm.Err == "" {
		kgo.Compare += ", " + ratio(kgo.Value, noIdm.Value) + " franz-go not idempotent"
	}
	kgo.Note = "no idempotent producer; snappy, murmur2 keys as franz-go; " + kgo.Note
	return nil
}

const nameHalf = "imarchive ingest at half of its peak"

// halfPhase offers half of the peak rate to the receiver: the acknowledgement latency the platforms
// see on a machine with headroom.
func (b *run) halfPhase(ctx context.Context) error {
	row := b.add(failed(areaIngest, nameHalf, errors.New("not run")))
	if b.peak <= 0 {
		*row = failed(areaIngest, nameHalf, errors.New("no peak: the ingest run failed"))
		return nil
	}
	rate := math.Max(1, math.Round(b.peak/2))
	srv, err := startIngest(b.main, 1, b.log)
	if err != nil {
		*row = failed(areaIngest, nameHalf, err)
		return err
	}
	dr, err := b.drive(ctx, srv.URL, rate, b.cfg.Duration, false)
	if err := errors.Join(err, srv.Close()); err != nil {
		*row = failed(areaIngest, nameHalf, err)
		return err
	}
	*row = dr.row(areaIngest, fmt.Sprintf("%s (offered %.0f/s)", nameHalf, rate), "callbacks/s", "serve")
	row.Note = srv.ackNote() + "; " + row.Note
	row.Compare = fmt.Sprintf("aim p99 < 20 ms: %s; platforms' limit 5 s%s", verdict(row.P99 < 20), shortfall(row.Value, rate))
	return nil
}

const (
	nameEvents  = "events → ClickHouse, pipeline consumer (default flush policy)"
	nameConsume = "imarchive consume as deployed: events + raw archive groups"
	nameE2E     = "end to end: acknowledged → visible in message_history"
)

// consumerPhase measures the pipeline consumers on the records the producer runs wrote (copies of
// what ingest produced), first the events consumer alone, then both groups as consume runs them; then
// end-to-end latency on the main topics.
func (b *run) consumerPhase(ctx context.Context) error {
	evRow := b.add(failed(areaConsumer, nameEvents, errors.New("not run")))
	allRow := b.add(failed(areaConsumer, nameConsume, errors.New("not run")))
	e2eRow := b.add(failed(areaConsumer, nameE2E, errors.New("not run")))
	fail := func(r *Row, err error) error {
		*r = failed(r.Area, r.Name, err)
		return err
	}
	var errs []error
	src := b.produceTopics
	nEv, err := endOffsets(ctx, src, src.Events())
	if err == nil && nEv == 0 {
		err = errors.New("no records to consume: the producer runs failed")
	}
	if err != nil {
		errs = append(errs, fail(evRow, err), fail(allRow, err))
	} else {
		nEv = min(nEv, int64(b.cfg.ConsumeRows))
		limit := time.Minute + time.Duration(nEv)*time.Millisecond
		if err := b.consumeRun(ctx, src, nEv, false, limit, evRow); err != nil {
			errs = append(errs, fail(evRow, err))
		}
		if err := b.consumeRun(ctx, src, nEv, true, limit, allRow); err != nil {
			errs = append(errs, fail(allRow, err))
		}
	}
	if err := b.e2e(ctx, e2eRow); err != nil {
		errs = append(errs, fail(e2eRow, err))
	}
	return errors.Join(errs...)
}

// consumeRun consumes n events (and, with raw, n raw records) of tc in new groups and fills row.
func (b *run) consumeRun(ctx context.Context, tc kafka.Config, n int64, raw bool, limit time.Duration, row *Row) error {
	b.groups++
	c, err := startConsumers(ctx, tc, b.conn, fmt.Sprintf("imarchive-bench-%s-%d", b.id, b.groups), raw, pipeline.DefaultConfig())
	if err != nil {
		return err
	}
	want := map[string]float64{"events": float64(n)}
	if raw {
		want["raw"] = float64(n)
	}
	stopProfile := func() error { return nil }
	if raw {
		stopProfile = b.profile("consume")
	}
	mark := markCPU()
	t, err := c.catchUp(ctx, want, limit)
	cpu := markCPU().since(mark, 0)
	if err := errors.Join(err, c.stop(), stopProfile()); err != nil {
		return err
	}
	note := fmt.Sprintf("%.0f rows; %.0f rows/s counted from the start, which includes joining the group (first commit after %s); %s; %s",
		t.rows, t.overallPerSec, t.first.Round(time.Millisecond), insertNote(c.inserts()), cpu.note("consumer", int(t.rows)))
	if !raw {
		*row = noLatency(Row{Area: areaConsumer, Name: nameEvents, Value: t.steadyPerSec, Unit: "events/s",
			Compare: b.versusIngest(t.steadyPerSec), Note: note})
		return nil
	}
	perCallback := t.steadyPerSec / 2 // a callback is one event row and one raw row
	*row = noLatency(Row{Area: areaConsumer, Name: nameConsume, Value: perCallback, Unit: "callbacks/s",
		Compare: b.versusIngest(perCallback), Note: note})
	return nil
}

// shortfall says when a fixed-rate run did not keep up with its offered rate: the server was
// overloaded meanwhile, and its latencies are a queue's.
func shortfall(achieved, offered float64) string {
	if offered <= 0 || achieved >= 0.97*offered {
		return ""
	}
	return fmt.Sprintf("; only %.0f%% of the offered rate was achieved: overloaded", 100*achieved/offered)
}

func (b *run) versusIngest(v float64) string {
	if b.peak <= 0 {
		return "-"
	}
	return fmt.Sprintf("%s ingest peak; aim ≥ 10×: %s", ratio(v, b.peak), verdict(v >= 10*b.peak))
}

// e2e offers a fixed load to the receiver while the consumers run, and measures how long each
// acknowledged message takes to show in the named query analysts use.
func (b *run) e2e(ctx context.Context, row *Row) error {
	rate := b.cfg.E2ERate
	if rate == 0 {
		rate = math.Max(1, math.Round(b.peak/2))
	}
	return b.e2eRun(ctx, row, nameE2E, pipeline.DefaultConfig(), rate, b.cfg.Duration, false)
}

// e2eRun is e2e with consumers of pcfg at rate; fromEnd starts the consumers' groups at the topics'
// ends instead of catching up with what the ingest runs produced.
func (b *run) e2eRun(ctx context.Context, row *Row, title string, pcfg pipeline.Config, rate float64, d time.Duration, fromEnd bool) error {
	b.groups++
	group := fmt.Sprintf("imarchive-bench-%s-%d", b.id, b.groups)
	var extra []kgo.Opt
	if fromEnd {
		extra = append(extra, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
	}
	c, err := startConsumers(ctx, b.main, b.conn, group, true, pcfg, extra...)
	if err != nil {
		return err
	}
	defer func() {
		if err := c.stop(); err != nil {
			b.log.Error("end-to-end consumers", "err", err)
		}
	}()
	if fromEnd {
		if err := b.waitAssigned(ctx, group, 1); err != nil {
			return err
		}
	} else {
		// The consumers, as consume runs them, first catch up with what the ingest runs produced.
		nEv, err := endOffsets(ctx, b.main, b.main.Events())
		if err != nil {
			return err
		}
		nRaw, err := endOffsets(ctx, b.main, b.main.Raw())
		if err != nil {
			return err
		}
		if _, err := c.catchUp(ctx, map[string]float64{"events": float64(nEv), "raw": float64(nRaw)}, 2*time.Minute); err != nil {
			return fmt.Errorf("catch up before the end-to-end run: %w", err)
		}
	}
	before := c.inserts()
	name := fmt.Sprintf("%s (offered %.0f/s)", title, rate)
	logPath := filepath.Join(b.tmp, group+"-accepted.log")
	vis, err := newVisibility(b.conn, benchApp, "2000", logPath, b.cfg.E2EPoll)
	if err != nil {
		*row = failed(areaConsumer, name, err)
		return err
	}
	srv, err := startIngest(b.main, 1, b.log)
	if err != nil {
		*row = failed(areaConsumer, name, err)
		return err
	}
	job := b.loadJob(srv.URL, rate, d)
	job.Config.Channels = 1 // one channel, whose messages message_history lists
	job.AcceptedLog = logPath

	lctx, stopLoad := context.WithCancel(ctx)
	visErr := make(chan error, 1)
	go func() { visErr <- vis.run(lctx, 30*time.Second) }()
	rep, _, lerr := b.load(ctx, job)
	stopLoad()
	verr := <-visErr
	if err := errors.Join(lerr, srv.Close(), verr); err != nil {
		*row = failed(areaConsumer, name, err)
		return err
	}
	if err := checkLoad(rep); err != nil {
		*row = failed(areaConsumer, name, err)
		return err
	}
	res := vis.result()
	*row = Row{Area: areaConsumer, Name: name, Value: rep.Achieved, Unit: "callbacks/s",
		P50: quantile(res.lat, .5), P99: quantile(res.lat, .99), P999: quantile(res.lat, .999),
		Note: fmt.Sprintf("%d of %d acknowledged seen; query every %s (adds up to that), query p50 %s ms; ack p99 %s ms meanwhile; consumers: %s; %s",
			res.seen, res.acked, b.cfg.E2EPoll, ms(quantile(res.pollMs, .5)), ms(rep.Latency.P99), policyNote(pcfg), insertNote(c.inserts().since(before)))}
	row.Compare = strings.TrimPrefix(shortfall(rep.Achieved, rate), "; ")
	if res.seen != res.acked || res.acked != rep.Total.Accepted {
		row.Err = fmt.Sprintf("%d accepted, %d logged, %d seen", rep.Total.Accepted, res.acked, res.seen)
	}
	return nil
}

// scaleStep is one scaling run: ingest with workers receivers on topics of partitions.
type scaleStep struct {
	partitions, workers int
	tc                  kafka.Config
}

// scaleSteps are each partition count with one worker, then each worker count on the most partitions.
func scaleSteps(scale []int) []scaleStep {
	var steps []scaleStep
	most := 0
	for _, n := range scale {
		steps = append(steps, scaleStep{partitions: n, workers: 1})
		most = max(most, n)
	}
	for _, n := range scale {
		if n != 1 {
			steps = append(steps, scaleStep{partitions: most, workers: n})
		}
	}
	return steps
}

// scalingPhase measures ingest at full speed for each scaling step; the first is the base.
func (b *run) scalingPhase(ctx context.Context) error {
	var base float64
	var errs []error
	for i, s := range b.scale {
		name := fmt.Sprintf("ingest, %d partitions, %d workers", s.partitions, s.workers)
		row := b.add(failed(areaScaling, name, errors.New("not run")))
		srv, err := startIngest(s.tc, s.workers, b.log)
		if err != nil {
			*row = failed(areaScaling, name, err)
			errs = append(errs, err)
			continue
		}
		dr, err := b.drive(ctx, srv.URL, 0, b.cfg.ScaleDuration, true)
		if err := errors.Join(err, srv.Close()); err != nil {
			*row = failed(areaScaling, name, err)
			errs = append(errs, err)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		*row = dr.row(areaScaling, name, "callbacks/s", "serve")
		switch {
		case i == 0:
			base = row.Value
			row.Compare = "the base"
		default:
			row.Compare = ratio(row.Value, base) + " the base"
		}
	}
	return errors.Join(errs...)
}
