package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/internal/cli"
	"github.com/imarchive/imarchive/schema"
)

func migrateCommand(stdout, stderr io.Writer) *cli.Command {
	c := cli.New("migrate", "create or upgrade the ClickHouse schema (idempotent, forward-only)",
		`Applies the embedded schema/NNNN_*.sql files not yet applied, in order, and records each in the
schema_migrations table. Creates the DSN's database when missing. Safe to run again at any time.
With --cluster NAME the same schema is made for a ClickHouse cluster (remote_servers NAME, with
ClickHouse Keeper), on every host at once: each storage table as NAME_local of its Replicated
engine (ReplicatedReplacingMergeTree, …, with the replicated deduplication window) and a Distributed
table of its own name over it, sharded by its sorting key; views and materialized views ON CLUSTER.
Queries, dashboards and consume use the same names. Each statement waits for every host
(--cluster-ddl-timeout) and every replica. --print prints the statements instead of running them.`)
	var (
		lf         cli.LogFlags
		dsn        string
		cluster    string
		ddlTimeout time.Duration
		print      bool
	)
	lf.Register(c)
	c.Str(&dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN (required)")
	c.Str(&cluster, "cluster", "IMARCHIVE_CLICKHOUSE_CLUSTER", "", "ClickHouse cluster (remote_servers) to create the schema on, ON CLUSTER with Replicated and Distributed tables; empty: one server")
	c.Duration(&ddlTimeout, "cluster-ddl-timeout", "IMARCHIVE_CLUSTER_DDL_TIMEOUT", 5*time.Minute, "with --cluster: how long a statement waits for every host to run it (distributed_ddl_task_timeout) before migrate fails")
	c.FS.BoolVar(&print, "print", false, "print the statements (rendered for --cluster) and exit, without connecting")
	c.Run = func(args []string) error {
		if err := c.Parse(args); err != nil {
			return err
		}
		log, err := lf.Logger(stderr)
		if err != nil {
			return err
		}
		opts, err := chconn.Options(dsn)
		if err != nil {
			return err
		}
		if print {
			return printSchema(stdout, cluster, opts.Auth.Database)
		}
		// A migration waits for its ALTERs and mutations (MATERIALIZE INDEX over a large table), longer
		// than a query: unless the DSN sets read_timeout, wait up to an hour for an answer.
		if !strings.Contains(dsn, "read_timeout=") {
			opts.ReadTimeout = max(opts.ReadTimeout, time.Hour)
		}
		ctx, stop := cli.SignalContext()
		defer stop()
		if err := chconn.EnsureDatabase(ctx, opts); err != nil {
			return err
		}
		conn, err := chconn.OpenOptions(ctx, opts)
		if err != nil {
			return err
		}
		defer conn.Close()
		var res schema.Result
		if cluster != "" {
			log.Info("migrating a cluster", "cluster", cluster, "database", opts.Auth.Database, "ddl_timeout", ddlTimeout)
			res, err = schema.MigrateCluster(ctx, conn, cluster, ddlTimeout, log)
		} else {
			res, err = schema.Migrate(ctx, conn, log)
		}
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

// printSchema writes the embedded migrations' statements, rendered for cluster when it is set.
func printSchema(w io.Writer, cluster, db string) error {
	ms, err := schema.Migrations()
	if err != nil {
		return err
	}
	if cluster != "" {
		if db == "" {
			db = "default"
		}
		if ms, err = schema.RenderCluster(ms, cluster, db); err != nil {
			return err
		}
	}
	for _, m := range ms {
		fmt.Fprintf(w, "-- %04d_%s\n%s;\n\n", m.Version, m.Name, strings.Join(m.Statements, ";\n\n"))
	}
	return nil
}
