package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/imarchive/imarchive/cmd/imarchive-dev/bench"
	"github.com/imarchive/imarchive/internal/cli"
)

func benchCommand(stdout, stderr io.Writer) *cli.Command {
	c := cli.New("bench", "measure ingest, the producer, the consumer and the hot path beside their ceilings and a peer; print one table",
		`Runs on a real Kafka broker and ClickHouse engine: given with --kafka-brokers and --clickhouse-dsn, or
started from the source tree's scripts/kafka.sh and scripts/chdb.sh on --kafka-port and --chdb-port
(and stopped at the end). Topics and a database of its own are created and removed at the end.
Measured, each in the same run: ingest of signed NetEase message callbacks (verified, normalized,
deduplicated, acks=all) from the load generator in a child process, beside a bare net/http handler
and a raw franz-go producer of the same records; the same records through segmentio/kafka-go;
the pipeline consumers into ClickHouse and end-to-end latency at a fixed load; the insert rate per
table of 1 and 3 consumers and the latency at a light load, with the flush policy before and after
the insert interval (issue 18); ingest with 1, 2, 4
partitions and ingest workers; and, from the source tree, go test -bench -benchmem of the hot path
and the dedupe window's memory. Progress goes to stderr, the table to stdout. The default run takes
about two minutes on 2 cores. Speed depends on the machine and on what else runs on it: the load
average is printed beside the table. Exits 1 when a part could not be measured.`)
	var (
		cfg     = bench.DefaultConfig()
		lf      cli.LogFlags
		brokers string
		scale   string
		format  string
	)
	c.Str(&lf.Level, "log-level", "IMARCHIVE_LOG_LEVEL", "warn", "log level of the measured parts: debug, info, warn, error")
	c.Str(&lf.Format, "log-format", "IMARCHIVE_LOG_FORMAT", "text", "log format: json or text")
	c.Str(&brokers, "kafka-brokers", "IMARCHIVE_BENCH_KAFKA_BROKERS", "", "Kafka brokers to measure on (empty: start scripts/kafka.sh on --kafka-port)")
	c.Str(&cfg.ClickHouseDSN, "clickhouse-dsn", "IMARCHIVE_BENCH_CLICKHOUSE_DSN", "", "ClickHouse DSN to measure on; a database of the bench's own is created in it (empty: start scripts/chdb.sh on --chdb-port)")
	c.Str(&cfg.SourceDir, "source-dir", "IMARCHIVE_BENCH_SOURCE_DIR", "", "the imarchive source tree, for scripts/ and the go test benchmarks (empty: the working directory or above)")
	c.Str(&cfg.ServiceDir, "service-dir", "IMARCHIVE_BENCH_SERVICE_DIR", "", "data directory of the services the bench starts (empty: SOURCE/.testenv/bench)")
	c.Integer(&cfg.KafkaPort, "kafka-port", "IMARCHIVE_BENCH_KAFKA_PORT", cfg.KafkaPort, "port of the Kafka broker the bench starts (the controller takes the next one)")
	c.Integer(&cfg.CHDBPort, "chdb-port", "IMARCHIVE_BENCH_CHDB_PORT", cfg.CHDBPort, "port of the ClickHouse engine the bench starts")
	c.Duration(&cfg.Prime, "prime", "IMARCHIVE_BENCH_PRIME", cfg.Prime, "a first ingest run whose figures are dropped (a JVM broker compiles its hot code in its first seconds)")
	c.Duration(&cfg.Duration, "duration", "IMARCHIVE_BENCH_DURATION", cfg.Duration, "length of each measured run")
	c.Duration(&cfg.Warmup, "warmup", "IMARCHIVE_BENCH_WARMUP", cfg.Warmup, "warm-up before each full-speed run (its figures are dropped)")
	c.Duration(&cfg.ScaleDuration, "scale-duration", "IMARCHIVE_BENCH_SCALE_DURATION", cfg.ScaleDuration, "length of each scaling run")
	c.Integer(&cfg.Concurrency, "concurrency", "IMARCHIVE_BENCH_CONCURRENCY", cfg.Concurrency, "callbacks in flight (load generator), and goroutines of the raw producers")
	c.Integer(&cfg.Partitions, "partitions", "IMARCHIVE_BENCH_PARTITIONS", cfg.Partitions, "partitions of the topics of the main runs")
	c.Integer(&cfg.ConsumeRows, "consume-rows", "IMARCHIVE_BENCH_CONSUME_ROWS", cfg.ConsumeRows, "most events (and raw records) each consumer run reads")
	c.Str(&scale, "scale", "IMARCHIVE_BENCH_SCALE", "1,2,4", "partition and ingest worker counts of the scaling runs")
	c.FS.Float64Var(&cfg.E2ERate, "e2e-rate", 0, "offered callbacks/s of the end-to-end run (0: half of the ingest peak)")
	c.Env("e2e-rate", "IMARCHIVE_BENCH_E2E_RATE")
	c.FS.Float64Var(&cfg.LightRate, "light-rate", cfg.LightRate, "offered callbacks/s of the light-load end-to-end runs (the flush policy before and after)")
	c.Env("light-rate", "IMARCHIVE_BENCH_LIGHT_RATE")
	c.Duration(&cfg.E2EPoll, "e2e-poll", "IMARCHIVE_BENCH_E2E_POLL", cfg.E2EPoll, "how often the end-to-end run queries ClickHouse for new messages")
	c.FS.BoolVar(&cfg.Micro, "micro", cfg.Micro, "run the go test microbenchmarks (needs the source tree and go)")
	c.Env("micro", "IMARCHIVE_BENCH_MICRO")
	c.Str(&cfg.MicroTime, "micro-time", "IMARCHIVE_BENCH_MICRO_TIME", cfg.MicroTime, "-benchtime of the microbenchmarks")
	c.Str(&cfg.ProfileDir, "profile-dir", "IMARCHIVE_BENCH_PROFILE_DIR", "", "write CPU and allocation profiles of the ingest peak run and of consume as deployed here (go tool pprof)")
	c.FS.BoolVar(&cfg.Keep, "keep", false, "keep the bench's topics and database")
	c.Env("keep", "IMARCHIVE_BENCH_KEEP")
	c.Str(&format, "format", "IMARCHIVE_BENCH_FORMAT", "text", "table format: text, markdown or json")
	c.Run = func(args []string) error {
		bench.MaybeChild() // the load generator's child process: runs its job and exits
		if err := c.Parse(args); err != nil {
			return err
		}
		log, err := lf.Logger(stderr)
		if err != nil {
			return err
		}
		cfg.KafkaBrokers = cli.SplitList(brokers)
		cfg.Scale = nil
		for _, s := range cli.SplitList(scale) {
			n, err := strconv.Atoi(s)
			if err != nil {
				return fmt.Errorf("scale %q: want counts like 1,2,4", scale)
			}
			cfg.Scale = append(cfg.Scale, n)
		}
		if format != "text" && format != "markdown" && format != "json" {
			return fmt.Errorf("format %q: want text, markdown or json", format)
		}
		if err := cfg.Validate(); err != nil {
			return err
		}
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this binary to run the load generator: %w", err)
		}
		cfg.Self = []string{exe, "bench"}
		cfg.Log = log
		cfg.Progress = stderr
		ctx, stop := cli.SignalContext()
		defer stop()
		start := time.Now()
		rep, err := bench.Run(ctx, cfg)
		if rep != nil && len(rep.Rows) > 0 {
			if err := writeReport(stdout, format, rep); err != nil {
				return err
			}
		}
		if err != nil {
			return err
		}
		if f := rep.Failures(); len(f) > 0 {
			names := make([]string, len(f))
			for i, r := range f {
				names[i] = r.Area + ": " + r.Name
			}
			return fmt.Errorf("%d parts not measured (see the table's notes): %s", len(f), strings.Join(names, "; "))
		}
		fmt.Fprintf(stderr, "bench: done in %s\n", time.Since(start).Round(time.Second))
		return nil
	}
	return c
}

// report is what bench and bench-queries print: a table as text or markdown, or the report as JSON.
type report interface {
	WriteText(io.Writer) error
	WriteMarkdown(io.Writer) error
}

// writeReport writes rep to w in format (text, markdown or json).
func writeReport(w io.Writer, format string, rep report) error {
	switch format {
	case "markdown":
		return rep.WriteMarkdown(w)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	default:
		return rep.WriteText(w)
	}
}
