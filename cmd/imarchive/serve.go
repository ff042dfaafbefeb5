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
  POST /v1/netease/{appkey}   NetEase Yunxin QChat copy events (CurTime, MD5, CheckSum headers)
  GET  /healthz, /readyz      liveness; readiness = Kafka reachable
  GET  /metrics               Prometheus metrics
A callback is answered 200 only after Kafka acknowledged its records (acks=all); forged or stale
requests get 401 and produce nothing; when Kafka does not acknowledge in time the answer is 503, so the
platform retries. serve needs Kafka only, not ClickHouse.`)
	var (
		lf          logFlags
		kf          kafkaFlags
		listen      string
		apps        string
		icfg        = ingest.DefaultConfig()
		maxBody     int
		shutdownMax time.Duration
	)
	lf.register(c)
	kf.register(c)
	c.str(&listen, "listen", "IMARCHIVE_LISTEN", ":8080", "HTTP listen address")
	c.str(&apps, "netease-apps", "IMARCHIVE_NETEASE_APPS", "", "NetEase apps as appkey=secret[,appkey=secret…]")
	c.duration(&icfg.Freshness, "freshness", "IMARCHIVE_FRESHNESS", icfg.Freshness, "how far a request's CurTime may be from our clock")
	c.integer(&maxBody, "max-body-bytes", "IMARCHIVE_MAX_BODY_BYTES", int(icfg.MaxBodyBytes), "largest callback body accepted (413 above)")
	c.duration(&icfg.AckTimeout, "ack-timeout", "IMARCHIVE_ACK_TIMEOUT", icfg.AckTimeout, "longest wait for Kafka's acknowledgement before answering 503")
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
		if icfg.NeteaseApps, err = ingest.ParseApps(apps); err != nil {
			return fmt.Errorf("netease apps: %w", err)
		}
		tc := kf.config()
		if err := errors.Join(tc.Validate(), icfg.Validate()); err != nil {
			return err
		}
		ctx, stop := signalContext()
		defer stop()
		return serve(ctx, log, listen, tc, icfg, shutdownMax)
	}
	return c
}

func serve(ctx context.Context, log *slog.Logger, listen string, tc topics.Config, icfg ingest.Config, shutdownMax time.Duration) error {
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
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", listen, err)
	}
	log.Info("serving", "addr", ln.Addr().String(), "raw_topic", tc.Raw(), "events_topic", tc.Events(), "netease_apps", len(icfg.NeteaseApps))
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
