// Package ops is what serve and consume answer operators with: /healthz, /readyz, /metrics on a
// listener of their own, the process's metrics registry, and the readiness error that still means
// ready (Degraded).
package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry is a registry with the Go runtime's and the process's collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Degraded is a readiness error that still means ready: the service takes work but not on its
// normal path (serve answering from its spool while Kafka does not take callbacks, a consumer group
// with a stalled partition).
type Degraded struct{ Why string }

func (d Degraded) Error() string { return "degraded: " + d.Why }

// Mux serves /healthz (the process is up), /readyz (ready's answer: nil is ready; Degraded is 200 with
// "degraded: …" in the body and the X-Imarchive-Degraded header; any other error 503) and /metrics.
func Mux(reg *prometheus.Registry, ready func(context.Context) error) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", Healthz)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		err := ready(ctx)
		var d Degraded
		if errors.As(err, &d) {
			w.Header().Set("X-Imarchive-Degraded", d.Why)
			io.WriteString(w, "ready\n"+d.Error()+"\n")
			return
		}
		if err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

// Healthz answers a liveness probe.
func Healthz(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") }

// Server is an ops listener: Listen binds it (so a taken port fails before anything starts), Run
// serves until ctx ends and then shuts down within ShutdownTimeout.
type Server struct {
	Handler         http.Handler
	ReadHeader      time.Duration // default 5 s
	Read, Idle      time.Duration // 0: none
	ShutdownTimeout time.Duration // default 5 s
	Log             *slog.Logger

	ln net.Listener
}

// Listen binds addr.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s (ops): %w", addr, err)
	}
	s.ln = ln
	s.Log.Info("ops endpoints", "addr", ln.Addr().String(), "paths", "/healthz /readyz /metrics")
	return nil
}

// Run serves the bound listener until ctx ends, then shuts down. It returns the server's error, if it
// stopped for another reason, or the shutdown's.
func (s *Server) Run(ctx context.Context) error {
	rh := s.ReadHeader
	if rh == 0 {
		rh = 5 * time.Second
	}
	srv := &http.Server{Handler: s.Handler, ReadHeaderTimeout: rh, ReadTimeout: s.Read, IdleTimeout: s.Idle,
		ErrorLog: slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("ops http server: %w", err)
	case <-ctx.Done():
	}
	d := s.ShutdownTimeout
	if d == 0 {
		d = 5 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("ops http shutdown: %w", err)
	}
	return nil
}
