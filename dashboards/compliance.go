package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// Compliance: what changed, what was flagged, what is held.
func compliance() (dashboard.Dashboard, error) {
	b := newBoard("imarchive-compliance", "Compliance",
		"Edits, recalls and deletes of messages, content the platforms flagged, and legal holds in force. The full history of a message or a conversation: imarchive query message_edit_history, message_history, and imarchive export.",
		"now-7d", "5m")
	b.variable(platformVariable(AllValue)).
		variable(b.appVariable()).
		variable(b.serverVariable()).
		variable(b.channelVariable())

	b.row("Changes and flags")
	b.chTimeseries(CH{
		Panel: Panel{Title: "Edits, recalls and deletes", Text: "Changes to messages per interval, by the platform time of the change.", Unit: "short", W: 12, H: 8},
		Query: "message_changes",
	}, TS{Bars: true, Interval: "5m"})
	b.chTimeseries(CH{
		Panel: Panel{Title: "Antispam hits", Text: "Content the platform's content safety flagged: messages flagged as sent, and edits whose new text was flagged.", Unit: "short", Steps: base("green").then("orange", 1), W: 12, H: 8},
		Query: "antispam_hits",
	}, TS{Bars: true, Interval: "5m"})
	b.chTable(CH{
		Panel: Panel{Title: "Latest changes", Text: "The 50 latest edits, recalls and deletes in the time range, newest first, with who made them and the operator's note. msg_id leads to every version (imarchive query message_edit_history), event_id to the raw payload.", Unit: "none", W: 24, H: 9},
		Query: "recent_message_changes", Constants: map[string]string{"limit": Int(50)},
	}, map[string]string{"occurred_at": "dateTimeAsIso"}, "")
	b.chTable(CH{
		Panel: Panel{Title: "Flagged messages", Text: "The first 500 messages sent in the time range that were recalled, deleted or flagged by content safety (as sent or in any edit), oldest first, with every flag that applies and the current and original text; narrow the range to read on (imarchive query flagged_messages pages through all). Filtered by the app variable only.", Unit: "none", W: 24, H: 9},
		Query: "flagged_messages", Constants: map[string]string{"limit": Int(500)},
	}, map[string]string{"msg_time": "dateTimeAsIso", "updated_at": "dateTimeAsIso"}, "")

	b.row("Legal holds")
	holds := map[string]string{"include_released": Int(0)}
	b.chStat(CH{
		Panel: Panel{Title: "Holds in force", Text: "Legal holds placed and not released: their events and raw payloads are exempt from retention. Not bound to the time range or the variables.", Unit: "short", Steps: base("green").then("blue", 1), W: 6, H: 8},
		Query: "legal_holds", Constants: holds,
	}, "active", "sum")
	b.chTable(CH{
		Panel: Panel{Title: "Legal holds in force", Text: "Every hold in force: what it holds (account, channel, group or server of an app), who placed it, when and why (imarchive hold list).", Unit: "none", W: 18, H: 8},
		Query: "legal_holds", Constants: holds,
	}, map[string]string{"placed_at": "dateTimeAsIso"}, "")
	return b.Build()
}
