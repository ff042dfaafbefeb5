package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// Community: QChat servers, channels, members and roles.
func community() (dashboard.Dashboard, error) {
	b := newBoard("imarchive-community", "Community",
		"NetEase QChat communities: server, channel, member, role and permission events; joins, leaves and kicks per server; reactions (quick comments).",
		"now-7d", "5m")
	b.variable(platformVariable(AllValue)).variable(b.appVariable()).variable(b.serverVariable())

	b.row("Activity")
	b.chTimeseries(CH{
		Panel: Panel{Title: "Community events by kind", Text: "Server, channel, member, role and permission events per interval.", Unit: "short", W: 12, H: 8},
		Query: "community_activity",
	}, TS{Stack: true, Bars: true, Interval: "5m"})
	b.chTimeseries(CH{
		Panel: Panel{Title: "Joins, leaves and kicks", Text: "Accounts that joined servers (accepted an invitation, or accepted on application), left, or were kicked, per interval.", Unit: "short", W: 12, H: 8},
		Query: "membership_changes",
	}, TS{Bars: true, Interval: "5m"})

	b.row("Servers, members and roles")
	b.chTable(CH{
		Panel: Panel{Title: "Membership by server", Text: "Per QChat server in the time range: joins, leaves, kicks, invitations sent, and the net change in members.", Unit: "short", W: 12, H: 9},
		Query: "server_membership",
	}, nil, "")
	b.chTable(CH{
		Panel: Panel{Title: "What happened", Text: "Community events in the time range by kind and operation: creations, updates and deletions of servers, channels and roles, invitations, applications, joins, leaves, kicks, role membership and permission changes, with the operators and accounts involved.", Unit: "short", W: 12, H: 9},
		Query: "community_ops",
	}, nil, "")
	b.chTable(CH{
		Panel: Panel{Title: "Quick comments by type", Text: "Reactions on messages in the time range by the application's comment type: added, removed, on how many messages, by how many accounts.", Unit: "short", W: 24, H: 7},
		Query: "quick_comment_counts", Constants: map[string]string{"channel_id": Str("")},
	}, nil, "")
	return b.Build()
}
