// The monitor's report computed in a worker thread (jobs/thread.ts): it reads a whole shop's
// orders and re-scores the champions, seconds on a large shop — never on the server's event loop.
import { openDb } from '../store/db.ts';
import { serveThread } from '../jobs/thread.ts';
import { computeMonitorReport, type MonitorReport } from './monitor.ts';
import type { MonitorSettingsInput } from './settings.ts';

export interface MonitorThreadInput {
  databasePath: string;
  busyTimeoutMs: number;
  artifactsDir: string;
  shop: string;
  now: string;
  settings: MonitorSettingsInput;
}

await serveThread<MonitorThreadInput, MonitorReport>((i) => {
  const db = openDb(i.databasePath, { busyTimeoutMs: i.busyTimeoutMs });
  try {
    return computeMonitorReport(db, i.shop, i.now, { artifactsDir: i.artifactsDir, settings: i.settings, store: false, clock: () => new Date(i.now) });
  } finally {
    db.close();
  }
});
