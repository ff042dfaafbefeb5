package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/topics"
)

// kafkaFlags are shared by every command that talks to Kafka (serve, consume, replay).
type kafkaFlags struct {
	brokers, prefix string
	partitions      int
	replication     int
	sec             topics.Security
}

func (k *kafkaFlags) register(c *command) {
	c.str(&k.brokers, "kafka-brokers", "IMARCHIVE_KAFKA_BROKERS", "", "Kafka bootstrap brokers, comma-separated host:port (required)")
	c.str(&k.prefix, "topic-prefix", "IMARCHIVE_TOPIC_PREFIX", "imarchive.", "prefix of the topics <prefix>raw, <prefix>events, <prefix>deadletter (created if missing)")
	c.integer(&k.partitions, "topic-partitions", "IMARCHIVE_TOPIC_PARTITIONS", 6, "partitions of a topic when it is created")
	c.integer(&k.replication, "topic-replication", "IMARCHIVE_TOPIC_REPLICATION", -1, "replication factor of a topic when it is created; -1: the broker's default (production: 3, with min.insync.replicas=2)")
	c.fs.BoolVar(&k.sec.TLS, "kafka-tls", false, "connect to the brokers with TLS (implied by any --kafka-tls-* file)")
	c.env("kafka-tls", "IMARCHIVE_KAFKA_TLS")
	c.str(&k.sec.TLSCAFile, "kafka-tls-ca-file", "IMARCHIVE_KAFKA_TLS_CA_FILE", "", "PEM file of the CAs that sign the brokers' certificates (default: the system's roots)")
	c.str(&k.sec.TLSCertFile, "kafka-tls-cert-file", "IMARCHIVE_KAFKA_TLS_CERT_FILE", "", "PEM client certificate, for brokers that require mutual TLS")
	c.str(&k.sec.TLSKeyFile, "kafka-tls-key-file", "IMARCHIVE_KAFKA_TLS_KEY_FILE", "", "PEM key of the client certificate")
	c.str(&k.sec.TLSServerName, "kafka-tls-server-name", "IMARCHIVE_KAFKA_TLS_SERVER_NAME", "", "name to verify in the brokers' certificates (default: each broker's host)")
	c.str(&k.sec.SASLMechanism, "kafka-sasl-mechanism", "IMARCHIVE_KAFKA_SASL_MECHANISM", "", "SASL mechanism: SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN (PLAIN only with TLS); empty: no SASL")
	c.str(&k.sec.SASLUser, "kafka-sasl-user", "IMARCHIVE_KAFKA_SASL_USER", "", "SASL user")
	c.str(&k.sec.SASLPassword, "kafka-sasl-password", "IMARCHIVE_KAFKA_SASL_PASSWORD", "", "SASL password (or --kafka-sasl-password-file)")
	c.str(&k.sec.SASLPasswordFile, "kafka-sasl-password-file", "IMARCHIVE_KAFKA_SASL_PASSWORD_FILE", "", "file holding the SASL password, read at each login (e.g. a Docker secret)")
}

func (k *kafkaFlags) config() topics.Config {
	tc := topics.DefaultConfig()
	tc.Brokers = splitList(k.brokers)
	tc.Prefix = k.prefix
	tc.Partitions = int32(k.partitions)
	tc.ReplicationFactor = int16(k.replication)
	tc.Security = k.sec
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
  POST /v1/ilink/{appkey}/{secret}   ET-iLink pushes; the secret path segment authenticates them.
                                     User status and topic pushes (msg_type 4) come only for what the
                                     UID subscribed to: imarchive ilink subscribe --users … / --topic …
  POST /v1/maxim/{app_id}            Maxim message subscription ("signature" header = console secret)
  GET  /healthz, /readyz             liveness; readiness = Kafka reachable
  GET  /metrics                      Prometheus metrics
A callback is answered only after Kafka acknowledged its records (acks=all): NetEase and Maxim 200
with an empty body, iLink {"code":0}. Forged or stale requests get 401 (a wrong iLink secret or source
address 403) and produce nothing; a body over the limit 413; a wrong method 405; an app over its rate
limit 429 with Retry-After. A retry of a delivery within the dedupe window, or a replay of a request
already delivered, produces nothing more. An authentic body that cannot be normalized is kept on the
raw and dead-letter topics and answered as delivered. When Kafka does not acknowledge in time, or too
many callbacks are in flight, the answer is 503 (never 500), so the platform retries; nothing is
spooled locally. serve needs Kafka only, not ClickHouse.
Secret rotation: list an app twice in its variable, the new secret first (appkey=new,appkey=old):
both are accepted until the old entry is removed; imarchive_ingest_previous_secret_total counts the
callbacks still signed with the old one. TLS: --tls-cert-file and --tls-key-file (re-read when they
change). Behind a reverse proxy, name it in --trusted-proxies so its X-Forwarded-For is believed.`)
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
		trusted     string
		tlsFiles    tlsFiles
	)
	lf.register(c)
	kf.register(c)
	c.str(&listen, "listen", "IMARCHIVE_LISTEN", ":8080", "HTTP listen address")
	c.str(&apps, "netease-apps", "IMARCHIVE_NETEASE_APPS", "", "NetEase apps as appkey=secret[,appkey=secret…]; an app listed twice (new secret first) accepts both during a rotation")
	c.str(&ilinkApps, "ilink-apps", "IMARCHIVE_ILINK_APPS", "", "ET-iLink apps as appkey=token:secret[,…]: token as registered with set_config, secret the last segment of the callback path; an app listed twice (new first) accepts both during a rotation")
	c.str(&ilinkAllow, "ilink-allow-ips", "IMARCHIVE_ILINK_ALLOW_IPS", "", "if set, the only source addresses (IPs or CIDR prefixes, comma-separated) iLink callbacks are accepted from")
	c.str(&maximApps, "maxim-apps", "IMARCHIVE_MAXIM_APPS", "", "Maxim apps as app_id=secret[,…]: secret as set for the console's message subscription; an app listed twice (new first) accepts both during a rotation")
	c.str(&trusted, "trusted-proxies", "IMARCHIVE_TRUSTED_PROXIES", "", "reverse proxies (IPs or CIDR prefixes, comma-separated) whose X-Forwarded-For names the client, for the iLink allow-list, the raw record and the logs; from any other peer X-Forwarded-* is ignored")
	c.fs.Float64Var(&icfg.RateLimit, "rate-limit", icfg.RateLimit, "most authenticated callbacks per second per app; over it 429 with Retry-After (0: no limit)")
	c.env("rate-limit", "IMARCHIVE_RATE_LIMIT")
	c.integer(&icfg.RateBurst, "rate-burst", "IMARCHIVE_RATE_BURST", icfg.RateBurst, "callbacks an app may send at once above its rate")
	c.integer(&icfg.MaxInFlight, "max-in-flight", "IMARCHIVE_MAX_IN_FLIGHT", icfg.MaxInFlight, "most callbacks handled at once; over it 503 with Retry-After (memory is at most this × max-body-bytes; 0: no bound)")
	c.str(&tlsFiles.cert, "tls-cert-file", "IMARCHIVE_TLS_CERT_FILE", "", "PEM certificate (chain) to serve HTTPS with; empty: plain HTTP (behind a TLS-terminating proxy)")
	c.str(&tlsFiles.key, "tls-key-file", "IMARCHIVE_TLS_KEY_FILE", "", "PEM private key of --tls-cert-file")
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
		if icfg.NeteaseApps, icfg.NeteasePrevious, err = ingest.ParseAppsRotation(apps); err != nil {
			perrs = append(perrs, fmt.Errorf("netease apps: %w", err))
		}
		if icfg.ILinkApps, icfg.ILinkPrevious, err = ingest.ParseILinkAppsRotation(ilinkApps); err != nil {
			perrs = append(perrs, fmt.Errorf("ilink apps: %w", err))
		}
		if icfg.ILinkAllowIPs, err = ingest.ParseAllowIPs(ilinkAllow); err != nil {
			perrs = append(perrs, fmt.Errorf("ilink allow-list: %w", err))
		}
		if icfg.MaximApps, icfg.MaximPrevious, err = ingest.ParseAppsRotation(maximApps); err != nil {
			perrs = append(perrs, fmt.Errorf("maxim apps: %w", err))
		}
		if icfg.TrustedProxies, err = ingest.ParseAllowIPs(trusted); err != nil {
			perrs = append(perrs, fmt.Errorf("trusted proxies: %w", err))
		}
		tc := kf.config()
		if err := errors.Join(append(perrs, tc.Validate(), icfg.Validate(), hcfg.validate(), tlsFiles.validate())...); err != nil {
			return err
		}
		ctx, stop := signalContext()
		defer stop()
		return serve(ctx, log, listen, tc, icfg, hcfg, shutdownMax, tlsFiles)
	}
	return c
}

func serve(ctx context.Context, log *slog.Logger, listen string, tc topics.Config, icfg ingest.Config, hcfg httpConfig, shutdownMax time.Duration, tf tlsFiles) error {
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
	if tf.on() {
		cr, err := newCertReloader(tf, log)
		if err != nil {
			ln.Close()
			return err
		}
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cr.get}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	log.Info("serving", "addr", ln.Addr().String(), "tls", tf.on(), "raw_topic", tc.Raw(), "events_topic", tc.Events(), "deadletter_topic", tc.DeadLetter(),
		"netease_apps", len(icfg.NeteaseApps), "ilink_apps", len(icfg.ILinkApps), "maxim_apps", len(icfg.MaximApps),
		"apps_in_rotation", len(icfg.NeteasePrevious)+len(icfg.ILinkPrevious)+len(icfg.MaximPrevious),
		"ilink_allow_ips", len(icfg.ILinkAllowIPs), "trusted_proxies", len(icfg.TrustedProxies),
		"rate_limit", icfg.RateLimit, "max_in_flight", icfg.MaxInFlight,
		"dedupe_window", icfg.DedupeWindow, "dedupe_size", icfg.DedupeSize,
		"kafka_tls", tc.Security.TLS || tc.Security.TLSCAFile != "", "kafka_sasl", tc.Security.SASLMechanism)
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

// tlsFiles are serve's HTTPS certificate and key.
type tlsFiles struct{ cert, key string }

func (t tlsFiles) on() bool { return t.cert != "" || t.key != "" }

func (t tlsFiles) validate() error {
	if !t.on() {
		return nil
	}
	if t.cert == "" || t.key == "" {
		return errors.New("tls: --tls-cert-file and --tls-key-file go together (IMARCHIVE_TLS_CERT_FILE, IMARCHIVE_TLS_KEY_FILE)")
	}
	if _, err := tls.LoadX509KeyPair(t.cert, t.key); err != nil {
		return fmt.Errorf("tls certificate: %w", err)
	}
	return nil
}

// certReloader serves the certificate in the files, loading it again when either file changes (a
// renewed certificate is picked up without a restart; a broken renewal keeps the last good one).
type certReloader struct {
	files tlsFiles
	log   *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time
	checked time.Time
}

func newCertReloader(f tlsFiles, log *slog.Logger) (*certReloader, error) {
	cr := &certReloader{files: f, log: log}
	if err := cr.load(); err != nil {
		return nil, err
	}
	return cr, nil
}

func (cr *certReloader) stamp() time.Time {
	var latest time.Time
	for _, name := range []string{cr.files.cert, cr.files.key} {
		if st, err := os.Stat(name); err == nil && st.ModTime().After(latest) {
			latest = st.ModTime()
		}
	}
	return latest
}

func (cr *certReloader) load() error {
	stamp := cr.stamp()
	cert, err := tls.LoadX509KeyPair(cr.files.cert, cr.files.key)
	if err != nil {
		return fmt.Errorf("tls certificate: %w", err)
	}
	cr.cert, cr.modTime = &cert, stamp
	return nil
}

func (cr *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if now := time.Now(); now.Sub(cr.checked) >= time.Second {
		cr.checked = now
		if stamp := cr.stamp(); !stamp.Equal(cr.modTime) {
			if err := cr.load(); err != nil {
				cr.modTime = stamp // do not retry the broken files at every handshake
				cr.log.Error("tls certificate changed on disk but does not load; serving the previous one", "err", err)
			} else {
				cr.log.Info("tls certificate reloaded", "cert_file", cr.files.cert)
			}
		}
	}
	return cr.cert, nil
}
