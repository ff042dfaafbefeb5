package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/imarchive/imarchive/cmd/imarchive-dev/chaos"
	"github.com/imarchive/imarchive/internal/cli"
)

func chaosCommand(stdout, stderr io.Writer) *cli.Command {
	c := cli.New("chaos", "run the pipeline under faults (broker, ClickHouse, consume, serve killed and restarted) and prove nothing acknowledged is lost or doubled",
		`Starts serve and consume (the imarchive binary beside this one, or --binary) on loopback addresses, sends a steady load of signed callbacks
of every platform with platform retries and late presence events, and meanwhile kills and restarts, at
random moments drawn from --seed, the Kafka broker (stop and kill), the ClickHouse engine, consume
(kill -9) and serve (SIGTERM and kill -9). Then it checks that every callback answered with success is
in ClickHouse exactly once, that the online state is the rule's answer, and that the dead-letter topic
holds only the unnormalizable callbacks it sent. Prints sent, acknowledged, archived, duplicates and
lost, and exits 1 on any loss, duplicate or misplaced record.
The broker and the engine must be ones this run may stop: --kafka-ctl and --chdb-ctl are commands to
which start, stop or kill is appended (make chaos, scripts/chaos.sh, sets them up on ports of its own).
It uses a fresh database and topics named after the seed.`)
	var (
		cfg                chaos.Config
		brokers, faults    string
		seed               int64
		reportJSON, binary string
	)
	c.Str(&brokers, "kafka-brokers", "IMARCHIVE_KAFKA_BROKERS", "", "the Kafka broker the run stops and starts, host:port on loopback (required)")
	c.Str(&cfg.DSN, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN on the engine the run stops and starts; a fresh database is used (required)")
	c.Str(&cfg.KafkaCtl, "kafka-ctl", "IMARCHIVE_CHAOS_KAFKA_CTL", "", "command controlling the broker, e.g. \"env IMARCHIVE_KAFKA_PORT=19292 scripts/kafka.sh\" (start|stop|kill appended)")
	c.Str(&cfg.CHDBCtl, "chdb-ctl", "IMARCHIVE_CHAOS_CHDB_CTL", "", "command controlling the ClickHouse engine, e.g. \"env IMARCHIVE_CHDB_PORT=18323 scripts/chdb.sh\" (start|kill appended)")
	c.Str(&cfg.Listen, "listen", "IMARCHIVE_CHAOS_LISTEN", "127.0.0.1:18580", "serve's address during the run (loopback only)")
	c.Str(&cfg.OpsListen, "ops-listen", "IMARCHIVE_CHAOS_OPS_LISTEN", "127.0.0.1:18581", "consume's ops address during the run (loopback only)")
	c.Str(&cfg.Dir, "dir", "IMARCHIVE_CHAOS_DIR", ".testenv/chaos-run", "where the processes' logs and the accepted log go")
	c.Str(&binary, "binary", "IMARCHIVE_CHAOS_BINARY", "", "the imarchive binary to run as serve and consume (default: imarchive beside this binary, e.g. bin/imarchive)")
	c.Duration(&cfg.Duration, "duration", "IMARCHIVE_CHAOS_DURATION", 60*time.Second, "how long the load runs; faults happen within it")
	c.Duration(&cfg.FaultEvery, "fault-every", "IMARCHIVE_CHAOS_FAULT_EVERY", 5*time.Second, "mean pause between faults")
	c.Duration(&cfg.MaxDown, "max-down", "IMARCHIVE_CHAOS_MAX_DOWN", 3*time.Second, "longest a service stays down")
	c.Duration(&cfg.Settle, "settle", "IMARCHIVE_CHAOS_SETTLE", 90*time.Second, "longest wait for the archive to catch up after the load")
	c.FS.Float64Var(&cfg.Rate, "rate", 80, "callbacks a second (first sends)")
	c.FS.Int64Var(&seed, "seed", 0, "seed of the faults and the load (0: from the clock; printed, so a run can be repeated)")
	c.Str(&faults, "faults", "IMARCHIVE_CHAOS_FAULTS", "all", "fault kinds, comma-separated: "+fmt.Sprint(chaos.AllFaults))
	c.FS.StringVar(&reportJSON, "report-json", "", "also write the report as JSON to this file")
	c.Run = func(args []string) error {
		if err := c.Parse(args); err != nil {
			return err
		}
		var err error
		if cfg.Faults, err = chaos.ParseFaults(faults); err != nil {
			return err
		}
		cfg.Brokers = cli.SplitList(brokers)
		cfg.Seed = uint64(seed)
		cfg.Out = stdout
		if cfg.Binary = binary; binary == "" {
			if cfg.Binary, err = productBinary(); err != nil {
				return err
			}
		}
		ctx, stop := cli.SignalContext()
		defer stop()
		rep, err := chaos.Run(ctx, cfg)
		if rep != nil {
			rep.Write(stdout)
			if reportJSON != "" {
				b, _ := json.MarshalIndent(rep, "", "  ")
				if werr := os.WriteFile(reportJSON, b, 0o644); werr != nil {
					return werr
				}
			}
		}
		if err != nil {
			return err
		}
		if !rep.OK() {
			return errors.New("chaos run failed: something acknowledged was lost, doubled or misplaced (report above)")
		}
		return nil
	}
	return c
}

// productBinary is imarchive beside this binary (make build puts both in bin/).
func productBinary() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find this binary: %w (give --binary)", err)
	}
	p := filepath.Join(filepath.Dir(exe), "imarchive")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("the imarchive binary to run as serve and consume: %w (make build, or give --binary)", err)
	}
	return p, nil
}
