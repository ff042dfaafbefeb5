package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func devCommand(stdout, stderr io.Writer) *command {
	c := newCommand("dev", "migrate, then serve and consume in one process, for a laptop without Docker",
		`With no Kafka brokers configured, dev starts an embedded in-memory Kafka (franz-go's kfake): fine for
trying things out, NOT durable — everything not yet in ClickHouse is lost when dev stops. The
ClickHouse DSN is required. Every flag of serve, consume and migrate is a flag of dev too (with its
IMARCHIVE_* variable, or --config FILE): imarchive dev --netease-apps demo=secret --listen :8080.
Where serve and consume name different settings alike, consume's flag is prefixed: --ops-listen is
serve's ops address, --consume-ops-listen consume's.`)
	var brokers, dsn, kfakePort string
	c.str(&brokers, "kafka-brokers", "IMARCHIVE_KAFKA_BROKERS", "", "Kafka brokers; empty: an embedded in-memory Kafka, NOT durable")
	c.str(&dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN (required)")
	c.str(&kfakePort, "embedded-kafka-port", "IMARCHIVE_DEV_KAFKA_PORT", "0", "port of the embedded Kafka (0: any free port)")
	passed := passFlags(c, migrateCommand(io.Discard, io.Discard), serveCommand(io.Discard), consumeCommand(io.Discard))
	c.run = func(args []string) error {
		if err := c.parse(args); err != nil {
			return err
		}
		// The parts read their settings from the environment: a flag given to dev goes there.
		for name, envs := range passed {
			if c.source(name) == sourceFlag {
				for _, e := range envs {
					os.Setenv(e, c.fs.Lookup(name).Value.String())
				}
			}
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

// passFlags defines on c every flag of the parts that c lacks, each with the part's IMARCHIVE_* variable,
// checked by the part's own flag; it returns each such flag's variables (a name may have more than one).
// Where two parts use one name for different settings, the later part's flag is named part-name.
func passFlags(c *command, parts ...*command) map[string][]string {
	passed := map[string][]string{}
	for _, part := range parts {
		part.fs.VisitAll(func(f *flag.Flag) {
			env := part.envs[f.Name]
			if env == "" || f.Name == "config" {
				return
			}
			name := f.Name
			if envs, ok := passed[name]; ok && c.envs[name] != env && !slices.Contains(envs, env) {
				// Two parts name different settings alike (serve's and consume's --ops-listen, one
				// address each): the later part's flag is prefixed with its name on dev.
				name = part.name + "-" + f.Name
			}
			if own := c.fs.Lookup(name); own != nil {
				if _, ok := passed[name]; !ok {
					return // dev's own flag (kafka-brokers, clickhouse-dsn): set in the environment below
				}
			} else {
				b, isBool := f.Value.(interface{ IsBoolFlag() bool })
				v := &passValue{s: f.DefValue, isBool: isBool && b.IsBoolFlag(), check: f.Value.Set}
				c.fs.Var(v, name, f.Usage+" ("+part.name+")")
				c.fs.Lookup(name).DefValue = f.DefValue
				c.env(name, env)
			}
			if !slices.Contains(passed[name], env) {
				passed[name] = append(passed[name], env)
			}
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
