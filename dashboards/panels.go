package dashboards

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/barchart"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/piechart"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/imarchive/imarchive/queries"
)

// board builds one dashboard: it places panels left to right on Grafana's 24-column grid, wrapping to a
// new line before a panel that would not fit, numbers them, and gives every panel a description, a unit
// and thresholds.
type board struct {
	d                *dashboard.DashboardBuilder
	x, y, lineH, ids uint32
	errs             []error
}

// newBoard sets what every imarchive dashboard shares: the folder's tag, a menu of links to the
// others (keeping the time range and the variables), UTC, a refresh, a shared crosshair, read-only.
func newBoard(uid, title, description, from, refresh string) *board {
	d := dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{"imarchive"}).
		Timezone("utc").
		Time(from, "now").
		Refresh(refresh).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Readonly().
		Link(dashboard.NewDashboardLinkBuilder("imarchive").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"imarchive"}).
			AsDropdown(true).
			IncludeVars(true).
			KeepTime(true))
	return &board{d: d}
}

func (b *board) id() uint32 {
	b.ids++
	return b.ids
}

// row starts a full-width row header on a new line.
func (b *board) row(title string) {
	b.newline()
	b.d.WithRow(dashboard.NewRowBuilder(title).Id(b.id()).GridPos(dashboard.GridPos{X: 0, Y: b.y, W: 24, H: 1}))
	b.y++
}

func (b *board) place(w, h uint32) dashboard.GridPos {
	if b.x+w > 24 {
		b.newline()
	}
	pos := dashboard.GridPos{X: b.x, Y: b.y, W: w, H: h}
	b.x += w
	b.lineH = max(b.lineH, h)
	return pos
}

func (b *board) newline() {
	if b.x > 0 {
		b.y += b.lineH
	}
	b.x, b.lineH = 0, 0
}

func (b *board) variable(v cog.Builder[dashboard.VariableModel]) *board {
	b.d.WithVariable(v)
	return b
}

// Build returns the dashboard, or every error met on the way.
func (b *board) Build() (dashboard.Dashboard, error) {
	d, err := b.d.Build()
	if err := errors.Join(append(b.errs, err)...); err != nil {
		return dashboard.Dashboard{}, err
	}
	return d, nil
}

// Thresholds.

// Steps are a panel's absolute thresholds: the base color, then a color from each value up.
type Steps []dashboard.Threshold

func base(color string) Steps { return Steps{{Color: color}} }

// then adds a step.
func (s Steps) then(color string, from float64) Steps {
	return append(s[:len(s):len(s)], dashboard.Threshold{Color: color, Value: &from})
}

var (
	neutral  = base("green")
	anyIsBad = base("green").then("red", 1)
)

func thresholds(s Steps) *dashboard.ThresholdsConfigBuilder {
	if len(s) == 0 {
		s = neutral
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(s)
}

// Panels.

// Panel is what every panel has: what it shows and how to read it, its size on the grid, its unit and
// thresholds (neutral when none).
type Panel struct {
	Title, Text string
	W, H        uint32
	Unit        string
	Steps       Steps
}

// CH is a ClickHouse panel: the file of ../queries it runs and the constants it gives parameters the
// dashboard has no variable for (Str, Int).
type CH struct {
	Panel
	Query     string
	Constants map[string]string
}

// Prom is a Prometheus panel: its expressions, each with a legend.
type Prom struct {
	Panel
	Targets [][2]string // expression, legend
}

// TS is how a time series draws.
type TS struct {
	Bars, Stack bool
	LegendCalcs []string // sum and max unless given
	NoMin       bool     // no axis minimum (0 otherwise)
	Interval    string   // minimum interval: $__interval_s never goes below it
	Fields      string   // regexp of the fields to keep (others are filtered out)
	DisplayName string   // the series' name, e.g. ${__field.labels.source}
}

// panelBuilder is what every panel builder of the SDK has (each its own type); frame sets it alike on
// all of them.
type panelBuilder[B any] interface {
	Id(id uint32) B
	Title(title string) B
	Description(description string) B
	Datasource(datasource common.DataSourceRef) B
	GridPos(gridPos dashboard.GridPos) B
	Unit(unit string) B
	Thresholds(thresholds cog.Builder[dashboard.ThresholdsConfig]) B
	WithTarget(target cog.Builder[variants.Dataquery]) B
}

// frame numbers and places a panel, and gives it its title, description, datasource, unit and
// thresholds.
func frame[B panelBuilder[B]](b *board, pb B, p Panel, ds *common.DataSourceRef, description string) B {
	pb.Id(b.id()).Title(p.Title).Description(description).Datasource(*ds).GridPos(b.place(p.W, p.H)).Unit(p.Unit).Thresholds(thresholds(p.Steps))
	return pb
}

// chFrame is the frame of a ClickHouse panel showing a table result, with its query.
func chFrame[B panelBuilder[B]](b *board, pb B, c CH) B {
	frame(b, pb, c.Panel, ClickHouse(), b.describe(c)).WithTarget(NewCHQuery(c.Query, "table", c.Constants))
	return pb
}

// describe is a ClickHouse panel's description: the text, then the query file it runs.
func (b *board) describe(c CH) string {
	q, err := queries.Get(c.Query)
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("%s: %w", c.Title, err))
		return c.Text
	}
	var consts []string
	for _, k := range slices.Sorted(maps.Keys(c.Constants)) {
		consts = append(consts, k+" = "+c.Constants[k])
	}
	where := "queries/" + q.Name + ".sql"
	if len(consts) > 0 {
		where += " (" + strings.Join(consts, ", ") + ")"
	}
	return c.Text + "\n\nSQL: " + where + ": " + q.Summary
}

func legend(calcs []string) *common.VizLegendOptionsBuilder {
	if calcs == nil {
		calcs = []string{} // Grafana reads the list; null is not a list
	}
	mode := common.LegendDisplayModeList
	if len(calcs) > 0 {
		mode = common.LegendDisplayModeTable
	}
	return common.NewVizLegendOptionsBuilder().ShowLegend(true).DisplayMode(mode).Placement(common.LegendPlacementBottom).Calcs(calcs)
}

func tooltip() *common.VizTooltipOptionsBuilder {
	return common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending)
}

func (b *board) timeseries(p Panel, ds *common.DataSourceRef, description string, o TS, defaultCalcs []string) *timeseries.PanelBuilder {
	calcs := o.LegendCalcs
	if calcs == nil {
		calcs = defaultCalcs
	}
	t := frame(b, timeseries.NewPanelBuilder(), p, ds, description).
		Legend(legend(calcs)).
		Tooltip(tooltip()).
		LineWidth(1).
		ShowPoints(common.VisibilityModeNever)
	if o.Bars {
		t.DrawStyle(common.GraphDrawStyleBars).FillOpacity(80)
	} else {
		t.DrawStyle(common.GraphDrawStyleLine).FillOpacity(15)
	}
	if !o.NoMin {
		t.Min(0)
	}
	if o.Stack {
		t.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))
	}
	if o.Interval != "" {
		t.Interval(o.Interval)
	}
	if o.DisplayName != "" {
		t.DisplayName(o.DisplayName)
	}
	return t
}

func (b *board) chTimeseries(c CH, o TS) {
	t := b.timeseries(c.Panel, ClickHouse(), b.describe(c), o, []string{"sum", "max"}).
		WithTarget(NewCHQuery(c.Query, "timeseries", c.Constants)).
		MaxDataPoints(500)
	if o.Fields != "" {
		t.WithTransformation(dashboard.DataTransformerConfig{
			Id:      "filterFieldsByName",
			Options: map[string]any{"include": map[string]any{"pattern": o.Fields}},
		})
	}
	b.d.WithPanel(t)
}

// chStat shows one column of the query's result, reduced over its rows (calc: sum when empty).
func (b *board) chStat(c CH, field, calc string) {
	if calc == "" {
		calc = "sum"
	}
	b.d.WithPanel(chFrame(b, stat.NewPanelBuilder(), c).
		ColorMode(common.BigValueColorModeValue).
		GraphMode(common.BigValueGraphModeNone).
		TextMode(common.BigValueTextModeValue).
		Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Values(false).Calcs([]string{calc}).Fields("/^" + field + "$/")))
}

// chTable shows the query's rows; units gives columns their own unit, sortBy the column sorted
// descending.
func (b *board) chTable(c CH, units map[string]string, sortBy string) {
	t := chFrame(b, table.NewPanelBuilder(), c).
		CellHeight(common.TableCellHeightSm).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{}).CountRows(false)).
		Filterable(true)
	for _, col := range slices.Sorted(maps.Keys(units)) {
		t.OverrideByName(col, []dashboard.DynamicConfigValue{{Id: "unit", Value: units[col]}})
	}
	if sortBy != "" {
		t.SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName(sortBy).Desc(true)})
	}
	b.d.WithPanel(t)
}

// chBar draws one bar per row, named by the column x.
func (b *board) chBar(c CH, x string, stack bool) {
	p := chFrame(b, barchart.NewPanelBuilder(), c).
		XField(x).
		Orientation(common.VizOrientationHorizontal).
		ShowValue(common.VisibilityModeAuto).
		Legend(legend(nil)).
		Tooltip(tooltip())
	if stack {
		p.Stacking(common.StackingModeNormal)
	}
	b.d.WithPanel(p)
}

// chPie shows the column field of every row as a slice.
func (b *board) chPie(c CH, field string) {
	b.d.WithPanel(chFrame(b, piechart.NewPanelBuilder(), c).
		PieType(piechart.PieChartTypeDonut).
		Orientation(common.VizOrientationAuto).
		DisplayLabels([]piechart.PieChartLabels{piechart.PieChartLabelsPercent}).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Values(true).Calcs([]string{"lastNotNull"}).Fields("/^" + field + "$/")).
		Legend(piechart.NewPieChartLegendOptionsBuilder().
			ShowLegend(true).
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementRight).
			Calcs([]string{}).
			Values([]piechart.PieChartLegendValues{piechart.PieChartLegendValuesValue, piechart.PieChartLegendValuesPercent})).
		Tooltip(tooltip()))
}

// Prometheus panels: what only serve's and consume's metrics know.

func refID(i int) string { return string(rune('A' + i)) }

func (b *board) promTimeseries(p Prom, o TS) {
	t := b.timeseries(p.Panel, Prometheus(), p.Text, o, []string{"mean", "max"})
	for i, tg := range p.Targets {
		t.WithTarget(promQuery(refID(i), tg[0], tg[1]))
	}
	b.d.WithPanel(t)
}

// promStat shows the last value of each expression, with its recent course behind it.
func (b *board) promStat(p Prom) {
	s := frame(b, stat.NewPanelBuilder(), p.Panel, Prometheus(), p.Text).
		ColorMode(common.BigValueColorModeValue).
		GraphMode(common.BigValueGraphModeArea).
		TextMode(common.BigValueTextModeValue).
		Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Values(false).Calcs([]string{"lastNotNull"}))
	for i, tg := range p.Targets {
		s.WithTarget(promQuery(refID(i), tg[0], tg[1]))
	}
	b.d.WithPanel(s)
}

// Variables. They take no custom values: Grafana's sqlstring format doubles quotes but leaves
// backslashes alone, and ClickHouse reads \' inside a literal as a quote, so a typed value ending in a
// backslash would end the literal early (grafana_test.go, TestExpansionModel). The values offered come
// from the archive.

var allOption = dashboard.VariableOption{
	Text:  dashboard.StringOrArrayOfString{String: ptr("All")},
	Value: dashboard.StringOrArrayOfString{String: ptr("$__all")},
}

// platformVariable lists the platforms. allValue is AllValue for ClickHouse panels and .* where it
// filters Prometheus labels (Ingest health).
func platformVariable(allValue string) *dashboard.CustomVariableBuilder {
	return dashboard.NewCustomVariableBuilder("platform").
		Label("Platform").
		Description("Platform the callbacks come from: netease_qchat (NetEase QChat), ilink (ET-iLink), maxim (Maxim).").
		Values(dashboard.StringOrMap{String: ptr("netease_qchat,ilink,maxim")}).
		IncludeAll(true).
		AllValue(allValue).
		AllowCustomValue(false).
		Current(allOption)
}

// chVariable is a ClickHouse query variable made from a queries/ file by the rule; its first column is
// the value, the second (if any) the text shown.
func (b *board) chVariable(name, label, query, description string) *dashboard.QueryVariableBuilder {
	sql, err := querySQL(query, nil)
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("variable %s: %w", name, err))
	}
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Description(description).
		Datasource(*ClickHouse()).
		Query(dashboard.StringOrMap{String: &sql}).
		Definition(sql).
		Refresh(dashboard.VariableRefreshOnDashboardLoad).
		Sort(dashboard.VariableSortDisabled).
		IncludeAll(true).
		AllValue(AllValue).
		AllowCustomValue(false).
		Current(allOption)
}

func (b *board) appVariable() *dashboard.QueryVariableBuilder {
	return b.chVariable("app", "App", "app_list", "Platform application (NetEase appkey, iLink appkey, Maxim app_id).")
}

func (b *board) serverVariable() *dashboard.QueryVariableBuilder {
	return b.chVariable("server", "Server", "server_list", "QChat server (community).")
}

func (b *board) channelVariable() *dashboard.QueryVariableBuilder {
	return b.chVariable("channel", "Channel", "channel_list", "QChat channel.")
}
