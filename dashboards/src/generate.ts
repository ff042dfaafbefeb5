// Writes every dashboard into ../json as Grafana dashboard JSON (the files docker compose mounts and CI
// compares with what is committed). Usage: npm ci && npm run generate
import * as fs from 'fs';
import * as path from 'path';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { community } from './dashboards/community';
import { compliance } from './dashboards/compliance';
import { ingestHealth } from './dashboards/ingest-health';
import { messaging } from './dashboards/messaging';
import { presence } from './dashboards/presence';

const out = path.resolve(__dirname, '..', 'json');

const dashboards: Record<string, () => dashboard.DashboardBuilder> = {
  'ingest-health': ingestHealth,
  messaging,
  presence,
  community,
  compliance,
};

fs.mkdirSync(out, { recursive: true });
for (const f of fs.readdirSync(out)) {
  if (f.endsWith('.json') && !(f.slice(0, -5) in dashboards)) {
    fs.unlinkSync(path.join(out, f));
  }
}
for (const [name, build] of Object.entries(dashboards)) {
  const file = path.join(out, name + '.json');
  fs.writeFileSync(file, JSON.stringify(build().build(), null, 2) + '\n');
  console.log('wrote', path.relative(process.cwd(), file));
}
