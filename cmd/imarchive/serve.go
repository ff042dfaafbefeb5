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
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/ingest/spool"
	"github.com/imarchive/imarchive/topics"
)

// kafkaFlags are shared by every command that talks to Kafka (serve, consume, replay).
type kafkaFlags struct {
	brokers, prefix string
	partitions      int
	replication     int
	maxMessage      int
	recordKeys      string
	recordKeysFile  string
	sec             topics.Security
}

func (k *kafkaFlags) register(c *command) {
	c.str(&k.brokers, "kafka-brokers", "IMARCHIVE_KAFKA_BROKERS", "", "Kafka bootstrap brokers, comma-separated host:port (required)")
	c.str(&k.prefix, "topic-prefix", "IMARCHIVE_TOPIC_PREFIX", "imarchive.", "prefix of the topics <prefix>raw, <prefix>events, <prefix>deadletter (created if missing)")
	c.integer(&k.partitions, "topic-partitions", "IMARCHIVE_TOPIC_PARTITIONS", 6, "partitions of a topic when it is created")
	c.integer(&k.replication, "topic-replication", "IMARCHIVE_TOPIC_REPLICATION", -1, "replication factor of a topic when it is created; -1: the broker's default (production: 3, with min.insync.replicas=2)")
	c.integer(&k.maxMessage, "topic-max-message-bytes", "IMARCHIVE_TOPIC_MAX_MESSAGE_BYTES", topics.DefaultMaxMessageBytes, "record limit: the topics' max.message.bytes when created (checked on existing topics) and the producers' batch limit; serve refuses a --max-body-bytes whose raw record could not fit")
	c.str(&k.recordKeys, "record-keys", "IMARCHIVE_RECORD_KEYS", "", "HMAC keys shared by serve, replay and consume, id=secret[,id=secret] (current first, 32+ characters): serve and replay sign their records, consume dead-letters events not signed with one of them; empty: no signing (the topics are as trusted as Kafka's ACLs)")
	c.str(&k.recordKeysFile, "record-keys-file", "IMARCHIVE_RECORD_KEYS_FILE", "", "file holding the record keys instead (commas or lines)")
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
	tc.MaxMessageBytes = int32(min(k.maxMessage, 1<<31-1))
	tc.Auth = topics.NewRecordAuth(k.recordKeys, k.recordKeysFile)
	tc.Security = k.sec
	return tc
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// degraded is a readiness error that still means ready: the service takes work but not on its
// normal path (serve answering from its spool while Kafka does not take callbacks).
type degraded struct{ why string }

func (d degraded) Error() string { return "degraded: " + d.why }

// opsMux serves /healthz (the process is up), /readyz (its dependency answers, or it is degraded but
// working: 200 with "degraded: …" in the body and the X-Imarchive-Degraded header) and /metrics.
func opsMux(reg *prometheus.Registry, ready func(context.Context) error) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		err := ready(ctx)
		var d degraded
		if errors.As(err, &d) {
			w.Header().Set("X-Imarchive-Degraded", d.why)
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

func serveCommand(stderr io.Writer) *command {
	c := newCommand("serve", "receive platform callbacks over HTTP, verify them, and produce them to Kafka",
		`Endpoints:
  POST /v1/netease/{appkey}          NetEase Yunxin QChat copy events (CurTime, MD5, CheckSum headers)
  GET  /v1/ilink/{appkey}/{secret}   ET-iLink URL verification (signature, timestamp, echostr)
  POST /v1/ilink/{appkey}/{secret}   ET-iLink pushes; the secret path segment authenticates them.
                                     User status and topic pushes (msg_type 4) come only for what the
                                     UID subscribed to: imarchive ilink subscribe --users … / --topic …
  POST /v1/maxim/{app_id}            Maxim message subscription ("signature" header = console secret)
  GET  /healthz                      liveness (here and on --ops-listen)
On --ops-listen (IMARCHIVE_SERVE_OPS_LISTEN, default loopback 127.0.0.1:8081), not the callback port:
  GET  /readyz                       readiness = Kafka reachable or the spool taking callbacks
                                     (then 200 with "degraded: spooling")
  GET  /metrics                      Prometheus metrics
A callback is answered only once its records are durable: acknowledged by Kafka (acks=all), or, when
Kafka has not acknowledged them within --spool-after (or the spool still holds records, so that
nothing overtakes them), fsynced to the local spool (--spool-dir), which a forwarder drains to Kafka
in order. Success is NetEase and Maxim 200 with an empty body, iLink {"code":0}, always within
--ack-timeout of arrival. Forged or stale requests get 401 (a wrong iLink secret or source
address 403) and produce nothing; a body over the limit 413; a wrong method 405; an app over its rate
limit 429 with Retry-After; a body slower than --http-min-body-rate 408. A retry of a delivery within the dedupe window, or a replay of a request
already delivered, produces nothing more. An authentic body that cannot be normalized is kept on the
raw and dead-letter topics and answered as delivered. When neither Kafka nor the spool (full, or
--spool-dir=off) takes a callback in time, or too many authenticated callbacks are in flight, the
answer is 503 (never 500), so the platform retries; iLink, which retries only when it gets no answer
within 5 s, gets none until then. serve needs Kafka only, not ClickHouse. Inspect the spool with
imarchive spool.
A request is checked against its app's credentials from its headers (NetEase CheckSum and CurTime,
Maxim signature, iLink path secret and allow-list) before its body is read or an in-flight slot is
taken; one client address may hold at most --max-conns-per-addr connections.
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
		spoolDir    string
		spoolMax    int
		spoolSeg    int
		minRate     int
		memLimit    string
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
	c.integer(&icfg.MaxInFlight, "max-in-flight", "IMARCHIVE_MAX_IN_FLIGHT", icfg.MaxInFlight, "most authenticated callbacks handled at once; over it 503 with Retry-After (bodies take at most this × max-body-bytes; 0: no bound)")
	c.integer(&hcfg.maxConnsPerAddr, "max-conns-per-addr", "IMARCHIVE_MAX_CONNS_PER_ADDR", hcfg.maxConnsPerAddr, "most connections open at once from one client address; more are closed on accept (trusted proxies are not capped; 0: no cap)")
	c.str(&hcfg.opsListen, "ops-listen", "IMARCHIVE_SERVE_OPS_LISTEN", hcfg.opsListen, "listen address of /readyz, /metrics and /healthz, apart from the callbacks; empty: serve them on --listen (not advised: /metrics names the apps, /readyz the brokers)")
	c.str(&memLimit, "memory-limit", "IMARCHIVE_MEMORY_LIMIT", "auto", "soft memory limit of the Go runtime, in bytes or with KiB/MiB/GiB; auto: GOMEMLIMIT if set, else 90% of the container's memory limit, else max-in-flight × max-body-bytes × 3 + 512 MiB; 0: none")
	c.str(&tlsFiles.cert, "tls-cert-file", "IMARCHIVE_TLS_CERT_FILE", "", "PEM certificate (chain) to serve HTTPS with; empty: plain HTTP (behind a TLS-terminating proxy)")
	c.str(&tlsFiles.key, "tls-key-file", "IMARCHIVE_TLS_KEY_FILE", "", "PEM private key of --tls-cert-file")
	c.duration(&icfg.Freshness, "freshness", "IMARCHIVE_FRESHNESS", icfg.Freshness, "how far a request's CurTime may be from our clock")
	c.integer(&maxBody, "max-body-bytes", "IMARCHIVE_MAX_BODY_BYTES", int(icfg.MaxBodyBytes), "largest callback body accepted (413 above)")
	c.duration(&icfg.AckTimeout, "ack-timeout", "IMARCHIVE_ACK_TIMEOUT", icfg.AckTimeout, "answer deadline from a callback's arrival: success once Kafka or the spool has it, else 503 (iLink: withheld past its 5 s)")
	c.duration(&icfg.SpoolAfter, "spool-after", "IMARCHIVE_SPOOL_AFTER", icfg.SpoolAfter, "how long a callback waits for Kafka's acknowledgement before it is written to the spool instead (less than --ack-timeout)")
	c.str(&spoolDir, "spool-dir", "IMARCHIVE_SPOOL_DIR", defaultSpoolDir(), "directory of the local spool, on a local disk, one per serve process; \"off\": no spool (503 when Kafka does not acknowledge in time)")
	c.integer(&spoolMax, "spool-max-bytes", "IMARCHIVE_SPOOL_MAX_BYTES", int(icfg.SpoolMaxBytes), "most bytes of spool files on disk; when full, callbacks Kafka does not take are refused (503; iLink: no answer)")
	c.integer(&spoolSeg, "spool-segment-bytes", "IMARCHIVE_SPOOL_SEGMENT_BYTES", int(icfg.SpoolSegmentBytes), "size of one spool segment file; a segment is deleted once all of it was forwarded")
	c.duration(&icfg.DedupeWindow, "dedupe-window", "IMARCHIVE_DEDUPE_WINDOW", icfg.DedupeWindow, "how long a delivered event_id is remembered so a platform retry produces nothing (0 turns it off)")
	c.integer(&icfg.DedupeSize, "dedupe-size", "IMARCHIVE_DEDUPE_SIZE", icfg.DedupeSize, "most event_ids remembered; the oldest are forgotten first")
	c.duration(&hcfg.readHeader, "http-read-header-timeout", "IMARCHIVE_HTTP_READ_HEADER_TIMEOUT", hcfg.readHeader, "longest time to read a request's headers")
	c.duration(&hcfg.read, "http-read-timeout", "IMARCHIVE_HTTP_READ_TIMEOUT", hcfg.read, "longest time to read a whole request (an outer bound; a callback's body has its own, below)")
	c.duration(&icfg.BodyTimeout, "http-body-timeout", "IMARCHIVE_HTTP_BODY_TIMEOUT", icfg.BodyTimeout, "longest time to read an authenticated callback's body")
	c.integer(&minRate, "http-min-body-rate", "IMARCHIVE_HTTP_MIN_BODY_RATE", int(icfg.BodyMinRate), "least average rate of a body, bytes/s, after the first 2 s; slower: 408 (0: off)")
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
		icfg.SpoolMaxBytes, icfg.SpoolSegmentBytes = int64(spoolMax), int64(spoolSeg)
		if spoolDir != "off" {
			icfg.SpoolDir = spoolDir
		}
		icfg.BodyMinRate = int64(minRate)
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
		mem, err := memoryLimit(memLimit, icfg, os.Getenv("GOMEMLIMIT"), cgroupMemoryLimit())
		if err != nil {
			perrs = append(perrs, err)
		}
		if raw := icfg.MaxBodyBytes + int64(hcfg.maxHeader) + 16<<10; raw > int64(tc.MaxMessageBytes) {
			perrs = append(perrs, fmt.Errorf("max body bytes %d with max header bytes %d make raw records of up to %d bytes, over the record limit %d: raise IMARCHIVE_TOPIC_MAX_MESSAGE_BYTES (and the topics' max.message.bytes) or lower IMARCHIVE_MAX_BODY_BYTES",
				icfg.MaxBodyBytes, hcfg.maxHeader, raw, tc.MaxMessageBytes))
		}
		if err := errors.Join(append(perrs, tc.Validate(), icfg.Validate(), hcfg.validate(), tlsFiles.validate())...); err != nil {
			return err
		}
		if mem.bytes > 0 {
			debug.SetMemoryLimit(mem.bytes)
		}
		log.Info("memory limit", "bytes", mem.bytes, "from", mem.from)
		ctx, stop := signalContext()
		defer stop()
		return serve(ctx, log, listen, tc, icfg, hcfg, shutdownMax, tlsFiles)
	}
	return c
}

func serve(ctx context.Context, log *slog.Logger, listen string, tc topics.Config, icfg ingest.Config, hcfg httpConfig, shutdownMax time.Duration, tf tlsFiles) error {
	cl, err := kgo.NewClient(append(append(tc.ClientOptions(log), tc.ProducerOptions()...), // acks=all, idempotent; batches the topics accept
		kgo.ProducerLinger(0),
	)...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	go tc.EnsureRetry(ctx, cl, log)

	reg := newRegistry()
	var (
		sp   *spool.Spool
		opts []ingest.Option
	)
	if icfg.SpoolDir != "" {
		var rec spool.Recovery
		sp, rec, err = spool.Open(icfg.SpoolDir, spool.Options{MaxBytes: icfg.SpoolMaxBytes, SegmentBytes: icfg.SpoolSegmentBytes}, log)
		if err != nil {
			return fmt.Errorf("%w (set --spool-dir to a writable directory on local disk, or --spool-dir=off to answer 503 instead of spooling)", err)
		}
		defer sp.Close()
		log.Info("spool opened", "dir", icfg.SpoolDir, "records_to_forward", rec.Records, "segments", rec.Segments,
			"damaged", len(rec.Damaged), "max_bytes", icfg.SpoolMaxBytes)
		opts = append(opts, ingest.WithSpool(sp), ingest.WithSpoolRecovery(rec))
	} else {
		log.Warn("no spool (--spool-dir=off): callbacks Kafka does not acknowledge within the ack timeout are answered 503")
	}
	rcv, err := ingest.New(icfg, tc, cl, log, reg, opts...)
	if err != nil {
		return err
	}
	ops := opsMux(reg, func(ctx context.Context) error { return serveReady(ctx, cl, sp) })
	mux := ops
	if hcfg.opsListen != "" {
		// The callback port answers the platforms and a liveness probe, nothing else: /metrics names
		// the apps and /readyz the brokers, for the operator's eyes only.
		mux = http.NewServeMux()
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	}
	rcv.Register(mux)
	fctx, stopForward := context.WithCancel(context.Background())
	defer stopForward()
	forwarded := make(chan error, 1)
	go func() { forwarded <- rcv.Forward(fctx) }()
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: hcfg.readHeader,
		ReadTimeout:       hcfg.read,
		// The answer is due AckTimeout after arrival; a refused iLink push is answered only past iLink's
		// 5 s (ingest.ILinkSilence), so that it retries.
		WriteTimeout:   hcfg.read + max(icfg.AckTimeout, ingest.ILinkSilence+time.Second) + 5*time.Second,
		IdleTimeout:    hcfg.idle,
		MaxHeaderBytes: hcfg.maxHeader,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", listen, err)
	}
	ln = ingest.LimitConnsPerAddr(ln, hcfg.maxConnsPerAddr, icfg.TrustedProxies, reg)
	if tf.on() {
		cr, err := newCertReloader(tf, log)
		if err != nil {
			ln.Close()
			return err
		}
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cr.get}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	var opsSrv *http.Server
	errc := make(chan error, 2)
	if hcfg.opsListen != "" {
		oln, err := net.Listen("tcp", hcfg.opsListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen %s (ops): %w", hcfg.opsListen, err)
		}
		opsSrv = &http.Server{Handler: ops, ReadHeaderTimeout: hcfg.readHeader, ReadTimeout: hcfg.read, IdleTimeout: hcfg.idle,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		log.Info("ops endpoints", "addr", oln.Addr().String(), "paths", "/healthz /readyz /metrics")
		go func() { errc <- opsSrv.Serve(oln) }()
	}
	log.Info("serving", "addr", ln.Addr().String(), "tls", tf.on(), "raw_topic", tc.Raw(), "events_topic", tc.Events(), "deadletter_topic", tc.DeadLetter(),
		"netease_apps", len(icfg.NeteaseApps), "ilink_apps", len(icfg.ILinkApps), "maxim_apps", len(icfg.MaximApps),
		"apps_in_rotation", len(icfg.NeteasePrevious)+len(icfg.ILinkPrevious)+len(icfg.MaximPrevious),
		"ilink_allow_ips", len(icfg.ILinkAllowIPs), "trusted_proxies", len(icfg.TrustedProxies),
		"rate_limit", icfg.RateLimit, "max_in_flight", icfg.MaxInFlight, "max_conns_per_addr", hcfg.maxConnsPerAddr,
		"dedupe_window", icfg.DedupeWindow, "dedupe_size", icfg.DedupeSize, "spool_dir", icfg.SpoolDir,
		"kafka_tls", tc.Security.TLS || tc.Security.TLSCAFile != "", "kafka_sasl", tc.Security.SASLMechanism,
		"max_message_bytes", tc.MaxMessageBytes, "records_signed", tc.Auth.On())
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
	if sp != nil && sp.Pending() && topics.Ping(sctx, cl) == nil {
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
	if opsSrv != nil {
		if err := opsSrv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("ops http shutdown: %w", err))
		}
	}
	if err := cl.Flush(sctx); err != nil {
		errs = append(errs, fmt.Errorf("kafka flush: %w", err))
	}
	log.Info("stopped")
	return errors.Join(errs...)
}

// serveReady: ready when Kafka answers; ready but degraded while the spool holds callbacks or takes
// them for an unreachable Kafka; not ready when neither Kafka nor the spool can take a callback.
func serveReady(ctx context.Context, cl *kgo.Client, sp *spool.Spool) error {
	kerr := topics.Ping(ctx, cl)
	if sp == nil {
		return kerr
	}
	st := sp.Stats()
	switch {
	case kerr != nil && (st.Full || st.Broken != nil):
		return fmt.Errorf("%w; and the spool cannot take callbacks (full: %v, broken: %v)", kerr, st.Full, st.Broken)
	case kerr != nil:
		return degraded{fmt.Sprintf("spooling (kafka unreachable: %v; %d records, %d bytes in the spool)", kerr, st.Records, st.Bytes)}
	case st.Records > 0:
		return degraded{fmt.Sprintf("spooling (%d records, %d bytes in the spool, oldest from %s, being forwarded)", st.Records, st.Bytes, st.Oldest.UTC().Format(time.RFC3339))}
	}
	return nil
}

// defaultSpoolDir is $XDG_STATE_HOME/imarchive/spool, else ~/.local/state/imarchive/spool, else
// ./imarchive-spool.
func defaultSpoolDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "imarchive", "spool")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "imarchive", "spool")
	}
	return "imarchive-spool"
}

// httpConfig is the HTTP server's hygiene: bounded header and body reads, idle connections, header
// size, connections per client address; and where the ops endpoints are.
type httpConfig struct {
	readHeader, read, idle time.Duration
	maxHeader              int
	maxConnsPerAddr        int
	opsListen              string
}

func defaultHTTPConfig() httpConfig {
	return httpConfig{readHeader: 5 * time.Second, read: 15 * time.Second, idle: 90 * time.Second, maxHeader: 64 << 10,
		maxConnsPerAddr: 256, opsListen: "127.0.0.1:8081"}
}

func (h httpConfig) validate() error {
	var errs []error
	if h.readHeader <= 0 || h.read <= 0 || h.idle <= 0 {
		errs = append(errs, fmt.Errorf("http timeouts (read-header %s, read %s, idle %s): must be positive", h.readHeader, h.read, h.idle))
	}
	if h.maxHeader < 4096 {
		errs = append(errs, fmt.Errorf("http max header bytes %d: want at least 4096", h.maxHeader))
	}
	if h.maxConnsPerAddr < 0 {
		errs = append(errs, fmt.Errorf("max connections per address %d: must not be negative (0: no cap)", h.maxConnsPerAddr))
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
