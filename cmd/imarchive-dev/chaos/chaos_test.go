package chaos_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/cmd/imarchive-dev/chaos"
	"github.com/imarchive/imarchive/internal/testenv"
)

// ctl returns a service's control command (scripts/test.sh sets both for the services it started),
// or skips; under IMARCHIVE_TEST_REQUIRE=1 its absence is a failure.
func ctl(t *testing.T, env string) string {
	t.Helper()
	return testenv.Need(t, env, "the chaos run needs services it may stop (scripts/test.sh sets it)")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestChaosShort is the CI version of the chaos run (make chaos runs the long one): about 25 s of
// load during which the Kafka broker is stopped and killed, the ClickHouse engine killed, consume
// killed and serve stopped and killed, each restarted, at seeded random moments (the seed is in the
// log; IMARCHIVE_CHAOS_SEED repeats a run). It passes when every acknowledged callback is archived
// exactly once, the online state follows the rule, and the dead-letter topic holds exactly what
// should be there.
func TestChaosShort(t *testing.T) {
	kafkaCtl := ctl(t, "IMARCHIVE_TEST_KAFKA_CTL")
	chdbCtl := ctl(t, "IMARCHIVE_TEST_CHDB_CTL")
	brokers := testenv.KafkaBrokers(t)
	dsn := testenv.ClickHouseDSN(t)
	bin := filepath.Join(t.TempDir(), "imarchive")
	if out, err := exec.Command("go", "build", "-o", bin, "../../imarchive").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("IMARCHIVE_CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = v
	}
	dir := t.TempDir()
	var out bytes.Buffer
	cfg := chaos.Config{
		Binary: bin, Dir: dir, Brokers: brokers, DSN: dsn,
		// The control commands run from the module root, as scripts/test.sh writes them.
		KafkaCtl: "cd ../../.. && " + kafkaCtl, CHDBCtl: "cd ../../.. && " + chdbCtl,
		Listen: freeAddr(t), OpsListen: freeAddr(t),
		Seed: seed, Duration: 25 * time.Second, Rate: 60, FaultEvery: 1500 * time.Millisecond, MaxDown: 1500 * time.Millisecond,
		Settle: 45 * time.Second, Out: &out,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	rep, err := chaos.Run(ctx, cfg)
	t.Logf("chaos run, %s:\n%s", time.Since(start).Round(time.Second), out.String())
	if rep != nil {
		var b bytes.Buffer
		rep.Write(&b)
		t.Log("\n" + b.String())
	}
	if err != nil {
		for _, name := range []string{"serve.log", "consume.log"} {
			if b, rerr := os.ReadFile(filepath.Join(dir, name)); rerr == nil {
				t.Logf("--- %s (last 3000 bytes) ---\n%s", name, tail(b, 3000))
			}
		}
		t.Fatalf("seed %d: %v", seed, err)
	}
	if !rep.OK() {
		t.Fatalf("seed %d: the chaos run lost, doubled or misplaced records (report above)", seed)
	}
	kinds := map[string]bool{}
	for _, f := range rep.Faults {
		kinds[f.Kind] = true
	}
	for _, k := range chaos.AllFaults {
		if !kinds[k] {
			t.Errorf("fault %s was never injected", k)
		}
	}
	// The faults must have been felt: callbacks refused or unanswered while a service was away (and
	// retried), and some accepted.
	if rep.Load.Failed == 0 || rep.Acknowledged < 500 {
		t.Errorf("failed sends %d, acknowledged %d: the run did not exercise what it claims", rep.Load.Failed, rep.Acknowledged)
	}
	if rep.DeadLetterAcked == 0 || rep.PresenceAccounts == 0 {
		t.Errorf("dead letters acknowledged %d, presence accounts %d: nothing to check there", rep.DeadLetterAcked, rep.PresenceAccounts)
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.ToValidUTF8(string(b), "?")
}

// TestConfigValidate: the chaos run refuses addresses off loopback, unknown faults and faults whose
// service it cannot control, all at once.
func TestConfigValidate(t *testing.T) {
	cfg := chaos.Config{
		Binary: "/nonexistent/imarchive", Dir: t.TempDir(), Brokers: []string{"10.0.0.1:9092"}, DSN: "http://127.0.0.1:8123/default",
		Listen: "0.0.0.0:8080", OpsListen: "127.0.0.1:9091", Faults: []string{"kafka-kill", "clickhouse-kill", "disk-full"},
	}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"binary", `broker "10.0.0.1:9092"`, `serve listen "0.0.0.0:8080"`, `fault "disk-full"`,
		"kafka-kill needs the Kafka control command", "clickhouse-kill needs the ClickHouse control command"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if _, err := chaos.ParseFaults("serve-kill, consume-kill"); err != nil {
		t.Error(err)
	}
	if f, _ := chaos.ParseFaults("all"); len(f) != len(chaos.AllFaults) {
		t.Errorf("all: %v", f)
	}
}
