package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/queries"
)

// paramFlag collects repeated --param key=value.
type paramFlag map[string]string

func (p paramFlag) String() string { return "" }
func (p paramFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	p[k] = v
	return nil
}

func queryCommand(stdout, stderr io.Writer) *command {
	c := newCommand("query", "run a named query from queries/ (imarchive query NAME --param k=v…)",
		`  imarchive query --list                     the named queries
  imarchive query --describe NAME            a query's parameters and columns
  imarchive query NAME --param k=v … [--format table|csv|json]
Parameters are bound by ClickHouse as query parameters; date-times are UTC and may be given as
'2022-03-08 12:58:00', RFC 3339 or Unix milliseconds.`)
	var (
		lf       logFlags
		dsn      string
		format   string
		list     bool
		describe string
		params   = paramFlag{}
	)
	lf.register(c)
	c.str(&dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN (required to run a query)")
	c.str(&format, "format", "IMARCHIVE_QUERY_FORMAT", "table", "output: table (aligned), csv (with header), json (one object per line)")
	c.fs.BoolVar(&list, "list", false, "list the named queries")
	c.fs.StringVar(&describe, "describe", "", "describe one query: parameters and columns")
	c.fs.Var(params, "param", "a query parameter as key=value (repeat)")
	c.run = func(args []string) error {
		// Accept the query name before or after the flags.
		var name string
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			name, args = args[0], args[1:]
		}
		if err := c.parse(args); err != nil {
			return err
		}
		// The name may also stand between flags: take it and parse the flags after it.
		if rest := c.fs.Args(); len(rest) > 0 {
			if name != "" {
				return fmt.Errorf("unexpected arguments %q", rest)
			}
			name = rest[0]
			if err := c.fs.Parse(rest[1:]); err != nil {
				return err
			}
			if more := c.fs.Args(); len(more) > 0 {
				return fmt.Errorf("unexpected arguments %q", more)
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
			return fmt.Errorf("no query named (imarchive query --list shows them)")
		}
		q, err := queries.Get(name)
		if err != nil {
			return err
		}
		bound, err := q.Bind(params)
		if err != nil {
			return err
		}
		log, err := lf.logger(stderr)
		if err != nil {
			return err
		}
		_ = log
		ctx, stop := signalContext()
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
	for _, p := range q.Params {
		fmt.Fprintf(w, "  %-16s %-28s %s\n", p.Name, p.Type, p.Description)
	}
	fmt.Fprintln(w, "\nColumns:")
	for _, col := range q.Columns {
		fmt.Fprintf(w, "  %-20s %-28s %s\n", col.Name, col.Type, col.Description)
	}
}
