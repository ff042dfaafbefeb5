package scale

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/queries"
)

// A case is one query to time: a named query with its parameters, or a dashboard panel or variable
// (its queries/ file with the panel's constants).
type Case struct {
	Name  string            // query name, or "dashboard / panel title"
	Query string            // the queries/ file
	Range time.Duration     // 0: the query takes no time range
	Fixed map[string]string // parameters other than from and to; "$name" is a probed value
	// Panel: the minimum interval and maximum data points, from which step_seconds follows.
	Panel       bool
	MinInterval time.Duration
	MaxPoints   int
}

// namedParams are the parameters of the named queries besides from, to and the filters (every filter
// is left empty, "all", unless given). "$…" values are probed from the generated archive (probe).
var namedParams = map[string]map[string]string{
	"account_groups_at":         {"source": "maxim", "app": "mx-a", "account": "$busy_account", "at": "$end"},
	"account_history":           {"account": "$busy_account"},
	"accounts_online_now":       {},
	"accounts_seen":             {"source": "netease_qchat", "app": "nim-a"},
	"antispam_hits":             {"step_seconds": "$step"},
	"app_list":                  {},
	"callback_delay":            {"step_seconds": "$step"},
	"chain_heads":               {},
	"channel_list":              {},
	"channel_settings":          {"app": "nim-a", "server_id": "$busy_server"},
	"client_type_mix":           {},
	"community_activity":        {"step_seconds": "$step"},
	"community_ops":             {},
	"daily_active_senders":      {},
	"direct_conversation":       {"app": "$busy_conv_app", "account_a": "$busy_conv_a", "account_b": "$busy_conv_b"},
	"duplicates_discarded":      {"step_seconds": "$step"},
	"flagged_messages":          {},
	"group_history":             {"app": "$busy_group_app", "group_id": "$busy_group"},
	"group_members_at":          {"source": "maxim", "app": "mx-a", "group_id": "$busy_group", "at": "$end"},
	"group_snapshot_history":    {"source": "maxim", "app": "mx-a", "group_id": "$busy_group"},
	"groups_seen":               {"source": "ilink", "app": "il-a"},
	"legal_holds":               {"include_released": "0"},
	"membership_changes":        {"step_seconds": "$step"},
	"message_changes":           {"step_seconds": "$step"},
	"message_edit_history":      {"app": "$edited_app", "msg_id": "$edited_msg"},
	"message_history":           {"app": "nim-a", "channel_id": "$busy_channel"},
	"message_search":            {"text": "退款成功"},
	"message_thread":            {"app": "$edited_app", "msg_id": "$edited_msg"},
	"message_totals":            {},
	"message_volume":            {"step_seconds": "$step", "by": "channel"},
	"monthly_active_senders":    {},
	"online_accounts_over_time": {"step_seconds": "$step"},
	"online_connections":        {"source": "netease_qchat", "app": "nim-a", "account": "$busy_account", "limit": "100"},
	"presence_reasons":          {},
	"quick_comment_counts":      {},
	"raw_payload":               {"event_id": "$repeated_event"},
	"recent_message_changes":    {"limit": "50"},
	"retention_runs":            {"since": "$start"},
	"roster_at":                 {"source": "maxim", "app": "mx-a", "account": "$busy_account", "at": "$end"},
	"server_list":               {},
	"server_members_at":         {"app": "nim-a", "server_id": "$busy_server", "at": "$end"},
	"server_membership":         {},
	"stale_presence":            {"step_seconds": "$step"},
	"sync_items_last_complete":  {"source": "maxim", "app": "mx-a", "item_kind": "group"},
	"sync_run_accounts":         {"source": "maxim", "app": "mx-a", "run_id": "none"},
	"sync_run_items":            {"source": "maxim", "app": "mx-a", "run_id": "none"},
	"sync_runs":                 {"source": "maxim", "app": "mx-a", "since": "$start"},
	"table_parts":               {},
	"top_channels":              {"limit": "10"},
	"top_servers":               {"limit": "10"},
	"user_state_snapshots":      {"source": "maxim", "app": "mx-a", "account": "$busy_account"},
}

// NamedCases is every named query, over each range when it takes one (from and to), else once.
func NamedCases(ranges []time.Duration) ([]Case, error) {
	all, err := queries.All()
	if err != nil {
		return nil, err
	}
	var out []Case
	for _, q := range all {
		fixed, ok := namedParams[q.Name]
		if !ok {
			return nil, fmt.Errorf("query %s has no parameters in cmd/imarchive-dev/bench/scale (namedParams): add them", q.Name)
		}
		if hasParam(q, "from") && hasParam(q, "to") {
			for _, r := range ranges {
				out = append(out, Case{Name: q.Name, Query: q.Name, Range: r, Fixed: fixed})
			}
			continue
		}
		out = append(out, Case{Name: q.Name, Query: q.Name, Fixed: fixed})
	}
	return out, nil
}

func hasParam(q queries.Query, name string) bool {
	return slices.ContainsFunc(q.Params, func(f queries.Field) bool { return f.Name == name })
}

// panelHeader is the first line of a panel's SQL (dashboards.PanelSQL): the queries/ file and its
// constants.
var panelHeader = regexp.MustCompile(`^-- imarchive: queries/([a-z0-9_]+)\.sql(?: with (.*))?$`)

// constant is one "name = value" of the header: a quoted string or a number.
var constant = regexp.MustCompile(`([a-z_]+) = ('(?:[^'\\]|\\.)*'|-?[0-9]+)`)

// PanelCases reads the generated dashboards (dashboards/json/*.json of the source tree) and returns a
// case per ClickHouse panel and range, and one per query variable.
func PanelCases(dir string, ranges []time.Duration) ([]Case, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no dashboards in %s (go generate ./dashboards writes them)", dir)
	}
	sort.Strings(files)
	var out []Case
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var d struct {
			Title  string
			Panels []struct {
				Title         string
				Type          string
				Interval      string
				MaxDataPoints int
				Targets       []struct{ RawSQL string }
			}
			Templating struct {
				List []struct {
					Name  string
					Type  string
					Query json.RawMessage
				}
			}
		}
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, p := range d.Panels {
			for _, t := range p.Targets {
				if t.RawSQL == "" {
					continue // a Prometheus panel
				}
				query, fixed, err := parsePanelSQL(t.RawSQL)
				if err != nil {
					return nil, fmt.Errorf("%s: panel %q: %w", filepath.Base(f), p.Title, err)
				}
				minInterval := time.Duration(0)
				if p.Interval != "" {
					if minInterval, err = time.ParseDuration(p.Interval); err != nil {
						return nil, fmt.Errorf("%s: panel %q: interval %q: %w", filepath.Base(f), p.Title, p.Interval, err)
					}
				}
				c := Case{Name: d.Title + " / " + p.Title, Query: query, Fixed: fixed, Panel: true, MinInterval: minInterval, MaxPoints: p.MaxDataPoints}
				q, err := queries.Get(query)
				if err != nil {
					return nil, fmt.Errorf("%s: panel %q: %w", filepath.Base(f), p.Title, err)
				}
				if !hasParam(q, "from") {
					out = append(out, c)
					continue
				}
				for _, r := range ranges {
					c.Range = r
					out = append(out, c)
				}
			}
		}
		for _, v := range d.Templating.List {
			var sql string
			if v.Type != "query" || json.Unmarshal(v.Query, &sql) != nil {
				continue
			}
			query, fixed, err := parsePanelSQL(sql)
			if err != nil {
				return nil, fmt.Errorf("%s: variable %s: %w", filepath.Base(f), v.Name, err)
			}
			out = append(out, Case{Name: d.Title + " / variable " + v.Name, Query: query, Fixed: fixed, Panel: true})
		}
	}
	return out, nil
}

// parsePanelSQL reads the header line of a panel's SQL: its queries/ file and constants.
func parsePanelSQL(sql string) (string, map[string]string, error) {
	first, _, _ := strings.Cut(sql, "\n")
	m := panelHeader.FindStringSubmatch(first)
	if m == nil {
		return "", nil, fmt.Errorf("SQL does not start with the line naming its queries/ file: %q", first)
	}
	fixed := map[string]string{}
	for _, c := range constant.FindAllStringSubmatch(m[2], -1) {
		v := c[2]
		if strings.HasPrefix(v, "'") {
			v = strings.ReplaceAll(strings.ReplaceAll(v[1:len(v)-1], `\'`, `'`), `\\`, `\`)
		}
		fixed[c[1]] = v
	}
	return m[1], fixed, nil
}

// grafanaRound is Grafana's roundInterval (packages/grafana-data/src/datetime/rangeutil.ts): the
// interval a panel gets for its range over its maximum data points.
func grafanaRound(ms int64) int64 {
	steps := []struct{ below, is int64 }{
		{10, 1}, {15, 10}, {35, 20}, {75, 50}, {150, 100}, {350, 200}, {750, 500}, {1500, 1000}, {3500, 2000},
		{7500, 5000}, {12500, 10000}, {17500, 15000}, {25000, 20000}, {45000, 30000}, {90000, 60000},
		{210000, 120000}, {450000, 300000}, {750000, 600000}, {1050000, 900000}, {1500000, 1200000},
		{2700000, 1800000}, {5400000, 3600000}, {9000000, 7200000}, {16200000, 10800000}, {32400000, 21600000},
		{86400000, 43200000}, {604800000, 86400000}, {1814400000, 604800000}, {3628800000, 2592000000},
	}
	for _, s := range steps {
		if ms < s.below {
			return s.is
		}
	}
	return 31536000000
}

// Step is the step_seconds of a case over its range: a panel's $__interval_s, else an hour for a day
// or a week and a day for longer ranges.
func (c Case) Step() int64 {
	if c.Panel {
		points := int64(c.MaxPoints)
		if points <= 0 {
			points = 500
		}
		ms := max(grafanaRound(c.Range.Milliseconds()/points), c.MinInterval.Milliseconds())
		return max(ms/1000, 1)
	}
	if c.Range > 7*24*time.Hour {
		return 86400
	}
	return 3600
}

// Params returns the case's parameters for a range ending at end, with probed values filled in.
func (c Case) Params(end time.Time, probed map[string]string) (map[string]string, error) {
	q, err := queries.Get(c.Query)
	if err != nil {
		return nil, err
	}
	p := map[string]string{}
	for _, f := range q.Params {
		if def, optional := f.Optional(); optional {
			p[f.Name] = def // every filter on All, a page of the declared size
		}
	}
	if c.Range > 0 {
		p["from"] = end.Add(-c.Range).UTC().Format(time.RFC3339)
		p["to"] = end.UTC().Format(time.RFC3339)
	}
	if hasParam(q, "step_seconds") {
		p["step_seconds"] = strconv.FormatInt(c.Step(), 10)
	}
	for k, v := range c.Fixed {
		if k == "step_seconds" && v == "$step" {
			continue // set above
		}
		if strings.HasPrefix(v, "$") {
			pv, ok := probed[v[1:]]
			if !ok {
				return nil, fmt.Errorf("%s: no probed value %s", c.Name, v)
			}
			v = pv
		}
		p[k] = v
	}
	return q.BindAt(p, end)
}

// probe picks the parameter values the cases name ("$…") from the generated archive: the busiest
// channel, group, account and one-to-one conversation, an edited message, an event delivered twice.
func probe(ctx context.Context, conn driver.Conn, start, end time.Time) (map[string]string, error) {
	out := map[string]string{
		"start": start.UTC().Format(time.RFC3339),
		"end":   end.UTC().Format(time.RFC3339),
	}
	one := func(key, sql string, cols ...string) error {
		row := conn.QueryRow(ctx, sql)
		vals := make([]string, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := row.Scan(dest...); err != nil {
			return fmt.Errorf("probe %s: %w", key, err)
		}
		for i, c := range cols {
			out[c] = vals[i]
		}
		return nil
	}
	steps := []struct {
		key, sql string
		cols     []string
	}{
		{"channel", `SELECT channel_id, server_id FROM messages_data WHERE app = 'nim-a' AND channel_id != ''
			GROUP BY channel_id, server_id ORDER BY count() DESC, channel_id LIMIT 1`, []string{"busy_channel", "busy_server"}},
		{"group", `SELECT toString(app), group_id FROM messages_data WHERE source = 'ilink' AND group_id != ''
			GROUP BY app, group_id ORDER BY count() DESC, group_id LIMIT 1`, []string{"busy_group_app", "busy_group"}},
		{"account", `SELECT sender FROM messages_data WHERE source = 'netease_qchat' GROUP BY sender ORDER BY count() DESC, sender LIMIT 1`,
			[]string{"busy_account"}},
		{"conversation", `SELECT toString(app), sender, to_account FROM messages_data WHERE to_account != '' AND source = 'ilink'
			GROUP BY app, conversation, sender, to_account ORDER BY count() DESC, conversation LIMIT 1`, []string{"busy_conv_app", "busy_conv_a", "busy_conv_b"}},
		{"edited", `SELECT toString(app), msg_id FROM message_updates_data WHERE source = 'netease_qchat' ORDER BY msg_id LIMIT 1`,
			[]string{"edited_app", "edited_msg"}},
		{"repeated", `SELECT event_id FROM raw_callbacks_data WHERE event_id != '' GROUP BY event_id HAVING count() > 1 ORDER BY event_id LIMIT 1`,
			[]string{"repeated_event"}},
	}
	for _, s := range steps {
		if err := one(s.key, s.sql, s.cols...); err != nil {
			return nil, err
		}
	}
	return out, nil
}
