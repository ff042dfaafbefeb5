package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/compliance/retention"
	"github.com/imarchive/imarchive/internal/cli"
)

func retentionCommand(stdout, stderr io.Writer) *cli.Command {
	c := cli.New("retention", "delete archived rows older than each table's retention, never rows under a legal hold (imarchive retention apply)",
		`  imarchive retention apply --retention TABLE=DAYS|off[,…] --by WHO [--dry-run]
For each table with a retention, deletes the rows received more than DAYS days ago, except the events
a legal hold covers (imarchive hold) and their raw records, and records the pass — cutoff, rows
deleted, rows kept under hold, who — in retention_runs (query retention_runs) and the policy in
schema_retention. TABLE is a storage table or its view: messages, message_updates, notifications,
presence_events, community_events, quick_comments, raw_callbacks; all=DAYS sets the ones not named.
Every table is kept forever unless given days. --dry-run only counts. Run it from cron; rows disappear
from every query at once (lightweight DELETE) and the space is reclaimed by merges. The hash chain
(raw_chain) and the holds are never deleted: audit verify counts raw records removed by a recorded
pass as expired.`)
	var (
		lf     cli.LogFlags
		dsn    string
		policy string
		actor  string
		dry    bool
	)
	c.Group(cli.Subcommand{Name: "apply", Summary: "delete rows older than each table's retention, except held ones, and record the pass (--dry-run counts)"})
	lf.Register(c)
	c.Str(&dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN (required)")
	c.Str(&policy, "retention", "IMARCHIVE_RETENTION", "", "retention per table: TABLE=DAYS|off[,…], all=DAYS for the rest (empty: everything kept)")
	c.Str(&actor, "by", "IMARCHIVE_ACTOR", "", "who runs the pass, recorded (required)")
	c.FS.BoolVar(&dry, "dry-run", false, "count what would be deleted and kept, delete nothing")
	c.Run = func(args []string) error {
		if len(args) == 0 || args[0] != "apply" {
			return cli.Usagef("usage: imarchive retention apply --retention TABLE=DAYS,… --by WHO [--dry-run]")
		}
		if err := c.Parse(args[1:]); err != nil {
			return err
		}
		if rest := c.FS.Args(); len(rest) > 0 {
			return cli.Usagef("unexpected arguments %q", rest)
		}
		p, perr := retention.ParsePolicy(policy)
		pass := retention.Pass{Policy: p, Actor: actor, DryRun: dry, Now: time.Now().UTC()}
		if err := errors.Join(perr, pass.Validate()); err != nil {
			return err
		}
		log, err := lf.Logger(stderr)
		if err != nil {
			return err
		}
		ctx, stop := cli.SignalContext()
		defer stop()
		conn, err := chconn.Open(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close()
		res, err := retention.Apply(ctx, conn, pass, log)
		printRetention(stdout, res)
		return err
	}
	return c
}

func printRetention(w io.Writer, res retention.Result) {
	what := "retention pass"
	if res.DryRun {
		what = "retention dry run (nothing deleted)"
	}
	fmt.Fprintf(w, "%s %s\n", what, res.RunID)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "table\tdays\tcutoff\tolder rows\theld\tdeleted")
	for _, t := range res.Tables {
		if t.Days == 0 {
			fmt.Fprintf(tw, "%s\toff\t-\t-\t-\t-\n", t.Table)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%d\n", t.Table, t.Days, t.Cutoff.Format(time.RFC3339), t.Candidates, t.Held, t.Deleted)
	}
	tw.Flush()
}
