package dashboards_test

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/queries/querytest"
	"github.com/imarchive/imarchive/schema"
)

var (
	timeType    = regexp.MustCompile(`^(DateTime|DateTime64|Date|Date32)(\(.*\))?$`)
	numericType = regexp.MustCompile(`^(U?Int(8|16|32|64|128|256)|Float(32|64)|Decimal.*)$`)
	stringType  = regexp.MustCompile(`^(String|LowCardinality\(String\))$`)
)

// TestPanelQueriesOnSeed runs every ClickHouse panel's and variable's SQL, filled in as Grafana and the
// plugin fill it (grafana_test.go), on the real engine over querytest's seed: with every variable at
// All (each panel must then show data), with one platform, app, server and channel chosen, and, for a
// variable a dashboard lets users select several values of, with two. The result must have the
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
	all := []string{allSelected}
	envs := []grafanaEnv{
		{name: "all", from: seed.T0, to: seed.T0.Add(48 * time.Hour), interval: time.Hour,
			vars: map[string][]string{"platform": all, "app": all, "server": all, "channel": all}},
		{name: "one of each", from: seed.T0, to: seed.T0.Add(48 * time.Hour), interval: 20 * time.Second,
			vars: map[string][]string{"platform": {"netease_qchat"}, "app": {querytest.AppNetease}, "server": {"S1"}, "channel": {"C1"}}},
		{name: "two of each multi-value variable", from: seed.T0, to: seed.T0.Add(48 * time.Hour), interval: 10 * time.Minute,
			vars: map[string][]string{"platform": {"netease_qchat", "ilink"}, "app": {querytest.AppNetease, querytest.AppILink}, "server": {"S1", "S2"}, "channel": {"C1", "C2"}}},
	}
	ran := 0
	for _, env := range envs {
		for _, c := range targets {
			envFor, ok := forDashboard(env, c.dash)
			if !ok {
				continue
			}
			t.Run(env.name+"/"+strings.TrimSuffix(strings.TrimPrefix(c.dash.file, "json/"), ".json")+"/"+c.panel.Title, func(t *testing.T) {
				sql, err := expand(c.target.RawSQL, c.dash, c.panel.Interval, envFor)
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
			envFor, ok := forDashboard(env, d)
			if !ok {
				continue
			}
			for _, v := range d.Templating.List {
				sql, ok := v.Query.(string)
				if v.Type != "query" || !ok {
					continue
				}
				t.Run(env.name+"/"+d.UID+"/variable "+v.Name, func(t *testing.T) {
					exp, err := expand(sql, d, "", envFor)
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

// forDashboard is env as a dashboard can be: a variable that is not multi-value keeps one value of
// those env gives it. The multi-value run is skipped on a dashboard without such a variable (false).
func forDashboard(env grafanaEnv, d *dashboard) (grafanaEnv, bool) {
	out := env
	out.vars = map[string][]string{}
	multi := false
	for k, vals := range env.vars {
		v := findVariable(d, k)
		if v != nil && v.Multi && len(vals) > 1 {
			multi = true
		}
		if (v == nil || !v.Multi) && len(vals) > 1 {
			vals = vals[:1]
		}
		out.vars[k] = vals
	}
	return out, multi || !strings.HasPrefix(env.name, "two of each")
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
