package connectors

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the connectors' Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	retries      *prometheus.CounterVec
	rows         *prometheus.CounterVec
	runs         *prometheus.CounterVec
	lastComplete *prometheus.GaugeVec
}

// NewMetrics registers the connector metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imarchive_connector_requests_total",
			Help: "Requests to a platform API, by source, endpoint and outcome (ok, error, transport_error, http_NNN, bad_answer).",
		}, []string{"source", "endpoint", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "imarchive_connector_request_duration_seconds",
			Help:    "Time for a platform API to answer one request.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
		}, []string{"source", "endpoint"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imarchive_connector_retries_total",
			Help: "Platform API requests retried after a retryable failure.",
		}, []string{"source", "endpoint"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imarchive_connector_snapshot_rows_total",
			Help: "Snapshot rows written to ClickHouse, by table.",
		}, []string{"source", "table"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imarchive_connector_sync_runs_total",
			Help: "Sync runs finished, by status (complete, failed).",
		}, []string{"source", "status"}),
		lastComplete: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "imarchive_connector_last_complete_sync_timestamp_seconds",
			Help: "Unix time of the last sync run that completed.",
		}, []string{"source", "app"}),
	}
	reg.MustRegister(m.requests, m.duration, m.retries, m.rows, m.runs, m.lastComplete)
	return m
}

func (m *Metrics) request(source, endpoint, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(source, endpoint, outcome).Inc()
	m.duration.WithLabelValues(source, endpoint).Observe(took.Seconds())
}

func (m *Metrics) retry(source, endpoint string) {
	if m == nil {
		return
	}
	m.retries.WithLabelValues(source, endpoint).Inc()
}

func (m *Metrics) wrote(source, table string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.rows.WithLabelValues(source, table).Add(float64(n))
}

func (m *Metrics) finished(source, app, status string, at time.Time) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(source, status).Inc()
	if status == StatusComplete {
		m.lastComplete.WithLabelValues(source, app).Set(float64(at.UnixMilli()) / 1000)
	}
}
