// The training pipeline end to end on a simulated store stored through the real ingestion path:
// snapshot → gate → four kinds trained in worker threads (or on the calling thread) → artifacts
// by content hash, per-customer outputs, run records; the same snapshot + seed + backend give
// the same bytes, on either thread; a corrupted snapshot is blocked; a redaction removes the
// customer's outputs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { redactCustomer } from '../../backend/src/ingest/compliance.ts';
import { trainShop } from '../../backend/src/models/train-pipeline.ts';
import { loadArtifact } from '../../backend/src/ml/artifact.ts';
import { generateStore } from '../../simulator/store.ts';
import { recordSimOrders } from '../helpers/sim-data.ts';

const keys = createKeys('pipeline-test-secret-0123456789abcdef');
const store = generateStore({ seed: 11, customers: 150, products: 40, days: 240 });
const shop = store.shop;
let dir: string;
let db: Db;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shopml-train-'));
  db = openDb(join(dir, 'db.sqlite'));
  recordSimOrders(db, store, keys);
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('training pipeline', () => {
  let first: Awaited<ReturnType<typeof trainShop>>;

  it('trains every kind in worker threads and records runs, artifacts and per-customer outputs', async () => {
    first = await trainShop({ db, shop, kinds: ['recommend', 'segment', 'churn', 'forecast'], seed: 5, artifactsDir: join(dir, 'artifacts') });
    expect(first.quality.ok).toBe(true);
    expect(first.runs.map((r) => [r.kind, r.status])).toEqual([['recommend', 'succeeded'], ['segment', 'succeeded'], ['churn', 'succeeded'], ['forecast', 'succeeded']]);
    for (const r of first.runs) {
      expect(r.version).toMatch(/^[0-9a-f]{64}$/);
      expect(existsSync(join(dir, 'artifacts', `${r.version}.json.gz`))).toBe(true);
      const a = loadArtifact<{ kind: string; backend: string }>(join(dir, 'artifacts'), r.version!);
      expect(a.kind).toBe(r.kind);
    }
    const runs = db.prepare(`SELECT kind, status, snapshot_id, tensor_backend, artifact_sha256 FROM training_runs WHERE shop = ? ORDER BY id`).all(shop) as Record<string, string>[];
    expect(runs).toHaveLength(4);
    expect(new Set(runs.map((r) => r.snapshot_id))).toEqual(new Set([first.snapshot.id]));
    const outputs = db.prepare(`SELECT kind, count(*) AS n FROM customer_outputs WHERE shop = ? GROUP BY kind ORDER BY kind`).all(shop) as { kind: string; n: number }[];
    expect(outputs.map((o) => o.kind)).toEqual(['churn', 'recommend', 'segment']);
    for (const o of outputs) expect(o.n).toBeGreaterThan(50);
  }, 180_000);

  it('gives the same snapshot and the same model bytes for the same data, seed and backend — in a worker or on this thread', async () => {
    const kinds = ['recommend', 'segment', 'churn', 'forecast'] as const;
    // On the calling thread (as in the training's own process): the same bytes as in workers.
    const progress = new Set<string>();
    const second = await trainShop({ db, shop, kinds: [...kinds], seed: 5, artifactsDir: join(dir, 'artifacts'), onThisThread: true, onProgress: (k) => progress.add(k) });
    expect(second.runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect([...progress].sort()).toEqual([...kinds].sort());
    expect(second.snapshot.id).toBe(first.snapshot.id);
    const v = (r: typeof first, k: string) => r.runs.find((x) => x.kind === k)!.version;
    for (const k of ['recommend', 'churn', 'forecast']) expect(v(second, k)).toBe(v(first, k));
    // Segment takes the previous segment artifact as an input (to keep names stable), so its
    // inputs differ between the first run (none) and the second (the first's); from then on
    // the same inputs must give the same bytes.
    const third = await trainShop({ db, shop, kinds: ['segment'], seed: 5, artifactsDir: join(dir, 'artifacts') });
    expect(v(third, 'segment')).toBe(v(second, 'segment'));
  }, 180_000);

  it('blocks a corrupted snapshot at the quality gate and trains nothing', async () => {
    const before = db.prepare('SELECT count(*) FROM customer_outputs').pluck().get();
    db.prepare(`UPDATE order_lines SET price = 5e6 WHERE shop = ? AND line_kind = 'product' AND order_id IN (SELECT order_id FROM orders WHERE shop = ? ORDER BY created_at DESC LIMIT 2)`).run(shop, shop);
    const r = await trainShop({ db, shop, kinds: ['segment', 'churn'], seed: 5, artifactsDir: join(dir, 'artifacts') });
    expect(r.quality.ok).toBe(false);
    expect(r.runs.map((x) => x.status)).toEqual(['blocked', 'blocked']);
    const log = db.prepare(`SELECT log FROM training_runs WHERE status = 'blocked' ORDER BY id DESC LIMIT 1`).pluck().get() as string;
    expect(log).toMatch(/FAIL schema_and_ranges/);
    expect(db.prepare('SELECT count(*) FROM customer_outputs').pluck().get()).toBe(before);
    expect(db.prepare(`SELECT quality_ok FROM dataset_snapshots WHERE snapshot_id = ?`).pluck().get(r.snapshot.id)).toBe(0);
  }, 60_000);

  it('customers/redact deletes the per-customer outputs of every model version', () => {
    const customer = db.prepare(`SELECT customer_id FROM customer_outputs WHERE shop = ? LIMIT 1`).pluck().get(shop) as string;
    redactCustomer(db, keys, shop, { customerId: customer, email: null, ordersToRedact: [] }, new Date().toISOString());
    expect(db.prepare('SELECT count(*) FROM customer_outputs WHERE shop = ? AND customer_id = ?').pluck().get(shop, customer)).toBe(0);
  });
});
