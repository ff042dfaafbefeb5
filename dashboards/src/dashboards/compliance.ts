// Compliance: what changed, what was flagged, what is held.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { Layout, appVariable, channelVariable, chStat, chTable, chTimeseries, newDashboard, platformVariable, serverVariable } from '../panels';

export function compliance(): dashboard.DashboardBuilder {
  const l = new Layout();
  const d = newDashboard(
    'imarchive-compliance',
    'Compliance',
    'Edits, recalls and deletes of messages, content the platforms flagged, and legal holds in force. The full history of a message or a conversation: imarchive query message_edit_history, message_history, and imarchive export.',
    'now-7d',
    '5m',
  )
    .withVariable(platformVariable("''"))
    .withVariable(appVariable())
    .withVariable(serverVariable())
    .withVariable(channelVariable());

  d.withRow(l.row('Changes and flags'));
  d.withPanel(
    chTimeseries(l, {
      title: 'Edits, recalls and deletes',
      text: 'Changes to messages per interval, by the platform time of the change.',
      query: 'message_changes',
      unit: 'short',
      bars: true,
      interval: '5m',
      w: 12,
      h: 8,
    }),
  );
  d.withPanel(
    chTimeseries(l, {
      title: 'Antispam hits',
      text: "Content the platform's content safety flagged: messages flagged as sent, and edits whose new text was flagged.",
      query: 'antispam_hits',
      unit: 'short',
      bars: true,
      interval: '5m',
      steps: [['green', null], ['orange', 1]],
      w: 12,
      h: 8,
    }),
  );
  d.withPanel(
    chTable(l, {
      title: 'Latest changes',
      text: 'The 50 latest edits, recalls and deletes in the time range, newest first, with who made them and the operator\'s note. msg_id leads to every version (imarchive query message_edit_history), event_id to the raw payload.',
      query: 'recent_message_changes',
      constants: { limit: 50 },
      unit: 'none',
      units: { occurred_at: 'dateTimeAsIso' },
      w: 24,
      h: 9,
    }),
  );
  d.withPanel(
    chTable(l, {
      title: 'Flagged messages',
      text: 'Messages sent in the time range that were recalled, deleted or flagged by content safety (as sent or in any edit), with every flag that applies and the current and original text. Filtered by the app variable only.',
      query: 'flagged_messages',
      unit: 'none',
      units: { msg_time: 'dateTimeAsIso', updated_at: 'dateTimeAsIso' },
      w: 24,
      h: 9,
    }),
  );

  d.withRow(l.row('Legal holds'));
  d.withPanel(
    chStat(l, {
      title: 'Holds in force',
      text: 'Legal holds placed and not released: their events and raw payloads are exempt from retention. Not bound to the time range or the variables.',
      query: 'legal_holds',
      constants: { include_released: 0 },
      field: 'active',
      calc: 'sum',
      unit: 'short',
      steps: [['green', null], ['blue', 1]],
      w: 6,
      h: 8,
    }),
  );
  d.withPanel(
    chTable(l, {
      title: 'Legal holds in force',
      text: 'Every hold in force: what it holds (account, channel, group or server of an app), who placed it, when and why (imarchive hold list).',
      query: 'legal_holds',
      constants: { include_released: 0 },
      unit: 'none',
      units: { placed_at: 'dateTimeAsIso' },
      w: 18,
      h: 8,
    }),
  );
  return d;
}
