package dashboards_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/queries/querytest"
	"github.com/imarchive/imarchive/schema"
	"github.com/imarchive/imarchive/testenv"
)

// grafanaEnv is what Grafana and the ClickHouse plugin fill a panel's SQL with: the dashboard's time
// range, the panel's interval, and the variables' current values ("$__all" for All).
type grafanaEnv struct {
	name     string
	from, to time.Time
	interval time.Duration
	vars     map[string]string
}

var (
	templateVar = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::([A-Za-z]+))?\}`)
	pluginMacro = regexp.MustCompile(`\$__([A-Za-z_]+)\b`)
)

// expand turns a panel's SQL into what ClickHouse receives, in the order Grafana does it:
//  1. the frontend's template service replaces ${name:sqlstring} with the value quoted as a SQL string, or,
//     for All, with the variable's custom all value, unformatted (Grafana does not format custom all
//     values);
//  2. the plugin's backend replaces its macros (grafana/clickhouse-datasource pkg/macros):
//     $__fromTime_ms → fromUnixTimestamp64Milli(ms), $__toTime_ms likewise, $__interval_s → seconds
//     (at least 1), $__fromTime / $__toTime → toDateTime(seconds).
//
// Anything else starting with $ is an error: the rule never writes it.
func expand(sql string, d *dashboard, env grafanaEnv) (string, error) {
	var errs []string
	sql = templateVar.ReplaceAllStringFunc(sql, func(m string) string {
		sub := templateVar.FindStringSubmatch(m)
		v := findVariable(d, sub[1])
		val, ok := env.vars[sub[1]]
		switch {
		case v == nil || !ok:
			errs = append(errs, "no value for variable "+sub[1])
			return m
		case val == "$__all":
			return v.AllValue
		case sub[2] != "sqlstring":
			errs = append(errs, "format "+sub[2]+" of "+m)
			return m
		}
		return "'" + strings.ReplaceAll(val, "'", "''") + "'"
	})
	sql = pluginMacro.ReplaceAllStringFunc(sql, func(m string) string {
		switch m {
		case "$__fromTime_ms":
			return fmt.Sprintf("fromUnixTimestamp64Milli(%d)", env.from.UnixMilli())
		case "$__toTime_ms":
			return fmt.Sprintf("fromUnixTimestamp64Milli(%d)", env.to.UnixMilli())
		case "$__fromTime":
			return fmt.Sprintf("toDateTime(%d)", env.from.Unix())
		case "$__toTime":
			return fmt.Sprintf("toDateTime(%d)", env.to.Unix())
		case "$__interval_s":
			return strconv.Itoa(max(int(env.interval.Seconds()), 1))
		}
		errs = append(errs, "unknown macro "+m)
		return m
	})
	if i := strings.IndexByte(sql, '$'); i >= 0 && len(errs) == 0 {
		errs = append(errs, "unexpanded $ at "+sql[i:min(i+30, len(sql))])
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return sql, nil
}

var (
	timeType    = regexp.MustCompile(`^(DateTime|DateTime64|Date|Date32)(\(.*\))?$`)
	numericType = regexp.MustCompile(`^(U?Int(8|16|32|64|128|256)|Float(32|64)|Decimal.*)$`)
	stringType  = regexp.MustCompile(`^(String|LowCardinality\(String\))$`)
)

// TestPanelQueriesOnSeed runs every ClickHouse panel's and variable's SQL, filled in as Grafana and the
// plugin fill it, on the real engine over querytest's seed: with every variable at All (each panel
// must then show data) and with one platform, app, server and channel chosen. The result must have the
// query's declared columns and types, and the shape its panel needs: a time series a time column
// first, rows in time order (the plugin's long-to-wide conversion requires it), string labels and
// numbers; a stat, pie or bar chart numbers in the fields it shows.
func TestPanelQueriesOnSeed(t *testing.T) {
	ds := loadDashboards(t)
	targets := clickhouseTargets(t, ds)
	_, conn := testenv.Database(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := schema.Migrate(ctx, conn, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	seed := querytest.Load(t, conn)
	envs := []grafanaEnv{
		{name: "all", from: seed.T0, to: seed.T0.Add(48 * time.Hour), interval: time.Hour,
			vars: map[string]string{"platform": "$__all", "app": "$__all", "server": "$__all", "channel": "$__all"}},
		{name: "one of each", from: seed.T0, to: seed.T0.Add(48 * time.Hour), interval: 10 * time.Minute,
			vars: map[string]string{"platform": "netease_qchat", "app": querytest.AppNetease, "server": "S1", "channel": "C1"}},
	}
	ran := 0
	for _, env := range envs {
		for _, c := range targets {
			t.Run(env.name+"/"+strings.TrimSuffix(strings.TrimPrefix(c.dash.file, "json/"), ".json")+"/"+c.panel.Title, func(t *testing.T) {
				sql, err := expand(c.target.RawSQL, c.dash, env)
				if err != nil {
					t.Fatal(err)
				}
				res, err := querytest.RunErr(conn, sql, nil)
				if err != nil {
					t.Fatalf("ClickHouse: %v\n%s", err, sql)
				}
				ran++
				checkColumns(t, c, res)
				if env.name == "all" && len(res.Rows) == 0 {
					t.Errorf("no rows on the seed: the panel would show nothing")
				}
				checkShape(t, c, res)
			})
		}
		for i := range ds {
			d := &ds[i]
			for _, v := range d.Templating.List {
				sql, ok := v.Query.(string)
				if v.Type != "query" || !ok {
					continue
				}
				t.Run(env.name+"/"+d.UID+"/variable "+v.Name, func(t *testing.T) {
					exp, err := expand(sql, d, env)
					if err != nil {
						t.Fatal(err)
					}
					res, err := querytest.RunErr(conn, exp, nil)
					if err != nil {
						t.Fatalf("ClickHouse: %v", err)
					}
					ran++
					if len(res.Rows) == 0 || len(res.Columns) < 1 || len(res.Columns) > 2 {
						t.Errorf("variable query gave %d rows of %v: want values (and texts)", len(res.Rows), res.Columns)
					}
				})
			}
		}
	}
	t.Logf("%d panel and variable queries ran", ran)
}

// checkColumns: what ClickHouse returns is what the query's header declares.
func checkColumns(t *testing.T, c chTarget, res querytest.Result) {
	t.Helper()
	var got, want []string
	for i := range res.Columns {
		got = append(got, res.Columns[i]+" "+res.Types[i])
	}
	for _, col := range c.query.Columns {
		want = append(want, col.Name+" "+col.Type)
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("columns %v, queries/%s.sql declares %v", got, c.query.Name, want)
	}
}

func columnType(res querytest.Result, name string) (string, bool) {
	for i, c := range res.Columns {
		if c == name {
			return res.Types[i], true
		}
	}
	return "", false
}

// reduceField is the column a stat or pie chart shows (/^name$/).
func reduceField(c chTarget) string {
	ro, _ := c.panel.Options["reduceOptions"].(map[string]any)
	f, _ := ro["fields"].(string)
	return strings.TrimSuffix(strings.TrimPrefix(f, "/^"), "$/")
}

func checkShape(t *testing.T, c chTarget, res querytest.Result) {
	t.Helper()
	if len(res.Columns) == 0 {
		t.Fatal("no columns")
	}
	switch c.panel.Type {
	case "timeseries":
		if !timeType.MatchString(res.Types[0]) {
			t.Errorf("time series: first column %s %s is not a time", res.Columns[0], res.Types[0])
		}
		times := make([]string, len(res.Rows))
		for i, r := range res.Rows {
			times[i] = r[0]
		}
		if !sort.StringsAreSorted(times) {
			t.Errorf("time series: rows not in time order: %v", times)
		}
		numbers := 0
		for i, typ := range res.Types[1:] {
			switch {
			case numericType.MatchString(typ):
				numbers++
			case !stringType.MatchString(typ):
				t.Errorf("time series: column %s %s is neither a number nor a string label", res.Columns[i+1], typ)
			}
		}
		if numbers == 0 {
			t.Error("time series: no number to draw")
		}
	case "stat", "piechart":
		f := reduceField(c)
		typ, ok := columnType(res, f)
		if !ok || !numericType.MatchString(typ) {
			t.Errorf("%s shows field %q: %s, want a number column", c.panel.Type, f, typ)
		}
		if c.panel.Type == "piechart" {
			labels := 0
			for _, typ := range res.Types {
				if stringType.MatchString(typ) {
					labels++
				}
			}
			if labels == 0 {
				t.Error("pie chart: no string column to name the slices")
			}
		}
	case "barchart":
		x, _ := c.panel.Options["xField"].(string)
		typ, ok := columnType(res, x)
		if !ok || !(stringType.MatchString(typ) || timeType.MatchString(typ)) {
			t.Errorf("bar chart x field %q: %s, want a string or time column", x, typ)
		}
		numbers := 0
		for _, typ := range res.Types {
			if numericType.MatchString(typ) {
				numbers++
			}
		}
		if numbers == 0 {
			t.Error("bar chart: no number to draw")
		}
	case "table":
	default:
		t.Errorf("panel type %s is not checked here", c.panel.Type)
	}
}
