package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/imarchive/imarchive/internal/ops"
)

// Runner is one consumer group as a Service runs it: a Consumer, or another package's (the hash
// chain's, package audit).
type Runner interface {
	Run(ctx context.Context) error
	Stalled() []Stall
	Group() string
}

// Service is consume: consumer groups writing into one ClickHouse, run together until ctx ends or one
// of them fails (then the others stop too), with the ops endpoints (/healthz, /readyz, /metrics) and
// the parts reporter. The caller builds and closes the consumers and the connection.
type Service struct {
	Conn   driver.Conn
	Events *Consumer[EventRow] // its Kafka connection is consume's readiness; it runs first
	Others []Runner            // the raw archive, the hash chain
	// OpsListen is the ops endpoints' address; "": none.
	OpsListen string
	Registry  *prometheus.Registry
	Log       *slog.Logger
}

// Run runs the consumer groups in one errgroup and returns every error they stopped with.
func (s *Service) Run(ctx context.Context) error {
	runners := append([]Runner{s.Events}, s.Others...)
	g, gctx := errgroup.WithContext(ctx)
	if s.OpsListen != "" {
		srv := &ops.Server{Handler: ops.Mux(s.Registry, func(ctx context.Context) error { return s.ready(ctx, runners) }), Log: s.Log}
		if err := srv.Listen(s.OpsListen); err != nil {
			return err
		}
		g.Go(func() error { return srv.Run(gctx) })
	}
	go s.Events.EnsureTopics(gctx)
	go NewPartsReporter(s.Conn, s.Log, s.Registry).Run(gctx, 15*time.Second)
	errs := make([]error, len(runners))
	for i, r := range runners {
		g.Go(func() error {
			errs[i] = r.Run(gctx)
			return errs[i]
		})
	}
	err := g.Wait()
	s.Log.Info("stopped")
	if joined := errors.Join(errs...); joined != nil {
		return joined
	}
	return err
}

// ready: ClickHouse and Kafka answer; degraded when a partition has lag and no commit for StallAfter.
func (s *Service) ready(ctx context.Context, runners []Runner) error {
	if err := errors.Join(s.Conn.Ping(ctx), s.Events.Ping(ctx)); err != nil {
		return err
	}
	// Working, but a partition is not moving: say which, and who holds it.
	if note := StallNote(runners, time.Now()); note != "" {
		return ops.Degraded{Why: note}
	}
	return nil
}

// StallNote says which partitions of the runners' groups are stalled, or "" when none is.
func StallNote(rs []Runner, now time.Time) string {
	var parts []string
	for _, r := range rs {
		for _, s := range r.Stalled() {
			held := "no member"
			if s.Member != "" {
				held = "member " + s.Member
			}
			parts = append(parts, fmt.Sprintf("partition %s/%d of group %s stalled: %d records of lag, no commit for %s (%s)",
				s.Topic, s.Partition, r.Group(), s.Lag, now.Sub(s.Since).Round(time.Second), held))
		}
	}
	return strings.Join(parts, "; ")
}
