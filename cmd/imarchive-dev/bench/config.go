package bench

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Config says what to measure, on what, and for how long.
type Config struct {
	// KafkaBrokers is the broker to measure on. Empty: scripts/kafka.sh from SourceDir is started on
	// KafkaPort (and stopped at the end, unless it was already running).
	KafkaBrokers []string
	// ClickHouseDSN is the ClickHouse to measure on (a database of the bench's own is created in it
	// and dropped at the end). Empty: scripts/chdb.sh is started on CHDBPort.
	ClickHouseDSN string
	// SourceDir is the module's source tree (scripts/, go.mod); empty: looked for from the working
	// directory upwards. Needed to start services and for the go test microbenchmarks.
	SourceDir string
	// ServiceDir holds the data of services the bench starts (their IMARCHIVE_TEST_DIR).
	ServiceDir string
	KafkaPort  int
	CHDBPort   int

	// Prime is a first ingest run at full speed, whose figures are dropped: a broker that has just
	// started (a JVM) compiles its hot code in its first seconds.
	Prime time.Duration
	// Duration of each measured run, after Warmup (a run of the same kind whose figures are dropped).
	Duration time.Duration
	Warmup   time.Duration
	// ScaleDuration is the length of each scaling run.
	ScaleDuration time.Duration
	// Concurrency is the load generator's requests in flight, and the raw producers' goroutines.
	Concurrency int
	// Partitions of the topics of the main ingest, ceiling, peer and consumer runs.
	Partitions int
	// Scale lists the partition counts and ingest worker counts of the scaling runs (default 1, 2, 4).
	Scale []int
	// ConsumeRows caps the events (and raw records) each consumer run reads.
	ConsumeRows int
	// E2ERate is the offered load of the end-to-end run in callbacks/s; 0: half of the ingest peak.
	E2ERate float64
	// E2EPoll is how often the end-to-end run queries ClickHouse for the new messages.
	E2EPoll time.Duration
	// LightRate is the offered load of the light-load end-to-end runs (flush policy before and after):
	// fewer callbacks a second than batches the insert interval allows, so a batch is caught up.
	LightRate float64
	// Micro runs the go test microbenchmarks (needs SourceDir and the go command); MicroTime is their
	// -benchtime.
	Micro     bool
	MicroTime string
	// ProfileDir, when set, receives a CPU profile and an allocation profile of the process while the
	// ingest peak run is served (ingest_cpu.pprof, ingest_allocs.pprof) and while both consumer groups
	// run as deployed (consume_cpu.pprof, consume_allocs.pprof).
	ProfileDir string
	// Keep leaves the topics and the database in place.
	Keep bool

	// Self is the command that runs this program again as the load generator's child process (for
	// imarchive: the binary and "bench"); the child must call MaybeChild first. Empty: the load
	// generator runs in this process.
	Self []string

	Log      *slog.Logger // warnings and errors of the parts; nil: discarded
	Progress io.Writer    // one line per phase; nil: none
}

// DefaultConfig returns the defaults: a run of about two minutes on a 2-core machine.
func DefaultConfig() Config {
	return Config{
		KafkaPort:     19192,
		CHDBPort:      18223,
		Prime:         8 * time.Second,
		Duration:      6 * time.Second,
		Warmup:        time.Second,
		ScaleDuration: 4 * time.Second,
		Concurrency:   64,
		Partitions:    4,
		Scale:         []int{1, 2, 4},
		ConsumeRows:   50_000,
		E2EPoll:       100 * time.Millisecond,
		LightRate:     2,
		Micro:         true,
		MicroTime:     "1s",
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Duration <= 0 || c.ScaleDuration <= 0 {
		errs = append(errs, fmt.Errorf("durations %s and %s: must be positive", c.Duration, c.ScaleDuration))
	}
	if c.Warmup < 0 || c.Prime < 0 {
		errs = append(errs, fmt.Errorf("warm-up %s and priming %s: must not be negative", c.Warmup, c.Prime))
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("concurrency %d: want at least 1", c.Concurrency))
	}
	if c.Partitions < 1 {
		errs = append(errs, fmt.Errorf("partitions %d: want at least 1", c.Partitions))
	}
	if len(c.Scale) == 0 {
		errs = append(errs, errors.New("scale: no steps (want e.g. 1,2,4)"))
	}
	for _, n := range c.Scale {
		if n < 1 || n > 64 {
			errs = append(errs, fmt.Errorf("scale step %d: want 1 to 64", n))
		}
	}
	if c.ConsumeRows < 1 {
		errs = append(errs, fmt.Errorf("consume rows %d: want at least 1", c.ConsumeRows))
	}
	if c.E2ERate < 0 {
		errs = append(errs, fmt.Errorf("end-to-end rate %v: must not be negative", c.E2ERate))
	}
	if c.LightRate <= 0 {
		errs = append(errs, fmt.Errorf("light-load rate %v: must be positive", c.LightRate))
	}
	if c.E2EPoll <= 0 {
		errs = append(errs, fmt.Errorf("end-to-end poll interval %s: must be positive", c.E2EPoll))
	}
	if len(c.KafkaBrokers) == 0 && (c.KafkaPort < 1 || c.KafkaPort > 65534) {
		errs = append(errs, fmt.Errorf("kafka port %d: out of range (the controller takes the next one)", c.KafkaPort))
	}
	if c.ClickHouseDSN == "" && (c.CHDBPort < 1 || c.CHDBPort > 65535) {
		errs = append(errs, fmt.Errorf("chdb port %d: out of range", c.CHDBPort))
	}
	return errors.Join(errs...)
}
