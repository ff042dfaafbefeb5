package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	callbacks     *prometheus.CounterVec
	ackLatency    *prometheus.HistogramVec
	produceErrors *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imarchive_ingest_callbacks_total",
			Help: "Callbacks received, by platform, platform event type and outcome (accepted, rejected_auth, rejected_stale, unnormalized, kafka_unavailable, …).",
		}, []string{"platform", "type", "outcome"}),
		ackLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "imarchive_ingest_ack_latency_seconds",
			Help:    "Time from a callback's arrival to Kafka's acknowledgement of its records.",
			Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5},
		}, []string{"platform"}),
		produceErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imarchive_ingest_produce_errors_total",
			Help: "Records Kafka did not acknowledge, by topic.",
		}, []string{"topic"}),
	}
	reg.MustRegister(m.callbacks, m.ackLatency, m.produceErrors)
	return m
}
