// Reading the named queries of ../queries: the header format of queries/doc.go, parsed as
// queries.Parse does in Go.
import * as fs from 'fs';
import * as path from 'path';

export interface Field {
  name: string;
  type: string;
  description: string;
}

export interface QueryFile {
  name: string;
  summary: string;
  params: Field[];
  columns: Field[];
  sql: string; // the whole file, header included
}

export const queriesDir = path.resolve(__dirname, '..', '..', 'queries');

const headerLine = /^--\s*(name|summary|param|column):\s*(.*)$/;
const fieldSpec = /^([A-Za-z_][A-Za-z0-9_]*)\s+(.+?)(?:\s{2,}(.*))?$/;

const cache = new Map<string, QueryFile>();

// readQuery returns queries/NAME.sql, parsed; it throws when the file or its header is wrong.
export function readQuery(name: string): QueryFile {
  const hit = cache.get(name);
  if (hit) {
    return hit;
  }
  const file = path.join(queriesDir, name + '.sql');
  const sql = fs.readFileSync(file, 'utf8');
  const q: QueryFile = { name: '', summary: '', params: [], columns: [], sql };
  for (const raw of sql.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('--')) {
      break;
    }
    const m = headerLine.exec(line);
    if (!m) {
      continue;
    }
    const val = m[2].trim();
    if (m[1] === 'name') {
      q.name = val;
    } else if (m[1] === 'summary') {
      q.summary = val;
    } else {
      const f = fieldSpec.exec(val);
      if (!f) {
        throw new Error(`${file}: bad ${m[1]} line: ${line}`);
      }
      const field = { name: f[1], type: f[2].trim(), description: (f[3] || '').trim() };
      (m[1] === 'param' ? q.params : q.columns).push(field);
    }
  }
  if (q.name !== name) {
    throw new Error(`${file}: header names it ${JSON.stringify(q.name)}`);
  }
  if (q.columns.length === 0) {
    throw new Error(`${file}: header lists no columns`);
  }
  cache.set(name, q);
  return q;
}
