package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// Presence: who is online, by the online-state rule.
func presence() (dashboard.Dashboard, error) {
	b := newBoard("imarchive-presence", "Presence",
		"Online state by the rule of the NetEase manual, per connection (consid; else device; else account): a copy older than its connection's stamp is kept but changes nothing, an equal time is applied, and an online connection without a renewal lapses; an account is online when any of its connections is. Online now, over time by platform, why connections end, client types, stale events.",
		"now-24h", "1m")
	b.variable(platformVariable(AllValue)).variable(b.appVariable())

	b.row("Now")
	now := func(title, field, text string, steps Steps) {
		b.chStat(CH{Panel: Panel{Title: title, Text: text, Unit: "short", Steps: steps, W: 6, H: 4}, Query: "accounts_online_now"}, field, "")
	}
	now("Online now", "online", "Accounts with at least one connection online (on NetEase, renewed within the heartbeat period plus grace). Not bound to the time range.", nil)
	now("Expired", "expired", "Accounts with no connection online and one past its renewal deadline: the platform may have lost its logout copy (the NetEase manual judges them offline by the heartbeat).", base("green").then("orange", 1))
	now("Offline", "offline", "Accounts whose every connection ended: logout, drop, kick, or closed by a reconnect (type 7).", nil)
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
		Panel: Panel{Title: "Logins, logouts and kicks", Text: "Presence events in the time range by what happened: logins, renewals, iLink online; and the reasons connections ended (logout, dropped, kicked_multi_device, kicked_by_sdk, kicked_by_server, replaced by a reconnect, iLink offline).", Unit: "short", W: 12, H: 9},
		Query: "presence_reasons",
	}, "op", false)
	b.chTimeseries(CH{
		Panel: Panel{Title: "Stale presence events", Text: "Presence events older (by platform time) than an event of the same connection that arrived before them: kept in the log, flagged stale, and without effect on the online state.", Unit: "short", Steps: base("green").then("orange", 1), W: 12, H: 9},
		Query: "stale_presence",
	}, TS{Fields: "^(time|stale_presence).*", Bars: true, Interval: "5m"})
	b.chTable(CH{
		Panel: Panel{Title: "Client types: logins and messages", Text: "Per client type: login events and the accounts behind them, messages sent and their senders, in the time range.", Unit: "short", W: 24, H: 7},
		Query: "client_type_mix",
	}, nil, "")
	return b.Build()
}
