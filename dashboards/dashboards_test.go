package dashboards_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imarchive/imarchive/dashboards"
	"github.com/imarchive/imarchive/queries"
)

// The dashboards the generator writes, by file name; ingest-health is Grafana's home dashboard.
var wantFiles = []string{"community", "compliance", "ingest-health", "messaging", "presence"}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type target struct {
	RefID        string `json:"refId"`
	Datasource   *dsRef `json:"datasource"`
	EditorType   string `json:"editorType"`
	QueryType    string `json:"queryType"`
	Format       *int   `json:"format"`
	RawSQL       string `json:"rawSql"`
	Expr         string `json:"expr"`
	LegendFormat string `json:"legendFormat"`
}

type panel struct {
	Type        string   `json:"type"`
	ID          int      `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Datasource  *dsRef   `json:"datasource"`
	Targets     []target `json:"targets"`
	GridPos     struct {
		X int `json:"x"`
		Y int `json:"y"`
		W int `json:"w"`
		H int `json:"h"`
	} `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit       string `json:"unit"`
			Thresholds *struct {
				Mode  string `json:"mode"`
				Steps []struct {
					Color string   `json:"color"`
					Value *float64 `json:"value"`
				} `json:"steps"`
			} `json:"thresholds"`
		} `json:"defaults"`
		Overrides []struct {
			Matcher struct {
				ID      string `json:"id"`
				Options any    `json:"options"`
			} `json:"matcher"`
		} `json:"overrides"`
	} `json:"fieldConfig"`
	Options         map[string]any `json:"options"`
	Transformations []struct {
		ID      string         `json:"id"`
		Options map[string]any `json:"options"`
	} `json:"transformations"`
	Panels   []panel `json:"panels"`
	Interval string  `json:"interval"` // the minimum interval
}

type variable struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Label       string `json:"label"`
	Description string `json:"description"`
	Query       any    `json:"query"`
	Definition  string `json:"definition"`
	Datasource  *dsRef `json:"datasource"`
	IncludeAll  bool   `json:"includeAll"`
	CustomValue bool   `json:"allowCustomValue"`
	Multi       bool   `json:"multi"`
	AllValue    string `json:"allValue"`
}

type dashboard struct {
	UID           string   `json:"uid"`
	Title         string   `json:"title"`
	Description   string   `json:"description"`
	SchemaVersion int      `json:"schemaVersion"`
	Tags          []string `json:"tags"`
	Time          struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"time"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`

	file string
}

func loadDashboards(t *testing.T) []dashboard {
	t.Helper()
	files, err := filepath.Glob("json/*.json")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var out []dashboard
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		dec := json.NewDecoder(strings.NewReader(string(b)))
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		d.file = f
		out = append(out, d)
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	if strings.Join(names, ",") != strings.Join(wantFiles, ",") {
		t.Fatalf("json/ holds %v, want %v (run go generate ./dashboards)", names, wantFiles)
	}
	return out
}

// allPanels flattens rows (collapsed rows keep their panels inside).
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// chTarget is a ClickHouse panel target resolved to its queries/ file.
type chTarget struct {
	dash      *dashboard
	panel     panel
	target    target
	query     queries.Query
	constants map[string]string
}

func (c chTarget) String() string {
	return fmt.Sprintf("%s / %q / %s", c.dash.file, c.panel.Title, c.target.RefID)
}

// clickhouseTargets resolves every ClickHouse target of every dashboard (failing the test for one that
// does not resolve).
func clickhouseTargets(t *testing.T, ds []dashboard) []chTarget {
	t.Helper()
	var out []chTarget
	for i := range ds {
		d := &ds[i]
		for _, p := range allPanels(d.Panels) {
			for _, tg := range p.Targets {
				if tg.Datasource == nil || tg.Datasource.UID != clickhouseUID {
					continue
				}
				name, consts, err := dashboards.ParseHeader(tg.RawSQL)
				if err != nil {
					t.Errorf("%s / %q: %v", d.file, p.Title, err)
					continue
				}
				q, err := queries.Get(name)
				if err != nil {
					t.Errorf("%s / %q: %v", d.file, p.Title, err)
					continue
				}
				out = append(out, chTarget{dash: d, panel: p, target: tg, query: q, constants: consts})
			}
		}
	}
	return out
}

const (
	clickhouseUID = "imarchive-clickhouse"
	prometheusUID = "imarchive-prometheus"
)

// provisionedDatasources reads provisioning/datasources/*.yaml: uid → type.
func provisionedDatasources(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("provisioning/datasources/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	uidRe := regexp.MustCompile(`(?m)^\s+uid:\s*(\S+)\s*$`)
	typeRe := regexp.MustCompile(`(?m)^\s+type:\s*(\S+)\s*$`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		uids, types := uidRe.FindAllStringSubmatch(string(b), -1), typeRe.FindAllStringSubmatch(string(b), -1)
		if len(uids) != 1 || len(types) != 1 {
			t.Fatalf("%s: want one datasource with one uid and one type", f)
		}
		out[uids[0][1]] = types[0][1]
	}
	return out
}

var (
	varRef   = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::([A-Za-z]+))?\}|\$([A-Za-z][A-Za-z0-9_]*)`)
	fieldsRe = regexp.MustCompile(`^/(.*)/$`)
)

// TestDashboardStructure checks every dashboard JSON the way Grafana would read it: unique ids and
// uids, a grid without overlaps, a description, unit and thresholds on every panel, datasources that
// are provisioned, and every ClickHouse panel's SQL made from its queries/ file by the rule, its
// variables defined, its field references resolving to the query's columns.
func TestDashboardStructure(t *testing.T) {
	ds := loadDashboards(t)
	provisioned := provisionedDatasources(t)
	if provisioned[clickhouseUID] != "grafana-clickhouse-datasource" || provisioned[prometheusUID] != "prometheus" {
		t.Fatalf("provisioned datasources %v, want %s (grafana-clickhouse-datasource) and %s (prometheus)", provisioned, clickhouseUID, prometheusUID)
	}
	uids := map[string]bool{}
	for _, d := range ds {
		if d.UID == "" || uids[d.UID] || d.Title == "" || d.Description == "" || d.SchemaVersion < 39 {
			t.Errorf("%s: uid %q (unique, set), title %q, description, schemaVersion %d (>= 39)", d.file, d.UID, d.Title, d.SchemaVersion)
		}
		uids[d.UID] = true
		if !contains(d.Tags, "imarchive") {
			t.Errorf("%s: no imarchive tag (the dashboards link to each other by it)", d.file)
		}
		ids := map[int]bool{}
		type rect struct {
			x, y, w, h int
			title      string
		}
		var rects []rect
		for _, p := range allPanels(d.Panels) {
			where := fmt.Sprintf("%s / %q", d.file, p.Title)
			if ids[p.ID] || p.ID <= 0 {
				t.Errorf("%s: id %d not unique or not set", where, p.ID)
			}
			ids[p.ID] = true
			g := p.GridPos
			if g.W < 1 || g.X < 0 || g.X+g.W > 24 || g.H < 1 || g.Y < 0 {
				t.Errorf("%s: gridPos %+v outside the 24-column grid", where, g)
			}
			for _, r := range rects {
				if g.X < r.x+r.w && r.x < g.X+g.W && g.Y < r.y+r.h && r.y < g.Y+g.H {
					t.Errorf("%s overlaps %q", where, r.title)
				}
			}
			rects = append(rects, rect{g.X, g.Y, g.W, g.H, p.Title})
			if p.Type == "row" {
				continue
			}
			if p.Title == "" || p.Description == "" {
				t.Errorf("%s: a panel needs a title and a description", where)
			}
			if p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("%s: no unit", where)
			}
			th := p.FieldConfig.Defaults.Thresholds
			if th == nil || th.Mode != "absolute" || len(th.Steps) == 0 || th.Steps[0].Value != nil {
				t.Errorf("%s: thresholds must be absolute, starting with a base step", where)
			}
			if p.Datasource == nil || provisioned[p.Datasource.UID] != p.Datasource.Type {
				t.Errorf("%s: datasource %+v is not a provisioned one", where, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: no query", where)
			}
			for _, tg := range p.Targets {
				if tg.Datasource == nil || p.Datasource == nil || *tg.Datasource != *p.Datasource {
					t.Errorf("%s: target %s datasource %+v differs from the panel's", where, tg.RefID, tg.Datasource)
				}
				if tg.Datasource != nil && tg.Datasource.UID == prometheusUID && (tg.Expr == "" || tg.LegendFormat == "") {
					t.Errorf("%s: Prometheus target %s needs an expression and a legend", where, tg.RefID)
				}
			}
		}
		checkVariables(t, d)
	}
	for _, c := range clickhouseTargets(t, ds) {
		want, err := dashboards.PanelSQL(c.query, c.constants)
		if err != nil {
			t.Errorf("%s: %v", c, err)
			continue
		}
		if want != c.target.RawSQL {
			t.Errorf("%s: SQL differs from queries/%s.sql by the rule: run go generate ./dashboards", c, c.query.Name)
		}
		isTS := c.panel.Type == "timeseries"
		if c.target.EditorType != "sql" || c.target.Format == nil || (*c.target.Format == 0) != isTS ||
			(c.target.QueryType == "timeseries") != isTS || (!isTS && (*c.target.Format != 1 || c.target.QueryType != "table")) {
			t.Errorf("%s: a %s panel wants editorType sql, format %d and queryType %s", c, c.panel.Type, map[bool]int{true: 0, false: 1}[isTS], map[bool]string{true: "timeseries", false: "table"}[isTS])
		}
		for _, m := range varRef.FindAllStringSubmatch(c.target.RawSQL, -1) {
			name := m[1] + m[3]
			if strings.HasPrefix(name, "__") {
				continue // macros
			}
			if m[1] == "" || m[2] != "sqlstring" {
				t.Errorf("%s: variable %s is not written ${name:sqlstring}", c, m[0])
			}
			if findVariable(c.dash, name) == nil {
				t.Errorf("%s: uses variable %s, which the dashboard does not define", c, name)
			}
		}
		checkFieldRefs(t, c)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func findVariable(d *dashboard, name string) *variable {
	for i := range d.Templating.List {
		if d.Templating.List[i].Name == name {
			return &d.Templating.List[i]
		}
	}
	return nil
}

// checkVariables: the platform variable lists the platforms; every query variable is made from its
// queries/ file by the rule and only uses variables defined before it; every variable is used; the All
// value is the one its users read as "all" (the empty SQL string, or .* in PromQL).
func checkVariables(t *testing.T, d dashboard) {
	t.Helper()
	used := map[string]bool{}
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			for _, m := range varRef.FindAllStringSubmatch(tg.RawSQL+tg.Expr, -1) {
				used[m[1]+m[3]] = true
			}
		}
	}
	promUsers := false
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			if tg.Datasource != nil && tg.Datasource.UID == prometheusUID && strings.Contains(tg.Expr, "$platform") {
				promUsers = true
			}
		}
	}
	for i, v := range d.Templating.List {
		where := fmt.Sprintf("%s: variable %s", d.file, v.Name)
		if v.Label == "" || v.Description == "" || !v.IncludeAll {
			t.Errorf("%s: needs a label, a description and All", where)
		}
		if v.CustomValue {
			t.Errorf("%s: takes custom values, which sqlstring does not make safe (a trailing backslash)", where)
		}
		switch v.Type {
		case "custom":
			if v.Name != "platform" || v.Query != "netease_qchat,ilink,maxim" {
				t.Errorf("%s: the only custom variable is platform, listing netease_qchat,ilink,maxim", where)
			}
			want := dashboards.AllValue
			if promUsers {
				want = ".*"
			}
			if v.AllValue != want {
				t.Errorf("%s: All value %q, want %q", where, v.AllValue, want)
			}
		case "query":
			sql, _ := v.Query.(string)
			name, consts, err := dashboards.ParseHeader(sql)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			q, err := queries.Get(name)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if want, err := dashboards.PanelSQL(q, consts); err != nil || want != sql || v.Definition != sql {
				t.Errorf("%s: query differs from queries/%s.sql by the rule (%v)", where, name, err)
			}
			if v.Datasource == nil || v.Datasource.UID != clickhouseUID || v.AllValue != dashboards.AllValue {
				t.Errorf("%s: a ClickHouse variable with All value %s", where, dashboards.AllValue)
			}
			if len(q.Columns) > 2 {
				t.Errorf("%s: queries/%s.sql returns %d columns; a variable takes the value, then the text", where, name, len(q.Columns))
			}
			for _, m := range varRef.FindAllStringSubmatch(sql, -1) {
				ref := m[1] + m[3]
				if strings.HasPrefix(ref, "__") {
					continue
				}
				used[ref] = true
				if j := indexOfVariable(d, ref); j < 0 || j >= i {
					t.Errorf("%s: uses %s, which is not defined before it", where, ref)
				}
			}
		default:
			t.Errorf("%s: unexpected type %s", where, v.Type)
		}
	}
	for _, v := range d.Templating.List {
		if !used[v.Name] {
			t.Errorf("%s: variable %s is used by no panel", d.file, v.Name)
		}
	}
}

func indexOfVariable(d dashboard, name string) int {
	for i, v := range d.Templating.List {
		if v.Name == name {
			return i
		}
	}
	return -1
}

// checkFieldRefs: every field a panel names (reduce fields, overrides, transformations, bar chart x,
// table sort) is a column of its query.
func checkFieldRefs(t *testing.T, c chTarget) {
	t.Helper()
	cols := map[string]bool{}
	var names []string
	for _, col := range c.query.Columns {
		cols[col.Name] = true
		names = append(names, col.Name)
	}
	matchAny := func(what, pattern string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			t.Errorf("%s: %s %q: %v", c, what, pattern, err)
			return
		}
		for _, n := range names {
			if re.MatchString(n) {
				return
			}
		}
		t.Errorf("%s: %s %q matches none of the columns %v", c, what, pattern, names)
	}
	if ro, ok := c.panel.Options["reduceOptions"].(map[string]any); ok {
		if f, _ := ro["fields"].(string); f != "" {
			m := fieldsRe.FindStringSubmatch(f)
			if m == nil {
				t.Errorf("%s: reduceOptions.fields %q is not a /regexp/", c, f)
			} else {
				matchAny("reduceOptions.fields", m[1])
			}
		}
	}
	for _, o := range c.panel.FieldConfig.Overrides {
		if o.Matcher.ID == "byName" {
			if s, _ := o.Matcher.Options.(string); !cols[s] {
				t.Errorf("%s: override for field %q, not a column of queries/%s.sql %v", c, s, c.query.Name, names)
			}
		}
	}
	for _, tr := range c.panel.Transformations {
		if tr.ID != "filterFieldsByName" {
			t.Errorf("%s: transformation %s is not checked here; add its field references to this test", c, tr.ID)
			continue
		}
		inc, _ := tr.Options["include"].(map[string]any)
		p, _ := inc["pattern"].(string)
		matchAny("filterFieldsByName pattern", p)
		// It must keep the time and at least one value column.
		re := regexp.MustCompile(p)
		var kept []string
		for _, n := range names {
			if re.MatchString(n) {
				kept = append(kept, n)
			}
		}
		if len(kept) < 2 || !re.MatchString(c.query.Columns[0].Name) {
			t.Errorf("%s: filterFieldsByName keeps %v: want the time column %s and a value", c, kept, c.query.Columns[0].Name)
		}
	}
	if x, ok := c.panel.Options["xField"].(string); ok && !cols[x] {
		t.Errorf("%s: bar chart x field %q is not a column %v", c, x, names)
	}
	if c.panel.Type == "barchart" {
		if _, ok := c.panel.Options["xField"]; !ok {
			t.Errorf("%s: bar chart without xField", c)
		}
	}
	if sb, ok := c.panel.Options["sortBy"].([]any); ok {
		for _, s := range sb {
			if m, _ := s.(map[string]any); m != nil && !cols[fmt.Sprint(m["displayName"])] {
				t.Errorf("%s: table sorted by %v, not a column %v", c, m["displayName"], names)
			}
		}
	}
}

// TestRuleRoundTrip: the header PanelSQL writes reads back to the query and its constants, and the
// rule refuses what it cannot map or a constant that is not a literal of its parameter's type.
func TestRuleRoundTrip(t *testing.T) {
	q, err := queries.Get("message_volume")
	if err != nil {
		t.Fatal(err)
	}
	sql, err := dashboards.PanelSQL(q, map[string]string{"by": "'app'", "step_seconds": "86400"})
	if err != nil {
		t.Fatal(err)
	}
	name, consts, err := dashboards.ParseHeader(sql)
	if err != nil || name != "message_volume" || consts["by"] != "'app'" || consts["step_seconds"] != "86400" || len(consts) != 2 {
		t.Errorf("header read back as %s %v (%v)", name, consts, err)
	}
	for _, bad := range []string{"{from:", "{by:String}", "{step_seconds:UInt32}"} {
		if strings.Contains(sql, bad) {
			t.Errorf("%s left in the panel's SQL", bad)
		}
	}
	for _, want := range []string{"$__fromTime_ms", "$__toTime_ms", "${app:sqlstring}", "${channel:sqlstring}", "'app' = 'platform'", "STEP toIntervalSecond(86400)"} {
		if !strings.Contains(sql, want) {
			t.Errorf("panel SQL lacks %s", want)
		}
	}
	if _, err := dashboards.PanelSQL(q, nil); err == nil {
		t.Error("a parameter without macro, constant or default (by) must be refused")
	}
	// A parameter with a declared default and no macro takes the default as a literal of its type.
	if !strings.Contains(sql, "WITH 10 > 0 AND") || !strings.Contains(sql, "rank <= 10,") || !strings.Contains(sql, "LIMIT 10\n") {
		t.Errorf("series_limit did not take its default, 10:\n%s", sql)
	}
	flagged, err := queries.Get("flagged_messages")
	if err != nil {
		t.Fatal(err)
	}
	fsql, err := dashboards.PanelSQL(flagged, map[string]string{"limit": "500"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fsql, "CAST('1970-01-01 00:00:00' AS DateTime64(3, 'UTC'))") {
		t.Errorf("flagged_messages' cursor left without its defaults:\n%s", fsql)
	}
	if _, err := dashboards.PanelSQL(q, map[string]string{"by": "'app'", "bogus": "1"}); err == nil {
		t.Error("a constant for a parameter the query lacks must be refused")
	}
	for _, bad := range []map[string]string{
		{"by": "app"},                          // a String constant unquoted
		{"by": "'app"},                         // not closed
		{"by": "'app'", "step_seconds": "'1'"}, // a UInt32 constant quoted
		{"by": "'app'", "step_seconds": "-1"},  // not digits
	} {
		if _, err := dashboards.PanelSQL(q, bad); err == nil {
			t.Errorf("constants %v must be refused", bad)
		}
	}
	if got := dashboards.Str(`it's a \ test`); got != `'it\'s a \\ test'` {
		t.Errorf("Str wrote %s", got)
	}
}
