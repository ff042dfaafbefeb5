package dashboards_test

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// What ClickHouse receives when Grafana runs a panel: our model of Grafana's variable interpolation
// and of the ClickHouse plugin's macro expansion, written from their sources (read, not copied; the
// versions are the ones docker-compose.yml runs: Grafana 12.4, whose dashboards are scenes, and
// grafana-clickhouse-datasource 4.20.0). The panels' SQL must run on the real engine after exactly
// this, so a panel that works only with a kinder expansion fails the tests.
//
//  1. The plugin's frontend, src/data/CHDatasource.ts applyTemplateVariables (lines 477-515 at v4.20.0),
//     calls Grafana's template service: replace (line 830) passes the plugin's own format function
//     (format, line 837) as the default format: an array becomes 'a','b', a single value goes in raw.
//     A reference's explicit format (${app:sqlstring}) wins over that default: grafana/scenes
//     packages/scenes/src/variables/interpolation/sceneInterpolator.ts sceneInterpolator
//     (fmt = fmt2 || fmt3 || format). Names that are no variable are left as they are, so the plugin's
//     $__fromTime_ms, $__interval_s… reach its backend untouched.
//     - All, with a custom all value: MultiValueVariable.getValue returns a CustomAllValue
//       (packages/scenes/src/variables/variants/MultiValueVariable.ts), whose formatter writes the all
//       value unformatted for every format but text (All), percentencode and queryparam.
//     - All without one: the values of every option, as an array.
//     - A multi-value variable's value is an array even when one value is selected.
//     - sqlstring (interpolation/formatRegistry.ts sqlStringFormatter): each value in single quotes,
//       ' doubled and " written \", the values joined by commas. raw: the value as a string.
//  2. The plugin's backend, pkg/plugin/driver.go interpolateMacros → pkg/macros/macros.go Interpolate
//     (line 230): grafana/macropro's Interpolate with the comment styles clickHouseComments (line 226:
//     -- and /* */ comments, backslash escapes in strings) and the macros ClickHouseMacros (line 195).
//     macropro (v1.0.1, the plugin's go.mod) first blanks every comment outside string literals
//     (StripComments: a comment becomes as many spaces), then replaces each $__name whose name is
//     complete (not followed by a letter, digit or _) and is a macro, longest names first, with its
//     optional parenthesised arguments (split at top-level commas, trimmed); unknown names stay.
//     The macros the panels may use, from macros.go:
//       $__fromTime, $__toTime        toDateTime(<unix seconds>)                FromTimeFilter, ToTimeFilter
//       $__fromTime_ms, $__toTime_ms  fromUnixTimestamp64Milli(<unix ms>)       FromTimeFilterMs, ToTimeFilterMs
//       $__timeFilter(col)            col >= toDateTime(<from>) AND col <= toDateTime(<to>)   TimeFilter
//       $__timeFilter_ms(col)         the same with fromUnixTimestamp64Milli    TimeFilterMs
//       $__interval_s                 the query's interval in whole seconds, at least 1        IntervalSeconds
//     The plugin's other macros ($__timeInterval, $__dateFilter, $__timeGroup…) are refused here until
//     a panel needs one and this model learns it.
//  3. The interval: Grafana's, for the panel's width and time range, but never below the panel's
//     minimum interval (its "interval" field; @grafana/data rangeutil calculateInterval's low limit).
//     The tests choose the former; the latter comes from the panel.

// grafanaEnv is a dashboard's state when a panel runs: the time range, the interval Grafana computed
// for the panel, and each variable's selected values (allSelected alone for All).
type grafanaEnv struct {
	name     string
	from, to time.Time
	interval time.Duration
	vars     map[string][]string
}

const allSelected = "$__all"

// errNotModeled marks SQL that uses a part of Grafana or the plugin this model does not implement.
var errNotModeled = errors.New("not modeled by this test: teach grafana_test.go first")

// expand turns a panel's (or variable's) SQL into what ClickHouse receives. minInterval is the panel's
// minimum interval ("" for none).
func expand(sql string, d *dashboard, minInterval string, env grafanaEnv) (string, error) {
	out, err := interpolateVariables(sql, d, env)
	if err != nil {
		return "", err
	}
	interval := env.interval
	if minInterval != "" {
		floor, err := time.ParseDuration(minInterval)
		if err != nil {
			return "", fmt.Errorf("panel interval %q: %w", minInterval, err)
		}
		interval = max(interval, floor)
	}
	out, err = expandMacros(out, env.from, env.to, interval)
	if err != nil {
		return "", err
	}
	if i := strings.IndexByte(out, '$'); i >= 0 {
		return "", fmt.Errorf("left unexpanded, ClickHouse would get it: %q", out[i:min(i+30, len(out))])
	}
	return out, nil
}

// templateRef is scenes' VARIABLE_REGEX: $name, [[name:format]], ${name.fieldPath:format}.
var templateRef = regexp.MustCompile(`\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}`)

// grafanaMacros are names Grafana itself interpolates in the frontend (scenes' macros); a panel of ours
// has no business with them.
var grafanaMacros = map[string]bool{
	"__interval": true, "__interval_ms": true, "__from": true, "__to": true, "__timezone": true,
	"__range": true, "__range_s": true, "__range_ms": true, "__rate_interval": true, "__dashboard": true,
	"__user": true, "__org": true, "__url": true, "__all_variables": true, "__url_time_range": true,
}

func interpolateVariables(sql string, d *dashboard, env grafanaEnv) (string, error) {
	var errs []error
	out := templateRef.ReplaceAllStringFunc(sql, func(m string) string {
		s := templateRef.FindStringSubmatch(m)
		name, format, fieldPath := s[1]+s[2]+s[4], s[3]+s[6], s[5]
		if grafanaMacros[name] {
			errs = append(errs, fmt.Errorf("Grafana macro %s: %w", m, errNotModeled))
			return m
		}
		v := findVariable(d, name)
		if v == nil {
			return m // not a variable: left for the plugin (its macros) or for ClickHouse to refuse
		}
		if fieldPath != "" {
			errs = append(errs, fmt.Errorf("field path in %s: %w", m, errNotModeled))
			return m
		}
		values, ok := env.vars[name]
		if !ok || len(values) == 0 {
			errs = append(errs, fmt.Errorf("the test gives variable %s no value", name))
			return m
		}
		if len(values) > 1 && !v.Multi {
			errs = append(errs, fmt.Errorf("variable %s is single-valued: Grafana cannot select %v", name, values))
			return m
		}
		text, err := formatVariable(v, values, format)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", m, err))
			return m
		}
		return text
	})
	return out, errors.Join(errs...)
}

// formatVariable is the text a variable with these selected values puts in place of a reference with
// this format ("" when the reference names none: the plugin's format function).
func formatVariable(v *variable, values []string, format string) (string, error) {
	array := v.Multi
	if len(values) == 1 && values[0] == allSelected {
		if v.AllValue != "" { // CustomAllValue
			switch format {
			case "text":
				return "All", nil
			case "percentencode", "queryparam":
				return "", fmt.Errorf("format %s of a custom all value: %w", format, errNotModeled)
			}
			return v.AllValue, nil
		}
		q, _ := v.Query.(string)
		if v.Type != "custom" || q == "" {
			return "", fmt.Errorf("All of %s %s without a custom all value needs its options: %w", v.Type, v.Name, errNotModeled)
		}
		values, array = strings.Split(q, ","), true
	}
	switch format {
	case "": // the plugin's format
		if array {
			return "'" + strings.Join(values, "','") + "'", nil
		}
		return values[0], nil
	case "sqlstring":
		quoted := make([]string, len(values))
		for i, s := range values {
			quoted[i] = "'" + strings.NewReplacer(`'`, `''`, `"`, `\"`).Replace(s) + "'"
		}
		return strings.Join(quoted, ","), nil
	case "raw": // String(value): a JavaScript array's string is its values joined by commas
		return strings.Join(values, ","), nil
	case "text":
		return strings.Join(values, " + "), nil
	}
	return "", fmt.Errorf("format %s: %w", format, errNotModeled)
}

// pluginMacro is a macro of ClickHouseMacros: nil fn for one this model does not implement.
type pluginMacro struct {
	args int // the number of arguments it takes
	fn   func(from, to time.Time, interval time.Duration, args []string) string
}

func seconds(t time.Time) string { return fmt.Sprintf("toDateTime(%d)", t.Unix()) }
func millis(t time.Time) string  { return fmt.Sprintf("fromUnixTimestamp64Milli(%d)", t.UnixMilli()) }

var pluginMacros = map[string]pluginMacro{
	"fromTime":    {0, func(from, _ time.Time, _ time.Duration, _ []string) string { return seconds(from) }},
	"toTime":      {0, func(_, to time.Time, _ time.Duration, _ []string) string { return seconds(to) }},
	"fromTime_ms": {0, func(from, _ time.Time, _ time.Duration, _ []string) string { return millis(from) }},
	"toTime_ms":   {0, func(_, to time.Time, _ time.Duration, _ []string) string { return millis(to) }},
	"timeFilter": {1, func(from, to time.Time, _ time.Duration, a []string) string {
		return a[0] + " >= " + seconds(from) + " AND " + a[0] + " <= " + seconds(to)
	}},
	"timeFilter_ms": {1, func(from, to time.Time, _ time.Duration, a []string) string {
		return a[0] + " >= " + millis(from) + " AND " + a[0] + " <= " + millis(to)
	}},
	"interval_s": {0, func(_, _ time.Time, iv time.Duration, _ []string) string {
		return fmt.Sprint(int(math.Max(iv.Seconds(), 1)))
	}},
	// Known to the plugin (ClickHouseMacros and macropro's defaults), not modeled here.
	"dateFilter": {}, "dateTimeFilter": {}, "dt": {}, "timeInterval": {}, "timeInterval_ms": {},
	"timeFrom": {}, "timeTo": {}, "timeGroup": {}, "interval": {}, "interval_ms": {}, "table": {}, "column": {},
}

// expandMacros is the plugin's backend: comments blanked, then every known $__name expanded.
func expandMacros(sql string, from, to time.Time, interval time.Duration) (string, error) {
	sql = blankComments(sql)
	names := make([]string, 0, len(pluginMacros))
	for n := range pluginMacros {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		return len(names[i]) > len(names[j]) || len(names[i]) == len(names[j]) && names[i] < names[j]
	})
	for _, name := range names {
		token := "$__" + name
		var b strings.Builder
		rest := sql
		for {
			i := strings.Index(rest, token)
			if i < 0 {
				b.WriteString(rest)
				break
			}
			end := i + len(token)
			if end < len(rest) && isNameChar(rest[end]) { // a longer name: not this macro
				b.WriteString(rest[:end])
				rest = rest[end:]
				continue
			}
			b.WriteString(rest[:i])
			rest = rest[end:]
			var args []string
			if strings.HasPrefix(rest, "(") {
				close := closingParen(rest)
				if close < 0 {
					return "", fmt.Errorf("%s(: unbalanced parentheses", token)
				}
				args = splitArgs(rest[1:close])
				rest = rest[close+1:]
			}
			m := pluginMacros[name]
			switch {
			case m.fn == nil:
				return "", fmt.Errorf("macro %s: %w", token, errNotModeled)
			case len(args) != m.args:
				return "", fmt.Errorf("macro %s takes %d argument(s), got %d (the plugin refuses the query)", token, m.args, len(args))
			}
			for _, a := range args {
				if strings.Contains(a, "$__") {
					return "", fmt.Errorf("macro inside the arguments of %s: %w", token, errNotModeled)
				}
			}
			b.WriteString(m.fn(from, to, interval, args))
		}
		sql = b.String()
	}
	return sql, nil
}

func isNameChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// quotedEnd is the index after the string literal that starts at s[i] (a ' or "): a doubled quote or
// a backslash escape does not end it; an unterminated one runs to the end.
func quotedEnd(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// blankComments replaces every -- and /* */ comment outside string literals by as many spaces (a line
// comment ends before \n or \r; an unterminated block comment runs to the end).
func blankComments(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case s[i] == '\'' || s[i] == '"':
			j := quotedEnd(s, i)
			b.WriteString(s[i:j])
			i = j
		case strings.HasPrefix(s[i:], "--"):
			j := i
			for j < len(s) && s[j] != '\n' && s[j] != '\r' {
				j++
			}
			b.WriteString(strings.Repeat(" ", j-i))
			i = j
		case strings.HasPrefix(s[i:], "/*"):
			j := len(s)
			if k := strings.Index(s[i+2:], "*/"); k >= 0 {
				j = i + 2 + k + 2
			}
			b.WriteString(strings.Repeat(" ", j-i))
			i = j
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

// closingParen is the index of the ) closing the ( at s[0], outside string literals, or -1.
func closingParen(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'', '"':
			i = quotedEnd(s, i) - 1
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

// splitArgs splits a macro's arguments at the commas outside parentheses and string literals.
func splitArgs(raw string) []string {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	var args []string
	depth, start := 0, 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\'', '"':
			i = quotedEnd(raw, i) - 1
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				args = append(args, strings.TrimSpace(raw[start:i]))
				start = i + 1
			}
		}
	}
	return append(args, strings.TrimSpace(raw[start:]))
}

// TestExpansionModel holds the model above to what the cited sources do, case by case: each want was
// worked out by hand from them, not by running the model.
func TestExpansionModel(t *testing.T) {
	from := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // 1772409600
	to := from.Add(2*time.Hour + 500*time.Millisecond)  // 1772416800.5
	d := &dashboard{Templating: struct {
		List []variable `json:"list"`
	}{List: []variable{
		{Type: "custom", Name: "platform", Query: "netease_qchat,ilink,maxim", AllValue: "''"},
		{Type: "custom", Name: "plain", Query: "a,b,c"}, // no custom all value
		{Type: "query", Name: "app", Query: "SELECT 1", AllValue: "''"},
		{Type: "query", Name: "apps", Query: "SELECT 1", AllValue: "''", Multi: true},
	}}}
	env := grafanaEnv{from: from, to: to, interval: 90 * time.Second, vars: map[string][]string{
		"platform": {"ilink"}, "plain": {allSelected}, "app": {`O'Brien "Jr"`}, "apps": {"a1", "a2"},
	}}
	allEnv := grafanaEnv{from: from, to: to, interval: 90 * time.Second, vars: map[string][]string{
		"platform": {allSelected}, "app": {allSelected}, "apps": {allSelected}, "plain": {"b"},
	}}
	cases := []struct {
		name, sql, minInterval string
		env                    grafanaEnv
		want                   string // "" when an error is wanted
	}{
		{"fromTime and toTime: seconds", "$__fromTime, $__toTime", "", env, "toDateTime(1772409600), toDateTime(1772416800)"},
		{"the _ms forms: milliseconds", "$__fromTime_ms, $__toTime_ms", "", env, "fromUnixTimestamp64Milli(1772409600000), fromUnixTimestamp64Milli(1772416800500)"},
		{"timeFilter: both ends inclusive, argument trimmed", "WHERE $__timeFilter( occurred_at )", "", env,
			"WHERE occurred_at >= toDateTime(1772409600) AND occurred_at <= toDateTime(1772416800)"},
		{"timeFilter_ms", "$__timeFilter_ms(t)", "", env, "t >= fromUnixTimestamp64Milli(1772409600000) AND t <= fromUnixTimestamp64Milli(1772416800500)"},
		{"timeFilter wants one argument", "$__timeFilter()", "", env, ""},
		{"timeFilter wants one argument, not two", "$__timeFilter(a, b)", "", env, ""},
		{"interval_s: whole seconds", "INTERVAL $__interval_s SECOND", "", env, "INTERVAL 90 SECOND"},
		{"interval_s: at least 1", "$__interval_s", "", grafanaEnv{from: from, to: to, interval: 400 * time.Millisecond}, "1"},
		{"interval_s: truncated", "$__interval_s", "", grafanaEnv{from: from, to: to, interval: 1900 * time.Millisecond}, "1"},
		{"interval_s: the panel's minimum interval", "$__interval_s", "5m", env, "300"},
		{"interval_s: a longer interval than the minimum", "$__interval_s", "1m", env, "90"},
		{"a longer name is not the macro", "$__fromTime_msec", "", env, ""},
		{"macros in comments are blanked, not expanded", "SELECT 1 -- $__fromTime\n/* $__toTime */2", "", env,
			"SELECT 1 " + strings.Repeat(" ", len("-- $__fromTime")) + "\n" + strings.Repeat(" ", len("/* $__toTime */")) + "2"},
		{"-- inside a string is no comment", "'a--b' -- c", "", env, "'a--b'     "},
		{"a doubled quote does not end a string", "'it''s -- x' -- y", "", env, "'it''s -- x'     "},
		{"a backslash escape does not end a string", `'it\'s -- x' -- y`, "", env, `'it\'s -- x'     `},
		{"other plugin macros are not modeled", "$__timeInterval(t)", "", env, ""},
		{"sqlstring of one value: ' doubled, \" escaped", "${app:sqlstring}", "", env, `'O''Brien \"Jr\"'`},
		// Nothing escapes a backslash: a value ending in one swallows the closing quote in ClickHouse,
		// which reads \' as a quote. So the variables take no custom values (TestDashboardStructure).
		{"sqlstring leaves backslashes alone", "${app:sqlstring}", "", grafanaEnv{vars: map[string][]string{"app": {`x\`}}}, `'x\'`},
		{"sqlstring of a multi-value selection", "${apps:sqlstring}", "", env, "'a1','a2'"},
		{"sqlstring of All with a custom all value: the all value, unformatted", "${platform:sqlstring} ${app:sqlstring}", "", allEnv, "'' ''"},
		{"sqlstring of All without one: every option", "${plain:sqlstring}", "", env, "'a','b','c'"},
		{"text of All", "${platform:text}", "", allEnv, "All"},
		{"no format: the plugin's, a single value raw", "$platform ${platform} [[platform]]", "", env, "ilink ilink ilink"},
		{"no format: the plugin's, a multi-value selection quoted", "$apps", "", env, "'a1','a2'"},
		{"no format, multi-value variable, one value selected: still an array", "$apps", "", grafanaEnv{vars: map[string][]string{"apps": {"a1"}}}, "'a1'"},
		{"a single-valued variable cannot hold two values", "$platform", "", grafanaEnv{vars: map[string][]string{"platform": {"ilink", "maxim"}}}, ""},
		{"Grafana's own macros are not modeled", "$__interval", "", env, ""},
		{"an unknown variable reaches ClickHouse: refused here", "$nosuch", "", env, ""},
		{"variables first, then macros", "${platform:sqlstring} = '' AND t >= $__fromTime", "", allEnv, "'' = '' AND t >= toDateTime(1772409600)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := expand(c.sql, d, c.minInterval, c.env)
			switch {
			case c.want == "" && err == nil:
				t.Errorf("%q expanded to %q, want an error", c.sql, got)
			case c.want != "" && err != nil:
				t.Errorf("%q: %v", c.sql, err)
			case got != c.want:
				t.Errorf("%q expanded to\n%q, want\n%q", c.sql, got, c.want)
			}
		})
	}
}
