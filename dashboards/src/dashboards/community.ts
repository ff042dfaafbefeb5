// Community: QChat servers, channels, members and roles.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { Layout, appVariable, chTable, chTimeseries, newDashboard, platformVariable, serverVariable } from '../panels';

export function community(): dashboard.DashboardBuilder {
  const l = new Layout();
  const d = newDashboard(
    'imarchive-community',
    'Community',
    'NetEase QChat communities: server, channel, member, role and permission events; joins, leaves and kicks per server; reactions (quick comments).',
    'now-7d',
    '5m',
  )
    .withVariable(platformVariable("''"))
    .withVariable(appVariable())
    .withVariable(serverVariable());

  d.withRow(l.row('Activity'));
  d.withPanel(
    chTimeseries(l, {
      title: 'Community events by kind',
      text: 'Server, channel, member, role and permission events per interval.',
      query: 'community_activity',
      unit: 'short',
      stack: true,
      bars: true,
      interval: '5m',
      w: 12,
      h: 8,
    }),
  );
  d.withPanel(
    chTimeseries(l, {
      title: 'Joins, leaves and kicks',
      text: 'Accounts that joined servers (accepted an invitation, or accepted on application), left, or were kicked, per interval.',
      query: 'membership_changes',
      unit: 'short',
      bars: true,
      interval: '5m',
      w: 12,
      h: 8,
    }),
  );

  d.withRow(l.row('Servers, members and roles'));
  d.withPanel(
    chTable(l, {
      title: 'Membership by server',
      text: 'Per QChat server in the time range: joins, leaves, kicks, invitations sent, and the net change in members.',
      query: 'server_membership',
      unit: 'short',
      w: 12,
      h: 9,
    }),
  );
  d.withPanel(
    chTable(l, {
      title: 'What happened',
      text: 'Community events in the time range by kind and operation: creations, updates and deletions of servers, channels and roles, invitations, applications, joins, leaves, kicks, role membership and permission changes, with the operators and accounts involved.',
      query: 'community_ops',
      unit: 'short',
      w: 12,
      h: 9,
    }),
  );
  d.withPanel(
    chTable(l, {
      title: 'Quick comments by type',
      text: 'Reactions on messages in the time range by the application\'s comment type: added, removed, on how many messages, by how many accounts.',
      query: 'quick_comment_counts',
      constants: { channel_id: '' },
      unit: 'short',
      w: 24,
      h: 7,
    }),
  );
  return d;
}
