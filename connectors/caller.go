package connectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// MaxResponseBytes bounds a platform's answer (a member page, a roster).
const MaxResponseBytes = 64 << 20

// Caller sends a platform's HTTP requests: a timeout per request, retries with backoff (Policy),
// secrets redacted from every error and log line (Redact), a metric per request.
type Caller struct {
	Source  string // "ilink" or "maxim", the metrics' source label
	HTTP    *http.Client
	Policy  Policy
	Redact  *Redactor
	Log     *slog.Logger
	Metrics *Metrics // nil: no metrics
}

// Call sends the request that build makes (anew for every attempt) and gives the answer's status and
// body to handle, which decodes it and returns an error for a failure (a platform error code, a bad
// body). Transport failures, non-retryable statuses and handle's errors follow Policy.Do: retryable
// ones are retried. endpoint names the request in logs and metrics ("ham_group action 6"). The error
// returned never carries a registered secret.
func (c *Caller) Call(ctx context.Context, endpoint string, build func(ctx context.Context) (*http.Request, error), handle func(status int, body []byte) error) error {
	client := c.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	log := c.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	attempt := func(ctx context.Context) error {
		req, err := build(ctx)
		if err != nil {
			return fmt.Errorf("build %s request: %w", endpoint, err)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			c.Metrics.request(c.Source, endpoint, "transport_error", time.Since(start))
			return c.Redact.Error(TransportError(req.Method, req.URL.String(), err))
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
		resp.Body.Close()
		if err != nil {
			c.Metrics.request(c.Source, endpoint, "transport_error", time.Since(start))
			return c.Redact.Error(TransportError(req.Method, req.URL.String(), fmt.Errorf("read answer: %w", err)))
		}
		if len(body) > MaxResponseBytes {
			c.Metrics.request(c.Source, endpoint, "bad_answer", time.Since(start))
			return fmt.Errorf("%s: answer larger than %d bytes", endpoint, MaxResponseBytes)
		}
		err = handle(resp.StatusCode, body)
		outcome := "ok"
		if err != nil {
			outcome = "error"
			var se *HTTPStatusError
			if errors.As(err, &se) {
				outcome = fmt.Sprintf("http_%d", se.Status)
			}
		}
		c.Metrics.request(c.Source, endpoint, outcome, time.Since(start))
		return c.Redact.Error(err)
	}
	err := c.Policy.Do(ctx, attempt, func(n int, wait time.Duration, err error) {
		c.Metrics.retry(c.Source, endpoint)
		log.Warn("platform request failed, retrying", "source", c.Source, "endpoint", endpoint,
			"attempt", n, "of", c.Policy.Attempts, "wait", wait.Round(time.Millisecond), "err", c.Redact.Error(err))
	})
	if err != nil {
		return c.Redact.Error(fmt.Errorf("%s: %w", endpoint, err))
	}
	return nil
}
