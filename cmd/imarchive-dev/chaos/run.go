package chaos

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/internal/loadgen"
)

// The apps of the run, the same for serve and the load.
const (
	neteaseApp, neteaseSecret = "chaos", "chaos-netease-secret"
	ilinkApp, ilinkToken      = "chaos", "chaos-token"
	ilinkPath                 = "chaos-path-secret"
	maximApp, maximSecret     = "chaos", "chaos-maxim-secret"
)

// Fault is one fault injected.
type Fault struct {
	At   time.Duration `json:"at"`   // since the load started
	Kind string        `json:"kind"` // one of AllFaults
	Down time.Duration `json:"down"` // how long the service was away, restart included
}

// run is one chaos run's state.
type run struct {
	cfg   Config
	start time.Time
	env   []string
	db    string
	dsn   string
	topic string // prefix

	mu    sync.Mutex
	procs map[string]*proc
}

// proc is a child imarchive process.
type proc struct {
	cmd  *exec.Cmd
	done chan error
	log  *os.File
}

// Run performs the chaos run. The error is for a run that could not be carried out (a service that
// does not start, a check that cannot be made); a run that was carried out returns its report, whose
// OK says whether anything was lost or doubled.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, procs: map[string]*proc{}}
	r.db = fmt.Sprintf("chaos_%x", cfg.Seed&0xffffffffff)
	r.topic = r.db + "."
	u, err := url.Parse(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("chaos: DSN: %w", err)
	}
	u.Path = "/" + r.db
	r.dsn = u.String()
	r.env = append(os.Environ(),
		"IMARCHIVE_KAFKA_BROKERS="+joinComma(cfg.Brokers),
		"IMARCHIVE_TOPIC_PREFIX="+r.topic,
		"IMARCHIVE_TOPIC_PARTITIONS=3",
		"IMARCHIVE_CONSUMER_GROUP="+r.db,
		"IMARCHIVE_CLICKHOUSE_DSN="+r.dsn,
		"IMARCHIVE_NETEASE_APPS="+neteaseApp+"="+neteaseSecret,
		"IMARCHIVE_ILINK_APPS="+ilinkApp+"="+ilinkToken+":"+ilinkPath,
		"IMARCHIVE_MAXIM_APPS="+maximApp+"="+maximSecret,
		"IMARCHIVE_LISTEN="+cfg.Listen,
		"IMARCHIVE_SERVE_OPS_LISTEN=", // serve's /readyz beside its callbacks, on the run's loopback address
		"IMARCHIVE_OPS_LISTEN="+cfg.OpsListen,
		"IMARCHIVE_BATCH_ROWS=500",
		"IMARCHIVE_BATCH_WAIT=300ms",
		"IMARCHIVE_RETRY_MAX=3s",
		"IMARCHIVE_SESSION_TIMEOUT=6s", // a killed consumer's partitions come back after this
		"IMARCHIVE_SHUTDOWN_TIMEOUT=10s",
		"IMARCHIVE_LOG_FORMAT=text",
		"IMARCHIVE_SPOOL_DIR="+filepath.Join(cfg.Dir, "spool"), // kept across serve's restarts
	)
	fmt.Fprintf(cfg.Out, "chaos: seed %d (again: --seed %d), load %s at %.0f/s, a fault every ~%s of %v; database %s, topics %s*; logs in %s\n",
		cfg.Seed, cfg.Seed, cfg.Duration, cfg.Rate, cfg.FaultEvery, cfg.Faults, r.db, r.topic, cfg.Dir)

	// Whatever happens, leave the services running and the children stopped.
	defer r.cleanup()
	if out, err := r.oneShot(ctx, "migrate"); err != nil {
		return nil, fmt.Errorf("chaos: migrate: %w\n%s", err, out)
	}
	for _, name := range []string{"serve", "consume"} {
		if err := r.startProc(name); err != nil {
			return nil, err
		}
	}
	if err := r.waitReady(ctx, "http://"+cfg.Listen+"/readyz", 60*time.Second); err != nil {
		return nil, fmt.Errorf("chaos: serve not ready: %w", err)
	}

	rep := &Report{Seed: cfg.Seed, Database: r.db, TopicPrefix: r.topic}
	r.start = time.Now()
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()

	acceptedPath := filepath.Join(cfg.Dir, "accepted.jsonl")
	acceptedFile, err := os.Create(acceptedPath)
	if err != nil {
		return nil, err
	}
	defer acceptedFile.Close()
	var loadRep *loadgen.Report
	var loadErr error
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		// The load runs until the fault loop stops it: Duration, and every fault kind injected once.
		loadRep, loadErr = loadgen.Run(loadCtx, loadgen.Config{
			Target: "http://" + cfg.Listen, Rate: cfg.Rate, Duration: 20 * cfg.Duration, Concurrency: 16,
			Duplicates: 0.05, OutOfOrder: 0.1, Seed: cfg.Seed,
			NeteaseApps:   map[string]string{neteaseApp: neteaseSecret},
			ILinkApps:     map[string]loadgen.ILinkApp{ilinkApp: {Token: ilinkToken, PathSecret: ilinkPath}},
			MaximApps:     map[string]string{maximApp: maximSecret},
			Timeout:       8 * time.Second,
			FailedRetries: 8, RetryBackoff: 250 * time.Millisecond,
			AcceptedLog: acceptedFile, Progress: cfg.Out, ProgressEvery: 5 * time.Second,
		})
	}()
	bad := &badSender{r: r, rng: rand.New(rand.NewPCG(cfg.Seed, 3)), keys: map[string]bool{}}
	badDone := make(chan struct{})
	go func() { defer close(badDone); bad.run(loadCtx) }()

	faultErr := r.faults(loadCtx, rep)
	stopLoad()
	<-loadDone
	<-badDone
	if faultErr != nil {
		return nil, faultErr
	}
	if loadErr != nil {
		return nil, fmt.Errorf("chaos: load: %w", loadErr)
	}
	rep.Load = loadRep.Total
	rep.LoadElapsed = time.Since(r.start)
	fmt.Fprintf(cfg.Out, "chaos: load over after %s: sent %d, accepted %d, failed %d (retried), rejected %d\n",
		rep.LoadElapsed.Round(time.Second), rep.Load.Sent, rep.Load.Accepted, rep.Load.Failed, rep.Load.Rejected)

	acked, err := readAccepted(acceptedPath)
	if err != nil {
		return nil, err
	}
	if err := r.verify(ctx, rep, acked, bad); err != nil {
		return rep, err
	}
	for _, name := range []string{"serve", "consume"} {
		if err := r.stopProc(name, syscall.SIGTERM); err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s did not stop cleanly at the end: %v", name, err))
		}
	}
	return rep, nil
}

func joinComma(xs []string) string {
	var b bytes.Buffer
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(x)
	}
	return b.String()
}

// faults injects faults at random moments while the load runs: every kind once in a seeded order,
// then kinds at random, until Duration has passed and every kind was injected. Then the load stops
// (its last retries go to a healthy pipeline).
func (r *run) faults(ctx context.Context, rep *Report) error {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 1))
	order := slicesShuffled(rng, r.cfg.Faults)
	for i := 0; ; i++ {
		pause := r.cfg.FaultEvery/2 + time.Duration(rng.Int64N(int64(r.cfg.FaultEvery)))
		if i >= len(order) && time.Since(r.start)+pause > r.cfg.Duration {
			select {
			case <-ctx.Done():
			case <-time.After(max(0, r.cfg.Duration-time.Since(r.start))):
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
		kind := order[i%len(order)]
		if i >= len(order) {
			kind = order[rng.IntN(len(order))]
		}
		down := 300*time.Millisecond + time.Duration(rng.Int64N(int64(r.cfg.MaxDown)))
		at := time.Since(r.start)
		t0 := time.Now()
		if err := r.inject(ctx, kind, down); err != nil {
			return fmt.Errorf("chaos: %s at +%s: %w", kind, at.Round(100*time.Millisecond), err)
		}
		f := Fault{At: at, Kind: kind, Down: time.Since(t0)}
		rep.Faults = append(rep.Faults, f)
		fmt.Fprintf(r.cfg.Out, "chaos: +%5.1fs %-15s down %.1fs\n", f.At.Seconds(), f.Kind, f.Down.Seconds())
	}
}

func slicesShuffled(rng *rand.Rand, xs []string) []string {
	out := append([]string(nil), xs...)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// inject takes a service down for about down and brings it back.
func (r *run) inject(ctx context.Context, kind string, down time.Duration) error {
	sleep := func() {
		select {
		case <-ctx.Done():
		case <-time.After(down):
		}
	}
	switch kind {
	case KafkaRestart, KafkaKill:
		action := "stop"
		if kind == KafkaKill {
			action = "kill"
		}
		if err := r.control(r.cfg.KafkaCtl, action); err != nil {
			return err
		}
		sleep()
		return r.control(r.cfg.KafkaCtl, "start")
	case ClickHouseKill:
		if err := r.control(r.cfg.CHDBCtl, "kill"); err != nil {
			return err
		}
		sleep()
		return r.control(r.cfg.CHDBCtl, "start")
	case ConsumeKill, ServeKill, ServeTerm:
		name, sig := "consume", syscall.SIGKILL
		if kind != ConsumeKill {
			name = "serve"
		}
		if kind == ServeTerm {
			sig = syscall.SIGTERM
		}
		if err := r.stopProc(name, sig); err != nil {
			return err
		}
		sleep()
		if err := r.startProc(name); err != nil {
			return err
		}
		if name == "serve" {
			return r.waitReady(ctx, "http://"+r.cfg.Listen+"/healthz", 30*time.Second)
		}
		return nil
	}
	return fmt.Errorf("unknown fault %q", kind)
}

// control runs "<prefix> <action>" with bash.
func (r *run) control(prefix, action string) error {
	cmd := exec.Command("bash", "-c", prefix+" "+action)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", prefix, action, err, out)
	}
	return nil
}

// oneShot runs a command of the binary to its end.
func (r *run) oneShot(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, r.cfg.Binary, args...)
	cmd.Env = r.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// startProc starts serve or consume, its output appended to its log file.
func (r *run) startProc(name string) error {
	f, err := os.OpenFile(filepath.Join(r.cfg.Dir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "=== chaos: start %s at +%s\n", name, time.Since(r.start).Round(time.Millisecond))
	cmd := exec.Command(r.cfg.Binary, name)
	cmd.Env = r.env
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1), log: f}
	go func() { p.done <- cmd.Wait() }()
	r.mu.Lock()
	r.procs[name] = p
	r.mu.Unlock()
	return nil
}

// stopProc signals serve or consume and waits for it to exit. After SIGTERM it must exit cleanly
// within 30 s.
func (r *run) stopProc(name string, sig syscall.Signal) error {
	r.mu.Lock()
	p := r.procs[name]
	delete(r.procs, name)
	r.mu.Unlock()
	if p == nil {
		return nil
	}
	defer p.log.Close()
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %s: %w", name, err)
	}
	select {
	case err := <-p.done:
		if sig == syscall.SIGTERM && err != nil {
			return fmt.Errorf("%s exited with %v after SIGTERM (see %s.log)", name, err, name)
		}
		return nil
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within 30 s of %s", name, sig)
	}
}

func (r *run) waitReady(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 within %s (last: %v)", url, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// cleanup stops the children and makes sure the shared services run again.
func (r *run) cleanup() {
	r.mu.Lock()
	names := make([]string, 0, len(r.procs))
	for n := range r.procs {
		names = append(names, n)
	}
	r.mu.Unlock()
	for _, n := range names {
		r.stopProc(n, syscall.SIGKILL)
	}
	for _, ctl := range []string{r.cfg.KafkaCtl, r.cfg.CHDBCtl} {
		if ctl != "" {
			r.control(ctl, "start")
		}
	}
}

// badSender sends, about once a second, an authentic NetEase callback that cannot be normalized (an
// eventType no manual has): it must end up on the dead-letter topic, and it is all that may.
type badSender struct {
	r    *run
	rng  *rand.Rand
	mu   sync.Mutex
	keys map[string]bool // dead-letter key of every one sent → acknowledged
}

func (b *badSender) run(ctx context.Context) {
	client := &http.Client{Timeout: 8 * time.Second}
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(700*time.Millisecond + time.Duration(b.rng.IntN(600))*time.Millisecond):
		}
		body := []byte(`{"eventType":"999","chaos":"` + strconv.FormatUint(b.r.cfg.Seed, 36) + "-" + strconv.Itoa(i) + `","time":` + strconv.FormatInt(time.Now().UnixMilli(), 10) + `}`)
		key := event.ID(event.SourceNetease, neteaseApp, "raw", string(body))
		b.mu.Lock()
		b.keys[key] = false
		b.mu.Unlock()
		for attempt := 0; attempt < 8 && ctx.Err() == nil; attempt++ {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+b.r.cfg.Listen+"/v1/netease/"+neteaseApp, bytes.NewReader(body))
			loadgen.SignNetease(req.Header, neteaseSecret, body, time.Now())
			resp, err := client.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					b.mu.Lock()
					b.keys[key] = true
					b.mu.Unlock()
					break
				}
			}
			time.Sleep(time.Duration(250<<min(attempt, 3)) * time.Millisecond)
		}
	}
}

// readAccepted reads loadgen's accepted log: the event_ids answered with success, and which of them
// are presence events.
func readAccepted(path string) (map[string]loadgen.AcceptedRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]loadgen.AcceptedRecord{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var rec loadgen.AcceptedRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("accepted log: %w", err)
		}
		if rec.EventID == "" {
			return nil, fmt.Errorf("accepted log: %s %s has no event_id", rec.Kind, rec.ID)
		}
		out[rec.EventID] = rec
	}
	return out, sc.Err()
}
