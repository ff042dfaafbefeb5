package dashboards

import (
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// Ingest health: is every callback answered, fast, and on its way to ClickHouse? The live numbers come
// from Prometheus (serve's and consume's /metrics: rejections, ack latency and consumer lag exist
// nowhere else); what reached the archive comes from ClickHouse.

const callbacks = "imarchive_ingest_callbacks_total"

// sel is the selector of a serve metric by the platform variable, with more matchers.
func sel(extra ...string) string {
	return "{" + strings.Join(append([]string{`platform=~"$platform"`}, extra...), ",") + "}"
}

// rate is a per-second rate of a serve metric over Grafana's rate interval.
func rate(metric string, extra ...string) string {
	return "rate(" + metric + sel(extra...) + "[$__rate_interval])"
}

func ingestHealth() (dashboard.Dashboard, error) {
	b := newBoard("imarchive-ingest-health", "Ingest health",
		"Callbacks answered by serve and written by consume: rates by platform and outcome, rejections, duplicates, dead letters, acknowledgement latency and consumer lag (Prometheus), and what reached the archive (ClickHouse).",
		"now-1h", "30s")
	b.variable(platformVariable(".*"))

	b.row("Callbacks (serve)")
	b.promStat(Prom{Panel: Panel{
		Title: "Accepted per second", Unit: "reqps", W: 6, H: 5,
		Text: "Callbacks normalized and acknowledged by Kafka (raw and event records), per second. The platform got its success answer for each.",
	}, Targets: [][2]string{{"sum(" + rate(callbacks, `outcome="accepted"`) + ")", "accepted"}}})
	b.promStat(Prom{Panel: Panel{
		Title: "Rejected per second", Unit: "reqps", W: 6, H: 5, Steps: base("green").then("orange", 0.01).then("red", 1),
		Text: "Callbacks refused: bad signature or checksum, stale CurTime, wrong iLink path secret or address, too large, wrong method, bad request, failed iLink handshake. Forged or misconfigured senders; anything above zero deserves a look.",
	}, Targets: [][2]string{{"sum(" + rate(callbacks, `outcome=~"rejected_.*|handshake_failed"`) + ") or vector(0)", "rejected"}}})
	b.promStat(Prom{Panel: Panel{
		Title: "Kafka unavailable (503) per second", Unit: "reqps", W: 6, H: 5, Steps: base("green").then("red", 0.001),
		Text: "Callbacks answered 503 because Kafka did not acknowledge in time: the platform retries them, nothing is lost, but the archive is behind.",
	}, Targets: [][2]string{{"sum(" + rate(callbacks, `outcome="kafka_unavailable"`) + ") or vector(0)", "503"}}})
	b.promStat(Prom{Panel: Panel{
		Title: "Ack latency p99", Unit: "s", W: 6, H: 5, Steps: base("green").then("orange", 1).then("red", 4),
		Text: "99th percentile of the time from a callback's arrival to Kafka's acknowledgement (the platform's wait). iLink gives up after 5 s, so orange from 1 s and red from 4 s (serve's ack timeout).",
	}, Targets: [][2]string{{"histogram_quantile(0.99, sum by (le) (" + rate("imarchive_ingest_ack_latency_seconds_bucket") + "))", "p99"}}})
	b.promTimeseries(Prom{Panel: Panel{
		Title: "Callbacks per second by platform and outcome", Unit: "reqps", W: 12, H: 9,
		Text: "Every callback serve answered, by platform and outcome: accepted, dead_letter (kept raw, not normalizable), duplicate (a retry answered from the dedupe window), kafka_unavailable (503), rejected_* and the iLink handshakes.",
	}, Targets: [][2]string{{"sum by (platform, outcome) (" + rate(callbacks) + ")", "{{platform}} {{outcome}}"}}}, TS{Stack: true})
	b.promTimeseries(Prom{Panel: Panel{
		Title: "Rejections by reason", Unit: "reqps", W: 12, H: 9, Steps: base("green").then("red", 1),
		Text: "Refused callbacks by platform and reason (outcome): rejected_auth (signature, checksum, MD5, unknown app), rejected_stale (CurTime out of window), rejected_forbidden (iLink path secret or address), rejected_too_large, rejected_method, rejected_bad_request, handshake_failed.",
	}, Targets: [][2]string{{"sum by (platform, outcome) (" + rate(callbacks, `outcome=~"rejected_.*|handshake_failed"`) + ")", "{{platform}} {{outcome}}"}}}, TS{})
	b.promTimeseries(Prom{Panel: Panel{
		Title: "Ack latency by platform", Unit: "s", W: 12, H: 9, Steps: base("green").then("orange", 1).then("red", 4),
		Text: "Median and 99th percentile time from a callback's arrival to Kafka's acknowledgement of its records, by platform (imarchive_ingest_ack_latency_seconds). Thresholds: iLink waits 5 s before retrying.",
	}, Targets: [][2]string{
		{"histogram_quantile(0.5, sum by (le, platform) (" + rate("imarchive_ingest_ack_latency_seconds_bucket") + "))", "{{platform}} p50"},
		{"histogram_quantile(0.99, sum by (le, platform) (" + rate("imarchive_ingest_ack_latency_seconds_bucket") + "))", "{{platform}} p99"},
	}}, TS{LegendCalcs: []string{"mean", "max"}})
	b.promTimeseries(Prom{Panel: Panel{
		Title: "Duplicates", Unit: "reqps", W: 12, H: 9,
		Text: "Retries answered from a serve replica's own dedupe window without producing, by platform and state (seen: delivered before; in_flight: arrived while the first was being produced). The platform retried because it did not get our answer in time, or chose to. A retry that reached another replica is not here: that replica produced it again, and the archive folds it by event_id (the repeated receipts are in Archived callbacks, duplicates and stale presence below).",
	}, Targets: [][2]string{
		{"sum by (platform, state) (" + rate("imarchive_ingest_duplicates_total") + ")", "{{platform}} {{state}}"},
	}}, TS{})
	b.promTimeseries(Prom{Panel: Panel{
		Title: "Dead letters by stage and event type", Unit: "reqps", W: 24, H: 8, Steps: anyIsBad,
		Text: "Callbacks dead-lettered, by where: ingest (authentic but not normalizable, kept raw), per platform and platform event type; the consumer (an event it can never write), per consumer group. Why each one was refused is text in the imarchive.reason header of its record on the <prefix>deadletter topic: no metric carries it (its values are unbounded), so the breakdown here is by stage and event type.",
	}, Targets: [][2]string{
		{"sum by (platform, type) (" + rate(callbacks, `outcome="dead_letter"`) + ")", "ingest {{platform}} type {{type}}"},
		{"sum by (consumer) (rate(imarchive_pipeline_dead_letters_total[$__rate_interval]))", "consume {{consumer}}"},
	}}, TS{})

	b.row("Spool (serve, while Kafka is unavailable)")
	spool := func(title, unit, expr, text string, steps Steps) {
		b.promStat(Prom{Panel: Panel{Title: title, Unit: unit, W: 6, H: 5, Steps: steps, Text: text}, Targets: [][2]string{{expr + " or vector(0)", title}}})
	}
	spool("Spool full", "bool_yes_no", "max(imarchive_ingest_spool_full)",
		"Whether a serve's spool is full: it then answers 503 again, as without a spool, and the platforms retry. Any serve at yes needs Kafka back or a larger spool.", anyIsBad)
	spool("Oldest spooled record", "s", "max(imarchive_ingest_spool_oldest_record_age_seconds)",
		"Age of the oldest record waiting in any serve's spool: how far behind Kafka (and so the archive) the acknowledged callbacks are.", base("green").then("orange", 60).then("red", 600))
	spool("Spooled records", "short", "sum(imarchive_ingest_spool_records)",
		"Records acknowledged to the platforms and waiting in the spools for Kafka, every serve together.", base("green").then("orange", 1))
	spool("Spool size", "bytes", "sum(imarchive_ingest_spool_bytes)",
		"Bytes the spools hold on disk, every serve together.", nil)
	b.promTimeseries(Prom{Panel: Panel{
		Title: "Spool depth", Unit: "short", W: 12, H: 8, Steps: base("green").then("orange", 1),
		Text: "Records waiting in each serve's spool (imarchive_ingest_spool_records): they rise while Kafka does not acknowledge and fall as the spool forwards them.",
	}, Targets: [][2]string{{"sum by (instance) (imarchive_ingest_spool_records)", "{{instance}}"}}}, TS{LegendCalcs: []string{"lastNotNull", "max"}})
	b.promTimeseries(Prom{Panel: Panel{
		Title: "Spooled records forwarded to Kafka per second", Unit: "rowsps", W: 12, H: 8,
		Text: "Records each serve's spool forwarded to Kafka once it acknowledged again (imarchive_ingest_spool_forwarded_records_total).",
	}, Targets: [][2]string{{"sum by (instance) (rate(imarchive_ingest_spool_forwarded_records_total[$__rate_interval]))", "{{instance}}"}}}, TS{})

	b.row("Pipeline (consume)")
	b.promTimeseries(Prom{Panel: Panel{
		Title: "Consumer lag", Unit: "short", W: 12, H: 8, Steps: base("green").then("orange", 10000).then("red", 100000),
		Text: "Records waiting in Kafka after the last committed batch (high watermark minus next offset), per consumer group and topic: events (into the tables) and raw (into the raw archive). A growing lag means ClickHouse is down or too slow; nothing is lost meanwhile.",
	}, Targets: [][2]string{{"sum by (consumer, topic) (imarchive_pipeline_consumer_lag_records)", "{{consumer}} {{topic}}"}}}, TS{LegendCalcs: []string{"lastNotNull", "max"}})
	b.promTimeseries(Prom{Panel: Panel{
		Title: "Consumer lag per partition", Unit: "short", W: 12, H: 8, Steps: base("green").then("orange", 10000).then("red", 100000),
		Text: "The same lag per partition of each topic: one partition far behind the others is a stuck or slow consumer of that partition, or a hot key.",
	}, Targets: [][2]string{{"max by (consumer, topic, partition) (imarchive_pipeline_consumer_lag_records)", "{{consumer}} {{topic}}/{{partition}}"}}}, TS{LegendCalcs: []string{"lastNotNull", "max"}})
	b.promStat(Prom{Panel: Panel{
		Title: "Stalled partitions", Unit: "short", W: 6, H: 8, Steps: anyIsBad,
		Text: "Partitions that have lag and whose committed offset has not moved for IMARCHIVE_STALL_AFTER (2 min): the member holding one is stuck (ClickHouse refusing or down, a write that never ends) or gone. consume's /readyz names each and its member. Every consume process reports every partition of its groups: counted once here.",
	}, Targets: [][2]string{{"count(max by (consumer, topic, partition) (imarchive_pipeline_partition_stalled) == 1) or vector(0)", "stalled"}}})
	b.promTimeseries(Prom{Panel: Panel{
		Title: "Partition commit age", Unit: "s", W: 18, H: 8, Steps: base("green").then("orange", 60).then("red", 120),
		Text: "Per partition, how long it has had lag while its committed offset stayed where it is (0 when it has none); past IMARCHIVE_STALL_AFTER it counts as stalled. A sawtooth is healthy (each batch commits); a line that only climbs is a stuck partition.",
	}, Targets: [][2]string{{"max by (consumer, topic, partition) (imarchive_pipeline_partition_commit_age_seconds)", "{{consumer}} {{topic}}/{{partition}}"}}}, TS{LegendCalcs: []string{"lastNotNull", "max"}})
	b.promTimeseries(Prom{Panel: Panel{
		Title: "Rows written per second", Unit: "rowsps", W: 12, H: 8,
		Text: "Records written to ClickHouse and committed, per consumer (events, raw).",
	}, Targets: [][2]string{{"sum by (consumer) (rate(imarchive_pipeline_rows_written_total[$__rate_interval]))", "{{consumer}}"}}}, TS{})
	b.promTimeseries(Prom{Panel: Panel{
		Title: "Insert retries and commit errors", Unit: "ops", W: 12, H: 8, Steps: anyIsBad,
		Text: "Batch writes that failed and were retried (ClickHouse or the dead-letter topic unavailable) and offset commits that failed after a successful write (those records are re-delivered and deduplicated). Any is worth a look; retries that last mean an outage.",
	}, Targets: [][2]string{
		{"sum by (consumer) (rate(imarchive_pipeline_insert_retries_total[$__rate_interval]))", "insert retries {{consumer}}"},
		{"sum by (consumer) (rate(imarchive_pipeline_commit_errors_total[$__rate_interval]))", "commit errors {{consumer}}"},
	}}, TS{})
	b.promTimeseries(Prom{Panel: Panel{
		Title: "ClickHouse inserts per second by table", Unit: "ops", W: 12, H: 8,
		Text: "Inserts the consumers made per table (the count of imarchive_pipeline_insert_latency_seconds). Each insert makes at least one data part: many small inserts into one table show as parts piling up below.",
	}, Targets: [][2]string{{"sum by (table) (rate(imarchive_pipeline_insert_latency_seconds_count[$__rate_interval]))", "{{table}}"}}}, TS{})
	b.promTimeseries(Prom{Panel: Panel{
		Title: "Parts created per minute by table", Unit: "short", W: 12, H: 8, Steps: base("green").then("orange", 120).then("red", 600),
		Text: "Data parts each table's inserts created per minute, by every writer (block numbers handed out, from system.parts: imarchive_pipeline_table_created_parts). ClickHouse's guidance is about one insert per second per table, each making one part per partition it touches: about 60 a minute. The consumers hold to it with IMARCHIVE_INSERT_INTERVAL shared by their group.",
	}, Targets: [][2]string{{"max by (table) (delta(imarchive_pipeline_table_created_parts[5m])) / 5", "{{table}}"}}}, TS{})
	b.promTimeseries(Prom{Panel: Panel{
		Title: "Consumers writing per group, and their insert interval", Unit: "short", W: 12, H: 8,
		Text: "Members of each consumer group holding partitions (imarchive_pipeline_group_writers) and the least seconds between two batches of one member (imarchive_pipeline_insert_interval_seconds: IMARCHIVE_INSERT_INTERVAL times the members).",
	}, Targets: [][2]string{
		{"max by (consumer) (imarchive_pipeline_group_writers)", "members {{consumer}}"},
		{"max by (consumer) (imarchive_pipeline_insert_interval_seconds)", "interval s {{consumer}}"},
	}}, TS{})
	b.promTimeseries(Prom{Panel: Panel{
		Title: "ClickHouse insert latency p99", Unit: "s", W: 12, H: 8, Steps: base("green").then("orange", 1).then("red", 10),
		Text: "Time for ClickHouse to acknowledge one insert, 99th percentile, per table (imarchive_pipeline_insert_latency_seconds).",
	}, Targets: [][2]string{{"histogram_quantile(0.99, sum by (le, table) (rate(imarchive_pipeline_insert_latency_seconds_bucket[$__rate_interval])))", "{{table}}"}}}, TS{})

	b.chTable(CH{
		Panel: Panel{Title: "Parts per table", Unit: "short", W: 24, H: 8,
			Text: "Active data parts of each table of the archive now, its partitions, the most parts in one partition, its rows and bytes on disk. ClickHouse merges parts in the background; it delays inserts into a partition from parts_to_delay_insert parts (1000 by default) and refuses them from parts_to_throw_insert (3000). Not bound to the time range."},
		Query: "table_parts",
	}, map[string]string{"bytes_on_disk": "bytes"}, "parts")
	b.row("What reached the archive (ClickHouse)")
	everyPlatform := map[string]string{"source": Str(""), "app": Str("")}
	b.chTimeseries(CH{
		Panel: Panel{Title: "Archived callbacks, duplicates and stale presence", Unit: "short", W: 12, H: 9,
			Text: "Callbacks in the raw archive per interval and platform, the receipts among them that repeat an earlier one (retries past ingest's dedupe window; analysts still see each event once), and presence events that arrived stale. Not filtered by the platform variable: every platform is drawn."},
		Query: "duplicates_discarded", Constants: everyPlatform,
	}, TS{Interval: "1m"})
	b.chTimeseries(CH{
		Panel: Panel{Title: "Callback delay (platform time to receipt)", Unit: "s", W: 12, H: 9, Steps: base("green").then("orange", 5).then("red", 60),
			Text: "How late callbacks arrive, by platform: median and 99th percentile of received_at minus the platform's own event time. Large values mean the platform queued or retried; negative ones a clock ahead of ours."},
		Query: "callback_delay", Constants: everyPlatform,
	}, TS{Fields: "^(time|p50_seconds|p99_seconds).*", LegendCalcs: []string{"mean", "max"}, Interval: "1m", NoMin: true})
	return b.Build()
}
