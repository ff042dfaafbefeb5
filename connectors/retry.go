package connectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"github.com/imarchive/imarchive/internal/backoff"
)

// Policy says how a connector calls a platform: each request is bounded by Timeout; a failure that may
// pass (a timeout, a refused or reset connection, HTTP 5xx/408/429, a platform code that says "try
// again") is retried after a backoff that starts at MinBackoff and doubles up to MaxBackoff, with
// jitter, for at most Attempts requests in all.
type Policy struct {
	Timeout    time.Duration // one request, default 10 s
	Attempts   int           // requests in all, including the first, default 5
	MinBackoff time.Duration // first wait, default 500 ms
	MaxBackoff time.Duration // longest wait, default 30 s
}

// DefaultPolicy returns the defaults.
func DefaultPolicy() Policy {
	return Policy{Timeout: 10 * time.Second, Attempts: 5, MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second}
}

// Validate reports every problem at once.
func (p Policy) Validate() error {
	var errs []error
	if p.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("request timeout %s: must be positive", p.Timeout))
	}
	if p.Attempts < 1 {
		errs = append(errs, fmt.Errorf("attempts %d: want at least 1", p.Attempts))
	}
	if p.MinBackoff <= 0 || p.MaxBackoff < p.MinBackoff {
		errs = append(errs, fmt.Errorf("backoff %s..%s: want 0 < min <= max", p.MinBackoff, p.MaxBackoff))
	}
	return errors.Join(errs...)
}

// Backoff returns the wait before retry number n (1 for the first retry): MinBackoff·2^(n-1), capped at
// MaxBackoff, then drawn uniformly from its upper half so that clients do not retry in step
// (internal/backoff, the consumers' backoff too).
func (p Policy) Backoff(n int) time.Duration { return backoff.Wait(p.MinBackoff, p.MaxBackoff, n) }

// ErrGaveUp is wrapped by Do's error when every attempt failed with a retryable error.
var ErrGaveUp = errors.New("gave up")

// Do runs fn, with a context bounded by Timeout, until it succeeds, fails with an error that is not
// retryable (returned as it is), the attempts are used up (the last error, wrapped with ErrGaveUp), or
// ctx ends (ctx's error, wrapped with the last failure). onRetry, when not nil, is told of each retry
// before the wait.
func (p Policy) Do(ctx context.Context, fn func(ctx context.Context) error, onRetry func(attempt int, wait time.Duration, err error)) error {
	var last error
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, p.Timeout)
		err := fn(actx)
		timedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (last failure: %w)", ctx.Err(), err)
		}
		if timedOut && !errors.Is(err, errTimeout) {
			err = fmt.Errorf("%w after %s: %w", errTimeout, p.Timeout, err)
		}
		last = err
		if !Retryable(err) {
			return err
		}
		if attempt >= p.Attempts {
			return fmt.Errorf("%w after %d attempts: %w", ErrGaveUp, attempt, last)
		}
		wait := p.Backoff(attempt)
		if onRetry != nil {
			onRetry(attempt, wait, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last failure: %w)", ctx.Err(), last)
		case <-t.C:
		}
	}
}

// errTimeout marks a request that ran out of its Policy.Timeout.
var errTimeout = &timeoutError{}

type timeoutError struct{}

func (*timeoutError) Error() string   { return "request timed out" }
func (*timeoutError) Retryable() bool { return true }

// Retryable reports whether err may pass on a retry: an error that says so itself (a Retryable()
// method, as *HTTPStatusError and the platforms' API errors have), a request timeout, or a transport
// failure (refused, reset, unexpected EOF, a network timeout). A cancelled context is never retryable.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// HTTPStatusError is an HTTP answer that is not 200. 5xx, 408 and 429 are retryable.
type HTTPStatusError struct {
	Status int
	Body   string // the start of the body, for the message
}

func (e *HTTPStatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("HTTP %d %s: %q", e.Status, http.StatusText(e.Status), e.Body)
}

// Retryable says whether the status may pass on a retry.
func (e *HTTPStatusError) Retryable() bool {
	return e.Status >= 500 || e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests
}

// TransportError is a request that got no HTTP answer. Its message names the method and the URL
// without its query (where iLink carries the access_token); Unwrap gives the cause.
func TransportError(method, rawURL string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s %s: %w", method, StripQuery(rawURL), err)
}

// StripQuery returns the URL without its query and user info.
func StripQuery(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	return u.String()
}
