// The provisioned datasources (provisioning/datasources/*.yaml) and the query models of their plugins.
import * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import { Constants, panelSQL } from './rule';
import { readQuery } from './queryfile';

export const clickhouse: common.DataSourceRef = { type: 'grafana-clickhouse-datasource', uid: 'imarchive-clickhouse' };
export const prom: common.DataSourceRef = { type: 'prometheus', uid: 'imarchive-prometheus' };

// The plugin version docker-compose.yml installs (GF_PLUGINS_PREINSTALL_SYNC); the query model below is
// its SQL-editor query.
export const clickhousePluginVersion = '4.20.0';

// CHQuery is a grafana-clickhouse-datasource query in its SQL editor: format 0 is a time series (the
// plugin turns long results, a time column, string label columns and numbers, into one series per
// label set; the rows must be sorted by time), 1 a table.
export interface CHQuery {
  refId?: string;
  hide?: boolean;
  datasource?: common.DataSourceRef;
  pluginVersion: string;
  editorType: 'sql';
  queryType: 'timeseries' | 'table';
  format: 0 | 1;
  rawSql: string;
  _implementsDataqueryVariant(): void;
}

export class CHQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly internal: CHQuery;

  // query names a file of ../queries; constants fix parameters the panel does not take from the
  // dashboard (rule.ts).
  constructor(query: string, kind: 'timeseries' | 'table', constants: Constants = {}) {
    this.internal = {
      refId: 'A',
      datasource: clickhouse,
      pluginVersion: clickhousePluginVersion,
      editorType: 'sql',
      queryType: kind,
      format: kind === 'timeseries' ? 0 : 1,
      rawSql: panelSQL(readQuery(query), constants),
      _implementsDataqueryVariant() {},
    };
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  build(): CHQuery {
    return this.internal;
  }
}

// promQuery is a Prometheus range query with a legend.
export function promQuery(refId: string, expr: string, legend: string): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder().refId(refId).datasource(prom).expr(expr).legendFormat(legend).range();
}
