// Ingest health: is every callback answered, fast, and on its way to ClickHouse? The live numbers come
// from Prometheus (serve's and consume's /metrics: rejections, ack latency and consumer lag exist
// nowhere else); what reached the archive comes from ClickHouse.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { Layout, anyIsBad, chTimeseries, newDashboard, platformVariable, promStat, promTimeseries } from '../panels';

const cb = 'imarchive_ingest_callbacks_total';
const sel = (extra = '') => `{platform=~"$platform"${extra ? ',' + extra : ''}}`;
const rate = (metric: string, extra = '') => `rate(${metric}${sel(extra)}[$__rate_interval])`;

export function ingestHealth(): dashboard.DashboardBuilder {
  const l = new Layout();
  const d = newDashboard(
    'imarchive-ingest-health',
    'Ingest health',
    'Callbacks answered by serve and written by consume: rates by platform and outcome, rejections, duplicates, dead letters, acknowledgement latency and consumer lag (Prometheus), and what reached the archive (ClickHouse).',
    'now-1h',
    '30s',
  ).withVariable(platformVariable('.*'));

  d.withRow(l.row('Callbacks (serve)'));
  d.withPanel(
    promStat(l, {
      title: 'Accepted per second',
      text: 'Callbacks normalized and acknowledged by Kafka (raw and event records), per second. The platform got its success answer for each.',
      targets: [[`sum(${rate(cb, 'outcome="accepted"')})`, 'accepted']],
      unit: 'reqps',
      w: 6,
      h: 5,
    }),
  );
  d.withPanel(
    promStat(l, {
      title: 'Rejected per second',
      text: 'Callbacks refused: bad signature or checksum, stale CurTime, wrong iLink path secret or address, too large, wrong method, bad request, failed iLink handshake. Forged or misconfigured senders; anything above zero deserves a look.',
      targets: [[`sum(${rate(cb, 'outcome=~"rejected_.*|handshake_failed"')}) or vector(0)`, 'rejected']],
      unit: 'reqps',
      steps: [['green', null], ['orange', 0.01], ['red', 1]],
      w: 6,
      h: 5,
    }),
  );
  d.withPanel(
    promStat(l, {
      title: 'Kafka unavailable (503) per second',
      text: 'Callbacks answered 503 because Kafka did not acknowledge in time: the platform retries them, nothing is lost, but the archive is behind.',
      targets: [[`sum(${rate(cb, 'outcome="kafka_unavailable"')}) or vector(0)`, '503']],
      unit: 'reqps',
      steps: [['green', null], ['red', 0.001]],
      w: 6,
      h: 5,
    }),
  );
  d.withPanel(
    promStat(l, {
      title: 'Ack latency p99',
      text: "99th percentile of the time from a callback's arrival to Kafka's acknowledgement (the platform's wait). iLink gives up after 5 s, so orange from 1 s and red from 4 s (serve's ack timeout).",
      targets: [[`histogram_quantile(0.99, sum by (le) (${rate('imarchive_ingest_ack_latency_seconds_bucket')}))`, 'p99']],
      unit: 's',
      steps: [['green', null], ['orange', 1], ['red', 4]],
      w: 6,
      h: 5,
    }),
  );
  d.withPanel(
    promTimeseries(l, {
      title: 'Callbacks per second by platform and outcome',
      text: 'Every callback serve answered, by platform and outcome: accepted, dead_letter (kept raw, not normalizable), duplicate (a retry answered from the dedupe window), kafka_unavailable (503), rejected_* and the iLink handshakes.',
      targets: [[`sum by (platform, outcome) (${rate(cb)})`, '{{platform}} {{outcome}}']],
      unit: 'reqps',
      stack: true,
      w: 12,
      h: 9,
    }),
  );
  d.withPanel(
    promTimeseries(l, {
      title: 'Rejections by reason',
      text: 'Refused callbacks by platform and reason (outcome): rejected_auth (signature, checksum, MD5, unknown app), rejected_stale (CurTime out of window), rejected_forbidden (iLink path secret or address), rejected_too_large, rejected_method, rejected_bad_request, handshake_failed.',
      targets: [[`sum by (platform, outcome) (${rate(cb, 'outcome=~"rejected_.*|handshake_failed"')})`, '{{platform}} {{outcome}}']],
      unit: 'reqps',
      steps: [['green', null], ['red', 1]],
      w: 12,
      h: 9,
    }),
  );
  d.withPanel(
    promTimeseries(l, {
      title: 'Ack latency by platform',
      text: "Median and 99th percentile time from a callback's arrival to Kafka's acknowledgement of its records, by platform (imarchive_ingest_ack_latency_seconds). Thresholds: iLink waits 5 s before retrying.",
      targets: [
        [`histogram_quantile(0.5, sum by (le, platform) (${rate('imarchive_ingest_ack_latency_seconds_bucket')}))`, '{{platform}} p50'],
        [`histogram_quantile(0.99, sum by (le, platform) (${rate('imarchive_ingest_ack_latency_seconds_bucket')}))`, '{{platform}} p99'],
      ],
      unit: 's',
      steps: [['green', null], ['orange', 1], ['red', 4]],
      legendCalcs: ['mean', 'max'],
      w: 12,
      h: 9,
    }),
  );
  d.withPanel(
    promTimeseries(l, {
      title: 'Duplicates and dead letters',
      text: "Retries answered from ingest's dedupe window without producing (seen: delivered before; in_flight: arrived while the first was being produced), and callbacks dead-lettered: by ingest (authentic, not normalizable, kept raw) and by the consumer (an event it can never write).",
      targets: [
        [`sum by (platform, state) (${rate('imarchive_ingest_duplicates_total')})`, 'duplicate {{platform}} {{state}}'],
        [`sum by (platform) (${rate(cb, 'outcome="dead_letter"')})`, 'dead letter (ingest) {{platform}}'],
        ['sum by (consumer) (rate(imarchive_pipeline_dead_letters_total[$__rate_interval]))', 'dead letter (consumer {{consumer}})'],
      ],
      unit: 'reqps',
      w: 12,
      h: 9,
    }),
  );

  d.withRow(l.row('Pipeline (consume)'));
  d.withPanel(
    promTimeseries(l, {
      title: 'Consumer lag',
      text: 'Records waiting in Kafka after the last committed batch (high watermark minus next offset), per consumer group and topic: events (into the tables) and raw (into the raw archive). A growing lag means ClickHouse is down or too slow; nothing is lost meanwhile.',
      targets: [['sum by (consumer, topic) (imarchive_pipeline_consumer_lag_records)', '{{consumer}} {{topic}}']],
      unit: 'short',
      steps: [['green', null], ['orange', 10000], ['red', 100000]],
      legendCalcs: ['lastNotNull', 'max'],
      w: 12,
      h: 8,
    }),
  );
  d.withPanel(
    promTimeseries(l, {
      title: 'Rows written per second',
      text: 'Records written to ClickHouse and committed, per consumer (events, raw).',
      targets: [['sum by (consumer) (rate(imarchive_pipeline_rows_written_total[$__rate_interval]))', '{{consumer}}']],
      unit: 'rowsps',
      w: 12,
      h: 8,
    }),
  );
  d.withPanel(
    promTimeseries(l, {
      title: 'Insert retries and commit errors',
      text: 'Batch writes that failed and were retried (ClickHouse or the dead-letter topic unavailable) and offset commits that failed after a successful write (those records are re-delivered and deduplicated). Any is worth a look; retries that last mean an outage.',
      targets: [
        ['sum by (consumer) (rate(imarchive_pipeline_insert_retries_total[$__rate_interval]))', 'insert retries {{consumer}}'],
        ['sum by (consumer) (rate(imarchive_pipeline_commit_errors_total[$__rate_interval]))', 'commit errors {{consumer}}'],
      ],
      unit: 'ops',
      steps: anyIsBad,
      w: 12,
      h: 8,
    }),
  );
  d.withPanel(
    promTimeseries(l, {
      title: 'ClickHouse insert latency p99',
      text: 'Time for ClickHouse to acknowledge one insert, 99th percentile, per table (imarchive_pipeline_insert_latency_seconds).',
      targets: [['histogram_quantile(0.99, sum by (le, table) (rate(imarchive_pipeline_insert_latency_seconds_bucket[$__rate_interval])))', '{{table}}']],
      unit: 's',
      steps: [['green', null], ['orange', 1], ['red', 10]],
      w: 12,
      h: 8,
    }),
  );

  d.withRow(l.row('What reached the archive (ClickHouse)'));
  d.withPanel(
    chTimeseries(l, {
      title: 'Archived callbacks, duplicates and stale presence',
      text: "Callbacks in the raw archive per interval and platform, the receipts among them that repeat an earlier one (retries past ingest's dedupe window; analysts still see each event once), and presence events that arrived stale. Not filtered by the platform variable: every platform is drawn.",
      query: 'duplicates_discarded',
      constants: { source: '', app: '' },
      unit: 'short',
      interval: '1m',
      w: 12,
      h: 9,
    }),
  );
  d.withPanel(
    chTimeseries(l, {
      title: 'Callback delay (platform time to receipt)',
      text: "How late callbacks arrive, by platform: median and 99th percentile of received_at minus the platform's own event time. Large values mean the platform queued or retried; negative ones a clock ahead of ours.",
      query: 'callback_delay',
      constants: { source: '', app: '' },
      unit: 's',
      fields: '^(time|p50_seconds|p99_seconds).*',
      steps: [['green', null], ['orange', 5], ['red', 60]],
      legendCalcs: ['mean', 'max'],
      interval: '1m',
      min: null,
      w: 12,
      h: 9,
    }),
  );
  return d;
}
