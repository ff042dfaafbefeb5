package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/imarchive/imarchive/audit"
	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/pipeline"
	"github.com/imarchive/imarchive/topics"
)

func consumeCommand(stderr io.Writer) *command {
	c := newCommand("consume", "consume normalized events and raw callbacks from Kafka and write them into ClickHouse in batches",
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
		lf    logFlags
		kf    kafkaFlags
		dsn   string
		ops   string
		rawOn bool
		pcfg  = pipeline.DefaultConfig()
		chain chainFlags
	)
	lf.register(c)
	kf.register(c)
	chain.register(c)
	c.str(&dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN over its HTTP interface, e.g. http://user:pass@host:8123/imarchive (the tested protocol; clickhouse://…:9000 works but is untested) (required)")
	c.str(&ops, "ops-listen", "IMARCHIVE_OPS_LISTEN", ":9091", "listen address of /healthz, /readyz and /metrics (empty: off)")
	c.str(&pcfg.Group, "group", "IMARCHIVE_CONSUMER_GROUP", pcfg.Group, "Kafka consumer group of the events topic")
	c.str(&pcfg.RawGroup, "raw-group", "IMARCHIVE_RAW_GROUP", "", "Kafka consumer group of the raw topic (default: the events group + \"-raw\")")
	c.fs.BoolVar(&rawOn, "raw-archive", true, "also archive the raw topic into raw_callbacks (several consume processes share the raw group's partitions)")
	c.env("raw-archive", "IMARCHIVE_RAW_ARCHIVE")
	c.integer(&pcfg.BatchRows, "batch-rows", "IMARCHIVE_BATCH_ROWS", pcfg.BatchRows, "most records in one batch")
	c.integer(&pcfg.BatchBytes, "batch-bytes", "IMARCHIVE_BATCH_BYTES", pcfg.BatchBytes, "most record bytes in one batch (and in one Kafka fetch); the group writes at most this much per insert interval")
	c.duration(&pcfg.BatchWait, "batch-wait", "IMARCHIVE_BATCH_WAIT", pcfg.BatchWait, "longest a record waits for its batch to fill, the insert interval aside")
	c.duration(&pcfg.InsertInterval, "insert-interval", "IMARCHIVE_INSERT_INTERVAL", pcfg.InsertInterval, "least time between two inserts into one table by the whole group: each process waits this times the group's members between its batches (0: off)")
	c.str(&pcfg.InstanceID, "group-instance-id", "IMARCHIVE_GROUP_INSTANCE_ID", "", "static group membership (Kafka group.instance.id), one per process, e.g. the host name: a restart within --session-timeout keeps the partitions without a rebalance (a stopped process's partitions wait for it that long)")
	c.duration(&pcfg.StallAfter, "stall-after", "IMARCHIVE_STALL_AFTER", pcfg.StallAfter, "a partition with lag whose committed offset has not moved for this long is reported stalled (/readyz, imarchive_pipeline_partition_stalled)")
	c.duration(&pcfg.RetryMax, "retry-max", "IMARCHIVE_RETRY_MAX", pcfg.RetryMax, "longest backoff between retries of a failed insert")
	c.duration(&pcfg.SessionTimeout, "session-timeout", "IMARCHIVE_SESSION_TIMEOUT", pcfg.SessionTimeout, "how long the group waits for a silent consumer (killed, cut off) before giving its partitions to the others (the broker bounds it: group.min/max.session.timeout.ms)")
	c.duration(&pcfg.Presence.Heartbeat, "presence-heartbeat", "IMARCHIVE_PRESENCE_HEARTBEAT", pcfg.Presence.Heartbeat, "the platform's online renewal period (NetEase heartbeat, type 8)")
	c.duration(&pcfg.Presence.Grace, "presence-grace", "IMARCHIVE_PRESENCE_GRACE", pcfg.Presence.Grace, "an online state without renewal for heartbeat + grace is reported expired")
	c.integer(&pcfg.Presence.CacheAccounts, "presence-cache-accounts", "IMARCHIVE_PRESENCE_CACHE_ACCOUNTS", pcfg.Presence.CacheAccounts, "most account states cached in memory (the rest are read from ClickHouse)")
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
		if err := errors.Join(tc.Validate(), pcfg.Validate(), oerr, chain.validate(pcfg)); err != nil {
			return err
		}
		if err := chconn.CheckProtocol(dsn); err != nil {
			log.Warn("ClickHouse DSN of an untested protocol", "err", err)
		}
		ctx, stop := signalContext()
		defer stop()
		return consume(ctx, log, tc, pcfg, opts, ops, rawOn, chain)
	}
	return c
}

// runner is one consumer as consume runs it.
type runner interface {
	Run(ctx context.Context) error
	Close()
	Ping(ctx context.Context) error
	EnsureTopics(ctx context.Context)
	Stalled() []pipeline.Stall
	Group() string
}

// stallNote says which partitions of the consumers' groups are stalled, or "" when none is.
func stallNote(rs []runner, now time.Time) string {
	var parts []string
	for _, r := range rs {
		for _, s := range r.Stalled() {
			held := "no member"
			if s.Member != "" {
				held = "member " + s.Member
			}
			parts = append(parts, fmt.Sprintf("partition %s/%d of group %s stalled: %d records of lag, no commit for %s (%s)",
				s.Topic, s.Partition, r.Group(), s.Lag, now.Sub(s.Since).Round(time.Second), held))
		}
	}
	return strings.Join(parts, "; ")
}

func consume(ctx context.Context, log *slog.Logger, tc topics.Config, pcfg pipeline.Config, opts *clickhouse.Options, ops string, rawOn bool, chain chainFlags) error {
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
	runners := []runner{events}
	if rawOn {
		raw, err := pipeline.NewRawConsumer(pcfg, tc, conn, log, reg)
		if err != nil {
			return err
		}
		defer raw.Close()
		runners = append(runners, raw)
	}
	if chain.on {
		ch, err := audit.NewChainConsumer(chain.cfg, pcfg, tc, conn, log, reg)
		if err != nil {
			return err
		}
		defer ch.Close()
		runners = append(runners, ch)
	}
	ready := func(ctx context.Context) error {
		if err := errors.Join(conn.Ping(ctx), events.Ping(ctx)); err != nil {
			return err
		}
		// Working, but a partition is not moving: say which, and who holds it.
		if note := stallNote(runners, time.Now()); note != "" {
			return degraded{why: note}
		}
		return nil
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
	go events.EnsureTopics(ctx)
	go pipeline.NewPartsReporter(conn, log, reg).Run(ctx, 15*time.Second)
	log.Info("consuming", "events_topic", tc.Events(), "group", pcfg.Group, "raw_topic", tc.Raw(), "raw_group", pcfg.RawGroupName(),
		"raw_archive", rawOn, "raw_chain", chain.on, "chain_group", chain.cfg.GroupName(pcfg), "clickhouse", opts.Addr, "database", opts.Auth.Database)

	// Both run until ctx ends; when one fails, the other is stopped too.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(runners))
	var wg sync.WaitGroup
	for i, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(rctx); err != nil {
				errs[i] = err
				cancel()
			}
		}()
	}
	wg.Wait()
	log.Info("stopped")
	return errors.Join(errs...)
}
