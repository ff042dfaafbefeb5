package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a callback, the "outcome" label of imarchive_ingest_callbacks_total.
const (
	outcomeAccepted      = "accepted"           // normalized; raw and event acknowledged by Kafka
	outcomeDeadLetter    = "dead_letter"        // authentic but not normalizable; raw and dead letter acknowledged
	outcomeDuplicate     = "duplicate"          // a retry of a delivery already acknowledged; nothing produced
	outcomeKafka         = "kafka_unavailable"  // Kafka did not acknowledge in time and no spool took it; answered 503 (iLink: withheld)
	outcomeSpooled       = "spooled"            // written to the local spool (Kafka slow or down, or the spool not empty); success answered
	outcomeSpoolFull     = "spool_full"         // Kafka did not acknowledge and the spool was full or broken; answered 503 (iLink: withheld)
	outcomeAuth          = "rejected_auth"      // bad or missing signature, checksum, MD5, unknown app: 401
	outcomeStale         = "rejected_stale"     // CurTime outside the freshness window: 401
	outcomeForbidden     = "rejected_forbidden" // wrong iLink path secret or source address: 403
	outcomeTooLarge      = "rejected_too_large" // body over the limit: 413
	outcomeSlow          = "rejected_slow"      // body under the minimum rate or over its deadline: 408
	outcomeMethod        = "rejected_method"    // wrong HTTP method: 405
	outcomeBadRequest    = "rejected_bad_request"
	outcomeRateLimited   = "rejected_rate_limited" // over the app's rate limit: 429
	outcomeOverloaded    = "overloaded"            // too many callbacks in flight: 503 before reading
	outcomeReplay        = "replay"                // a signature already delivered: success, nothing produced
	outcomeConflict      = "event_id_conflict"     // an event_id delivered before with another body: raw and dead letter, success
	outcomeHandshake     = "handshake_ok"          // iLink URL verification answered with echostr
	outcomeHandshakeFail = "handshake_failed"      // iLink URL verification with a bad signature: empty 401
)

type metrics struct {
	callbacks      *prometheus.CounterVec
	duplicates     *prometheus.CounterVec
	ackLatency     *prometheus.HistogramVec
	produceErrors  *prometheus.CounterVec
	dedupeEntries  prometheus.Gauge
	dedupeEvicted  prometheus.Counter
	dedupeWaiting  prometheus.Gauge
	rateLimited    *prometheus.CounterVec
	replays        *prometheus.CounterVec
	previousSecret *prometheus.CounterVec
	conflicts      *prometheus.CounterVec

	spooled          *prometheus.CounterVec
	spoolLatency     *prometheus.HistogramVec
	forwarded        prometheus.Counter
	alreadyDelivered prometheus.Counter
	spoolRejected    prometheus.Counter
	spoolDamaged     prometheus.Counter
	forwardErrors    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imarchive_ingest_callbacks_total",
			Help: "Callbacks received, by platform, platform event type (\"\" before the body is read, \"other\" for a type the receiver does not know) and outcome (accepted, dead_letter, duplicate, spooled, kafka_unavailable, spool_full, rejected_auth, rejected_stale, rejected_forbidden, rejected_too_large, rejected_slow, rejected_method, rejected_bad_request, rejected_rate_limited, overloaded, replay, event_id_conflict, handshake_ok, handshake_failed).",
		}, []string{"platform", "type", "outcome"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imarchive_ingest_duplicates_total",
			Help: "Platform retries this serve process answered without producing, by platform and state (seen: delivered before within its dedupe window; in_flight: arrived while the first delivery was being produced). The window is per process: a retry that reaches another serve replica is produced again there, counted as accepted, and folded by event_id in ClickHouse (duplicates_discarded counts those receipts).",
		}, []string{"platform", "state"}),
		ackLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "imarchive_ingest_ack_latency_seconds",
			Help:    "Time from a callback's arrival to Kafka's acknowledgement of its records.",
			Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5},
		}, []string{"platform"}),
		produceErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imarchive_ingest_produce_errors_total",
			Help: "Records Kafka did not acknowledge, by topic.",
		}, []string{"topic"}),
		dedupeEntries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "imarchive_ingest_dedupe_entries",
			Help: "Delivered event ids remembered for deduplication.",
		}),
		dedupeEvicted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_ingest_dedupe_evictions_total",
			Help: "Event ids forgotten before their window ended because the dedupe cache was full (raise --dedupe-size if this grows).",
		}),
		dedupeWaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "imarchive_ingest_dedupe_waiting",
			Help: "Retries waiting for the outcome of a first delivery still in flight.",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imarchive_ingest_rate_limited_total",
			Help: "Authenticated callbacks answered 429 because their app was over IMARCHIVE_RATE_LIMIT, by platform and app.",
		}, []string{"platform", "app"}),
		replays: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imarchive_ingest_replays_total",
			Help: "Requests whose signature (NetEase CheckSum) was already delivered: answered as delivered, nothing produced.",
		}, []string{"platform"}),
		previousSecret: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imarchive_ingest_previous_secret_total",
			Help: "Callbacks verified with an app's previous secret during a rotation, by platform and app: when it stays flat, remove the previous secret.",
		}, []string{"platform", "app"}),
		conflicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imarchive_ingest_event_id_conflicts_total",
			Help: "Verified deliveries whose event_id was delivered before with a different body, by platform: kept raw and dead-lettered with both bodies' SHA-256. Alert on any: a forgery with a real id, or the genuine callback after one.",
		}, []string{"platform"}),
	}
	m.spooled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imarchive_ingest_spooled_total",
		Help: "Callbacks written to the local spool and answered from it, by platform and reason (kafka_slow: no acknowledgement within the spool-after wait; kafka_error: the produce failed; spooling: the spool was not empty, so order is kept).",
	}, []string{"platform", "reason"})
	m.spoolLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "imarchive_ingest_spool_ack_latency_seconds",
		Help:    "Time from a callback's arrival to its success answer from the spool (its record fsynced).",
		Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 3, 4, 5},
	}, []string{"platform"})
	m.forwarded = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "imarchive_ingest_spool_forwarded_records_total",
		Help: "Spool records forwarded to Kafka (acknowledged) and removed from the spool; includes those found already delivered by their own late produce.",
	})
	m.alreadyDelivered = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "imarchive_ingest_spool_already_delivered_total",
		Help: "Spool records not sent again because the produce that timed out before they were spooled was acknowledged after all.",
	})
	m.spoolRejected = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "imarchive_ingest_spool_rejected_records_total",
		Help: "Spool records Kafka refused for good (e.g. too large) or that did not decode: set aside in the spool's damaged directory, not forwarded. Alert on any.",
	})
	m.spoolDamaged = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "imarchive_ingest_spool_damaged_total",
		Help: "Damaged stretches (torn tails, changed bytes) found by the spool's recovery at start and set aside in its damaged directory. Alert on any.",
	})
	m.forwardErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "imarchive_ingest_spool_forward_errors_total",
		Help: "Failed attempts to forward spool records to Kafka (retried with backoff).",
	})
	reg.MustRegister(m.spooled, m.spoolLatency, m.forwarded, m.alreadyDelivered, m.spoolRejected, m.spoolDamaged, m.forwardErrors)
	reg.MustRegister(m.callbacks, m.duplicates, m.ackLatency, m.produceErrors, m.dedupeEntries, m.dedupeEvicted, m.dedupeWaiting,
		m.rateLimited, m.replays, m.previousSecret, m.conflicts)
	return m
}

func (m *metrics) dedupeHooks() dedupeHooks {
	return dedupeHooks{
		entries: func(n int) { m.dedupeEntries.Set(float64(n)) },
		evicted: m.dedupeEvicted.Inc,
		waiting: func(d int) { m.dedupeWaiting.Add(float64(d)) },
	}
}
