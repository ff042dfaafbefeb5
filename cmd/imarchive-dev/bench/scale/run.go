package scale

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"github.com/imarchive/imarchive/cmd/imarchive-dev/bench"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/queries"
	"github.com/imarchive/imarchive/schema"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// Config says what to generate and time.
type Config struct {
	// DSN of the ClickHouse to measure on (HTTP); a database per scale is created in it
	// (Database + "_" + the scale), dropped at the end unless Keep.
	DSN      string
	Database string
	// Scales are the archive sizes in messages, smallest first; the growth factor is against the first.
	Scales []int64
	// Days the archive spans, ending at End (when zero: the hour Run starts, or with Reuse the kept
	// archive's own end, the hour after its last message).
	Days int
	End  time.Time
	// Chunk is how many messages one INSERT … SELECT writes (with everything that goes with them).
	Chunk int64
	// Ranges are the time ranges each query with from and to is timed over, ending at End.
	Ranges []time.Duration
	// Runs of each query; the median is reported.
	Runs int
	// DashboardDir holds the generated dashboards (dashboards/json); empty: panels are not timed.
	DashboardDir string
	// Only, when set, times only the cases whose name matches it.
	Only *regexp.Regexp
	// Reuse times an existing database of the scale (generated before with Keep) instead of generating.
	Reuse bool
	Keep  bool
	// Timeout of one query run.
	Timeout time.Duration

	Log      *slog.Logger // nil: discarded
	Progress io.Writer    // one line per step; nil: none
}

// DefaultConfig: 1 M messages over 90 days, each query three times over a day, a week and 90 days.
func DefaultConfig() Config {
	return Config{
		Database: "imarchive_scale",
		Scales:   []int64{1_000_000},
		Days:     90,
		Chunk:    1_000_000,
		Ranges:   []time.Duration{24 * time.Hour, 7 * 24 * time.Hour, 90 * 24 * time.Hour},
		Runs:     3,
		Timeout:  5 * time.Minute,
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.DSN == "" {
		errs = append(errs, errors.New("no ClickHouse DSN"))
	}
	if len(c.Scales) == 0 {
		errs = append(errs, errors.New("no scale (want e.g. 1M,10M)"))
	}
	for _, s := range c.Scales {
		if s < 1000 {
			errs = append(errs, fmt.Errorf("scale %d: want at least 1000 messages", s))
		}
	}
	if c.Days < 1 {
		errs = append(errs, fmt.Errorf("days %d: want at least 1", c.Days))
	}
	if c.Chunk < 1000 {
		errs = append(errs, fmt.Errorf("chunk %d: want at least 1000", c.Chunk))
	}
	if c.Runs < 1 {
		errs = append(errs, fmt.Errorf("runs %d: want at least 1", c.Runs))
	}
	if c.Database == "" {
		errs = append(errs, errors.New("no database name"))
	}
	return errors.Join(errs...)
}

// ParseCount reads a message count: 1000000, 1M, 10M, 1.5M, 100k, 1G.
func ParseCount(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "k"), strings.HasSuffix(t, "K"):
		mult, t = 1e3, t[:len(t)-1]
	case strings.HasSuffix(t, "M"), strings.HasSuffix(t, "m"):
		mult, t = 1e6, t[:len(t)-1]
	case strings.HasSuffix(t, "G"), strings.HasSuffix(t, "g"), strings.HasSuffix(t, "B"):
		mult, t = 1e9, t[:len(t)-1]
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("count %q: want a positive number like 1000000, 1M or 10M", s)
	}
	return int64(f * mult), nil
}

// FormatCount writes a count as ParseCount reads it: 1M, 10M, 1.5M, 100k.
func FormatCount(n int64) string {
	switch {
	case n >= 1e6 && n%1e5 == 0:
		return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64) + "M"
	case n >= 1e3 && n%100 == 0:
		return strconv.FormatFloat(float64(n)/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatInt(n, 10)
}

// Timing is one case at one scale.
type Timing struct {
	Median time.Duration
	Rows   int
	Err    string
}

// Result is one case (name and range) at every scale.
type Result struct {
	Case   Case
	Timing map[int64]Timing
}

// Storage is a table's size at one scale.
type Storage struct {
	Table string
	Rows  uint64
	Bytes uint64
	Parts uint64
}

// Report is what Run measured.
type Report struct {
	Started  time.Time
	Took     time.Duration
	Machine  string
	LoadAvg  [2]string // at the start and at the end
	Engine   string
	Scales   []int64
	Generate map[int64]time.Duration
	Storage  map[int64][]Storage
	Results  []Result
}

func (c *Config) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, "bench-queries: "+format+"\n", args...)
	}
}

// Run generates every scale and times every case on each.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.End.IsZero() && !cfg.Reuse {
		cfg.End = time.Now().UTC().Truncate(time.Hour)
	}
	scales := slices.Clone(cfg.Scales)
	slices.Sort(scales)
	named, err := NamedCases(cfg.Ranges)
	if err != nil {
		return nil, err
	}
	cases := named
	if cfg.DashboardDir != "" {
		panels, err := PanelCases(cfg.DashboardDir, cfg.Ranges)
		if err != nil {
			return nil, err
		}
		cases = append(cases, panels...)
	}
	if cfg.Only != nil {
		cases = slices.DeleteFunc(cases, func(c Case) bool { return !cfg.Only.MatchString(c.Name) })
	}
	rep := &Report{Started: time.Now().UTC(), Machine: machine(), Scales: scales,
		Generate: map[int64]time.Duration{}, Storage: map[int64][]Storage{}}
	rep.LoadAvg[0] = bench.LoadAvg()
	results := make([]Result, len(cases))
	for i, c := range cases {
		results[i] = Result{Case: c, Timing: map[int64]Timing{}}
	}
	for _, n := range scales {
		if err := runScale(ctx, &cfg, n, rep, results); err != nil {
			rep.Results = results
			return rep, err
		}
	}
	rep.Results = results
	rep.LoadAvg[1] = bench.LoadAvg()
	rep.Took = time.Since(rep.Started).Round(time.Second)
	return rep, nil
}

func runScale(ctx context.Context, cfg *Config, n int64, rep *Report, results []Result) (err error) {
	opts, err := chconn.Options(cfg.DSN)
	if err != nil {
		return err
	}
	opts.Auth.Database = cfg.Database + "_" + strings.ToLower(FormatCount(n))
	opts.ReadTimeout = max(cfg.Timeout, 30*time.Minute) // an INSERT … SELECT of a million messages
	if cfg.Reuse {
		if err := databaseExists(ctx, opts); err != nil {
			return err
		}
	} else if err := dropDatabase(ctx, opts); err != nil {
		return err
	}
	if err := chconn.EnsureDatabase(ctx, opts); err != nil {
		return err
	}
	conn, err := chconn.OpenOptions(ctx, opts)
	if err != nil {
		return err
	}
	defer conn.Close()
	// A reused database stays: it was kept to be timed again, and generating it again takes long.
	if !cfg.Keep && !cfg.Reuse {
		defer func() { err = errors.Join(err, dropDatabase(context.Background(), opts)) }()
	}
	var v string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&v); err == nil {
		rep.Engine = "ClickHouse " + v
	}
	end := cfg.End
	if end.IsZero() { // --reuse: the ranges end where the kept archive does, whenever it is timed again
		if err := conn.QueryRow(ctx, "SELECT toStartOfHour(max(msg_time)) + INTERVAL 1 HOUR FROM messages_data").Scan(&end); err != nil {
			return fmt.Errorf("the kept archive's end (pass --end): %w", err)
		}
		end = end.UTC()
		cfg.progress("%s: the kept archive ends at %s", FormatCount(n), end.Format(time.RFC3339))
	}
	start := end.Add(-time.Duration(cfg.Days) * 24 * time.Hour)
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	// A kept database gets the migrations added since it was generated, as an upgraded archive
	// would: their backfills fill new tables from what it holds.
	t0 := time.Now()
	applied, err := schema.Migrate(ctx, conn, log)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", opts.Auth.Database, err)
	}
	if cfg.Reuse && len(applied.Applied) > 0 {
		cfg.progress("%s: applied %d migrations to the kept database in %s", FormatCount(n), len(applied.Applied), time.Since(t0).Round(time.Second))
		// Their tables settle as a generated archive's do: closed partitions merged to one part.
		if err := settle(ctx, cfg, conn); err != nil {
			return err
		}
	}
	if !cfg.Reuse {
		t0 = time.Now()
		if err := generate(ctx, cfg, conn, n, start); err != nil {
			return err
		}
		if err := settle(ctx, cfg, conn); err != nil {
			return err
		}
		rep.Generate[n] = time.Since(t0).Round(time.Second)
	}
	st, err := storage(ctx, conn)
	if err != nil {
		return err
	}
	rep.Storage[n] = st
	probed, err := probe(ctx, conn, start, end)
	if err != nil {
		return err
	}
	for i := range results {
		c := results[i].Case
		results[i].Timing[n] = timeCase(ctx, cfg, conn, c, probed)
		t := results[i].Timing[n]
		cfg.progress("%s %s %s: %s, %d rows %s", FormatCount(n), c.Name, rangeName(c.Range), t.Median.Round(time.Millisecond), t.Rows, t.Err)
	}
	return nil
}

// databaseExists says what to do when --reuse names a database no --keep run left.
func databaseExists(ctx context.Context, opts *clickhouse.Options) error {
	return onDefault(ctx, opts, func(conn driver.Conn, db string) error {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = ?", db).Scan(&n); err != nil {
			return fmt.Errorf("look for kept database %s: %w", db, err)
		}
		if n == 0 {
			return fmt.Errorf("--reuse: no kept database %s here: generate it once with --keep (without --reuse)", db)
		}
		return nil
	})
}

func dropDatabase(ctx context.Context, opts *clickhouse.Options) error {
	return onDefault(ctx, opts, func(conn driver.Conn, db string) error {
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+db+"` SYNC"); err != nil {
			return fmt.Errorf("drop database %s: %w", db, err)
		}
		return nil
	})
}

// onDefault runs fn over a connection to the server's default database (the bench's own database
// may not exist yet, or is the one being dropped), with that database's name.
func onDefault(ctx context.Context, opts *clickhouse.Options, fn func(conn driver.Conn, db string) error) error {
	o := *opts
	o.Auth.Database = "default"
	conn, err := chconn.OpenOptions(ctx, &o)
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(conn, opts.Auth.Database)
}

// statements returns the statements of an embedded sql/ file.
func statements(name string) ([]string, error) {
	b, err := sqlFiles.ReadFile("sql/" + name)
	if err != nil {
		return nil, err
	}
	return schema.Split(string(b)), nil
}

// generate writes the archive chunk by chunk, in time order, as the consumers would over 90 days.
func generate(ctx context.Context, cfg *Config, conn driver.Conn, n int64, start time.Time) error {
	span := time.Duration(cfg.Days) * 24 * time.Hour
	steps := []struct {
		file   string
		repeat string
	}{
		{"messages.sql", "0"}, {"message_updates.sql", ""}, {"presence.sql", ""}, {"community.sql", ""},
		{"messages.sql", "1"}, {"raw.sql", ""},
	}
	for lo := int64(0); lo < n; lo += cfg.Chunk {
		hi := min(n, lo+cfg.Chunk)
		p := map[string]string{
			"n": fmt.Sprint(n), "lo": fmt.Sprint(lo), "hi": fmt.Sprint(hi),
			"start_ms": fmt.Sprint(start.UnixMilli()), "span_ms": fmt.Sprint(span.Milliseconds()),
			"from_ms": fmt.Sprint(start.UnixMilli() + lo*span.Milliseconds()/n),
			"to_ms":   fmt.Sprint(start.UnixMilli() + hi*span.Milliseconds()/n),
		}
		t0 := time.Now()
		for _, s := range steps {
			stmts, err := statements(s.file)
			if err != nil {
				return err
			}
			p["repeat"] = s.repeat
			for _, st := range stmts {
				if err := exec(ctx, conn, st, p); err != nil {
					return fmt.Errorf("generate %s (messages %d to %d): %w", s.file, lo, hi, err)
				}
			}
		}
		cfg.progress("%s: messages %d to %d written in %s", FormatCount(n), lo, hi, time.Since(t0).Round(100*time.Millisecond))
	}
	stmts, err := statements("chain.sql")
	if err != nil {
		return err
	}
	for _, st := range stmts {
		if err := exec(ctx, conn, st, nil); err != nil {
			return fmt.Errorf("generate chain.sql: %w", err)
		}
	}
	return nil
}

// exec runs one statement with the parameters it uses (ClickHouse refuses unknown ones in some
// places, so only those named in the text are passed).
func exec(ctx context.Context, conn driver.Conn, sql string, params map[string]string) error {
	used := map[string]string{}
	for k, v := range params {
		if strings.Contains(sql, "{"+k+":") {
			used[k] = v
		}
	}
	ctx = clickhouse.Context(ctx, clickhouse.WithParameters(used), clickhouse.WithSettings(chconn.DDLSettings()))
	return conn.Exec(ctx, sql)
}

// settle lets the engine's merges finish, then merges every partition but each table's newest to one
// part, as min_age_to_force_merge_seconds keeps closed partitions.
func settle(ctx context.Context, cfg *Config, conn driver.Conn) error {
	if err := waitMerges(ctx, conn); err != nil {
		return err
	}
	rows, err := conn.Query(ctx, `
		SELECT p.table, p.partition_id
		FROM (SELECT table, partition_id, count() AS parts FROM system.parts
		      WHERE database = currentDatabase() AND active GROUP BY table, partition_id) AS p
		JOIN (SELECT table, max(partition_id) AS newest FROM system.parts
		      WHERE database = currentDatabase() AND active GROUP BY table) AS t ON p.table = t.table
		WHERE p.parts > 1 AND p.partition_id != t.newest
		ORDER BY p.table, p.partition_id`)
	if err != nil {
		return fmt.Errorf("list partitions: %w", err)
	}
	type tp struct{ table, partition string }
	var todo []tp
	for rows.Next() {
		var t tp
		if err := rows.Scan(&t.table, &t.partition); err != nil {
			rows.Close()
			return err
		}
		todo = append(todo, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range todo {
		cfg.progress("merging %s partition %s to one part", t.table, t.partition)
		if err := conn.Exec(ctx, fmt.Sprintf("OPTIMIZE TABLE `%s` PARTITION ID '%s' FINAL", t.table, t.partition)); err != nil {
			return fmt.Errorf("optimize %s partition %s: %w", t.table, t.partition, err)
		}
	}
	return waitMerges(ctx, conn)
}

func waitMerges(ctx context.Context, conn driver.Conn) error {
	for {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.merges WHERE database = currentDatabase()").Scan(&n); err != nil {
			return fmt.Errorf("watch merges: %w", err)
		}
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func storage(ctx context.Context, conn driver.Conn) ([]Storage, error) {
	rows, err := conn.Query(ctx, `
		SELECT table, sum(rows), sum(bytes_on_disk), count()
		FROM system.parts
		WHERE database = currentDatabase() AND active
		GROUP BY table
		ORDER BY sum(bytes_on_disk) DESC, table`)
	if err != nil {
		return nil, fmt.Errorf("table sizes: %w", err)
	}
	defer rows.Close()
	var out []Storage
	for rows.Next() {
		var s Storage
		if err := rows.Scan(&s.Table, &s.Rows, &s.Bytes, &s.Parts); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// timeCase runs a case Runs times and keeps the median.
func timeCase(ctx context.Context, cfg *Config, conn driver.Conn, c Case, probed map[string]string) Timing {
	end, err := time.Parse(time.RFC3339, probed["end"])
	if err != nil {
		return Timing{Err: err.Error()}
	}
	params, err := c.Params(end, probed)
	if err != nil {
		return Timing{Err: err.Error()}
	}
	q, err := queries.Get(c.Query)
	if err != nil {
		return Timing{Err: err.Error()}
	}
	var times []time.Duration
	rows := 0
	for range cfg.Runs {
		qctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		t0 := time.Now()
		n, err := queries.Run(qctx, conn, q, params, "csv", io.Discard)
		d := time.Since(t0)
		cancel()
		if err != nil {
			return Timing{Median: d, Err: err.Error()}
		}
		times = append(times, d)
		rows = n
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return Timing{Median: times[len(times)/2], Rows: rows}
}

func rangeName(r time.Duration) string {
	switch {
	case r == 0:
		return "-"
	case r%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", r/(24*time.Hour))
	}
	return r.String()
}
