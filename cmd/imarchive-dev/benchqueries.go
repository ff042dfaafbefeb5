package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/imarchive/imarchive/cmd/imarchive-dev/bench"
	"github.com/imarchive/imarchive/cmd/imarchive-dev/bench/scale"
	"github.com/imarchive/imarchive/internal/cli"
)

func benchQueriesCommand(stdout, stderr io.Writer) *cli.Command {
	c := cli.New("bench-queries", "time every named query and dashboard panel on a generated archive of 1M, 10M… messages; print one table",
		`Generates a realistic archive straight into the storage tables of a fresh database, in SQL (90 days;
NetEase, iLink and Maxim messages in 5,000 channels and 300 servers from 100,000 accounts with a
skew; Chinese bodies; 2 % delivered twice; edits; presence a fifth of the volume; community events;
the raw archive), at each scale of --messages, then times every named query (queries/) and every
ClickHouse panel and variable of the dashboards (dashboards/json of the source tree) over 1 day,
7 days and 90 days, the median of --runs, and prints one table with the growth from the first scale.
Runs on the ClickHouse of --clickhouse-dsn (a database per scale is created and dropped), or starts
scripts/chdb.sh on --chdb-port. 1M takes about ten minutes on 2 cores, 10M about an hour; check the
disk for larger scales (10M: some 4 GB). Progress goes to stderr, the table to stdout.`)
	var (
		dsn, messages, ranges, only, format, sourceDir string
		end                                            string
		cfg                                            = scale.DefaultConfig()
		port                                           = 18323
		days                                           = cfg.Days
		runs                                           = cfg.Runs
		lf                                             cli.LogFlags
	)
	c.Str(&lf.Level, "log-level", "IMARCHIVE_LOG_LEVEL", "warn", "log level: debug, info, warn, error")
	c.Str(&lf.Format, "log-format", "IMARCHIVE_LOG_FORMAT", "text", "log format: json or text")
	c.Str(&dsn, "clickhouse-dsn", "IMARCHIVE_BENCH_CLICKHOUSE_DSN", "", "ClickHouse (HTTP) to measure on; databases of the bench's own are created in it (empty: start scripts/chdb.sh on --chdb-port)")
	c.Integer(&port, "chdb-port", "IMARCHIVE_BENCH_CHDB_PORT", port, "port of the ClickHouse engine the bench starts when no DSN is given")
	c.Str(&sourceDir, "source-dir", "IMARCHIVE_BENCH_SOURCE_DIR", "", "the imarchive source tree, for scripts/chdb.sh and dashboards/json (empty: the working directory or above)")
	c.Str(&messages, "messages", "IMARCHIVE_BENCH_MESSAGES", "1M", "archive sizes in messages, smallest first: e.g. 1M,10M")
	c.Integer(&days, "days", "IMARCHIVE_BENCH_DAYS", days, "days the archive spans")
	c.Str(&end, "end", "IMARCHIVE_BENCH_END", "", "when the archive ends (UTC, RFC 3339; empty: the current hour, or with --reuse the kept archive's end)")
	c.Str(&ranges, "ranges", "IMARCHIVE_BENCH_RANGES", "1d,7d,90d", "time ranges each query is timed over, ending at the archive's end")
	c.Integer(&runs, "runs", "IMARCHIVE_BENCH_RUNS", runs, "runs of each query; the median is reported")
	c.Str(&only, "only", "IMARCHIVE_BENCH_ONLY", "", "time only the queries and panels whose name matches this regular expression")
	c.Duration(&cfg.Timeout, "query-timeout", "IMARCHIVE_BENCH_QUERY_TIMEOUT", cfg.Timeout, "longest a query may run")
	c.FS.BoolVar(&cfg.Keep, "keep", false, "keep the generated databases (imarchive_scale_1m, …); --reuse always keeps them")
	c.Env("keep", "IMARCHIVE_BENCH_KEEP")
	c.FS.BoolVar(&cfg.Reuse, "reuse", false, "time the databases kept by an earlier --keep run instead of generating them (migrations added since are applied first)")
	c.Env("reuse", "IMARCHIVE_BENCH_REUSE")
	c.Str(&format, "format", "IMARCHIVE_BENCH_FORMAT", "text", "table format: text, markdown or json")
	c.Run = func(args []string) error {
		if err := c.Parse(args); err != nil {
			return err
		}
		log, err := lf.Logger(stderr)
		if err != nil {
			return err
		}
		cfg.Scales = nil
		for _, s := range cli.SplitList(messages) {
			n, err := scale.ParseCount(s)
			if err != nil {
				return cli.Usagef("--messages: %v", err)
			}
			cfg.Scales = append(cfg.Scales, n)
		}
		cfg.Ranges = nil
		for _, s := range cli.SplitList(ranges) {
			d, err := parseDays(s)
			if err != nil {
				return cli.Usagef("--ranges: %v", err)
			}
			cfg.Ranges = append(cfg.Ranges, d)
		}
		if end != "" {
			if cfg.End, err = time.Parse(time.RFC3339, end); err != nil {
				return cli.Usagef("--end %q: want RFC 3339, e.g. 2026-04-01T00:00:00Z", end)
			}
		}
		if only != "" {
			if cfg.Only, err = regexp.Compile(only); err != nil {
				return cli.Usagef("--only: %v", err)
			}
		}
		if format != "text" && format != "markdown" && format != "json" {
			return cli.Usagef("format %q: want text, markdown or json", format)
		}
		cfg.Days, cfg.Runs, cfg.Log, cfg.Progress = days, runs, log, stderr
		src := bench.FindSourceDir(sourceDir)
		if src != "" {
			cfg.DashboardDir = filepath.Join(src, "dashboards", "json")
		}
		ctx, stop := cli.SignalContext()
		defer stop()
		cfg.DSN = dsn
		if dsn == "" {
			if src == "" {
				return cli.Usagef("no --clickhouse-dsn and no source tree (scripts/chdb.sh) found: run from the imarchive source tree or give a DSN")
			}
			stopCHDB, err := startCHDB(ctx, src, port)
			if err != nil {
				return err
			}
			defer func() {
				if err := stopCHDB(); err != nil {
					fmt.Fprintf(stderr, "bench-queries: %v\n", err)
				}
			}()
			cfg.DSN = fmt.Sprintf("http://127.0.0.1:%d/default", port)
		}
		rep, err := scale.Run(ctx, cfg)
		if rep != nil && len(rep.Results) > 0 {
			if err := writeReport(stdout, format, rep); err != nil {
				return err
			}
		}
		return err
	}
	return c
}

// parseDays reads a range: 1d, 7d, 90d, or a Go duration (12h).
func parseDays(s string) (time.Duration, error) {
	if n, ok := cutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d < 1 {
			return 0, fmt.Errorf("range %q: want e.g. 1d, 7d, 90d", s)
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("range %q: want e.g. 1d, 7d, 90d or 12h", s)
	}
	return d, nil
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// startCHDB starts scripts/chdb.sh on port with its data under SOURCE/.testenv/bench-queries; the
// function returned stops it.
func startCHDB(ctx context.Context, src string, port int) (func() error, error) {
	env := append(os.Environ(), "IMARCHIVE_TEST_DIR="+filepath.Join(src, ".testenv", "bench-queries"), "IMARCHIVE_CHDB_PORT="+strconv.Itoa(port))
	do := func(ctx context.Context, verb string) error {
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(src, "scripts", "chdb.sh"), verb)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("scripts/chdb.sh %s: %w: %s", verb, err, out)
		}
		return nil
	}
	if err := do(ctx, "start"); err != nil {
		return nil, err
	}
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return do(ctx, "stop")
	}, nil
}
