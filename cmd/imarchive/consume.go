package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/pipeline"
	"github.com/imarchive/imarchive/topics"
)

func consumeCommand(stderr io.Writer) *command {
	c := newCommand("consume", "consume normalized events from Kafka and write them into ClickHouse in batches",
		`Offsets are committed only after ClickHouse acknowledged the batch; while ClickHouse is down the same
batch is retried with backoff and nothing is skipped. Records that can never be written go to the
dead-letter topic with the reason. Run 'imarchive migrate' first.
Ops endpoints on --ops-listen: /healthz, /readyz (ClickHouse and Kafka answer), /metrics.`)
	var (
		lf   logFlags
		kf   kafkaFlags
		dsn  string
		ops  string
		pcfg = pipeline.DefaultConfig()
	)
	lf.register(c)
	kf.register(c)
	c.str(&dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN, e.g. clickhouse://user:pass@host:9000/imarchive or http://host:8123/imarchive (required)")
	c.str(&ops, "ops-listen", "IMARCHIVE_OPS_LISTEN", ":9091", "listen address of /healthz, /readyz and /metrics (empty: off)")
	c.str(&pcfg.Group, "group", "IMARCHIVE_CONSUMER_GROUP", pcfg.Group, "Kafka consumer group")
	c.integer(&pcfg.BatchRows, "batch-rows", "IMARCHIVE_BATCH_ROWS", pcfg.BatchRows, "most rows in one ClickHouse insert")
	c.duration(&pcfg.BatchWait, "batch-wait", "IMARCHIVE_BATCH_WAIT", pcfg.BatchWait, "longest a record waits for its batch to fill")
	c.duration(&pcfg.RetryMax, "retry-max", "IMARCHIVE_RETRY_MAX", pcfg.RetryMax, "longest backoff between retries of a failed insert")
	c.run = func(args []string) error {
		if err := c.parse(args); err != nil {
			return err
		}
		log, err := lf.logger(stderr)
		if err != nil {
			return err
		}
		tc := kf.config()
		opts, oerr := chconn.Options(dsn)
		if err := errors.Join(tc.Validate(), pcfg.Validate(), oerr); err != nil {
			return err
		}
		ctx, stop := signalContext()
		defer stop()
		return consume(ctx, log, tc, pcfg, opts, ops)
	}
	return c
}

func consume(ctx context.Context, log *slog.Logger, tc topics.Config, pcfg pipeline.Config, opts *clickhouse.Options, ops string) error {
	// No ping here: consume starts while ClickHouse is down and retries its first batch until it is up.
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return fmt.Errorf("open clickhouse: %w", err)
	}
	defer conn.Close()

	reg := newRegistry()
	cons, err := pipeline.NewConsumer(pcfg, tc, pipeline.NewClickHouseWriter(conn), log, reg)
	if err != nil {
		return err
	}
	defer cons.Close()
	ready := func(ctx context.Context) error {
		return errors.Join(conn.Ping(ctx), cons.Ping(ctx))
	}
	if ops != "" {
		ln, err := net.Listen("tcp", ops)
		if err != nil {
			return fmt.Errorf("listen %s: %w", ops, err)
		}
		srv := &http.Server{Handler: opsMux(reg, ready), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		log.Info("ops endpoints", "addr", ln.Addr().String())
	}
	go cons.EnsureTopics(ctx)
	log.Info("consuming", "topic", tc.Events(), "group", pcfg.Group, "clickhouse", opts.Addr, "database", opts.Auth.Database)
	err = cons.Run(ctx)
	log.Info("stopped")
	return err
}
