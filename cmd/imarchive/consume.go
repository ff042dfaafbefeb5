package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/compliance/audit"
	"github.com/imarchive/imarchive/internal/cli"
	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/pipeline"
)

func consumeCommand(stderr io.Writer) *cli.Command {
	c := cli.New("consume", "consume normalized events and raw callbacks from Kafka and write them into ClickHouse in batches",
		`Two consumer groups in one process: the events topic into the archive's tables (messages, message
updates, notifications, presence, community events, quick comments), deciding the online-state rule's
verdict for each presence event; and the raw topic into the raw archive (raw_callbacks), unless
--raw-archive=false. Offsets are committed only after ClickHouse acknowledged the batch; while
ClickHouse is down the same batch is retried with backoff and nothing is skipped. Records that can
never be written go to the dead-letter topic with the reason. Run 'imarchive migrate' first.
Several consume processes share the work: each group's partitions are spread over them, and each
process writes a table at most once per --insert-interval times the members of its group, so the
group keeps to about one insert per table and interval. A batch is written as soon as that allows
once it is full (--batch-rows, --batch-bytes), caught up (nothing more waiting in Kafka) or
--batch-wait old. --group-instance-id makes the process a static member: restarted within
--session-timeout it gets its partitions back without a rebalance.
Ops endpoints on --ops-listen: /healthz, /readyz (ClickHouse and Kafka answer; "degraded" with the
partitions that have lag and no commit for --stall-after), /metrics.`)
	var (
		lf    cli.LogFlags
		kf    kafkaFlags
		dsn   string
		ops   string
		rawOn bool
		pcfg  = pipeline.DefaultConfig()
		chain chainFlags
	)
	lf.Register(c)
	kf.register(c)
	chain.register(c)
	c.Str(&dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN over its HTTP interface, e.g. http://user:pass@host:8123/imarchive (the tested protocol; clickhouse://…:9000 works but is untested) (required)")
	c.Str(&ops, "ops-listen", "IMARCHIVE_OPS_LISTEN", ":9091", "listen address of /healthz, /readyz and /metrics (empty: off)")
	c.Str(&pcfg.Group, "group", "IMARCHIVE_CONSUMER_GROUP", pcfg.Group, "Kafka consumer group of the events topic")
	c.Str(&pcfg.RawGroup, "raw-group", "IMARCHIVE_RAW_GROUP", "", "Kafka consumer group of the raw topic (default: the events group + \"-raw\")")
	c.FS.BoolVar(&rawOn, "raw-archive", true, "also archive the raw topic into raw_callbacks (several consume processes share the raw group's partitions)")
	c.Env("raw-archive", "IMARCHIVE_RAW_ARCHIVE")
	c.Integer(&pcfg.BatchRows, "batch-rows", "IMARCHIVE_BATCH_ROWS", pcfg.BatchRows, "most records in one batch")
	c.Integer(&pcfg.BatchBytes, "batch-bytes", "IMARCHIVE_BATCH_BYTES", pcfg.BatchBytes, "most record bytes in one batch (and in one Kafka fetch); the group writes at most this much per insert interval")
	c.Duration(&pcfg.BatchWait, "batch-wait", "IMARCHIVE_BATCH_WAIT", pcfg.BatchWait, "longest a record waits for its batch to fill, the insert interval aside")
	c.Duration(&pcfg.InsertInterval, "insert-interval", "IMARCHIVE_INSERT_INTERVAL", pcfg.InsertInterval, "least time between two inserts into one table by the whole group: each process waits this times the group's members between its batches (0: off)")
	c.Str(&pcfg.InstanceID, "group-instance-id", "IMARCHIVE_GROUP_INSTANCE_ID", "", "static group membership (Kafka group.instance.id), one per process, e.g. the host name: a restart within --session-timeout keeps the partitions without a rebalance (a stopped process's partitions wait for it that long)")
	c.Duration(&pcfg.StallAfter, "stall-after", "IMARCHIVE_STALL_AFTER", pcfg.StallAfter, "a partition with lag whose committed offset has not moved for this long is reported stalled (/readyz, imarchive_pipeline_partition_stalled)")
	c.Duration(&pcfg.RetryMax, "retry-max", "IMARCHIVE_RETRY_MAX", pcfg.RetryMax, "longest backoff between retries of a failed insert")
	c.Duration(&pcfg.SessionTimeout, "session-timeout", "IMARCHIVE_SESSION_TIMEOUT", pcfg.SessionTimeout, "how long the group waits for a silent consumer (killed, cut off) before giving its partitions to the others (the broker bounds it: group.min/max.session.timeout.ms)")
	c.Duration(&pcfg.Presence.Heartbeat, "presence-heartbeat", "IMARCHIVE_PRESENCE_HEARTBEAT", pcfg.Presence.Heartbeat, "the platform's online renewal period (NetEase heartbeat, type 8)")
	c.Duration(&pcfg.Presence.Grace, "presence-grace", "IMARCHIVE_PRESENCE_GRACE", pcfg.Presence.Grace, "an online state without renewal for heartbeat + grace is reported expired")
	c.Integer(&pcfg.Presence.CacheAccounts, "presence-cache-accounts", "IMARCHIVE_PRESENCE_CACHE_ACCOUNTS", pcfg.Presence.CacheAccounts, "most account states cached in memory (the rest are read from ClickHouse)")
	c.Start = func(args []string) (cli.RunFunc, error) {
		if err := c.Parse(args); err != nil {
			return nil, err
		}
		log, err := lf.Logger(stderr)
		if err != nil {
			return nil, err
		}
		tc := kf.config()
		opts, oerr := chconn.Options(dsn)
		if err := errors.Join(tc.Validate(), pcfg.Validate(), oerr, chain.validate(pcfg)); err != nil {
			return nil, err
		}
		if err := chconn.CheckProtocol(dsn); err != nil {
			log.Warn("ClickHouse DSN of an untested protocol", "err", err)
		}
		return func(ctx context.Context) error { return consume(ctx, log, tc, pcfg, opts, ops, rawOn, chain) }, nil
	}
	return c
}

func consume(ctx context.Context, log *slog.Logger, tc kafka.Config, pcfg pipeline.Config, opts *clickhouse.Options, ops string, rawOn bool, chain chainFlags) error {
	// No ping here: consume starts while ClickHouse is down and retries its first batch until it is up.
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return fmt.Errorf("open clickhouse: %w", err)
	}
	defer conn.Close()

	reg := newRegistry()
	events, err := pipeline.NewEventConsumer(pcfg, tc, conn, log, reg)
	if err != nil {
		return err
	}
	defer events.Close()
	svc := &pipeline.Service{Conn: conn, Events: events, OpsListen: ops, Registry: reg, Log: log}
	if rawOn {
		raw, err := pipeline.NewRawConsumer(pcfg, tc, conn, log, reg)
		if err != nil {
			return err
		}
		defer raw.Close()
		svc.Others = append(svc.Others, raw)
	}
	if chain.on {
		ch, err := audit.NewChainConsumer(chain.cfg, pcfg, tc, conn, log, reg)
		if err != nil {
			return err
		}
		defer ch.Close()
		svc.Others = append(svc.Others, ch)
	}
	log.Info("consuming", "events_topic", tc.Events(), "group", pcfg.Group, "raw_topic", tc.Raw(), "raw_group", pcfg.RawGroupName(),
		"raw_archive", rawOn, "raw_chain", chain.on, "chain_group", chain.cfg.GroupName(pcfg), "clickhouse", opts.Addr, "database", opts.Auth.Database)
	return svc.Run(ctx)
}
