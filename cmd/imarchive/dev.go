package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func devCommand(stdout, stderr io.Writer) *command {
	c := newCommand("dev", "migrate, then serve and consume in one process, for a laptop without Docker",
		`With no Kafka brokers configured, dev starts an embedded in-memory Kafka (franz-go's kfake): fine for
trying things out, NOT durable — everything not yet in ClickHouse is lost when dev stops. The
ClickHouse DSN is required. Every other setting is read as serve, consume and migrate read it (their
flags' environment variables, or --config FILE); see their --help.`)
	var brokers, dsn, kfakePort string
	c.str(&brokers, "kafka-brokers", "IMARCHIVE_KAFKA_BROKERS", "", "Kafka brokers; empty: an embedded in-memory Kafka, NOT durable")
	c.str(&dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN (required)")
	c.str(&kfakePort, "embedded-kafka-port", "IMARCHIVE_DEV_KAFKA_PORT", "0", "port of the embedded Kafka (0: any free port)")
	c.run = func(args []string) error {
		if err := c.parse(args); err != nil {
			return err
		}
		if dsn == "" {
			return errors.New("IMARCHIVE_CLICKHOUSE_DSN (--clickhouse-dsn) is required: dev writes to a real ClickHouse")
		}
		if brokers == "" {
			var port int
			fmt.Sscan(kfakePort, &port)
			// Each start is a new cluster, with its own ID: its topics get new IDs and offsets start
			// from zero, and the archive (raw_chain, audit verify) records the move.
			cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port),
				kfake.ClusterID(fmt.Sprintf("imarchive-dev-%d", time.Now().UnixNano())))
			if err != nil {
				return fmt.Errorf("embedded kafka: %w", err)
			}
			defer cluster.Close()
			brokers = cluster.ListenAddrs()[0]
			fmt.Fprintf(stderr, "\n"+
				"*** dev: NO Kafka configured: using an EMBEDDED IN-MEMORY Kafka at %s\n"+
				"*** It is NOT DURABLE: callbacks not yet written to ClickHouse are LOST when dev stops.\n"+
				"*** Set IMARCHIVE_KAFKA_BROKERS for anything but a trial.\n\n", brokers)
			// A spool on disk in front of an in-memory Kafka would keep nothing the broker keeps.
			if _, set := os.LookupEnv("IMARCHIVE_SPOOL_DIR"); !set {
				os.Setenv("IMARCHIVE_SPOOL_DIR", "off")
			}
		}
		// The sub-commands read their settings as they always do; dev only fixes where Kafka and
		// ClickHouse are, and passes the config file on.
		os.Setenv("IMARCHIVE_KAFKA_BROKERS", brokers)
		os.Setenv("IMARCHIVE_CLICKHOUSE_DSN", dsn)
		if p := configPath(args); p != "" {
			os.Setenv("IMARCHIVE_CONFIG", p)
		}
		byName := map[string]*command{}
		for _, sub := range commands(stdout, stderr) {
			byName[sub.name] = sub
		}
		if err := byName["migrate"].run(nil); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, name := range []string{"serve", "consume"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := byName[name].run(nil); err != nil {
					errs[i] = fmt.Errorf("%s: %w", name, err)
					// One part failed: stop the other the way an operator would.
					syscall.Kill(os.Getpid(), syscall.SIGTERM)
				}
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	return c
}
