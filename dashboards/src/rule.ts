// The rule by which a panel's SQL is made from a queries/ file (dashboards/README.md; the Go test in
// dashboards_test.go applies the same rule and checks every panel against it):
//
//  1. The panel's SQL is the whole file, header included, after one first line naming the file and the
//     constants of the panel: "-- imarchive: queries/NAME.sql" [" with k = v, …"].
//  2. Each ClickHouse parameter {name:Type} of the file becomes, by its name and type:
//       {from:DateTime64(3, 'UTC')}   $__fromTime_ms           start of the dashboard's time range
//       {to:DateTime64(3, 'UTC')}     $__toTime_ms             end of the dashboard's time range
//       {step_seconds:UInt32}         $__interval_s            Grafana's interval for the panel, seconds
//       {source:String}               ${platform:sqlstring}    the platform variable
//       {app:String}                  ${app:sqlstring}         the app variable
//       {server_id:String}            ${server:sqlstring}      the server variable
//       {channel_id:String}           ${channel:sqlstring}     the channel variable
//     unless the panel gives the parameter a constant, which is written as a SQL literal ('text', or
//     digits for an integer type). Any other parameter without a constant is an error.
//  3. The variables' "All" value is '' (the literal, as a custom all value, which Grafana does not
//     format): the queries read an empty filter as "all".
import { QueryFile } from './queryfile';

export interface Macro {
  type: string;
  grafana: string;
}

export const macros: Record<string, Macro> = {
  from: { type: "DateTime64(3, 'UTC')", grafana: '$__fromTime_ms' },
  to: { type: "DateTime64(3, 'UTC')", grafana: '$__toTime_ms' },
  step_seconds: { type: 'UInt32', grafana: '$__interval_s' },
  source: { type: 'String', grafana: '${platform:sqlstring}' },
  app: { type: 'String', grafana: '${app:sqlstring}' },
  server_id: { type: 'String', grafana: '${server:sqlstring}' },
  channel_id: { type: 'String', grafana: '${channel:sqlstring}' },
};

// The template variables the rule refers to, by the parameter they stand for.
export const variableOf: Record<string, string> = {
  source: 'platform',
  app: 'app',
  server_id: 'server',
  channel_id: 'channel',
};

export type Constants = Record<string, string | number>;

function literal(type: string, v: string | number, where: string): string {
  if (type === 'String') {
    return "'" + String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
  }
  if (/^U?Int(8|16|32|64)$/.test(type)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || (type.startsWith('U') && v < 0)) {
      throw new Error(`${where}: constant ${v} is not a ${type}`);
    }
    return String(v);
  }
  throw new Error(`${where}: no literal form for type ${type}`);
}

// panelSQL applies the rule to a query file.
export function panelSQL(q: QueryFile, constants: Constants = {}): string {
  let sql = q.sql;
  const given = Object.keys(constants).sort();
  for (const k of given) {
    if (!q.params.some((p) => p.name === k)) {
      throw new Error(`queries/${q.name}.sql has no parameter ${k}`);
    }
  }
  for (const p of q.params) {
    const placeholder = `{${p.name}:${p.type}}`;
    let repl: string;
    if (p.name in constants) {
      repl = literal(p.type, constants[p.name], `queries/${q.name}.sql ${p.name}`);
    } else {
      const m = macros[p.name];
      if (!m) {
        throw new Error(`queries/${q.name}.sql: parameter ${p.name} has no Grafana macro or variable; give the panel a constant`);
      }
      if (m.type !== p.type) {
        throw new Error(`queries/${q.name}.sql: parameter ${p.name} is ${p.type}, the rule maps ${p.name} of type ${m.type}`);
      }
      repl = m.grafana;
    }
    sql = sql.split(placeholder).join(repl);
  }
  const left = /(?<!\$)\{[A-Za-z_][A-Za-z0-9_]*:[^}]+\}/.exec(sql);
  if (left) {
    throw new Error(`queries/${q.name}.sql: ${left[0]} is not declared in its header`);
  }
  const with_ = given.map((k) => `${k} = ${literal(q.params.find((p) => p.name === k)!.type, constants[k], k)}`);
  return `-- imarchive: queries/${q.name}.sql${with_.length ? ' with ' + with_.join(', ') : ''}\n` + sql;
}

// variablesUsed lists the template variables a query's panel needs.
export function variablesUsed(q: QueryFile, constants: Constants = {}): string[] {
  return q.params.filter((p) => !(p.name in constants) && variableOf[p.name]).map((p) => variableOf[p.name]);
}
