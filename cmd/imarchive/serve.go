package main

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
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/topics"
)

// kafkaFlags are shared by serve and consume.
type kafkaFlags struct {
	brokers, prefix string
	partitions      int
}

func (k *kafkaFlags) register(c *command) {
	c.str(&k.brokers, "kafka-brokers", "IMARCHIVE_KAFKA_BROKERS", "", "Kafka bootstrap brokers, comma-separated host:port (required)")
	c.str(&k.prefix, "topic-prefix", "IMARCHIVE_TOPIC_PREFIX", "imarchive.", "prefix of the topics <prefix>raw, <prefix>events, <prefix>deadletter (created if missing)")
	c.integer(&k.partitions, "topic-partitions", "IMARCHIVE_TOPIC_PARTITIONS", 6, "partitions of a topic when it is created")
}

func (k *kafkaFlags) config() topics.Config {
	tc := topics.DefaultConfig()
	tc.Brokers = splitList(k.brokers)
	tc.Prefix = k.prefix
	tc.Partitions = int32(k.partitions)
	return tc
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// opsMux serves /healthz (the process is up), /readyz (its dependency answers) and /metrics.
func opsMux(reg *prometheus.Registry, ready func(context.Context) error) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

func serveCommand(stderr io.Writer) *command {
	c := newCommand("serve", "receive platform callbacks over HTTP, verify them, and produce them to Kafka",
		`Endpoints:
  POST /v1/netease/{appkey}          NetEase Yunxin QChat copy events (CurTime, MD5, CheckSum headers)
  GET  /v1/ilink/{appkey}/{secret}   ET-iLink URL verification (signature, timestamp, echostr)
  POST /v1/ilink/{appkey}/{secret}   ET-iLink pushes; the secret path segment authenticates them
  POST /v1/maxim/{app_id}            Maxim message subscription ("signature" header = console secret)
  GET  /healthz, /readyz             liveness; readiness = Kafka reachable
  GET  /metrics                      Prometheus metrics
A callback is answered only after Kafka acknowledged its records (acks=all): NetEase and Maxim 200
with an empty body, iLink {"code":0}. Forged or stale requests get 401 (a wrong iLink secret or source
address 403) and produce nothing; a body over the limit 413; a wrong method 405. A retry of a delivery
within the dedupe window produces nothing more. An authentic body that cannot be normalized is kept on
the raw and dead-letter topics and answered as delivered. When Kafka does not acknowledge in time the
answer is 503 (never 500), so the platform retries. serve needs Kafka only, not ClickHouse.`)
	var (
		lf          logFlags
		kf          kafkaFlags
		listen      string
		apps        string
		ilinkApps   string
		ilinkAllow  string
		maximApps   string
		icfg        = ingest.DefaultConfig()
		maxBody     int
		shutdownMax time.Duration
		hcfg        = defaultHTTPConfig()
	)
	lf.register(c)
	kf.register(c)
	c.str(&listen, "listen", "IMARCHIVE_LISTEN", ":8080", "HTTP listen address")
	c.str(&apps, "netease-apps", "IMARCHIVE_NETEASE_APPS", "", "NetEase apps as appkey=secret[,appkey=secret…]")
	c.str(&ilinkApps, "ilink-apps", "IMARCHIVE_ILINK_APPS", "", "ET-iLink apps as appkey=token:secret[,…]: token as registered with set_config, secret the last segment of the callback path")
	c.str(&ilinkAllow, "ilink-allow-ips", "IMARCHIVE_ILINK_ALLOW_IPS", "", "if set, the only source addresses (IPs or CIDR prefixes, comma-separated) iLink callbacks are accepted from")
	c.str(&maximApps, "maxim-apps", "IMARCHIVE_MAXIM_APPS", "", "Maxim apps as app_id=secret[,…]: secret as set for the console's message subscription")
	c.duration(&icfg.Freshness, "freshness", "IMARCHIVE_FRESHNESS", icfg.Freshness, "how far a request's CurTime may be from our clock")
	c.integer(&maxBody, "max-body-bytes", "IMARCHIVE_MAX_BODY_BYTES", int(icfg.MaxBodyBytes), "largest callback body accepted (413 above)")
	c.duration(&icfg.AckTimeout, "ack-timeout", "IMARCHIVE_ACK_TIMEOUT", icfg.AckTimeout, "longest wait for Kafka's acknowledgement before answering 503")
	c.duration(&icfg.DedupeWindow, "dedupe-window", "IMARCHIVE_DEDUPE_WINDOW", icfg.DedupeWindow, "how long a delivered event_id is remembered so a platform retry produces nothing (0 turns it off)")
	c.integer(&icfg.DedupeSize, "dedupe-size", "IMARCHIVE_DEDUPE_SIZE", icfg.DedupeSize, "most event_ids remembered; the oldest are forgotten first")
	c.duration(&hcfg.readHeader, "http-read-header-timeout", "IMARCHIVE_HTTP_READ_HEADER_TIMEOUT", hcfg.readHeader, "longest time to read a request's headers")
	c.duration(&hcfg.read, "http-read-timeout", "IMARCHIVE_HTTP_READ_TIMEOUT", hcfg.read, "longest time to read a whole request")
	c.duration(&hcfg.idle, "http-idle-timeout", "IMARCHIVE_HTTP_IDLE_TIMEOUT", hcfg.idle, "longest a kept-alive connection waits for its next request")
	c.integer(&hcfg.maxHeader, "http-max-header-bytes", "IMARCHIVE_HTTP_MAX_HEADER_BYTES", hcfg.maxHeader, "largest request header block accepted")
	c.duration(&shutdownMax, "shutdown-timeout", "IMARCHIVE_SHUTDOWN_TIMEOUT", 20*time.Second, "longest graceful shutdown (in-flight requests finish)")
	c.run = func(args []string) error {
		if err := c.parse(args); err != nil {
			return err
		}
		log, err := lf.logger(stderr)
		if err != nil {
			return err
		}
		icfg.MaxBodyBytes = int64(maxBody)
		var perrs []error
		if icfg.NeteaseApps, err = ingest.ParseApps(apps); err != nil {
			perrs = append(perrs, fmt.Errorf("netease apps: %w", err))
		}
		if icfg.ILinkApps, err = ingest.ParseILinkApps(ilinkApps); err != nil {
			perrs = append(perrs, fmt.Errorf("ilink apps: %w", err))
		}
		if icfg.ILinkAllowIPs, err = ingest.ParseAllowIPs(ilinkAllow); err != nil {
			perrs = append(perrs, fmt.Errorf("ilink allow-list: %w", err))
		}
		if icfg.MaximApps, err = ingest.ParseApps(maximApps); err != nil {
			perrs = append(perrs, fmt.Errorf("maxim apps: %w", err))
		}
		tc := kf.config()
		if err := errors.Join(append(perrs, tc.Validate(), icfg.Validate(), hcfg.validate())...); err != nil {
			return err
		}
		ctx, stop := signalContext()
		defer stop()
		return serve(ctx, log, listen, tc, icfg, hcfg, shutdownMax)
	}
	return c
}

func serve(ctx context.Context, log *slog.Logger, listen string, tc topics.Config, icfg ingest.Config, hcfg httpConfig, shutdownMax time.Duration) error {
	cl, err := kgo.NewClient(append(tc.ClientOptions(log),
		kgo.RequiredAcks(kgo.AllISRAcks()), // with the default idempotent producer
		kgo.ProducerLinger(0),
	)...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	go tc.EnsureRetry(ctx, cl, log)

	reg := newRegistry()
	rcv, err := ingest.New(icfg, tc, cl, log, reg)
	if err != nil {
		return err
	}
	mux := opsMux(reg, func(ctx context.Context) error { return topics.Ping(ctx, cl) })
	rcv.Register(mux)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: hcfg.readHeader,
		ReadTimeout:       hcfg.read,
		// The answer waits at most AckTimeout for Kafka after the body is read.
		WriteTimeout:   hcfg.read + icfg.AckTimeout + 5*time.Second,
		IdleTimeout:    hcfg.idle,
		MaxHeaderBytes: hcfg.maxHeader,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", listen, err)
	}
	log.Info("serving", "addr", ln.Addr().String(), "raw_topic", tc.Raw(), "events_topic", tc.Events(), "deadletter_topic", tc.DeadLetter(),
		"netease_apps", len(icfg.NeteaseApps), "ilink_apps", len(icfg.ILinkApps), "maxim_apps", len(icfg.MaximApps),
		"ilink_allow_ips", len(icfg.ILinkAllowIPs), "dedupe_window", icfg.DedupeWindow, "dedupe_size", icfg.DedupeSize)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "deadline", shutdownMax)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownMax)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	if err := cl.Flush(sctx); err != nil {
		errs = append(errs, fmt.Errorf("kafka flush: %w", err))
	}
	log.Info("stopped")
	return errors.Join(errs...)
}

// httpConfig is the HTTP server's hygiene: bounded header and body reads, idle connections, header size.
type httpConfig struct {
	readHeader, read, idle time.Duration
	maxHeader              int
}

func defaultHTTPConfig() httpConfig {
	return httpConfig{readHeader: 5 * time.Second, read: 15 * time.Second, idle: 90 * time.Second, maxHeader: 64 << 10}
}

func (h httpConfig) validate() error {
	var errs []error
	if h.readHeader <= 0 || h.read <= 0 || h.idle <= 0 {
		errs = append(errs, fmt.Errorf("http timeouts (read-header %s, read %s, idle %s): must be positive", h.readHeader, h.read, h.idle))
	}
	if h.maxHeader < 4096 {
		errs = append(errs, fmt.Errorf("http max header bytes %d: want at least 4096", h.maxHeader))
	}
	return errors.Join(errs...)
}
