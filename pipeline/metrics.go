package pipeline

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	rowsWritten   prometheus.Counter
	batchRows     prometheus.Histogram
	insertLatency prometheus.Histogram
	retries       prometheus.Counter
	deadLetters   prometheus.Counter
	commitErrors  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		rowsWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_pipeline_rows_written_total", Help: "Rows written to ClickHouse and committed.",
		}),
		batchRows: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "imarchive_pipeline_batch_rows", Help: "Rows per ClickHouse insert.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}),
		insertLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "imarchive_pipeline_insert_latency_seconds", Help: "Time for ClickHouse to acknowledge one batch insert.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_pipeline_insert_retries_total", Help: "Failed batch inserts that were retried.",
		}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_pipeline_dead_letters_total", Help: "Records sent to the dead-letter topic by the consumer.",
		}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_pipeline_commit_errors_total", Help: "Offset commits that failed after a successful insert.",
		}),
	}
	reg.MustRegister(m.rowsWritten, m.batchRows, m.insertLatency, m.retries, m.deadLetters, m.commitErrors)
	return m
}
