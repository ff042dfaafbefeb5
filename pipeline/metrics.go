package pipeline

import "github.com/prometheus/client_golang/prometheus"

// metrics of one consumer. Each consumer registers them with a constant label consumer="events" or
// consumer="raw", so both fit on one registry.
type metrics struct {
	rowsWritten  prometheus.Counter
	batchRows    prometheus.Histogram
	batchBytes   prometheus.Histogram
	retries      prometheus.Counter
	deadLetters  prometheus.Counter
	refused      prometheus.Counter
	topicChanges prometheus.Counter
	commitErrors prometheus.Counter
	lag          *prometheus.GaugeVec
	stalled      *prometheus.GaugeVec
	commitAge    *prometheus.GaugeVec
	writers      prometheus.Gauge
	interval     prometheus.Gauge
	batches      *prometheus.CounterVec
	moves        *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		rowsWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_pipeline_rows_written_total", Help: "Records written to ClickHouse and committed.",
		}),
		batchRows: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "imarchive_pipeline_batch_rows", Help: "Records per batch written to ClickHouse.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}),
		batchBytes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "imarchive_pipeline_batch_bytes", Help: "Record bytes per batch written to ClickHouse.",
			Buckets: prometheus.ExponentialBuckets(1024, 4, 9),
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_pipeline_insert_retries_total", Help: "Failed batch writes (ClickHouse or dead-letter topic) that were retried.",
		}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_pipeline_dead_letters_total", Help: "Records sent to the dead-letter topic by the consumer: records that cannot be decoded and rows ClickHouse refused for their data.",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_pipeline_refused_rows_total", Help: "Rows ClickHouse refused for their data (a data error, not an outage), set aside from their batch and sent to the dead-letter topic with ClickHouse's reason (also counted in imarchive_pipeline_dead_letters_total).",
		}),
		topicChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_pipeline_topic_recreations_total", Help: "Times the consumed topic was found deleted or recreated (Kafka answered UNKNOWN_TOPIC_ID) and the consumer followed the topic of its name from its start.",
		}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_pipeline_commit_errors_total", Help: "Offset commits that failed after a successful write (the records are re-delivered and deduplicated).",
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "imarchive_pipeline_consumer_lag_records", Help: "Records of the partition not yet written and committed by the group (end offset minus committed offset), per partition; read from Kafka every 15 s and after every commit.",
		}, []string{"topic", "partition"}),
	}
	m.stalled = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "imarchive_pipeline_partition_stalled", Help: "1 for a partition of the group that has lag and whose committed offset has not moved for IMARCHIVE_STALL_AFTER, else 0; every member reports every partition of its group (read with the lag).",
	}, []string{"topic", "partition"})
	m.commitAge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "imarchive_pipeline_partition_commit_age_seconds", Help: "Seconds a partition of the group has had lag while its committed offset stayed where it is; 0 for a partition without lag.",
	}, []string{"topic", "partition"})
	m.writers = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "imarchive_pipeline_group_writers", Help: "Members of the consumer group holding partitions, as last read from Kafka: the insert interval is multiplied by it.",
	})
	m.interval = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "imarchive_pipeline_insert_interval_seconds", Help: "The least time between two batches of this consumer: IMARCHIVE_INSERT_INTERVAL times the group's writers.",
	})
	m.batches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imarchive_pipeline_batches_total", Help: "Batches handed to ClickHouse, by what made them due: full (IMARCHIVE_BATCH_ROWS or _BYTES), caught_up (no more records waiting), waited (IMARCHIVE_BATCH_WAIT).",
	}, []string{"reason"})
	m.moves = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imarchive_pipeline_partition_moves_total", Help: "Rebalances that moved partitions of this member, by change: assigned, revoked, lost (each resets the cached presence states).",
	}, []string{"change"})
	reg.MustRegister(m.rowsWritten, m.batchRows, m.batchBytes, m.retries, m.deadLetters, m.refused, m.topicChanges, m.commitErrors, m.lag,
		m.stalled, m.commitAge, m.writers, m.interval, m.batches, m.moves)
	return m
}

// presenceMetrics are the online-state processor's.
type presenceMetrics struct {
	events prometheus.Counter
	stale  prometheus.Counter
	loads  prometheus.Counter
}

func newPresenceMetrics(reg prometheus.Registerer) *presenceMetrics {
	m := &presenceMetrics{
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_pipeline_presence_events_total", Help: "Presence events decided and written.",
		}),
		stale: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_pipeline_presence_stale_events_total", Help: "Presence events written with stale = true (older than the account's online-state timestamp when they arrived).",
		}),
		loads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imarchive_pipeline_presence_state_loads_total", Help: "Account and connection presence states loaded from ClickHouse (cache misses after a start, a rebalance or a cache reset).",
		}),
	}
	reg.MustRegister(m.events, m.stale, m.loads)
	return m
}
