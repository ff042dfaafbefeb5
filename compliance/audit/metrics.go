package audit

import "github.com/prometheus/client_golang/prometheus"

type chainMetrics struct {
	records prometheus.Counter
	skipped prometheus.Counter
	head    *prometheus.GaugeVec
	latency prometheus.Histogram
}

func newChainMetrics(reg prometheus.Registerer) *chainMetrics {
	m := &chainMetrics{
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_audit_chain_records_total", Help: "Raw records linked into the hash chain and acknowledged by ClickHouse.",
		}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_audit_chain_skipped_records_total", Help: "Re-delivered raw records skipped because they were chained already.",
		}),
		head: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "imarchive_audit_chain_head_offset", Help: "Last chained raw-topic offset, per partition.",
		}, []string{"partition"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "imarchive_audit_chain_insert_latency_seconds", Help: "Time for ClickHouse to acknowledge one insert into raw_chain.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}),
	}
	reg.MustRegister(m.records, m.skipped, m.head, m.latency)
	return m
}
