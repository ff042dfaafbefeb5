// Messaging: how much is said, where and by whom.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { Layout, appVariable, channelVariable, chBar, chStat, chTable, chTimeseries, newDashboard, platformVariable, serverVariable } from '../panels';

export function messaging(): dashboard.DashboardBuilder {
  const l = new Layout();
  const d = newDashboard(
    'imarchive-messaging',
    'Messaging',
    'Message volume by platform, app, QChat server and channel; active senders; the busiest channels and servers. Each message counts once, whatever the retries and re-deliveries.',
    'now-7d',
    '5m',
  )
    .withVariable(platformVariable("''"))
    .withVariable(appVariable())
    .withVariable(serverVariable())
    .withVariable(channelVariable());

  d.withRow(l.row('In the time range'));
  const totals = (title: string, field: string, text: string) =>
    d.withPanel(chStat(l, { title, text, query: 'message_totals', field, unit: 'short', w: 6, h: 4 }));
  totals('Messages', 'messages', 'Messages sent in the time range, each once.');
  totals('Active senders', 'senders', 'Distinct accounts that sent at least one message in the time range (an account is one per application).');
  totals('Active channels', 'channels', 'QChat channels with at least one message in the time range.');
  totals('Active groups', 'groups', 'iLink and Maxim groups (and iLink topics) with at least one message in the time range.');

  d.withRow(l.row('Volume'));
  const volume = (by: string, title: string, text: string) =>
    d.withPanel(
      chTimeseries(l, {
        title,
        text,
        query: 'message_volume',
        constants: { by },
        unit: 'short',
        stack: true,
        bars: true,
        interval: '1m',
        w: 12,
        h: 8,
      }),
    );
  volume('platform', 'Messages by platform', 'Messages sent per interval, stacked by platform.');
  volume('app', 'Messages by app', 'Messages sent per interval, stacked by application.');
  volume('server', 'Messages by server', "Messages sent per interval, stacked by QChat server; '(no server)' is every message outside QChat.");
  volume('channel', 'Messages by channel', "Messages sent per interval, stacked by QChat channel; iLink and Maxim groups appear as group:ID, one-to-one messages as '(direct)'.");
  d.withPanel(
    chTimeseries(l, {
      title: 'Messages per day by platform',
      text: 'Messages sent per UTC day, by platform.',
      query: 'message_volume',
      constants: { by: 'platform', step_seconds: 86400 },
      unit: 'short',
      stack: true,
      bars: true,
      w: 12,
      h: 8,
    }),
  );
  d.withPanel(
    chTimeseries(l, {
      title: 'Daily active senders',
      text: 'Distinct accounts that sent at least one message each UTC day, and the messages they sent.',
      query: 'daily_active_senders',
      unit: 'short',
      bars: true,
      w: 12,
      h: 8,
    }),
  );

  d.withRow(l.row('Where'));
  d.withPanel(
    chTable(l, {
      title: 'Top channels',
      text: 'The 10 QChat channels with the most messages in the time range, with their senders and current name.',
      query: 'top_channels',
      constants: { limit: 10 },
      unit: 'short',
      units: { last_message_at: 'dateTimeAsIso' },
      w: 12,
      h: 9,
    }),
  );
  d.withPanel(
    chTable(l, {
      title: 'Top servers',
      text: 'The 10 QChat servers with the most messages in the time range, with their senders, active channels and current name.',
      query: 'top_servers',
      constants: { limit: 10 },
      unit: 'short',
      w: 12,
      h: 9,
    }),
  );
  d.withPanel(
    chBar(l, {
      title: 'Monthly active senders',
      text: 'Distinct accounts that sent at least one message each calendar month (UTC) of the time range.',
      query: 'monthly_active_senders',
      x: 'month',
      unit: 'short',
      w: 24,
      h: 7,
    }),
  );
  return d;
}
