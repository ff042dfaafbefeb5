package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/connectors"
	"github.com/imarchive/imarchive/internal/loadgen"
	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/schema"
)

var discard = slog.New(slog.DiscardHandler)

// Areas of the table.
const (
	areaIngest   = "ingest"
	areaProducer = "producer"
	areaConsumer = "consumer"
	areaInsert   = "insert rate"
	areaScaling  = "scaling"
	areaMemory   = "memory"
	areaHotPath  = "hot path"
)

// run is one bench run's state.
type run struct {
	cfg    Config
	src    string
	log    *slog.Logger
	rep    *Report
	rows   []*Row
	id     string
	seedN  uint64
	base   kafka.Config // brokers and the run's topic prefix
	main   kafka.Config // the main runs' topics
	conn   driver.Conn
	db     string
	tmp    string
	made   []string       // topics created, deleted at the end
	want   []kafka.Config // the topic sets created
	scale  []scaleStep    // the scaling runs, with their topics
	admin  *kgo.Client
	stops  []func() error
	peak   float64 // the ingest peak, callbacks/s
	ingest *Row

	pairs         []pair       // records ingest produced, read back
	produceTopics kafka.Config // where the producers send them
	primeTopics   kafka.Config // where the priming run sends
	rateTopics    kafka.Config // where the insert rate runs send, at full speed
	rawCeiling    float64      // the raw franz-go producer, callbacks/s
	groups        int          // consumer groups started
}

// Run measures everything the configuration asks for and returns the table. An error is returned
// only when the run could not start (no Kafka, no ClickHouse) or was cancelled; a part that could not
// be measured has its row's Err set instead.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bench config: %w", err)
	}
	b := &run{cfg: cfg, log: cfg.Log, src: FindSourceDir(cfg.SourceDir), rep: &Report{}}
	if b.log == nil {
		b.log = discard
	}
	start := time.Now()
	b.rep.Machine = Machine{CPU: cpuModel(), Cores: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		GoVersion: runtime.Version(), LoadBefore: LoadAvg(), Started: start}
	defer func() {
		for _, r := range b.rows {
			b.rep.Rows = append(b.rep.Rows, *r)
		}
		b.rep.Machine.LoadAfter = LoadAvg()
		b.rep.Machine.Elapsed = time.Since(start).Round(100 * time.Millisecond).String()
		err = errJoin(err, b.cleanup())
	}()
	if err := b.setup(ctx); err != nil {
		return b.rep, err
	}
	phases := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"priming the broker and the receiver", b.primePhase},
		{"ingest and its ceilings", b.ingestPhase},
		{"producer peer", b.peerPhase},
		{"ingest at half of peak", b.halfPhase},
		{"consumer", b.consumerPhase},
		{"insert rate and light load, flush policy before and after", b.insertRatePhase},
		{"scaling", b.scalingPhase},
		{"go test microbenchmarks", b.microPhase},
	}
	for _, p := range phases {
		b.progress("%s…", p.name)
		t0 := time.Now()
		if err := p.fn(ctx); err != nil {
			if ctx.Err() != nil {
				return b.rep, ctx.Err()
			}
			b.log.Error("bench phase failed", "phase", p.name, "err", err)
		}
		b.progress("%s done in %s (load average %s)", p.name, time.Since(t0).Round(100*time.Millisecond), LoadAvg())
	}
	return b.rep, nil
}

func (b *run) progress(format string, args ...any) {
	if b.cfg.Progress != nil {
		fmt.Fprintf(b.cfg.Progress, "bench: "+format+"\n", args...)
	}
}

// add appends a row to the table and returns it, to be filled in as the part goes on.
func (b *run) add(r Row) *Row {
	p := &r
	b.rows = append(b.rows, p)
	return p
}

// seed returns a new load generator seed: each run's message ids are its own.
func (b *run) seed() uint64 {
	b.seedN++
	return b.seedN*0x9e3779b97f4a7c15 ^ uint64(time.Now().UnixNano())
}

func (b *run) setup(ctx context.Context) error {
	rnd := make([]byte, 4)
	rand.Read(rnd)
	b.id = hex.EncodeToString(rnd)
	tmp, err := os.MkdirTemp("", "imarchive-bench-")
	if err != nil {
		return err
	}
	b.tmp = tmp

	brokers := b.cfg.KafkaBrokers
	b.rep.Machine.Kafka = "given: " + strings.Join(brokers, ",")
	if len(brokers) == 0 {
		s, err := b.service("kafka", b.cfg.KafkaPort)
		if err != nil {
			return err
		}
		b.progress("starting Kafka (scripts/kafka.sh) on port %d", s.port)
		stop, err := s.ensure(ctx)
		if err != nil {
			return err
		}
		if stop != nil {
			b.stops = append(b.stops, stop)
		}
		brokers = []string{"127.0.0.1:" + strconv.Itoa(s.port)}
		b.rep.Machine.Kafka = "Apache Kafka " + envOr("IMARCHIVE_KAFKA_VERSION", "4.1.1") + " (scripts/kafka.sh, one KRaft node, same machine) at " + brokers[0]
	}
	dsn := b.cfg.ClickHouseDSN
	b.rep.Machine.ClickHouse = "given: " + connectors.MaskURL(dsn)
	if dsn == "" {
		s, err := b.service("chdb", b.cfg.CHDBPort)
		if err != nil {
			return err
		}
		b.progress("starting the ClickHouse engine (scripts/chdb.sh) on port %d", s.port)
		stop, err := s.ensure(ctx)
		if err != nil {
			return err
		}
		if stop != nil {
			b.stops = append(b.stops, stop)
		}
		dsn = "http://127.0.0.1:" + strconv.Itoa(s.port) + "/default"
		b.rep.Machine.ClickHouse = "chDB behind its HTTP shim (scripts/chdb.sh, same machine) at " + dsn
	}

	b.base = kafka.DefaultConfig()
	b.base.Brokers = brokers
	b.base.Prefix = "imarchive-bench." + b.id + "."
	b.admin, err = kgo.NewClient(b.base.ClientOptions(b.log)...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := kafka.Ping(pctx, b.admin); err != nil {
		return err
	}
	// Every topic is created now, and the runs start once all have leaders: a topic created a moment
	// before would be measured while the broker still sets it up.
	if b.main, err = b.topicSet(ctx, "main", b.cfg.Partitions); err != nil {
		return err
	}
	if b.produceTopics, err = b.topicSet(ctx, "produce", b.cfg.Partitions); err != nil {
		return err
	}
	if b.primeTopics, err = b.topicSet(ctx, "prime", b.cfg.Partitions); err != nil {
		return err
	}
	if b.rateTopics, err = b.topicSet(ctx, "rate", max(b.cfg.Partitions, 3)); err != nil {
		return err
	}
	for _, s := range scaleSteps(b.cfg.Scale) {
		if s.tc, err = b.topicSet(ctx, fmt.Sprintf("p%dw%d", s.partitions, s.workers), s.partitions); err != nil {
			return err
		}
		b.scale = append(b.scale, s)
	}
	if err := b.waitTopics(ctx); err != nil {
		return err
	}

	b.db = "imarchive_bench_" + b.id
	u, err := url.Parse(dsn)
	if err != nil {
		return fmt.Errorf("clickhouse DSN: %w", err)
	}
	u.Path = "/" + b.db
	opts, err := chconn.Options(u.String())
	if err != nil {
		return err
	}
	b.progress("creating database %s and applying the schema", b.db)
	if err := chconn.EnsureDatabase(ctx, opts); err != nil {
		return err
	}
	if b.conn, err = chconn.OpenOptions(ctx, opts); err != nil {
		return err
	}
	if _, err := schema.Migrate(ctx, b.conn, b.log); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// topicSet names the raw, events and dead-letter topics of a named set with partitions, and creates
// them; waitTopics waits until they can be written.
func (b *run) topicSet(ctx context.Context, name string, partitions int) (kafka.Config, error) {
	tc := b.base
	tc.Prefix = b.base.Prefix + name + "."
	tc.Partitions = int32(partitions)
	tc.ReplicationFactor = -1
	b.made = append(b.made, tc.All()...)
	b.want = append(b.want, tc)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := tc.Ensure(cctx, b.admin); err != nil {
		return tc, err
	}
	return tc, nil
}

// waitTopics waits until every partition of every topic created has a leader.
func (b *run) waitTopics(ctx context.Context) error {
	adm := kadm.NewClient(b.admin)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		md, err := adm.Metadata(ctx, b.made...)
		missing := 0
		if err == nil {
			for _, tc := range b.want {
				for _, t := range tc.All() {
					td, ok := md.Topics[t]
					if !ok || td.Err != nil || len(td.Partitions) != int(tc.Partitions) {
						missing++
						continue
					}
					for _, p := range td.Partitions {
						if p.Err != nil || p.Leader < 0 {
							missing++
						}
					}
				}
			}
			if missing == 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topics not ready (%d not led yet, last error %v): %w", missing, err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (b *run) cleanup() error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !b.cfg.Keep {
		if b.admin != nil && len(b.made) > 0 {
			if _, err := kadm.NewClient(b.admin).DeleteTopics(ctx, b.made...); err != nil {
				errs = append(errs, fmt.Errorf("delete the bench topics: %w", err))
			}
		}
		if b.conn != nil {
			if err := b.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+b.db); err != nil {
				errs = append(errs, fmt.Errorf("drop the bench database: %w", err))
			}
		}
	}
	if b.conn != nil {
		b.conn.Close()
	}
	if b.admin != nil {
		b.admin.Close()
	}
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
	for i := len(b.stops) - 1; i >= 0; i-- {
		errs = append(errs, b.stops[i]())
	}
	return errors.Join(errs...)
}

// driven is a load generator run's outcome.
type driven struct {
	rep *loadgen.Report
	cpu cpuUse
}

// drive runs the load generator against target, after a warm-up of the same kind when warm, and
// fails when any callback was not accepted.
func (b *run) drive(ctx context.Context, target string, rate float64, d time.Duration, warm bool) (driven, error) {
	if warm && b.cfg.Warmup > 0 {
		rep, _, err := b.load(ctx, b.loadJob(target, rate, b.cfg.Warmup))
		if err != nil {
			return driven{}, fmt.Errorf("warm-up: %w", err)
		}
		if err := checkLoad(rep); err != nil {
			return driven{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	start := markCPU()
	rep, child, err := b.load(ctx, b.loadJob(target, rate, d))
	if err != nil {
		return driven{}, err
	}
	return driven{rep: rep, cpu: markCPU().since(start, child)}, checkLoad(rep)
}

func (d driven) row(area, name, unit, server string) Row {
	l := d.rep.Latency
	return Row{Area: area, Name: name, Value: d.rep.Achieved, Unit: unit, P50: l.P50, P99: l.P99, P999: l.P999,
		Note: d.cpu.note(server, d.rep.Total.Sent)}
}

// cpuPerOp is the server's CPU time per request sent, in seconds (NaN when nothing was sent).
func (d driven) cpuPerOp() float64 {
	if d.rep.Total.Sent == 0 {
		return math.NaN()
	}
	return d.cpu.self.Seconds() / float64(d.rep.Total.Sent)
}

func failed(area, name string, err error) Row {
	return Row{Area: area, Name: name, Err: err.Error(), P50: math.NaN(), P99: math.NaN(), P999: math.NaN()}
}

func ratio(a, b float64) string {
	if b <= 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// Row names that later parts compare with.
const (
	nameBare   = "bare net/http handler: read body, answer 200 (ceiling)"
	nameIngest = "imarchive ingest: NetEase 48, verified, normalized, deduped, acks=all"
	nameRaw    = "raw franz-go producer, the same records, no HTTP (ceiling)"
	nameSpool  = "imarchive ingest while spooling: Kafka unreachable, answered once fsynced to the local spool"
)

// spoolRow measures the receiver while Kafka is unreachable: every callback answered from the
// spool, at full speed, beside the Kafka path's row.
func (b *run) spoolRow(ctx context.Context) {
	row := b.add(failed(areaIngest, nameSpool, errors.New("not run")))
	srv, err := startIngestSpooling(b.main, b.cfg.ServiceDir, b.log)
	if err != nil {
		*row = failed(areaIngest, nameSpool, err)
		return
	}
	dr, err := b.drive(ctx, srv.URL, 0, b.cfg.Duration, true)
	note := srv.spoolNote()
	if err := errors.Join(err, srv.Close()); err != nil {
		*row = failed(areaIngest, nameSpool, err)
		return
	}
	*row = dr.row(areaIngest, nameSpool, "callbacks/s", "serve")
	row.Note = fmt.Sprintf("1 receiver, %d in flight, group-committed fsync per batch of appends; %s; %s", b.cfg.Concurrency, note, row.Note)
	row.Compare = fmt.Sprintf("%s the Kafka path", ratio(row.Value, b.ingest.Value))
}

// primePhase runs ingest at full speed for Prime and drops the figures.
func (b *run) primePhase(ctx context.Context) error {
	if b.cfg.Prime <= 0 {
		return nil
	}
	srv, err := startIngest(b.primeTopics, 1, b.log)
	if err != nil {
		return err
	}
	_, err = b.drive(ctx, srv.URL, 0, b.cfg.Prime, false)
	return errors.Join(err, srv.Close())
}

// ingestPhase measures the bare handler, the real receiver at full speed, and the raw producer with
// the records the receiver produced.
func (b *run) ingestPhase(ctx context.Context) error {
	d := b.cfg.Duration
	bareRow := b.add(failed(areaIngest, nameBare, errors.New("not run")))
	bare, err := startHTTP(http.HandlerFunc(bareHandler), b.log)
	if err != nil {
		*bareRow = failed(areaIngest, nameBare, err)
		return err
	}
	dr, err := b.drive(ctx, bare.URL, 0, d, true)
	bareCPU := math.NaN() // the bare handler's CPU per request, s
	if err := errors.Join(err, bare.Close()); err != nil {
		*bareRow = failed(areaIngest, nameBare, err)
	} else {
		*bareRow = dr.row(areaIngest, nameBare, "req/s", "server")
		bareCPU = dr.cpuPerOp()
	}

	b.ingest = b.add(failed(areaIngest, nameIngest, errors.New("not run")))
	rawRow := b.add(failed(areaIngest, nameRaw, errors.New("not run")))
	srv, err := startIngest(b.main, 1, b.log)
	if err != nil {
		*b.ingest = failed(areaIngest, nameIngest, err)
		return err
	}
	stopProfile := b.profile("ingest")
	dr, err = b.drive(ctx, srv.URL, 0, d, true)
	perr := stopProfile()
	if err := errors.Join(err, srv.Close(), perr); err != nil {
		*b.ingest = failed(areaIngest, nameIngest, err)
		return err
	}
	*b.ingest = dr.row(areaIngest, nameIngest, "callbacks/s", "serve")
	serveCPU := dr.cpuPerOp()
	b.peak = dr.rep.Achieved
	b.ingest.Note = fmt.Sprintf("1 receiver, %d partitions, %d in flight; %s; %s", b.cfg.Partitions, b.cfg.Concurrency, srv.ackNote(), b.ingest.Note)
	b.spoolRow(ctx)

	// The raw ceiling: the same records again, from as many goroutines as the generator has requests
	// in flight, each waiting for its pair's acknowledgement as a handler does.
	pairs, err := readBack(ctx, b.main, min(4096, dr.rep.Total.Accepted))
	if err != nil {
		*rawRow = failed(areaIngest, nameRaw, err)
		return err
	}
	b.pairs = pairs
	p, err := franzProducer(b.produceTopics, true)
	if err != nil {
		*rawRow = failed(areaIngest, nameRaw, err)
		return err
	}
	s, err := b.produceRun(ctx, p, pairs, d)
	p.close()
	if err != nil {
		*rawRow = failed(areaIngest, nameRaw, err)
		return err
	}
	*rawRow = s.row(areaIngest, nameRaw, "callbacks/s")
	rawRow.Note = "a callback = its raw and event record, one ProduceSync; " + rawRow.Note
	b.rawCeiling = rawRow.Value

	bareV := math.NaN()
	if bareRow.Err == "" {
		bareV = bareRow.Value
	}
	b.ingest.Compare = fmt.Sprintf("%s bare handler (aim ≥ 0.7×: %s), %s raw franz-go; CPU per callback %s the bare handler's per request (aim ≤ 1.6×: %s)",
		ratio(b.peak, bareV), verdict(b.peak >= 0.7*bareV), ratio(b.peak, rawRow.Value), ratio(serveCPU, bareCPU), verdict(serveCPU <= 1.6*bareCPU))
	return nil
}
