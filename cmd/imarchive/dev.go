package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"golang.org/x/sync/errgroup"

	"github.com/imarchive/imarchive/internal/cli"
)

func devCommand(stdout, stderr io.Writer) *cli.Command {
	c := cli.New("dev", "migrate, then serve and consume in one process, for a laptop without Docker",
		`With no Kafka brokers configured, dev starts an embedded in-memory Kafka (franz-go's kfake): fine for
trying things out, NOT durable — everything not yet in ClickHouse is lost when dev stops. The
ClickHouse DSN is required. Every flag of serve, consume and migrate is a flag of dev too (with its
IMARCHIVE_* variable, or --config FILE): imarchive dev --netease-apps demo=secret --listen :8080.
Where serve and consume name different settings alike, consume's flag is prefixed: --ops-listen is
serve's ops address, --consume-ops-listen consume's.`)
	var brokers, dsn, kfakePort string
	c.Str(&brokers, "kafka-brokers", "IMARCHIVE_KAFKA_BROKERS", "", "Kafka brokers; empty: an embedded in-memory Kafka, NOT durable")
	c.Str(&dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN (required)")
	c.Str(&kfakePort, "embedded-kafka-port", "IMARCHIVE_DEV_KAFKA_PORT", "0", "port of the embedded Kafka (0: any free port)")
	passed := passFlags(c, migrateCommand(io.Discard, io.Discard), serveCommand(io.Discard), consumeCommand(io.Discard))
	c.Run = func(args []string) error {
		if err := c.Parse(args); err != nil {
			return err
		}
		if dsn == "" {
			return errors.New("IMARCHIVE_CLICKHOUSE_DSN (--clickhouse-dsn) is required: dev writes to a real ClickHouse")
		}
		embedded := brokers == ""
		if embedded {
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
		}
		// The parts read the environment and the config file as they always do; dev hands each the
		// flags given to dev, and where Kafka and ClickHouse are, as its own command line.
		byName := map[string]*cli.Command{}
		for _, sub := range program(stdout, stderr).Commands {
			byName[sub.Name] = sub
		}
		partArgs := map[string][]string{}
		for name, pfs := range passed {
			if c.Source(name) != cli.SourceFlag {
				continue
			}
			v := c.FS.Lookup(name).Value.String()
			for _, pf := range pfs {
				partArgs[pf.part] = append(partArgs[pf.part], "--"+pf.flag+"="+v)
			}
		}
		for _, part := range []string{"migrate", "serve", "consume"} {
			fs := byName[part].FS
			if fs.Lookup("kafka-brokers") != nil {
				partArgs[part] = append(partArgs[part], "--kafka-brokers="+brokers)
			}
			if fs.Lookup("clickhouse-dsn") != nil {
				partArgs[part] = append(partArgs[part], "--clickhouse-dsn="+dsn)
			}
			if p := cli.ConfigPath(args); p != "" {
				partArgs[part] = append(partArgs[part], "--config="+p)
			}
		}
		if embedded && c.Source("spool-dir") == cli.SourceDefault {
			// A spool on disk in front of an in-memory Kafka would keep nothing the broker keeps.
			partArgs["serve"] = append(partArgs["serve"], "--spool-dir=off")
		}
		if err := byName["migrate"].Run(partArgs["migrate"]); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		serve, err := byName["serve"].Start(partArgs["serve"])
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		consume, err := byName["consume"].Start(partArgs["consume"])
		if err != nil {
			return fmt.Errorf("consume: %w", err)
		}
		// One run group: when a part fails, the other is stopped too; every error is reported.
		ctx, stop := cli.SignalContext()
		defer stop()
		g, gctx := errgroup.WithContext(ctx)
		errs := make([]error, 2)
		for i, part := range []struct {
			name string
			run  cli.RunFunc
		}{{"serve", serve}, {"consume", consume}} {
			g.Go(func() error {
				if err := part.run(gctx); err != nil {
					errs[i] = fmt.Errorf("%s: %w", part.name, err)
				}
				return errs[i]
			})
		}
		g.Wait()
		return errors.Join(errs...)
	}
	return c
}

// partFlag is a flag of one of dev's parts: the part's command and the flag's name there.
type partFlag struct{ part, flag, env string }

// passFlags defines on c every flag of the parts that c lacks, each with the part's IMARCHIVE_* variable,
// checked by the part's own flag; it returns, for each such flag of c, the parts' flags it stands for.
// Where two parts use one name for different settings, the later part's flag is named part-name.
func passFlags(c *cli.Command, parts ...*cli.Command) map[string][]partFlag {
	passed := map[string][]partFlag{}
	for _, part := range parts {
		part.FS.VisitAll(func(f *flag.Flag) {
			env := part.Envs[f.Name]
			if env == "" || f.Name == "config" {
				return
			}
			name := f.Name
			sameEnv := func(p partFlag) bool { return p.env == env }
			if pfs, ok := passed[name]; ok && c.Envs[name] != env && !slices.ContainsFunc(pfs, sameEnv) {
				// Two parts name different settings alike (serve's and consume's --ops-listen, one
				// address each): the later part's flag is prefixed with its name on dev.
				name = part.Name + "-" + f.Name
			}
			if own := c.FS.Lookup(name); own != nil {
				if _, ok := passed[name]; !ok {
					return // dev's own flag (kafka-brokers, clickhouse-dsn): set in the environment below
				}
			} else {
				b, isBool := f.Value.(interface{ IsBoolFlag() bool })
				v := &passValue{s: f.DefValue, isBool: isBool && b.IsBoolFlag(), check: f.Value.Set}
				c.FS.Var(v, name, f.Usage+" ("+part.Name+")")
				c.FS.Lookup(name).DefValue = f.DefValue
				c.Env(name, env)
			}
			passed[name] = append(passed[name], partFlag{part: part.Name, flag: f.Name, env: env})
		})
	}
	return passed
}

// passValue is a part's flag on dev: checked as the part checks it, handed over as text.
type passValue struct {
	s      string
	isBool bool
	check  func(string) error
}

func (p *passValue) String() string {
	if p == nil {
		return ""
	}
	return p.s
}

func (p *passValue) Set(v string) error {
	if err := p.check(v); err != nil {
		return err
	}
	p.s = v
	return nil
}

func (p *passValue) IsBoolFlag() bool { return p.isBool }
