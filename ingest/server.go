package ingest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/ingest/spool"
	"github.com/imarchive/imarchive/internal/ops"
	"github.com/imarchive/imarchive/internal/tlsreload"
	"github.com/imarchive/imarchive/kafka"
)

// HTTPConfig is serve's HTTP server: where it listens, its hygiene (bounded header and body reads,
// idle connections, header size, connections per client address), TLS, and where the ops endpoints
// are.
type HTTPConfig struct {
	Listen                 string
	OpsListen              string // "": /readyz and /metrics on Listen (not advised)
	ReadHeader, Read, Idle time.Duration
	MaxHeaderBytes         int
	MaxConnsPerAddr        int
	TLSCertFile            string // with TLSKeyFile: HTTPS, the files re-read when they change
	TLSKeyFile             string
	ShutdownTimeout        time.Duration
}

// DefaultHTTPConfig is serve's defaults.
func DefaultHTTPConfig() HTTPConfig {
	return HTTPConfig{Listen: ":8080", OpsListen: "127.0.0.1:8081", ReadHeader: 5 * time.Second, Read: 15 * time.Second,
		Idle: 90 * time.Second, MaxHeaderBytes: 64 << 10, MaxConnsPerAddr: 256, ShutdownTimeout: 20 * time.Second}
}

// TLS reports whether the server speaks HTTPS.
func (h HTTPConfig) TLS() bool { return h.TLSCertFile != "" || h.TLSKeyFile != "" }

// Validate reports every bad setting at once.
func (h HTTPConfig) Validate() error {
	var errs []error
	if h.ReadHeader <= 0 || h.Read <= 0 || h.Idle <= 0 {
		errs = append(errs, fmt.Errorf("http timeouts (read-header %s, read %s, idle %s): must be positive", h.ReadHeader, h.Read, h.Idle))
	}
	if h.MaxHeaderBytes < 4096 {
		errs = append(errs, fmt.Errorf("http max header bytes %d: want at least 4096", h.MaxHeaderBytes))
	}
	if h.MaxConnsPerAddr < 0 {
		errs = append(errs, fmt.Errorf("max connections per address %d: must not be negative (0: no cap)", h.MaxConnsPerAddr))
	}
	if h.TLS() {
		if h.TLSCertFile == "" || h.TLSKeyFile == "" {
			errs = append(errs, errors.New("tls: --tls-cert-file and --tls-key-file go together (IMARCHIVE_TLS_CERT_FILE, IMARCHIVE_TLS_KEY_FILE)"))
		} else if _, err := tls.LoadX509KeyPair(h.TLSCertFile, h.TLSKeyFile); err != nil {
			errs = append(errs, fmt.Errorf("tls certificate: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Server is serve: a Receiver behind an HTTP server, its ops listener, its spool and the spool's
// forwarder, and the Kafka client they produce with.
type Server struct {
	cfg    Config
	http   HTTPConfig
	topics kafka.Config
	log    *slog.Logger
	reg    *prometheus.Registry
}

// NewServer is serve with validated settings (Config.Validate, HTTPConfig.Validate, kafka.Config.Validate).
func NewServer(cfg Config, hcfg HTTPConfig, tc kafka.Config, log *slog.Logger, reg *prometheus.Registry) *Server {
	return &Server{cfg: cfg, http: hcfg, topics: tc, log: log, reg: reg}
}

// Run serves callbacks until ctx ends, then shuts down within HTTPConfig.ShutdownTimeout in the order
// of the data path: stop taking callbacks and finish those in flight, let the forwarder empty the
// spool while Kafka answers, stop it, then flush the producer. It returns every error it met.
func (s *Server) Run(ctx context.Context) error {
	log, icfg, hcfg, tc := s.log, s.cfg, s.http, s.topics
	cl, err := kgo.NewClient(append(append(tc.ClientOptions(log), tc.ProducerOptions()...), // acks=all, idempotent; batches the topics accept
		kgo.ProducerLinger(0),
	)...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	go tc.EnsureRetry(ctx, cl, log)

	sp, opts, err := s.openSpool()
	if err != nil {
		return err
	}
	if sp != nil {
		defer sp.Close()
	}
	rcv, err := New(icfg, tc, cl, log, s.reg, opts...)
	if err != nil {
		return err
	}
	opsMux := ops.Mux(s.reg, func(ctx context.Context) error { return ready(ctx, cl, sp) })
	mux := opsMux
	if hcfg.OpsListen != "" {
		// The callback port answers the platforms and a liveness probe, nothing else: /metrics names
		// the apps and /readyz the brokers, for the operator's eyes only.
		mux = http.NewServeMux()
		mux.HandleFunc("GET /healthz", ops.Healthz)
	}
	rcv.Register(mux)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: hcfg.ReadHeader,
		ReadTimeout:       hcfg.Read,
		// The answer is due AckTimeout after arrival; a refused iLink push is answered only past iLink's
		// 5 s (ILinkSilence), so that it retries.
		WriteTimeout:   hcfg.Read + max(icfg.AckTimeout, ILinkSilence+time.Second) + 5*time.Second,
		IdleTimeout:    hcfg.Idle,
		MaxHeaderBytes: hcfg.MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := s.listen(srv)
	if err != nil {
		return err
	}
	var opsSrv *ops.Server
	if hcfg.OpsListen != "" {
		opsSrv = &ops.Server{Handler: opsMux, ReadHeader: hcfg.ReadHeader, Read: hcfg.Read, Idle: hcfg.Idle, Log: log}
		if err := opsSrv.Listen(hcfg.OpsListen); err != nil {
			ln.Close()
			return err
		}
	}
	fctx, stopForward := context.WithCancel(context.Background())
	defer stopForward()
	forwarded := make(chan error, 1)
	go func() { forwarded <- rcv.Forward(fctx) }()
	octx, stopOps := context.WithCancel(context.Background())
	defer stopOps()
	errc := make(chan error, 2)
	opsDone := make(chan error, 1)
	if opsSrv != nil {
		go func() {
			err := opsSrv.Run(octx)
			if octx.Err() == nil {
				errc <- err
			}
			opsDone <- err
		}()
	} else {
		opsDone <- nil
	}
	s.logStart(ln)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		srv.Close()
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "deadline", hcfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), hcfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	if sp != nil && sp.Pending() && kafka.Ping(sctx, cl) == nil {
		// Kafka is there: give the forwarder the rest of the deadline to empty the spool. What it
		// does not forward stays on disk for the next start.
		log.Info("shutting down: forwarding the spool", "records", sp.Stats().Records)
		for sp.Pending() && sctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	stopForward()
	if err := <-forwarded; err != nil {
		errs = append(errs, fmt.Errorf("spool forwarder: %w", err))
	}
	stopOps()
	if err := <-opsDone; err != nil {
		errs = append(errs, err)
	}
	if err := cl.Flush(sctx); err != nil {
		errs = append(errs, fmt.Errorf("kafka flush: %w", err))
	}
	log.Info("stopped")
	return errors.Join(errs...)
}

// openSpool opens the spool, when there is one, and returns the receiver's options for it.
func (s *Server) openSpool() (*spool.Spool, []Option, error) {
	icfg := s.cfg
	if icfg.SpoolDir == "" {
		s.log.Warn("no spool (--spool-dir=off): callbacks Kafka does not acknowledge within the ack timeout are answered 503")
		return nil, nil, nil
	}
	sp, rec, err := spool.Open(icfg.SpoolDir, spool.Options{MaxBytes: icfg.SpoolMaxBytes, SegmentBytes: icfg.SpoolSegmentBytes}, s.log)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (set --spool-dir to a writable directory on local disk, or --spool-dir=off to answer 503 instead of spooling)", err)
	}
	s.log.Info("spool opened", "dir", icfg.SpoolDir, "records_to_forward", rec.Records, "segments", rec.Segments,
		"damaged", len(rec.Damaged), "max_bytes", icfg.SpoolMaxBytes)
	return sp, []Option{WithSpool(sp), WithSpoolRecovery(rec)}, nil
}

// listen binds the callback port, capped per client address, with TLS when configured.
func (s *Server) listen(srv *http.Server) (net.Listener, error) {
	ln, err := net.Listen("tcp", s.http.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", s.http.Listen, err)
	}
	ln = LimitConnsPerAddr(ln, s.http.MaxConnsPerAddr, s.cfg.TrustedProxies, s.reg)
	if !s.http.TLS() {
		return ln, nil
	}
	cr, err := tlsreload.New(s.http.TLSCertFile, s.http.TLSKeyFile, s.log)
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cr.GetCertificate}
	return tls.NewListener(ln, srv.TLSConfig), nil
}

func (s *Server) logStart(ln net.Listener) {
	icfg, tc := s.cfg, s.topics
	s.log.Info("serving", "addr", ln.Addr().String(), "tls", s.http.TLS(), "raw_topic", tc.Raw(), "events_topic", tc.Events(), "deadletter_topic", tc.DeadLetter(),
		"netease_apps", len(icfg.NeteaseApps), "ilink_apps", len(icfg.ILinkApps), "maxim_apps", len(icfg.MaximApps),
		"apps_in_rotation", len(icfg.NeteasePrevious)+len(icfg.ILinkPrevious)+len(icfg.MaximPrevious),
		"ilink_allow_ips", len(icfg.ILinkAllowIPs), "trusted_proxies", len(icfg.TrustedProxies),
		"rate_limit", icfg.RateLimit, "max_in_flight", icfg.MaxInFlight, "max_conns_per_addr", s.http.MaxConnsPerAddr,
		"dedupe_window", icfg.DedupeWindow, "dedupe_size", icfg.DedupeSize, "spool_dir", icfg.SpoolDir,
		"kafka_tls", tc.Security.TLS || tc.Security.TLSCAFile != "", "kafka_sasl", tc.Security.SASLMechanism,
		"max_message_bytes", tc.MaxMessageBytes, "records_signed", tc.Auth.On())
}

// ready: ready when Kafka answers; ready but degraded while the spool holds callbacks or takes them
// for an unreachable Kafka; not ready when neither Kafka nor the spool can take a callback.
func ready(ctx context.Context, cl *kgo.Client, sp *spool.Spool) error {
	kerr := kafka.Ping(ctx, cl)
	if sp == nil {
		return kerr
	}
	st := sp.Stats()
	switch {
	case kerr != nil && (st.Full || st.Broken != nil):
		return fmt.Errorf("%w; and the spool cannot take callbacks (full: %v, broken: %v)", kerr, st.Full, st.Broken)
	case kerr != nil:
		return ops.Degraded{Why: fmt.Sprintf("spooling (kafka unreachable: %v; %d records, %d bytes in the spool)", kerr, st.Records, st.Bytes)}
	case st.Records > 0:
		return ops.Degraded{Why: fmt.Sprintf("spooling (%d records, %d bytes in the spool, oldest from %s, being forwarded)", st.Records, st.Bytes, st.Oldest.UTC().Format(time.RFC3339))}
	}
	return nil
}
