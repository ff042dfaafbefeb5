// Presence: who is online, by the online-state rule.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { Layout, appVariable, chBar, chPie, chStat, chTable, chTimeseries, newDashboard, platformVariable } from '../panels';

export function presence(): dashboard.DashboardBuilder {
  const l = new Layout();
  const d = newDashboard(
    'imarchive-presence',
    'Presence',
    'Online state by the rule of the NetEase manual: per account the event with the greatest platform time decides, late events are kept but change nothing, and an online state without a renewal lapses. Online now, over time, why accounts go offline, client types, stale events.',
    'now-24h',
    '1m',
  )
    .withVariable(platformVariable("''"))
    .withVariable(appVariable());

  d.withRow(l.row('Now'));
  const now = (title: string, field: string, text: string, steps?: Array<[string, number | null]>) =>
    d.withPanel(chStat(l, { title, text, query: 'accounts_online_now', field, unit: 'short', steps, w: 6, h: 4 }));
  now('Online now', 'online', 'Accounts whose deciding presence event is online and, on NetEase, renewed within the heartbeat period plus grace. Not bound to the time range.');
  now('Expired', 'expired', 'Accounts last seen online whose renewal deadline passed: the platform may have lost their logout copy (the NetEase manual advises treating them as offline).', [['green', null], ['orange', 1]]);
  now('Offline', 'offline', 'Accounts whose deciding event is a logout, drop, kick or replacement.');
  now('Accounts', 'accounts', 'Accounts with any presence event.');

  d.withRow(l.row('Over time'));
  d.withPanel(
    chTimeseries(l, {
      title: 'Online accounts',
      text: 'Accounts online at some moment of each interval, by platform, by the rule applied through time: online from a login or renewal until the next event or the renewal deadline.',
      query: 'online_accounts_over_time',
      unit: 'short',
      interval: '5m',
      legendCalcs: ['lastNotNull', 'max'],
      w: 16,
      h: 9,
    }),
  );
  d.withPanel(
    chPie(l, {
      title: 'Client types (logins)',
      text: "Logins in the time range by client type (AOS, IOS, PC, WEB…; 'unknown' where the platform gives none, as iLink).",
      query: 'client_type_mix',
      field: 'logins',
      unit: 'short',
      w: 8,
      h: 9,
    }),
  );
  d.withPanel(
    chBar(l, {
      title: 'Logins, logouts and kicks',
      text: 'Presence events in the time range by what happened: logins, renewals, iLink online; and the reasons accounts went offline (logout, dropped, kicked_multi_device, kicked_by_sdk, kicked_by_server, replaced, iLink offline).',
      query: 'presence_reasons',
      x: 'op',
      unit: 'short',
      w: 12,
      h: 9,
    }),
  );
  d.withPanel(
    chTimeseries(l, {
      title: 'Stale presence events',
      text: 'Presence events that arrived after a later event of the same account (by platform time): kept in the log, flagged stale, and without effect on the online state.',
      query: 'duplicates_discarded',
      fields: '^(time|stale_presence).*',
      unit: 'short',
      bars: true,
      interval: '5m',
      steps: [['green', null], ['orange', 1]],
      w: 12,
      h: 9,
    }),
  );
  d.withPanel(
    chTable(l, {
      title: 'Client types: logins and messages',
      text: 'Per client type: login events and the accounts behind them, messages sent and their senders, in the time range.',
      query: 'client_type_mix',
      unit: 'short',
      w: 24,
      h: 7,
    }),
  );
  return d;
}
