// Shadow comparisons computed in a worker thread (jobs/thread.ts): both versions re-score a shop's
// customers or products — seconds on a large shop, never on the server's event loop.
import { openDb } from '../store/db.ts';
import { serveThread } from '../jobs/thread.ts';
import { compareShadows, getShadow, type PrecomputedComparison, type Shadow } from './shadow.ts';

export interface ShadowThreadInput {
  databasePath: string;
  busyTimeoutMs: number;
  artifactsDir: string;
  ids: number[];
  now: string;
}

await serveThread<ShadowThreadInput, Record<number, PrecomputedComparison>>((i) => {
  const db = openDb(i.databasePath, { busyTimeoutMs: i.busyTimeoutMs });
  try {
    const shadows = i.ids.map((id) => getShadow(db, id)).filter((x): x is Shadow => x !== null);
    return compareShadows(db, shadows, i.artifactsDir, new Date(i.now));
  } finally {
    db.close();
  }
});
