// Training registers versions and runs the promotion gate: the first good version becomes the
// champion, a retrain on the same bytes changes nothing, and on another snapshot the version
// becomes the challenger or is kept (with the reason on the run) depending on the tolerance.
// Real worker threads, a simulated store stored through the real ingestion path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { trainShop } from '../../backend/src/models/train-pipeline.ts';
import { currentAliases, aliasHistory } from '../../backend/src/registry/aliases.ts';
import { getVersion, listVersions } from '../../backend/src/registry/versions.ts';
import { gatePolicy } from '../../backend/src/registry/gate.ts';
import { compareRuns, getRun } from '../../backend/src/registry/runs.ts';
import { generateStore } from '../../simulator/store.ts';
import { recordSimOrders } from '../helpers/sim-data.ts';

const keys = createKeys('registry-pipeline-secret-0123456789abcdef');
const store = generateStore({ seed: 23, customers: 150, products: 40, days: 240 });
const shop = store.shop;
let dir: string;
let db: Db;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shopml-registry-train-'));
  db = openDb(join(dir, 'db.sqlite'));
  recordSimOrders(db, store, keys);
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('training → registry → promotion gate', () => {
  const artifactsDir = () => join(dir, 'artifacts');
  const newest = () => db.prepare('SELECT max(created_at) FROM orders WHERE shop = ?').pluck().get(shop) as string;
  const daysBefore = (iso: string, d: number) => new Date(Date.parse(iso) - d * 86_400_000).toISOString();

  it('the first good version of each kind becomes champion, and the run records the decision', async () => {
    const r = await trainShop({ db, shop, kinds: ['churn'], seed: 7, artifactsDir: artifactsDir(), asOf: daysBefore(newest(), 30) });
    const run = r.runs[0]!;
    expect(run.status).toBe('succeeded');
    expect(run.decision?.decision).toBe('champion');
    expect(currentAliases(db, shop, 'churn')).toEqual({ champion: run.version, challenger: null });
    const v = getVersion(db, shop, 'churn', run.version!)!;
    expect(v).toMatchObject({ runId: run.runId, snapshotId: r.snapshot.id, codeVersion: 'features-1' });
    expect(v.tensorBackend).toBeTruthy();
    expect(v.metrics.validation_auc).toBeGreaterThan(0.5);
    const rec = getRun(db, run.runId)!;
    expect(rec.decision).toBe('champion');
    expect(rec.log).toMatch(/\npromotion gate: champion — first version \(validation_auc 0\.\d+ on its validation slice\)$/);
    expect(rec.durations.total_seconds).toBeGreaterThan(0);
    expect(aliasHistory(db, shop, 'churn')).toEqual([expect.objectContaining({ alias: 'champion', to: run.version, action: 'gate', actor: 'train:gate' })]);
  }, 120_000);

  it('the same snapshot, seed and backend give the same version: registered once, decision unchanged', async () => {
    const r = await trainShop({ db, shop, kinds: ['churn'], seed: 7, artifactsDir: artifactsDir(), asOf: daysBefore(newest(), 30) });
    expect(r.runs[0]!.decision?.decision).toBe('unchanged');
    expect(listVersions(db, { shop, kind: 'churn' })).toHaveLength(1);
    expect(aliasHistory(db, shop, 'churn')).toHaveLength(1);
  }, 120_000);

  it('on a newer snapshot: kept (not deployed) when the tolerance cannot be met, challenger when it can', async () => {
    const strict = await trainShop({ db, shop, kinds: ['churn'], seed: 7, artifactsDir: artifactsDir(), gate: gatePolicy({ churn: -1 }) });
    const kept = strict.runs[0]!;
    expect(kept.status).toBe('succeeded');
    expect(kept.decision?.decision).toBe('kept');
    expect(kept.decision?.reason).toMatch(/worse than the champion beyond the tolerance: validation_auc .* champion's figure from snapshot/);
    expect(getVersion(db, shop, 'churn', kept.version!)).not.toBeNull();
    const champion = currentAliases(db, shop, 'churn').champion;
    expect(champion).not.toBe(kept.version);
    const rec = getRun(db, kept.runId)!;
    expect(rec.decision).toBe('kept');
    expect(rec.decisionDetail).toMatchObject({ basis: 'recorded', metric: 'validation_auc', tolerance: -1 });

    // Another seed on the same newer snapshot: different bytes, and with a lenient tolerance it is the challenger.
    const lenient = await trainShop({ db, shop, kinds: ['churn'], seed: 8, artifactsDir: artifactsDir(), gate: gatePolicy({ churn: 1 }) });
    const ch = lenient.runs[0]!;
    expect(ch.version).not.toBe(kept.version);
    expect(ch.decision?.decision).toBe('challenger');
    expect(currentAliases(db, shop, 'churn')).toEqual({ champion, challenger: ch.version });

    const c = compareRuns([getRun(db, kept.runId)!, getRun(db, ch.runId)!]);
    const auc = c.metrics.find((m) => m.key === 'validation_auc')!;
    expect(auc.deltas[1]).toBeCloseTo(auc.values[1]! - auc.values[0]!, 12);
    expect(c.runs.map((r) => r.seed)).toEqual([7, 8]);
  }, 240_000);
});
