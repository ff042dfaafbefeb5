package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/imarchive/imarchive/internal/loadgen"
)

// childEnv carries the load generator's job to the child process: its presence makes MaybeChild run
// the job instead of the program.
const childEnv = "IMARCHIVE_BENCH_CHILD"

// childJob is what the child runs: loadgen with Config, its accepted callbacks logged to AcceptedLog
// (when set) with the time each answer was received.
type childJob struct {
	Config      loadgen.Config
	AcceptedLog string
}

// MaybeChild runs the load generator's job and exits when this process was started as the bench's
// child; otherwise it returns at once. A program that sets Config.Self to run itself again calls it
// first thing.
func MaybeChild() {
	spec, ok := os.LookupEnv(childEnv)
	if !ok {
		return
	}
	if err := runChild(context.Background(), spec, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "bench load generator: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runChild(ctx context.Context, spec string, stdout io.Writer) error {
	var job childJob
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		return fmt.Errorf("read job: %w", err)
	}
	rep, err := runLoadgen(ctx, job)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(rep)
}

// runLoadgen runs one job in this process.
func runLoadgen(ctx context.Context, job childJob) (*loadgen.Report, error) {
	cfg := job.Config
	if job.AcceptedLog != "" {
		f, err := os.OpenFile(job.AcceptedLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("accepted log: %w", err)
		}
		defer f.Close()
		cfg.AcceptedLog = &stampWriter{w: f}
	}
	return loadgen.Run(ctx, cfg)
}

// stampWriter prefixes each line the load generator logs (one Write per accepted callback, right
// after its answer) with the wall-clock time in Unix ns, and writes it at once, so that the parent can
// read the log while it grows.
type stampWriter struct{ w io.Writer }

func (s *stampWriter) Write(p []byte) (int, error) {
	line := strconv.AppendInt(make([]byte, 0, len(p)+24), time.Now().UnixNano(), 10)
	line = append(line, ' ')
	line = append(line, p...)
	if _, err := s.w.Write(line); err != nil {
		return 0, err
	}
	return len(p), nil
}

// parseStamped reads one line of a stamped accepted log.
func parseStamped(line []byte) (time.Time, loadgen.AcceptedRecord, error) {
	var rec loadgen.AcceptedRecord
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return time.Time{}, rec, errors.New("accepted log line without a time stamp")
	}
	ns, err := strconv.ParseInt(string(ts), 10, 64)
	if err != nil {
		return time.Time{}, rec, fmt.Errorf("accepted log time stamp %q: %w", ts, err)
	}
	if err := json.Unmarshal(rest, &rec); err != nil {
		return time.Time{}, rec, fmt.Errorf("accepted log record: %w", err)
	}
	return time.Unix(0, ns), rec, nil
}

// load runs a load generator job: in a child process when cfg.Self is set (so that the generator's
// CPU and garbage collection are not the server's), else in this process. It returns the child's CPU
// time (0 in this process).
func (b *run) load(ctx context.Context, job childJob) (*loadgen.Report, time.Duration, error) {
	if len(b.cfg.Self) == 0 {
		rep, err := runLoadgen(ctx, job)
		return rep, 0, err
	}
	spec, err := json.Marshal(job)
	if err != nil {
		return nil, 0, fmt.Errorf("encode load job: %w", err)
	}
	cmd := exec.CommandContext(ctx, b.cfg.Self[0], b.cfg.Self[1:]...)
	cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, 0, fmt.Errorf("load generator process: %w: %s", err, bytes.TrimSpace(errOut.Bytes()))
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	var rep loadgen.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return nil, cpu, fmt.Errorf("load generator report: %w (stderr: %s)", err, bytes.TrimSpace(errOut.Bytes()))
	}
	return &rep, cpu, nil
}

// loadJob is a NetEase message job against target: as fast as Concurrency allows (rate 0) or at rate.
func (b *run) loadJob(target string, rate float64, d time.Duration) childJob {
	return childJob{Config: loadgen.Config{
		Target:      target,
		Rate:        rate,
		Duration:    d,
		Concurrency: b.cfg.Concurrency,
		Accounts:    200,
		Channels:    20,
		Mix:         map[string]int{loadgen.NeteaseMessage: 1},
		NeteaseApps: map[string]string{benchApp: benchSecret},
		Seed:        b.seed(),
		Timeout:     10 * time.Second,
	}}
}

// Load generator outcomes that make a run's figures meaningless.
var errLoadFailed = errors.New("callbacks not accepted")

// checkLoad fails a run in which any callback was not accepted: its rate would not be ingest's.
func checkLoad(rep *loadgen.Report) error {
	t := rep.Total
	if t.Sent == 0 {
		return fmt.Errorf("%w: nothing was sent", errLoadFailed)
	}
	if t.Accepted != t.Sent {
		return fmt.Errorf("%w: %d of %d (rejected %d, failed %d; statuses %v, errors %v)",
			errLoadFailed, t.Sent-t.Accepted, t.Sent, t.Rejected, t.Failed, rep.Statuses, rep.Errors)
	}
	return nil
}
