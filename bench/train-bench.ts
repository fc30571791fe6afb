// Training time on the real data set: import once into a temp database, then trainShop with
// every kind (worker threads, as `shopml train --kind all` runs it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../backend/src/store/db.ts';
import { createKeys } from '../backend/src/keys.ts';
import { importFile } from '../backend/src/ingest/import.ts';
import { MODEL_KINDS, trainShop } from '../backend/src/models/train-pipeline.ts';

export async function benchTrain(file: string) {
  const dir = mkdtempSync(join(tmpdir(), 'shopml-train-bench-'));
  const db = openDb(join(dir, 'db.sqlite'));
  try {
    const shop = 'bench.myshopify.com';
    await importFile({ db, keys: createKeys('bench-secret-bench-secret-bench-secret'), shop, file, format: 'online-retail' });
    const t0 = performance.now();
    const r = await trainShop({ db, shop, kinds: MODEL_KINDS, seed: 42, artifactsDir: join(dir, 'artifacts') });
    const totalSeconds = (performance.now() - t0) / 1000;
    const kindSeconds = r.runs.reduce((a, x) => a + x.seconds, 0);
    if (r.runs.some((x) => x.status !== 'succeeded')) throw new Error(`training failed: ${JSON.stringify(r.runs)}`);
    return { backend: r.tensorBackend ?? '?', totalSeconds, prepareSeconds: totalSeconds - kindSeconds, kinds: r.runs.map((x) => ({ kind: x.kind, seconds: x.seconds })) };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
