package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/schema"
)

func migrateCommand(stdout, stderr io.Writer) *command {
	c := newCommand("migrate", "create or upgrade the ClickHouse schema (idempotent, forward-only)",
		`Applies the embedded schema/NNNN_*.sql files not yet applied, in order, and records each in the
schema_migrations table. Creates the DSN's database when missing. Safe to run again at any time.`)
	var (
		lf  logFlags
		dsn string
	)
	lf.register(c)
	c.str(&dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN (required)")
	c.run = func(args []string) error {
		if err := c.parse(args); err != nil {
			return err
		}
		log, err := lf.logger(stderr)
		if err != nil {
			return err
		}
		opts, err := chconn.Options(dsn)
		if err != nil {
			return err
		}
		// A migration waits for its ALTERs and mutations (MATERIALIZE INDEX over a large table), longer
		// than a query: unless the DSN sets read_timeout, wait up to an hour for an answer.
		if !strings.Contains(dsn, "read_timeout=") {
			opts.ReadTimeout = max(opts.ReadTimeout, time.Hour)
		}
		ctx, stop := signalContext()
		defer stop()
		if err := chconn.EnsureDatabase(ctx, opts); err != nil {
			return err
		}
		conn, err := chconn.OpenOptions(ctx, opts)
		if err != nil {
			return err
		}
		defer conn.Close()
		res, err := schema.Migrate(ctx, conn, log)
		if err != nil {
			return err
		}
		for _, m := range res.Applied {
			fmt.Fprintf(stdout, "applied %04d_%s (%d statements)\n", m.Version, m.Name, len(m.Statements))
		}
		fmt.Fprintf(stdout, "schema version %d (%d applied now)\n", res.Version, len(res.Applied))
		return nil
	}
	return c
}
