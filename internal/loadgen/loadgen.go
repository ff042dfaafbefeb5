package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// ILinkApp is an iLink app's handshake token and the secret of its callback path.
type ILinkApp struct{ Token, PathSecret string }

// Config says what to send, where, how fast and for how long.
type Config struct {
	Target      string        // base URL of imarchive serve, e.g. http://127.0.0.1:8080
	Rate        float64       // callbacks per second (first sends; retries come on top); 0 = as fast as Concurrency allows
	Duration    time.Duration // stop after this long (default 10 s) …
	Count       int           // … or after this many first sends, whichever comes first (0 = no count limit)
	Concurrency int           // requests in flight at most (default 16)
	Accounts    int           // distinct accounts (default 200)
	Channels    int           // distinct channels / groups (default 20)
	Mix         map[string]int
	Duplicates  float64 // share of accepted callbacks the "platform" sends again, re-signed (0–1)
	OutOfOrder  float64 // share of presence events sent late, with an older time (0–1)
	NeteaseApps map[string]string
	ILinkApps   map[string]ILinkApp
	MaximApps   map[string]string
	Seed        uint64        // 0 = random
	Timeout     time.Duration // per request (default 10 s)
	// FailedRetries is how many times a send that failed (5xx, 429 or no answer) is sent again, as
	// the platforms retry, after a backoff doubling from RetryBackoff (default 200 ms) up to 2 s
	// (0: never; a failed send is only counted).
	FailedRetries int
	RetryBackoff  time.Duration

	Progress      io.Writer     // a progress line every ProgressEvery (nil = none)
	ProgressEvery time.Duration // default 1 s
	AcceptedLog   io.Writer     // one JSON line per accepted send (nil = none)
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	if !strings.HasPrefix(c.Target, "http://") && !strings.HasPrefix(c.Target, "https://") {
		errs = append(errs, fmt.Errorf("target %q: want http(s)://host:port", c.Target))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("rate %v: must not be negative", c.Rate))
	}
	if c.Duration <= 0 && c.Count <= 0 {
		errs = append(errs, errors.New("neither a duration nor a count: the run would not end"))
	}
	if c.Duplicates < 0 || c.Duplicates > 1 || c.OutOfOrder < 0 || c.OutOfOrder > 1 {
		errs = append(errs, errors.New("duplicates and out-of-order are shares between 0 and 1"))
	}
	if len(c.NeteaseApps)+len(c.ILinkApps)+len(c.MaximApps) == 0 {
		errs = append(errs, errors.New("no app configured for any platform"))
	}
	for kind, w := range c.Mix {
		if w == 0 {
			continue
		}
		switch {
		case strings.HasPrefix(kind, "netease") && len(c.NeteaseApps) == 0,
			strings.HasPrefix(kind, "ilink") && len(c.ILinkApps) == 0,
			strings.HasPrefix(kind, "maxim") && len(c.MaximApps) == 0:
			errs = append(errs, fmt.Errorf("mix has %s but no app of its platform is configured", kind))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) defaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = 16
	}
	if c.Accounts <= 0 {
		c.Accounts = 200
	}
	if c.Channels <= 0 {
		c.Channels = 20
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 200 * time.Millisecond
	}
	if len(c.Mix) == 0 {
		// Only the platforms that have apps.
		mix, _ := ParseMix(DefaultMix)
		c.Mix = map[string]int{}
		for k, w := range mix {
			if (strings.HasPrefix(k, "netease") && len(c.NeteaseApps) > 0) ||
				(strings.HasPrefix(k, "ilink") && len(c.ILinkApps) > 0) ||
				(strings.HasPrefix(k, "maxim") && len(c.MaximApps) > 0) {
				c.Mix[k] = w
			}
		}
	}
	if c.Seed == 0 {
		var b [8]byte
		rand.Read(b[:])
		c.Seed = binary.LittleEndian.Uint64(b[:])
	}
}

// Counts are the outcomes of a run. Callbacks, Delivered and Undelivered count distinct callbacks —
// Delivered is what the archive should hold, each once; the others count requests, re-sends included.
type Counts struct {
	Callbacks   int `json:"callbacks"`   // distinct callbacks made (first deliveries)
	Delivered   int `json:"delivered"`   // of Callbacks, accepted at least once (first send or a retry after a failure)
	Undelivered int `json:"undelivered"` // of Callbacks, never accepted (refused, or failed through every retry)
	Resent      int `json:"resent"`      // deliberate platform-style re-sends of accepted callbacks (Config.Duplicates)

	Sent     int `json:"sent"`     // requests: first deliveries, deliberate re-sends and retries of failed sends
	Accepted int `json:"accepted"` // requests answered 2xx
	Rejected int `json:"rejected"` // requests answered 4xx: refused by the receiver
	Failed   int `json:"failed"`   // requests answered 5xx or not at all: the platform would retry
	Retries  int `json:"retries"`  // of Sent, how many were platform-style re-sends (of accepted or failed sends)
	Late     int `json:"late"`     // of Callbacks, presence events sent with an older time
}

func (c *Counts) add(o Counts) {
	c.Callbacks += o.Callbacks
	c.Delivered += o.Delivered
	c.Undelivered += o.Undelivered
	c.Resent += o.Resent
	c.Sent += o.Sent
	c.Accepted += o.Accepted
	c.Rejected += o.Rejected
	c.Failed += o.Failed
	c.Retries += o.Retries
	c.Late += o.Late
}

// FailureShare is the share of callbacks never accepted (0 when none was made).
func (c Counts) FailureShare() float64 {
	if c.Callbacks == 0 {
		return 0
	}
	return float64(c.Undelivered) / float64(c.Callbacks)
}

// ErrTooManyFailures is returned by Report.Check when more callbacks than allowed were never accepted.
var ErrTooManyFailures = errors.New("too many callbacks not accepted")

// Check returns an error wrapping ErrTooManyFailures when the share of callbacks never accepted is
// above maxShare (0: any), naming the answers that explain it.
func (rep *Report) Check(maxShare float64) error {
	t := rep.Total
	if t.Callbacks == 0 {
		return fmt.Errorf("%w: no callback was sent", ErrTooManyFailures)
	}
	if t.FailureShare() <= maxShare {
		return nil
	}
	err := fmt.Errorf("%w: %d of %d callbacks (%.1f%%) were never accepted, above the %.1f%% allowed; answers: %s",
		ErrTooManyFailures, t.Undelivered, t.Callbacks, 100*t.FailureShare(), 100*maxShare, rep.answers())
	if rep.Statuses[http.StatusUnauthorized] > 0 || rep.Statuses[http.StatusForbidden] > 0 {
		err = fmt.Errorf("%w\n401/403: serve refused the signatures or secrets: give loadgen the apps serve has (IMARCHIVE_NETEASE_APPS, IMARCHIVE_ILINK_APPS, IMARCHIVE_MAXIM_APPS, or --config)", err)
	}
	if rep.Statuses[http.StatusServiceUnavailable] > 0 {
		err = fmt.Errorf("%w\n503: serve could not reach Kafka in time (its /readyz says whether it can)", err)
	}
	if len(rep.Errors) > 0 {
		err = fmt.Errorf("%w\nno answer: is serve running at the target (--target, IMARCHIVE_LOADGEN_TARGET)?", err)
	}
	return err
}

// answers is the breakdown by HTTP status, transport errors last: "200 ×97, 401 ×3, no answer ×1".
func (rep *Report) answers() string {
	codes := make([]int, 0, len(rep.Statuses))
	for code := range rep.Statuses {
		codes = append(codes, code)
	}
	sort.Ints(codes)
	var parts []string
	for _, code := range codes {
		parts = append(parts, fmt.Sprintf("%d ×%d", code, rep.Statuses[code]))
	}
	n := 0
	for _, c := range rep.Errors {
		n += c
	}
	if n > 0 {
		parts = append(parts, fmt.Sprintf("no answer ×%d", n))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Report is the result of a run.
type Report struct {
	Total    Counts            `json:"total"`
	ByKind   map[string]Counts `json:"by_kind"`
	Elapsed  time.Duration     `json:"elapsed_ns"`
	Latency  Quantiles         `json:"latency_ms"` // of every answered send
	Statuses map[int]int       `json:"statuses"`
	Errors   map[string]int    `json:"errors,omitempty"` // transport errors by message
	RunID    string            `json:"run_id"`
	Offered  float64           `json:"offered_per_s"`
	Achieved float64           `json:"achieved_per_s"`
}

// Quantiles of latency in milliseconds.
type Quantiles struct {
	P50, P90, P99, P999, Max float64
}

// AcceptedRecord is one line of the accepted log.
type AcceptedRecord struct {
	Kind     string `json:"kind"`
	Platform string `json:"platform"`
	App      string `json:"app"`
	ID       string `json:"id"`
	Account  string `json:"account,omitempty"`
	TimeMs   int64  `json:"time_ms"`
	Late     bool   `json:"late,omitempty"`
	Retry    bool   `json:"retry,omitempty"`
	Status   int    `json:"status"`
	// EventID is the event_id imarchive computes for the body (see Callback.EventID).
	EventID string `json:"event_id,omitempty"`
}

type job struct {
	cb      *Callback
	retry   bool
	dup     bool // a deliberate re-send of an accepted callback (Duplicates)
	attempt int  // sends of this callback that failed before this one (FailedRetries)
}

type runner struct {
	cfg    Config
	client *http.Client
	mu     sync.Mutex
	byKind map[string]*Counts
	lat    []float64
	status map[int]int
	errs   map[string]int
	logMu  sync.Mutex
	logEnc *json.Encoder
}

// Run sends callbacks until the duration or count is reached or ctx ends, then waits for the retries
// it scheduled and returns the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("loadgen config: %w", err)
	}
	r := &runner{
		cfg: cfg,
		client: &http.Client{Timeout: cfg.Timeout, Transport: &http.Transport{
			MaxIdleConns: cfg.Concurrency * 2, MaxIdleConnsPerHost: cfg.Concurrency * 2, IdleConnTimeout: 30 * time.Second,
		}},
		byKind: map[string]*Counts{},
		status: map[int]int{},
		errs:   map[string]int{},
	}
	if cfg.AcceptedLog != nil {
		r.logEnc = json.NewEncoder(cfg.AcceptedLog)
	}
	runID := fmt.Sprintf("%08x", uint32(cfg.Seed))
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}

	jobs := make(chan job)
	retries := make(chan job, 4096)
	var pending sync.WaitGroup // scheduled retries not yet sent
	var workers sync.WaitGroup
	dupRng := mrand.New(mrand.NewPCG(cfg.Seed, 7))
	var dupMu sync.Mutex
	wantRetry := func() (bool, time.Duration) {
		dupMu.Lock()
		defer dupMu.Unlock()
		return dupRng.Float64() < cfg.Duplicates, time.Duration(dupRng.IntN(200)) * time.Millisecond
	}
	var firsts sync.WaitGroup // first sends handed to workers and not yet finished (a retry may follow)
	for range cfg.Concurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			jobsCh := (<-chan job)(jobs)
			for {
				var j job
				var ok bool
				select {
				case j, ok = <-retries: // retries first: they are due
				default:
					select {
					case j, ok = <-jobsCh:
						if !ok {
							jobsCh = nil // no more first sends; keep serving retries until they are closed
							continue
						}
					case j, ok = <-retries:
					}
				}
				if !ok {
					return
				}
				accepted, failed := r.send(j)
				if failed && j.attempt < cfg.FailedRetries {
					// The platform retries a failed send: same body, signed again, after a backoff.
					pending.Add(1)
					backoff := min(cfg.RetryBackoff<<j.attempt, 2*time.Second)
					go func(j job) {
						time.Sleep(backoff)
						retries <- job{cb: j.cb, retry: true, attempt: j.attempt + 1}
					}(j)
				}
				if j.retry {
					pending.Done()
					continue
				}
				if accepted {
					if dup, delay := wantRetry(); dup {
						pending.Add(1)
						go func() {
							time.Sleep(delay)
							retries <- job{cb: j.cb, retry: true, dup: true}
						}()
					}
				}
				firsts.Done()
			}
		}()
	}

	stopProgress := r.progress(ctx)
	start := time.Now()
	gen := newGenerator(&cfg, cfg.Seed, runID)
	var genErr error
	n := 0
dispatch:
	for cfg.Count == 0 || n < cfg.Count {
		if cfg.Rate > 0 {
			due := start.Add(time.Duration(float64(n) / cfg.Rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				select {
				case <-ctx.Done():
					break dispatch
				case <-time.After(d):
				}
			}
		}
		cb, err := gen.next(time.Now())
		if err != nil {
			genErr = err
			break
		}
		firsts.Add(1) // before the hand-over: the worker's Done may come first
		select {
		case <-ctx.Done():
			firsts.Done()
			break dispatch
		case jobs <- job{cb: cb}:
			n++
		}
	}
	close(jobs)
	// Every first send is done (so no retry can still be scheduled), then every retry: only then may the
	// workers stop.
	go func() { firsts.Wait(); pending.Wait(); close(retries) }()
	workers.Wait()
	elapsed := time.Since(start)
	stopProgress()
	rep := r.report(elapsed, runID, n)
	return rep, genErr
}

// send makes one request and records its outcome; it reports whether it was accepted, and whether it
// failed in a way a platform retries (no answer, 5xx, 429).
func (r *runner) send(j job) (accepted, failed bool) {
	cb := j.cb
	req, err := http.NewRequest(http.MethodPost, r.cfg.Target+cb.Path, bytes.NewReader(cb.Body))
	if err != nil {
		r.record(j, 0, 0, err)
		return false, false
	}
	req.Header = cb.Headers(time.Now())
	t0 := time.Now()
	resp, err := r.client.Do(req)
	lat := time.Since(t0)
	if err != nil {
		r.record(j, 0, lat, err)
		return false, true
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	r.record(j, resp.StatusCode, lat, nil)
	return resp.StatusCode/100 == 2, resp.StatusCode/100 == 5 || resp.StatusCode == http.StatusTooManyRequests
}

func (r *runner) record(j job, status int, lat time.Duration, err error) {
	cb, retry := j.cb, j.retry
	r.mu.Lock()
	c := r.byKind[cb.Kind]
	if c == nil {
		c = &Counts{}
		r.byKind[cb.Kind] = c
	}
	c.Sent++
	if retry {
		c.Retries++
	} else {
		c.Callbacks++
	}
	if j.dup {
		c.Resent++
	}
	if err == nil && status/100 == 2 && !cb.delivered {
		cb.delivered = true
		c.Delivered++
	}
	if cb.Late && !retry {
		c.Late++
	}
	switch {
	case err != nil:
		c.Failed++
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		r.errs[msg]++
	case status/100 == 2:
		c.Accepted++
	case status/100 == 4:
		c.Rejected++
	default:
		c.Failed++
	}
	if err == nil {
		r.status[status]++
		if len(r.lat) < 5_000_000 {
			r.lat = append(r.lat, float64(lat.Microseconds())/1000)
		}
	}
	r.mu.Unlock()
	if err == nil && status/100 == 2 && r.logEnc != nil {
		r.logMu.Lock()
		r.logEnc.Encode(AcceptedRecord{Kind: cb.Kind, Platform: cb.Platform, App: cb.App, ID: cb.ID, Account: cb.Account, TimeMs: cb.TimeMs, Late: cb.Late, Retry: retry, Status: status, EventID: cb.EventID})
		r.logMu.Unlock()
	}
}

func (r *runner) totals() (Counts, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var t Counts
	for _, c := range r.byKind {
		t.add(*c)
	}
	return t, len(r.lat)
}

func (r *runner) progress(ctx context.Context) func() {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(stopped)
		t := time.NewTicker(r.cfg.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c, _ := r.totals()
				el := time.Since(start)
				fmt.Fprintf(r.cfg.Progress, "loadgen: %5.1fs callbacks %d (%.0f/s) delivered %d; requests %d: accepted %d, refused %d, failed %d\n",
					el.Seconds(), c.Callbacks, float64(c.Callbacks)/el.Seconds(), c.Delivered, c.Sent, c.Accepted, c.Rejected, c.Failed)
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func (r *runner) report(elapsed time.Duration, runID string, firsts int) *Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := &Report{ByKind: map[string]Counts{}, Elapsed: elapsed, Statuses: r.status, Errors: r.errs, RunID: runID, Offered: r.cfg.Rate}
	for k, c := range r.byKind {
		c.Undelivered = c.Callbacks - c.Delivered
		rep.ByKind[k] = *c
		rep.Total.add(*c)
	}
	if elapsed > 0 {
		rep.Achieved = float64(firsts) / elapsed.Seconds()
	}
	rep.Latency = quantiles(r.lat)
	return rep
}

func quantiles(xs []float64) Quantiles {
	if len(xs) == 0 {
		return Quantiles{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return Quantiles{P50: q(0.50), P90: q(0.90), P99: q(0.99), P999: q(0.999), Max: s[len(s)-1]}
}

// WriteSummary prints the report: per kind, the callbacks made and how many were delivered (what the
// archive should hold, each once), the deliberate re-sends and the retries on top; then the answers by
// HTTP status, latency, and the transport errors, each on a line.
func (rep *Report) WriteSummary(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\tcallbacks\tdelivered\tnot delivered\tre-sent (dup)\tretried\tlate\t")
	kinds := sortedKeys(rep.ByKind)
	row := func(k string, c Counts) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", k, c.Callbacks, c.Delivered, c.Undelivered, c.Resent, c.Retries-c.Resent, c.Late)
	}
	for _, k := range kinds {
		row(k, rep.ByKind[k])
	}
	row("total", rep.Total)
	tw.Flush()
	t := rep.Total
	fmt.Fprintf(w, "requests %d = %d callbacks + %d deliberate re-sends + %d retries of failed sends; answers: %s\n",
		t.Sent, t.Callbacks, t.Resent, t.Retries-t.Resent, rep.answers())
	fmt.Fprintf(w, "the archive should hold each of the %d delivered callbacks once: re-sends and retries add nothing\n", t.Delivered)
	l := rep.Latency
	offered := "max"
	if rep.Offered > 0 {
		offered = fmt.Sprintf("%.0f/s", rep.Offered)
	}
	fmt.Fprintf(w, "elapsed %.1fs, offered %s, achieved %.0f/s (callbacks)\n", rep.Elapsed.Seconds(), offered, rep.Achieved)
	fmt.Fprintf(w, "latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", l.P50, l.P90, l.P99, l.P999, l.Max)
	if len(rep.Errors) > 0 {
		fmt.Fprintln(w, "no answer (transport errors):")
		for _, msg := range sortedKeys(rep.Errors) {
			fmt.Fprintf(w, "  %d × %s\n", rep.Errors[msg], msg)
		}
	}
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}
