package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/internal/cli"
	"github.com/imarchive/imarchive/queries"
)

// paramFlag collects repeated --param key=value.
type paramFlag map[string]string

func (p paramFlag) String() string { return "" }
func (p paramFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want NAME=VALUE (an empty value: NAME=)")
	}
	p[k] = v
	return nil
}

func queryCommand(stdout, stderr io.Writer) *cli.Command {
	c := cli.New("query", "run a named query from queries/ (imarchive query NAME --param k=v…)",
		`  imarchive query --list                     the named queries
  imarchive query --describe NAME            a query's parameters and columns
  imarchive query NAME --param k=v … [--format table|csv|json]
Parameters are bound by ClickHouse as query parameters, each checked against its type first. A filter
described "empty for all" may be left out. Times are UTC: `+"`"+`'2026-03-01 10:00:00'`+"`"+`, RFC 3339, Unix
milliseconds, today, yesterday, now, or relative: -24h, -7d, today-30d.`)
	var (
		lf       cli.LogFlags
		dsn      string
		format   string
		list     bool
		describe string
		params   = paramFlag{}
	)
	lf.Register(c)
	c.Str(&dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN (required to run a query)")
	c.Str(&format, "format", "IMARCHIVE_QUERY_FORMAT", "table", "output: table (aligned), csv (with header), json (one object per line)")
	c.FS.BoolVar(&list, "list", false, "list the named queries")
	c.FS.StringVar(&describe, "describe", "", "describe one query: parameters and columns")
	c.FS.Var(params, "param", "a query parameter as key=value (repeat)")
	c.Run = func(args []string) error {
		// Accept the query name before or after the flags.
		var name string
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			name, args = args[0], args[1:]
		}
		if err := c.Parse(args); err != nil {
			return err
		}
		// The name may also stand between flags: take it and parse the flags after it.
		if rest := c.FS.Args(); len(rest) > 0 {
			if name != "" {
				return cli.Usagef("unexpected arguments %q (one query at a time)", rest)
			}
			name = rest[0]
			if err := c.FS.Parse(rest[1:]); err != nil {
				return c.FlagError(err)
			}
			if more := c.FS.Args(); len(more) > 0 {
				return cli.Usagef("unexpected arguments %q (one query at a time)", more)
			}
		}
		switch {
		case list:
			all, err := queries.All()
			if err != nil {
				return err
			}
			for _, q := range all {
				fmt.Fprintf(stdout, "%-28s %s\n", q.Name, q.Summary)
			}
			return nil
		case describe != "":
			q, err := queries.Get(describe)
			if err != nil {
				return err
			}
			printDescription(stdout, q)
			return nil
		case name == "":
			return cli.Usagef("no query named: imarchive query NAME --param k=v … (imarchive query --list shows them)")
		}
		q, err := queries.Get(name)
		if err != nil {
			return err
		}
		bound, err := q.Bind(params)
		if err != nil {
			return cli.HintError{Err: err, Hint: "imarchive query --describe " + q.Name + " lists its parameters"}
		}
		if !slices.Contains(queries.Formats, format) {
			return cli.Usagef("--format %q: want %s", format, strings.Join(queries.Formats, ", "))
		}
		log, err := lf.Logger(stderr)
		if err != nil {
			return err
		}
		_ = log
		ctx, stop := cli.SignalContext()
		defer stop()
		conn, err := chconn.Open(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close()
		_, err = queries.Run(ctx, conn, q, bound, format, stdout)
		return err
	}
	return c
}

func printDescription(w io.Writer, q queries.Query) {
	fmt.Fprintf(w, "%s: %s\n\nParameters:\n", q.Name, q.Summary)
	if len(q.Params) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	times := false
	for _, p := range q.Params {
		opt := ""
		if _, ok := p.Optional(); ok {
			opt = " (optional)"
		}
		times = times || strings.HasPrefix(p.Type, "Date")
		fmt.Fprintf(w, "  %-16s %-28s %s%s\n", p.Name, p.Type, p.Description, opt)
	}
	if times {
		fmt.Fprintf(w, "Times: %s.\n", queries.TimeForms)
	}
	fmt.Fprintln(w, "\nColumns:")
	for _, col := range q.Columns {
		fmt.Fprintf(w, "  %-20s %-28s %s\n", col.Name, col.Type, col.Description)
	}
}
