// Package chaos runs the pipeline under faults and checks that nothing acknowledged is lost or
// doubled: the chaos run behind `imarchive-dev chaos`, `make chaos` and the short CI version.
//
// It starts `imarchive serve` and `imarchive consume` (the real binary, as child processes, on
// loopback addresses only) against a Kafka broker and a ClickHouse engine it may stop, drives them
// with loadgen — a steady stream of signed callbacks of every platform, with platform retries of
// accepted and of failed sends and presence events that arrive late — plus a trickle of authentic
// callbacks that cannot be normalized (they belong on the dead-letter topic), and meanwhile, at
// random moments drawn from a seed it prints, injects faults:
//
//	kafka-restart    the broker stopped (SIGTERM) and started again
//	kafka-kill       the broker killed (SIGKILL) and started again
//	clickhouse-kill  the ClickHouse engine killed (SIGKILL) and started again
//	consume-kill     consume killed (SIGKILL) and started again
//	serve-term       serve stopped (SIGTERM, it finishes in-flight callbacks) and started again
//	serve-kill       serve killed (SIGKILL) and started again
//
// Every kind is injected once, in a seeded order, before any repeats. When the load is over it waits
// for the archive to catch up, then checks: every callback answered with success is in ClickHouse
// exactly once (by event_id, in archive_events and in the raw archive), no view shows a repeat, the
// online state of every account is the rule's answer over all its presence events, and the
// dead-letter topic holds exactly the unnormalizable callbacks that were sent — nothing else. The
// report gives sent, acknowledged, archived, duplicates and lost; Report.OK says whether it passed.
//
// There is no local spool to check: serve answers 503 while Kafka is away (SECURITY.md says why), so
// the platform — loadgen here — keeps the callback and retries.
package chaos

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"time"
)

// Fault kinds.
const (
	KafkaRestart   = "kafka-restart"
	KafkaKill      = "kafka-kill"
	ClickHouseKill = "clickhouse-kill"
	ConsumeKill    = "consume-kill"
	ServeTerm      = "serve-term"
	ServeKill      = "serve-kill"
)

// AllFaults lists every fault kind.
var AllFaults = []string{KafkaRestart, KafkaKill, ClickHouseKill, ConsumeKill, ServeTerm, ServeKill}

// Config is one chaos run.
type Config struct {
	Binary    string   // the imarchive binary, run as migrate, serve and consume
	Dir       string   // the processes' logs and the accepted log go here
	Brokers   []string // the Kafka broker KafkaCtl controls
	DSN       string   // a ClickHouse DSN on the engine CHDBCtl controls; the run uses a fresh database on it
	KafkaCtl  string   // command prefix to which start, stop or kill is appended (scripts/kafka.sh with its environment)
	CHDBCtl   string   // likewise for the ClickHouse engine (scripts/chdb.sh)
	Listen    string   // serve's address: a loopback address and port
	OpsListen string   // consume's /metrics address: loopback

	Seed       uint64        // the faults' moments and kinds and the load; 0: from the clock (printed)
	Duration   time.Duration // how long the load runs; faults happen within it (default 60 s)
	Rate       float64       // first sends a second (default 80)
	FaultEvery time.Duration // mean pause between faults (default 5 s)
	MaxDown    time.Duration // longest a service stays down (default 3 s)
	Settle     time.Duration // longest wait for the archive to catch up after the load (default 90 s)
	Faults     []string      // the kinds to inject (default AllFaults)

	Out io.Writer // progress and the report (nil: discarded)
}

func (c *Config) defaults() {
	if c.Duration <= 0 {
		c.Duration = 60 * time.Second
	}
	if c.Rate <= 0 {
		c.Rate = 80
	}
	if c.FaultEvery <= 0 {
		c.FaultEvery = 5 * time.Second
	}
	if c.MaxDown <= 0 {
		c.MaxDown = 3 * time.Second
	}
	if c.Settle <= 0 {
		c.Settle = 90 * time.Second
	}
	if len(c.Faults) == 0 {
		c.Faults = AllFaults
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Binary == "" {
		errs = append(errs, errors.New("chaos: no imarchive binary"))
	} else if _, err := os.Stat(c.Binary); err != nil {
		errs = append(errs, fmt.Errorf("chaos: binary: %w", err))
	}
	if c.Dir == "" {
		errs = append(errs, errors.New("chaos: no directory for logs"))
	}
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("chaos: no Kafka brokers"))
	}
	if c.DSN == "" {
		errs = append(errs, errors.New("chaos: no ClickHouse DSN"))
	}
	for _, a := range []struct{ name, addr string }{{"serve listen", c.Listen}, {"consume ops listen", c.OpsListen}} {
		if err := loopback(a.addr); err != nil {
			errs = append(errs, fmt.Errorf("chaos: %s %q: %w", a.name, a.addr, err))
		}
	}
	for _, b := range c.Brokers {
		if err := loopback(b); err != nil {
			errs = append(errs, fmt.Errorf("chaos: broker %q: %w (the chaos run stops and starts it: loopback only)", b, err))
		}
	}
	for _, f := range c.Faults {
		switch {
		case !slices.Contains(AllFaults, f):
			errs = append(errs, fmt.Errorf("chaos: fault %q: want one of %s", f, strings.Join(AllFaults, ", ")))
		case strings.HasPrefix(f, "kafka") && c.KafkaCtl == "":
			errs = append(errs, fmt.Errorf("chaos: fault %s needs the Kafka control command", f))
		case strings.HasPrefix(f, "clickhouse") && c.CHDBCtl == "":
			errs = append(errs, fmt.Errorf("chaos: fault %s needs the ClickHouse control command", f))
		}
	}
	if c.Rate < 0 || c.Duration < 0 {
		errs = append(errs, errors.New("chaos: rate and duration must not be negative"))
	}
	return errors.Join(errs...)
}

// loopback accepts host:port on a loopback address only.
func loopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port: %w", err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return errors.New("not a loopback address")
	}
	return nil
}

// ParseFaults reads a comma-separated list of fault kinds ("" or "all": every kind).
func ParseFaults(s string) ([]string, error) {
	if s = strings.TrimSpace(s); s == "" || s == "all" {
		return AllFaults, nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(AllFaults, f) {
			return nil, fmt.Errorf("fault %q: want one of %s", f, strings.Join(AllFaults, ", "))
		}
		out = append(out, f)
	}
	return out, nil
}
