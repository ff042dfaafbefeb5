package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// Messaging: how much is said, where and by whom.
func messaging() (dashboard.Dashboard, error) {
	b := newBoard("imarchive-messaging", "Messaging",
		"Message volume by platform, app, QChat server and channel; active senders; the busiest channels and servers. Each message counts once, whatever the retries and re-deliveries.",
		"now-7d", "5m")
	b.variable(platformVariable(AllValue)).
		variable(b.appVariable()).
		variable(b.serverVariable()).
		variable(b.channelVariable())

	b.row("In the time range")
	totals := func(title, field, text string) {
		b.chStat(CH{Panel: Panel{Title: title, Text: text, Unit: "short", W: 6, H: 4}, Query: "message_totals"}, field, "")
	}
	totals("Messages", "messages", "Messages sent in the time range, each once.")
	totals("Active senders", "senders", "Distinct accounts that sent at least one message in the time range (an account is one per application).")
	totals("Active channels", "channels", "QChat channels with at least one message in the time range.")
	totals("Active groups", "groups", "iLink and Maxim groups (and iLink topics) with at least one message in the time range.")

	b.row("Volume")
	// A series per platform or app, or the 10 busiest servers and channels of the range and the rest
	// summed as (other): a stack people can read, and a bounded answer whatever the archive holds.
	// Servers and channels are drawn at 5 minutes or coarser.
	volume := func(by, title, text, interval string) {
		b.chTimeseries(CH{
			Panel: Panel{Title: title, Text: text, Unit: "short", W: 12, H: 8},
			Query: "message_volume", Constants: map[string]string{"by": Str(by), "series_limit": Int(10)},
		}, TS{Stack: true, Bars: true, Interval: interval})
	}
	volume("platform", "Messages by platform", "Messages sent per interval, stacked by platform.", "1m")
	volume("app", "Messages by app", "Messages sent per interval, stacked by application; beyond the 10 busiest of the range, the rest as (other).", "1m")
	volume("server", "Messages by server", "Messages sent per interval, stacked by QChat server, the 10 busiest of the range and the rest as (other); '(no server)' is every message outside QChat.", "5m")
	volume("channel", "Messages by channel", "Messages sent per interval, stacked by QChat channel, the 10 busiest of the range and the rest as (other); iLink and Maxim groups appear as group:ID, one-to-one messages as '(direct)'.", "5m")
	b.chTimeseries(CH{
		Panel: Panel{Title: "Messages per day by platform", Text: "Messages sent per UTC day, by platform.", Unit: "short", W: 12, H: 8},
		Query: "message_volume", Constants: map[string]string{"by": Str("platform"), "step_seconds": Int(86400), "series_limit": Int(10)},
	}, TS{Stack: true, Bars: true})
	b.chTimeseries(CH{
		Panel: Panel{Title: "Daily active senders", Text: "Distinct accounts that sent at least one message each UTC day, and the messages they sent.", Unit: "short", W: 12, H: 8},
		Query: "daily_active_senders",
	}, TS{Bars: true})

	b.row("Where")
	b.chTable(CH{
		Panel: Panel{Title: "Top channels", Text: "The 10 QChat channels with the most messages in the time range, with their senders and current name.", Unit: "short", W: 12, H: 9},
		Query: "top_channels", Constants: map[string]string{"limit": Int(10)},
	}, map[string]string{"last_message_at": "dateTimeAsIso"}, "")
	b.chTable(CH{
		Panel: Panel{Title: "Top servers", Text: "The 10 QChat servers with the most messages in the time range, with their senders, active channels and current name.", Unit: "short", W: 12, H: 9},
		Query: "top_servers", Constants: map[string]string{"limit": Int(10)},
	}, nil, "")
	b.chBar(CH{
		Panel: Panel{Title: "Monthly active senders", Text: "Distinct accounts that sent at least one message each calendar month (UTC) of the time range.", Unit: "short", W: 24, H: 7},
		Query: "monthly_active_senders",
	}, "month", false)
	return b.Build()
}
