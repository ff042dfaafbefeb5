package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/compliance/audit"
	"github.com/imarchive/imarchive/internal/cli"
	"github.com/imarchive/imarchive/pipeline"
	"github.com/imarchive/imarchive/queries"
)

// chainFlags are consume's settings of the raw archive's hash chain.
type chainFlags struct {
	on  bool
	cfg audit.ChainConfig
}

func (f *chainFlags) register(c *cli.Command) {
	c.FS.BoolVar(&f.on, "raw-chain", true, "also link every raw record into the raw archive's hash chain (raw_chain; imarchive audit verify checks it)")
	c.Env("raw-chain", "IMARCHIVE_RAW_CHAIN")
	c.Str(&f.cfg.Group, "chain-group", "IMARCHIVE_CHAIN_GROUP", "", "Kafka consumer group of the hash chain (default: the events group + \"-chain\")")
}

func (f *chainFlags) validate(p pipeline.Config) error {
	if !f.on {
		return nil
	}
	return f.cfg.Validate(p)
}

// anchorFlag collects repeated --anchor PARTITION:OFFSET:HASH.
type anchorFlag struct{ list *[]audit.Anchor }

func (a anchorFlag) String() string { return "" }
func (a anchorFlag) Set(s string) error {
	x, err := audit.ParseAnchor(s)
	if err != nil {
		return err
	}
	*a.list = append(*a.list, x)
	return nil
}

func auditCommand(stdout, stderr io.Writer) *cli.Command {
	c := cli.New("audit", "prove from ClickHouse that no raw record in a time range was removed, altered or reordered (imarchive audit verify)",
		`  imarchive audit verify --from TIME --to TIME [--partition N,…] [--anchor PARTITION:OFFSET:HASH …] [--format text|json]
Checks the raw archive against its hash chain (one chain per raw-topic partition, in offset order,
written by consume): every record received in [from, to) and every record between them in its
partition. A raw topic deleted and created again, or read from another Kafka cluster, starts again
at offset 0 under a new Kafka topic ID: its records form a new segment of the partition's chain,
linked to the last record of the one before, and each such epoch boundary is printed with its
reason. Prints each partition's span, every segment's head, and every break — altered, reordered,
removed, unchained, broken_link, bad_hash, forked, anchor — the first one named; exits 1 when there
is one.
Keep the heads it prints (or the chain_heads query's, or an export manifest's) outside the database:
given back as --anchor, a head proves that nothing up to it was rewritten, even by someone who could
recompute the whole chain. Raw records deleted by a recorded retention pass count as expired; records
the raw archive or the chain have not reached yet as pending. TIME: RFC 3339, '2026-03-01 10:00:00'
(UTC) or Unix milliseconds.`)
	var (
		lf         cli.LogFlags
		dsn        string
		from, to   string
		partitions string
		format     string
		anchors    []audit.Anchor
	)
	c.Group(cli.Subcommand{Name: "verify", Summary: "check the raw archive received in [--from, --to) against its hash chain; exit 1 on a break"})
	lf.Register(c)
	c.Str(&dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN (required)")
	c.FS.StringVar(&from, "from", "", "start of the range, inclusive (required)")
	c.FS.StringVar(&to, "to", "", "end of the range, exclusive (required)")
	c.FS.StringVar(&partitions, "partition", "", "only these raw-topic partitions, comma-separated (default: all)")
	c.FS.StringVar(&format, "format", "text", "output: text, or json (the whole report)")
	c.FS.Var(anchorFlag{&anchors}, "anchor", "a head recorded earlier, PARTITION:OFFSET:HASH, that must still be in the chain (repeat)")
	c.Run = func(args []string) error {
		if len(args) == 0 || args[0] != "verify" {
			return cli.Usagef("usage: imarchive audit verify --from TIME --to TIME [flags]")
		}
		if err := c.Parse(args[1:]); err != nil {
			return err
		}
		if rest := c.FS.Args(); len(rest) > 0 {
			return cli.Usagef("unexpected arguments %q", rest)
		}
		r := audit.Range{Anchors: anchors}
		var errs []error
		var err error
		if r.From, err = parseTime("from", from); err != nil {
			errs = append(errs, err)
		}
		if r.To, err = parseTime("to", to); err != nil {
			errs = append(errs, err)
		}
		for _, p := range cli.SplitList(partitions) {
			n, err := strconv.ParseInt(p, 10, 32)
			if err != nil {
				errs = append(errs, fmt.Errorf("partition %q: %w", p, err))
				continue
			}
			r.Partitions = append(r.Partitions, int32(n))
		}
		if format != "text" && format != "json" {
			errs = append(errs, fmt.Errorf("format %q: want text or json", format))
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if _, err := lf.Logger(stderr); err != nil {
			return err
		}
		ctx, stop := cli.SignalContext()
		defer stop()
		conn, err := chconn.Open(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close()
		last := time.Now()
		rep, err := audit.Verify(ctx, conn, r, func(p int32, done, total int64) {
			if time.Since(last) >= time.Second || done == total {
				last = time.Now()
				fmt.Fprintf(stderr, "audit verify: partition %d: %d of %d offsets checked\n", p, done, total)
			}
		})
		if err != nil {
			return err
		}
		if format == "json" {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				return err
			}
		} else {
			printAudit(stdout, rep)
		}
		if first, ok := rep.First(); ok {
			return fmt.Errorf("%d breaks in the raw archive; the first: %s", len(rep.Breaks), first)
		}
		return nil
	}
	return c
}

func printAudit(w io.Writer, rep audit.Report) {
	fmt.Fprintf(w, "raw archive received %s to %s\n", rep.From.Format(time.RFC3339Nano), rep.To.Format(time.RFC3339Nano))
	if !rep.RetentionCutoff.IsZero() {
		fmt.Fprintf(w, "retention: records received before %s may be deleted (pass %s by %s)\n",
			rep.RetentionCutoff.UTC().Format(time.RFC3339Nano), rep.RetentionRun, rep.RetentionActor)
	}
	for _, p := range rep.Partitions {
		fmt.Fprintf(w, "partition %d: offsets %d-%d: %d chained, %d raw versions matched, %d expired, %d pending, %d breaks\n",
			p.Partition, p.First, p.Last, p.Chained, p.Matched, p.Expired, p.Pending, len(p.Breaks))
	}
	if len(rep.Partitions) == 0 {
		fmt.Fprintln(w, "no raw record or chain row was received in the range")
	}
	for _, b := range rep.Boundaries {
		fmt.Fprintf(w, "epoch boundary: %s\n", b)
	}
	fmt.Fprintln(w, "heads (keep them; give them back as --anchor):")
	for _, h := range rep.Heads {
		topic := h.TopicID
		if topic == "" {
			topic = "(before schema 0070)"
		}
		fmt.Fprintf(w, "  --anchor %d:%d:%s   (topic id %s)\n", h.Partition, h.Offset, h.Hash, topic)
	}
	if first, ok := rep.First(); ok {
		fmt.Fprintf(w, "FIRST BREAK: %s\n", first)
		for _, b := range rep.Breaks[1:] {
			fmt.Fprintf(w, "break: %s\n", b)
		}
		return
	}
	fmt.Fprintf(w, "OK: %d records checked, nothing removed, altered or reordered\n", rep.Checked())
}

// parseTime reads a command-line time (queries.ParseTime: RFC 3339, '2006-01-02 15:04:05', '2006-01-02'
// (UTC), Unix milliseconds, today, now, -24h, …).
func parseTime(name, s string) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, cli.Usagef("--%s: required", name)
	}
	t, err := queries.ParseTime(s, time.Now())
	if err != nil {
		return time.Time{}, cli.Usagef("--%s %q: want %s", name, s, queries.TimeForms)
	}
	return t, nil
}
