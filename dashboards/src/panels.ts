// Panel and variable helpers shared by the dashboards: every ClickHouse panel is made from a queries/
// file by the rule (rule.ts), every panel gets a description, a unit and thresholds.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as barchart from '@grafana/grafana-foundation-sdk/barchart';
import * as piechart from '@grafana/grafana-foundation-sdk/piechart';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { CHQueryBuilder, clickhouse, prom, promQuery } from './datasources';
import { readQuery } from './queryfile';
import { Constants, panelSQL } from './rule';

// Layout places panels left to right on a 24-column grid, wrapping to a new line.
export class Layout {
  private x = 0;
  private y = 0;
  private lineH = 0;
  private nextId = 1;

  id(): number {
    return this.nextId++;
  }

  // row starts a full-width row header.
  row(title: string): dashboard.RowBuilder {
    this.newline();
    const r = new dashboard.RowBuilder(title).id(this.id()).gridPos({ x: 0, y: this.y, w: 24, h: 1 });
    this.y += 1;
    return r;
  }

  place(w: number, h: number): dashboard.GridPos {
    if (this.x + w > 24) {
      this.newline();
    }
    const pos = { x: this.x, y: this.y, w, h };
    this.x += w;
    this.lineH = Math.max(this.lineH, h);
    return pos;
  }

  private newline(): void {
    if (this.x > 0) {
      this.y += this.lineH;
    }
    this.x = 0;
    this.lineH = 0;
  }
}

export type Steps = Array<[string, number | null]>;

export function thresholds(steps: Steps): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps(steps.map(([color, value]) => ({ color, value })));
}

// Common threshold sets.
export const neutral: Steps = [['green', null]];
export const anyIsBad: Steps = [['green', null], ['red', 1]];

function describe(text: string, query: string, constants?: Constants): string {
  const q = readQuery(query);
  const consts = Object.entries(constants || {})
    .map(([k, v]) => `${k} = ${v}`)
    .join(', ');
  return `${text}\n\nSQL: queries/${q.name}.sql${consts ? ` (${consts})` : ''}: ${q.summary}`;
}

interface Common {
  title: string;
  text: string; // what the panel shows and how to read it
  w: number;
  h: number;
  unit: string;
  steps?: Steps;
}

interface CHCommon extends Common {
  query: string;
  constants?: Constants;
}

function legend(calcs: string[] = []): common.VizLegendOptionsBuilder {
  return new common.VizLegendOptionsBuilder()
    .showLegend(true)
    .displayMode(calcs.length ? common.LegendDisplayMode.Table : common.LegendDisplayMode.List)
    .placement(common.LegendPlacement.Bottom)
    .calcs(calcs);
}

function tooltip(): common.VizTooltipOptionsBuilder {
  return new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending);
}

export interface TimeseriesOpts {
  bars?: boolean;
  stack?: boolean;
  legendCalcs?: string[];
  min?: number | null; // axis minimum: 0 unless given; null for none
  interval?: string; // minimum interval ($__interval_s never goes below it)
  fields?: string; // regexp of the value fields to show (others are filtered out)
}

function styleTimeseries(p: timeseries.PanelBuilder, o: TimeseriesOpts): timeseries.PanelBuilder {
  p.legend(legend(o.legendCalcs ?? ['sum', 'max']))
    .tooltip(tooltip())
    .drawStyle(o.bars ? common.GraphDrawStyle.Bars : common.GraphDrawStyle.Line)
    .fillOpacity(o.bars ? 80 : 15)
    .lineWidth(1)
    .showPoints(common.VisibilityMode.Never);
  if (o.min !== null) {
    p.min(o.min ?? 0);
  }
  if (o.stack) {
    p.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  }
  if (o.interval) {
    p.interval(o.interval);
  }
  return p;
}

export function chTimeseries(l: Layout, c: CHCommon & TimeseriesOpts): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder()
    .id(l.id())
    .title(c.title)
    .description(describe(c.text, c.query, c.constants))
    .datasource(clickhouse)
    .withTarget(new CHQueryBuilder(c.query, 'timeseries', c.constants))
    .gridPos(l.place(c.w, c.h))
    .unit(c.unit)
    .thresholds(thresholds(c.steps ?? neutral))
    .maxDataPoints(500);
  if (c.fields) {
    p.withTransformation({ id: 'filterFieldsByName', options: { include: { pattern: c.fields } } });
  }
  return styleTimeseries(p, c);
}

export interface StatOpts {
  field: string; // the column shown
  calc?: string; // reduction over the rows: sum (default), lastNotNull, count…
}

export function chStat(l: Layout, c: CHCommon & StatOpts): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .id(l.id())
    .title(c.title)
    .description(describe(c.text, c.query, c.constants))
    .datasource(clickhouse)
    .withTarget(new CHQueryBuilder(c.query, 'table', c.constants))
    .gridPos(l.place(c.w, c.h))
    .unit(c.unit)
    .thresholds(thresholds(c.steps ?? neutral))
    .colorMode(common.BigValueColorMode.Value)
    .graphMode(common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().values(false).calcs([c.calc ?? 'sum']).fields(`/^${c.field}$/`));
}

export interface TableOpts {
  units?: Record<string, string>; // per column
  sortBy?: string;
}

export function chTable(l: Layout, c: CHCommon & TableOpts): table.PanelBuilder {
  const p = new table.PanelBuilder()
    .id(l.id())
    .title(c.title)
    .description(describe(c.text, c.query, c.constants))
    .datasource(clickhouse)
    .withTarget(new CHQueryBuilder(c.query, 'table', c.constants))
    .gridPos(l.place(c.w, c.h))
    .unit(c.unit)
    .thresholds(thresholds(c.steps ?? neutral))
    .cellHeight(common.TableCellHeight.Sm)
    .filterable(true);
  for (const [col, unit] of Object.entries(c.units ?? {})) {
    p.overrideByName(col, [{ id: 'unit', value: unit }]);
  }
  if (c.sortBy) {
    p.sortBy([new common.TableSortByFieldStateBuilder().displayName(c.sortBy).desc(true)]);
  }
  return p;
}

export function chBar(l: Layout, c: CHCommon & { x: string; stack?: boolean }): barchart.PanelBuilder {
  const p = new barchart.PanelBuilder()
    .id(l.id())
    .title(c.title)
    .description(describe(c.text, c.query, c.constants))
    .datasource(clickhouse)
    .withTarget(new CHQueryBuilder(c.query, 'table', c.constants))
    .gridPos(l.place(c.w, c.h))
    .unit(c.unit)
    .thresholds(thresholds(c.steps ?? neutral))
    .xField(c.x)
    .orientation(common.VizOrientation.Horizontal)
    .showValue(common.VisibilityMode.Auto)
    .legend(legend())
    .tooltip(tooltip());
  if (c.stack) {
    p.stacking(common.StackingMode.Normal);
  }
  return p;
}

export function chPie(l: Layout, c: CHCommon & { field: string }): piechart.PanelBuilder {
  return new piechart.PanelBuilder()
    .id(l.id())
    .title(c.title)
    .description(describe(c.text, c.query, c.constants))
    .datasource(clickhouse)
    .withTarget(new CHQueryBuilder(c.query, 'table', c.constants))
    .gridPos(l.place(c.w, c.h))
    .unit(c.unit)
    .thresholds(thresholds(c.steps ?? neutral))
    .pieType(piechart.PieChartType.Donut)
    .displayLabels([piechart.PieChartLabels.Percent])
    .reduceOptions(new common.ReduceDataOptionsBuilder().values(true).calcs(['lastNotNull']).fields(`/^${c.field}$/`))
    .legend(new piechart.PieChartLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Right).values([piechart.PieChartLegendValues.Value, piechart.PieChartLegendValues.Percent]))
    .tooltip(tooltip());
}

// Prometheus panels: the ingest numbers live in serve's and consume's metrics.
export interface PromCommon extends Common {
  targets: Array<[string, string]>; // [expr, legend]
}

export function promTimeseries(l: Layout, c: PromCommon & TimeseriesOpts): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder()
    .id(l.id())
    .title(c.title)
    .description(c.text)
    .datasource(prom)
    .gridPos(l.place(c.w, c.h))
    .unit(c.unit)
    .thresholds(thresholds(c.steps ?? neutral));
  c.targets.forEach(([expr, leg], i) => p.withTarget(promQuery(String.fromCharCode(65 + i), expr, leg)));
  return styleTimeseries(p, { legendCalcs: ['mean', 'max'], ...c });
}

export function promStat(l: Layout, c: PromCommon): stat.PanelBuilder {
  const p = new stat.PanelBuilder()
    .id(l.id())
    .title(c.title)
    .description(c.text)
    .datasource(prom)
    .gridPos(l.place(c.w, c.h))
    .unit(c.unit)
    .thresholds(thresholds(c.steps ?? neutral))
    .colorMode(common.BigValueColorMode.Value)
    .graphMode(common.BigValueGraphMode.Area)
    .textMode(common.BigValueTextMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().values(false).calcs(['lastNotNull']));
  c.targets.forEach(([expr, leg], i) => p.withTarget(promQuery(String.fromCharCode(65 + i), expr, leg)));
  return p;
}

// Variables.

// platformVariable lists the platforms. allValue is '' for ClickHouse panels (the rule's "all") and
// .* where it filters Prometheus labels (Ingest health).
export function platformVariable(allValue: string): dashboard.CustomVariableBuilder {
  return new dashboard.CustomVariableBuilder('platform')
    .label('Platform')
    .description('Platform the callbacks come from: netease_qchat (NetEase QChat), ilink (ET-iLink), maxim (Maxim).')
    .values('netease_qchat,ilink,maxim')
    .includeAll(true)
    .allValue(allValue)
    .current({ text: 'All', value: '$__all' });
}

// chVariable is a ClickHouse query variable made from a queries/ file by the same rule; its first
// column is the value, the second (if any) the text shown.
export function chVariable(name: string, label: string, query: string, description: string): dashboard.QueryVariableBuilder {
  const sql = panelSQL(readQuery(query));
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .description(description)
    .datasource(clickhouse)
    .query(sql)
    .definition(sql)
    .refresh(dashboard.VariableRefresh.OnDashboardLoad)
    .sort(dashboard.VariableSort.Disabled)
    .includeAll(true)
    .allValue("''")
    .current({ text: 'All', value: '$__all' });
}

export const appVariable = (): dashboard.QueryVariableBuilder =>
  chVariable('app', 'App', 'app_list', 'Platform application (NetEase appkey, iLink appkey, Maxim app_id).');
export const serverVariable = (): dashboard.QueryVariableBuilder =>
  chVariable('server', 'Server', 'server_list', 'QChat server (community).');
export const channelVariable = (): dashboard.QueryVariableBuilder =>
  chVariable('channel', 'Channel', 'channel_list', 'QChat channel.');

// newDashboard sets what every imarchive dashboard shares: the folder's tag, links to the others,
// UTC, and a refresh.
export function newDashboard(uid: string, title: string, description: string, from: string, refresh: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['imarchive'])
    .timezone('utc')
    .time({ from, to: 'now' })
    .refresh(refresh)
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .readonly()
    .link(
      new dashboard.DashboardLinkBuilder('imarchive')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(['imarchive'])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
}
