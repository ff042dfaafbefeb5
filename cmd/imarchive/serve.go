package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/internal/cli"
	"github.com/imarchive/imarchive/internal/ops"
	"github.com/imarchive/imarchive/kafka"
)

// kafkaFlags are shared by every command that talks to Kafka (serve, consume, replay).
type kafkaFlags struct {
	brokers, prefix string
	partitions      int
	replication     int
	maxMessage      int
	recordKeys      string
	recordKeysFile  string
	sec             kafka.Security
}

func (k *kafkaFlags) register(c *cli.Command) {
	c.Str(&k.brokers, "kafka-brokers", "IMARCHIVE_KAFKA_BROKERS", "", "Kafka bootstrap brokers, comma-separated host:port (required)")
	c.Str(&k.prefix, "topic-prefix", "IMARCHIVE_TOPIC_PREFIX", "imarchive.", "prefix of the topics <prefix>raw, <prefix>events, <prefix>deadletter (created if missing)")
	c.Integer(&k.partitions, "topic-partitions", "IMARCHIVE_TOPIC_PARTITIONS", 6, "partitions of a topic when it is created")
	c.Integer(&k.replication, "topic-replication", "IMARCHIVE_TOPIC_REPLICATION", -1, "replication factor of a topic when it is created; -1: the broker's default (production: 3, with min.insync.replicas=2)")
	c.Integer(&k.maxMessage, "topic-max-message-bytes", "IMARCHIVE_TOPIC_MAX_MESSAGE_BYTES", kafka.DefaultMaxMessageBytes, "record limit: the topics' max.message.bytes when created (checked on existing topics) and the producers' batch limit; serve refuses a --max-body-bytes whose raw record could not fit")
	c.Str(&k.recordKeys, "record-keys", "IMARCHIVE_RECORD_KEYS", "", "HMAC keys shared by serve, replay and consume, id=secret[,id=secret] (current first, 32+ characters): serve and replay sign their records, consume dead-letters events not signed with one of them; empty: no signing (the topics are as trusted as Kafka's ACLs)")
	c.Str(&k.recordKeysFile, "record-keys-file", "IMARCHIVE_RECORD_KEYS_FILE", "", "file holding the record keys instead (commas or lines)")
	c.FS.BoolVar(&k.sec.TLS, "kafka-tls", false, "connect to the brokers with TLS (implied by any --kafka-tls-* file)")
	c.Env("kafka-tls", "IMARCHIVE_KAFKA_TLS")
	c.Str(&k.sec.TLSCAFile, "kafka-tls-ca-file", "IMARCHIVE_KAFKA_TLS_CA_FILE", "", "PEM file of the CAs that sign the brokers' certificates (default: the system's roots)")
	c.Str(&k.sec.TLSCertFile, "kafka-tls-cert-file", "IMARCHIVE_KAFKA_TLS_CERT_FILE", "", "PEM client certificate, for brokers that require mutual TLS")
	c.Str(&k.sec.TLSKeyFile, "kafka-tls-key-file", "IMARCHIVE_KAFKA_TLS_KEY_FILE", "", "PEM key of the client certificate")
	c.Str(&k.sec.TLSServerName, "kafka-tls-server-name", "IMARCHIVE_KAFKA_TLS_SERVER_NAME", "", "name to verify in the brokers' certificates (default: each broker's host)")
	c.Str(&k.sec.SASLMechanism, "kafka-sasl-mechanism", "IMARCHIVE_KAFKA_SASL_MECHANISM", "", "SASL mechanism: SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN (PLAIN only with TLS); empty: no SASL")
	c.Str(&k.sec.SASLUser, "kafka-sasl-user", "IMARCHIVE_KAFKA_SASL_USER", "", "SASL user")
	c.Str(&k.sec.SASLPassword, "kafka-sasl-password", "IMARCHIVE_KAFKA_SASL_PASSWORD", "", "SASL password (or --kafka-sasl-password-file)")
	c.Str(&k.sec.SASLPasswordFile, "kafka-sasl-password-file", "IMARCHIVE_KAFKA_SASL_PASSWORD_FILE", "", "file holding the SASL password, read at each login (e.g. a Docker secret)")
}

func (k *kafkaFlags) config() kafka.Config {
	tc := kafka.DefaultConfig()
	tc.Brokers = cli.SplitList(k.brokers)
	tc.Prefix = k.prefix
	tc.Partitions = int32(k.partitions)
	tc.ReplicationFactor = int16(k.replication)
	tc.MaxMessageBytes = int32(min(k.maxMessage, 1<<31-1))
	tc.Auth = kafka.NewRecordAuth(k.recordKeys, k.recordKeysFile)
	tc.Security = k.sec
	return tc
}

func newRegistry() *prometheus.Registry { return ops.NewRegistry() }

func serveCommand(stderr io.Writer) *cli.Command {
	c := cli.New("serve", "receive platform callbacks over HTTP, verify them, and produce them to Kafka",
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
		lf         cli.LogFlags
		kf         kafkaFlags
		apps       string
		ilinkApps  string
		ilinkAllow string
		maximApps  string
		icfg       = ingest.DefaultConfig()
		maxBody    int
		hcfg       = ingest.DefaultHTTPConfig()
		trusted    string
		spoolDir   string
		spoolMax   int
		spoolSeg   int
		minRate    int
		memLimit   string
	)
	lf.Register(c)
	kf.register(c)
	c.Str(&hcfg.Listen, "listen", "IMARCHIVE_LISTEN", hcfg.Listen, "HTTP listen address")
	c.Str(&apps, "netease-apps", "IMARCHIVE_NETEASE_APPS", "", "NetEase apps as appkey=secret[,appkey=secret…]; an app listed twice (new secret first) accepts both during a rotation")
	c.Str(&ilinkApps, "ilink-apps", "IMARCHIVE_ILINK_APPS", "", "ET-iLink apps as appkey=token:secret[,…]: token as registered with set_config, secret the last segment of the callback path; an app listed twice (new first) accepts both during a rotation")
	c.Str(&ilinkAllow, "ilink-allow-ips", "IMARCHIVE_ILINK_ALLOW_IPS", "", "if set, the only source addresses (IPs or CIDR prefixes, comma-separated) iLink callbacks are accepted from")
	c.Str(&maximApps, "maxim-apps", "IMARCHIVE_MAXIM_APPS", "", "Maxim apps as app_id=secret[,…]: secret as set for the console's message subscription; an app listed twice (new first) accepts both during a rotation")
	c.Str(&trusted, "trusted-proxies", "IMARCHIVE_TRUSTED_PROXIES", "", "reverse proxies (IPs or CIDR prefixes, comma-separated) whose X-Forwarded-For names the client, for the iLink allow-list, the raw record and the logs; from any other peer X-Forwarded-* is ignored")
	c.FS.Float64Var(&icfg.RateLimit, "rate-limit", icfg.RateLimit, "most authenticated callbacks per second per app; over it 429 with Retry-After (0: no limit)")
	c.Env("rate-limit", "IMARCHIVE_RATE_LIMIT")
	c.Integer(&icfg.RateBurst, "rate-burst", "IMARCHIVE_RATE_BURST", icfg.RateBurst, "callbacks an app may send at once above its rate")
	c.Integer(&icfg.MaxInFlight, "max-in-flight", "IMARCHIVE_MAX_IN_FLIGHT", icfg.MaxInFlight, "most authenticated callbacks handled at once; over it 503 with Retry-After (bodies take at most this × max-body-bytes; 0: no bound)")
	c.Integer(&hcfg.MaxConnsPerAddr, "max-conns-per-addr", "IMARCHIVE_MAX_CONNS_PER_ADDR", hcfg.MaxConnsPerAddr, "most connections open at once from one client address; more are closed on accept (trusted proxies are not capped; 0: no cap)")
	c.Str(&hcfg.OpsListen, "ops-listen", "IMARCHIVE_SERVE_OPS_LISTEN", hcfg.OpsListen, "listen address of /readyz, /metrics and /healthz, apart from the callbacks; empty: serve them on --listen (not advised: /metrics names the apps, /readyz the brokers)")
	c.Str(&memLimit, "memory-limit", "IMARCHIVE_MEMORY_LIMIT", "auto", "soft memory limit of the Go runtime, in bytes or with KiB/MiB/GiB; auto: GOMEMLIMIT if set, else 90% of the container's memory limit, else max-in-flight × max-body-bytes × 3 + 512 MiB; 0: none")
	c.Str(&hcfg.TLSCertFile, "tls-cert-file", "IMARCHIVE_TLS_CERT_FILE", "", "PEM certificate (chain) to serve HTTPS with; empty: plain HTTP (behind a TLS-terminating proxy)")
	c.Str(&hcfg.TLSKeyFile, "tls-key-file", "IMARCHIVE_TLS_KEY_FILE", "", "PEM private key of --tls-cert-file")
	c.Duration(&icfg.Freshness, "freshness", "IMARCHIVE_FRESHNESS", icfg.Freshness, "how far a request's CurTime may be from our clock")
	c.Integer(&maxBody, "max-body-bytes", "IMARCHIVE_MAX_BODY_BYTES", int(icfg.MaxBodyBytes), "largest callback body accepted (413 above)")
	c.Duration(&icfg.AckTimeout, "ack-timeout", "IMARCHIVE_ACK_TIMEOUT", icfg.AckTimeout, "answer deadline from a callback's arrival: success once Kafka or the spool has it, else 503 (iLink: withheld past its 5 s)")
	c.Duration(&icfg.SpoolAfter, "spool-after", "IMARCHIVE_SPOOL_AFTER", icfg.SpoolAfter, "how long a callback waits for Kafka's acknowledgement before it is written to the spool instead (less than --ack-timeout)")
	c.Str(&spoolDir, "spool-dir", "IMARCHIVE_SPOOL_DIR", defaultSpoolDir(), "directory of the local spool, on a local disk, one per serve process; \"off\": no spool (503 when Kafka does not acknowledge in time)")
	c.Integer(&spoolMax, "spool-max-bytes", "IMARCHIVE_SPOOL_MAX_BYTES", int(icfg.SpoolMaxBytes), "most bytes of spool files on disk; when full, callbacks Kafka does not take are refused (503; iLink: no answer)")
	c.Integer(&spoolSeg, "spool-segment-bytes", "IMARCHIVE_SPOOL_SEGMENT_BYTES", int(icfg.SpoolSegmentBytes), "size of one spool segment file; a segment is deleted once all of it was forwarded")
	c.Duration(&icfg.DedupeWindow, "dedupe-window", "IMARCHIVE_DEDUPE_WINDOW", icfg.DedupeWindow, "how long a delivered event_id is remembered so a platform retry produces nothing (0 turns it off)")
	c.Integer(&icfg.DedupeSize, "dedupe-size", "IMARCHIVE_DEDUPE_SIZE", icfg.DedupeSize, "most event_ids remembered; the oldest are forgotten first")
	c.Duration(&hcfg.ReadHeader, "http-read-header-timeout", "IMARCHIVE_HTTP_READ_HEADER_TIMEOUT", hcfg.ReadHeader, "longest time to read a request's headers")
	c.Duration(&hcfg.Read, "http-read-timeout", "IMARCHIVE_HTTP_READ_TIMEOUT", hcfg.Read, "longest time to read a whole request (an outer bound; a callback's body has its own, below)")
	c.Duration(&icfg.BodyTimeout, "http-body-timeout", "IMARCHIVE_HTTP_BODY_TIMEOUT", icfg.BodyTimeout, "longest time to read an authenticated callback's body")
	c.Integer(&minRate, "http-min-body-rate", "IMARCHIVE_HTTP_MIN_BODY_RATE", int(icfg.BodyMinRate), "least average rate of a body, bytes/s, after the first 2 s; slower: 408 (0: off)")
	c.Duration(&hcfg.Idle, "http-idle-timeout", "IMARCHIVE_HTTP_IDLE_TIMEOUT", hcfg.Idle, "longest a kept-alive connection waits for its next request")
	c.Integer(&hcfg.MaxHeaderBytes, "http-max-header-bytes", "IMARCHIVE_HTTP_MAX_HEADER_BYTES", hcfg.MaxHeaderBytes, "largest request header block accepted")
	c.Duration(&hcfg.ShutdownTimeout, "shutdown-timeout", "IMARCHIVE_SHUTDOWN_TIMEOUT", hcfg.ShutdownTimeout, "longest graceful shutdown (in-flight requests finish)")
	c.Start = func(args []string) (cli.RunFunc, error) {
		if err := c.Parse(args); err != nil {
			return nil, err
		}
		log, err := lf.Logger(stderr)
		if err != nil {
			return nil, err
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
		if raw := icfg.MaxBodyBytes + int64(hcfg.MaxHeaderBytes) + 16<<10; raw > int64(tc.MaxMessageBytes) {
			perrs = append(perrs, fmt.Errorf("max body bytes %d with max header bytes %d make raw records of up to %d bytes, over the record limit %d: raise IMARCHIVE_TOPIC_MAX_MESSAGE_BYTES (and the topics' max.message.bytes) or lower IMARCHIVE_MAX_BODY_BYTES",
				icfg.MaxBodyBytes, hcfg.MaxHeaderBytes, raw, tc.MaxMessageBytes))
		}
		if err := errors.Join(append(perrs, tc.Validate(), icfg.Validate(), hcfg.Validate())...); err != nil {
			return nil, err
		}
		if mem.bytes > 0 {
			debug.SetMemoryLimit(mem.bytes)
		}
		log.Info("memory limit", "bytes", mem.bytes, "from", mem.from)
		return ingest.NewServer(icfg, hcfg, tc, log, newRegistry()).Run, nil
	}
	return c
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
