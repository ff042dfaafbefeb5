package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// Presence: who is online, by the online-state rule.
func presence() (dashboard.Dashboard, error) {
	b := newBoard("imarchive-presence", "Presence",
		"Online state by the rule of the NetEase manual: per account the event with the greatest platform time decides, late events are kept but change nothing, and an online state without a renewal lapses. Online now, over time by platform, why accounts go offline, client types, stale events.",
		"now-24h", "1m")
	b.variable(platformVariable(AllValue)).variable(b.appVariable())

	b.row("Now")
	now := func(title, field, text string, steps Steps) {
		b.chStat(CH{Panel: Panel{Title: title, Text: text, Unit: "short", Steps: steps, W: 6, H: 4}, Query: "accounts_online_now"}, field, "")
	}
	now("Online now", "online", "Accounts whose deciding presence event is online and, on NetEase, renewed within the heartbeat period plus grace. Not bound to the time range.", nil)
	now("Expired", "expired", "Accounts last seen online whose renewal deadline passed: the platform may have lost their logout copy (the NetEase manual advises treating them as offline).", base("green").then("orange", 1))
	now("Offline", "offline", "Accounts whose deciding event is a logout, drop, kick or replacement.", nil)
	now("Accounts", "accounts", "Accounts with any presence event.", nil)

	b.row("Over time")
	b.chTimeseries(CH{
		Panel: Panel{Title: "Online accounts by platform", Text: "Accounts online at some moment of each interval, one series per platform, by the rule applied through time: online from a login or renewal until the next event or the renewal deadline.", Unit: "short", W: 16, H: 9},
		Query: "online_accounts_over_time",
	}, TS{Interval: "5m", LegendCalcs: []string{"lastNotNull", "max"}, DisplayName: "${__field.labels.source}"})
	b.chPie(CH{
		Panel: Panel{Title: "Client types (logins)", Text: "Logins in the time range by client type (AOS, IOS, PC, WEB…; 'unknown' where the platform gives none, as iLink).", Unit: "short", W: 8, H: 9},
		Query: "client_type_mix",
	}, "logins")
	b.chBar(CH{
		Panel: Panel{Title: "Logins, logouts and kicks", Text: "Presence events in the time range by what happened: logins, renewals, iLink online; and the reasons accounts went offline (logout, dropped, kicked_multi_device, kicked_by_sdk, kicked_by_server, replaced, iLink offline).", Unit: "short", W: 12, H: 9},
		Query: "presence_reasons",
	}, "op", false)
	b.chTimeseries(CH{
		Panel: Panel{Title: "Stale presence events", Text: "Presence events that arrived after a later event of the same account (by platform time): kept in the log, flagged stale, and without effect on the online state.", Unit: "short", Steps: base("green").then("orange", 1), W: 12, H: 9},
		Query: "duplicates_discarded",
	}, TS{Fields: "^(time|stale_presence).*", Bars: true, Interval: "5m"})
	b.chTable(CH{
		Panel: Panel{Title: "Client types: logins and messages", Text: "Per client type: login events and the accounts behind them, messages sent and their senders, in the time range.", Unit: "short", W: 24, H: 7},
		Query: "client_type_mix",
	}, nil, "")
	return b.Build()
}
