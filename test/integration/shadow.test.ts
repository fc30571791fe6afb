// Shadow evaluation of segment / churn / forecast challengers: the comparisons on known answers,
// then the whole path on a simulated store stored through the real ingestion path — a champion
// trained at T1, a challenger at T2, the challenger scored beside the champion from T2, nothing
// decided before the labels mature, a verdict with figures afterwards (alias history), and a
// shadow stopped when the aliases move under it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { trainShop } from '../../backend/src/models/train-pipeline.ts';
import { aliasHistory, currentAliases, promote } from '../../backend/src/registry/aliases.ts';
import { afterTraining } from '../../backend/src/rollout/canary.ts';
import {
  activeShadow, compareAuc, compareSegments, compareWape, DEFAULT_SHADOW_SETTINGS, etaSquared, listShadows, runShadows,
} from '../../backend/src/rollout/shadow.ts';
import type { ModelKind } from '../../backend/src/models/types.ts';
import { createPrng } from '../../backend/src/ml/prng.ts';
import { generateStore } from '../../simulator/store.ts';
import { recordSimOrders } from '../helpers/sim-data.ts';

const S = DEFAULT_SHADOW_SETTINGS;
const DAY = 86_400_000;

describe('shadow comparisons (pure)', () => {
  it('η² on a hand-computed example', () => {
    // groups {1,2,3} and {7,8,9}: grand mean 5, SS_between = 3·(2−5)² + 3·(8−5)² = 54, SS_total = 54 + 4 = 58
    expect(etaSquared([0, 0, 0, 1, 1, 1], [1, 2, 3, 7, 8, 9])).toBeCloseTo(54 / 58, 12);
    expect(etaSquared([0, 1, 0, 1], [5, 5, 5, 5])).toBeNaN(); // no variance to explain
  });

  it('AUC: a sharper challenger is promoted, a noisy one rolled back; one-outcome labels are undecided', () => {
    const rng = createPrng(3);
    const n = 800;
    const y = Uint8Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
    const good = Float64Array.from(y, (v) => v * 0.6 + rng.next() * 0.7);
    const noise = Float64Array.from(y, () => rng.next());
    expect(compareAuc(noise, good, y, S).verdict).toBe('promote');
    const bad = compareAuc(good, noise, y, S);
    expect(bad.verdict).toBe('rollback');
    expect(bad.interval.hi).toBeLessThan(0);
    expect(compareAuc(good, noise, new Uint8Array(n), S).verdict).toBe('undecided');
  });

  it('segments that separate next-period spend beat ones that do not; WAPE is lower-is-better with a relative margin', () => {
    const rng = createPrng(4);
    const n = 600;
    const truth = Int32Array.from({ length: n }, () => rng.below(3));
    const spend = Float64Array.from(truth, (g) => g * 50 + rng.next() * 20);
    const random = Int32Array.from({ length: n }, () => rng.below(3));
    expect(compareSegments(random, truth, spend, S).verdict).toBe('promote');
    expect(compareSegments(truth, random, spend, S).verdict).toBe('rollback');
    const actual = Array.from({ length: 40 }, () => Float64Array.from({ length: 4 }, () => 10 + rng.below(10)));
    const close = actual.map((a) => Float64Array.from(a, (v) => v + 1));
    const far = actual.map((a) => Float64Array.from(a, (v) => v * 2));
    const win = compareWape(actual, far, close, S);
    expect(win.verdict).toBe('promote');
    expect(win.challenger).toBeLessThan(win.champion);
    expect(win.improvement).toBeGreaterThan(0.5);
    expect(compareWape(actual, close, far, S).verdict).toBe('rollback');
  });
});

describe('shadow evaluation on a simulated store', () => {
  const keys = createKeys('shadow-test-secret-0123456789abcdef');
  const store = generateStore({ seed: 21, customers: 300, products: 40, days: 365 });
  const shop = store.shop;
  const start = Date.parse(store.orders[0]!.createdAt);
  const T1 = new Date(start + 200 * DAY).toISOString();
  const T2 = new Date(start + 230 * DAY).toISOString();
  const KINDS: ModelKind[] = ['segment', 'churn', 'forecast'];
  let dir: string;
  let db: Db;
  let artifacts: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shopml-shadow-'));
    artifacts = join(dir, 'artifacts');
    db = openDb(join(dir, 'shopml.db'));
    recordSimOrders(db, store, keys); // the whole year is stored; training sees only what came before its watermark
    const first = await trainShop({ db, shop, kinds: KINDS, seed: 1, artifactsDir: artifacts, asOf: T1 });
    expect(first.runs.every((r) => r.status === 'succeeded')).toBe(true);
    const second = await trainShop({ db, shop, kinds: KINDS, seed: 1, artifactsDir: artifacts, asOf: T2 });
    // The gate may keep a version a little worse than the champion; a person can still shadow it.
    for (const r of second.runs) {
      if (r.decision?.decision !== 'challenger') promote(db, { shop, kind: r.kind, version: r.version!, to: 'challenger', reason: 'shadow it anyway', actor: 'test' });
      r.decision = { decision: 'challenger', reason: 'test' };
    }
    const after = afterTraining(db, shop, second.runs, new Date(T2), { artifactsDir: artifacts });
    expect(after.shadows.map((s) => s.kind).sort()).toEqual([...KINDS].sort());
  }, 240_000);
  afterAll(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scores from the challenger’s watermark and waits for the labels', () => {
    for (const kind of KINDS) {
      const sh = activeShadow(db, shop, kind)!;
      expect(sh.asOf).toBe(T2);
      expect(Date.parse(sh.maturesAt)).toBeGreaterThan(Date.parse(T2));
    }
    expect(activeShadow(db, shop, 'churn')!.maturesAt).toBe(new Date(Date.parse(T2) + 90 * DAY).toISOString());
    const early = runShadows(db, new Date(Date.parse(T2) + 10 * DAY), artifacts);
    expect(early.map((r) => r.action)).toEqual(['waiting', 'waiting', 'waiting']);
    expect(KINDS.map((k) => currentAliases(db, shop, k).challenger)).not.toContain(null);
  });

  it('decides each kind once matured, with the figures in the alias history', () => {
    const before = Object.fromEntries(KINDS.map((k) => [k, currentAliases(db, shop, k)]));
    const runs = runShadows(db, new Date(Date.parse(T2) + 100 * DAY), artifacts);
    expect(runs).toHaveLength(3);
    for (const r of runs) {
      expect(['promote', 'rollback']).toContain(r.action);
      const c = r.comparison!;
      expect(c.units).toBeGreaterThanOrEqual(r.shadow.kind === 'forecast' ? 5 : S.minUnits);
      expect(Number.isFinite(c.champion) && Number.isFinite(c.challenger)).toBe(true);
      expect(c.interval.lo).toBeLessThanOrEqual(c.interval.hi);
      const k = r.shadow.kind;
      const now = currentAliases(db, shop, k);
      expect(now.challenger).toBeNull();
      expect(now.champion).toBe(r.action === 'promote' ? before[k]!.challenger : before[k]!.champion);
      const move = aliasHistory(db, shop, k).at(-1)!;
      expect(move.actor).toBe('policy');
      expect((move.figures as { metric?: string }).metric).toBe(c.metric);
      expect(listShadows(db, shop, k)[0]!.status).toBe(r.action === 'promote' ? 'promoted' : 'rolled_back');
    }
    expect(runShadows(db, new Date(Date.parse(T2) + 101 * DAY), artifacts)).toEqual([]);
  });

  it('a shadow whose aliases move meanwhile is stopped, and the move stands', async () => {
    const third = await trainShop({ db, shop, kinds: ['segment'], seed: 2, artifactsDir: artifacts, asOf: new Date(start + 260 * DAY).toISOString() });
    const v = third.runs[0]!.version!;
    if (currentAliases(db, shop, 'segment').champion === v) return; // identical bytes: nothing to shadow
    promote(db, { shop, kind: 'segment', version: v, to: 'challenger', reason: 'test', actor: 'test' });
    afterTraining(db, shop, [{ kind: 'segment', status: 'succeeded', version: v, decision: { decision: 'challenger', reason: '' } }], new Date(start + 260 * DAY), { artifactsDir: artifacts });
    expect(activeShadow(db, shop, 'segment')!.challengerVersion).toBe(v);
    promote(db, { shop, kind: 'segment', version: v, reason: 'by hand', actor: 'cli:dana' });
    const [r] = runShadows(db, new Date(start + 262 * DAY), artifacts);
    expect(r!.action).toBe('stopped');
    expect(listShadows(db, shop, 'segment')[0]!.reason).toMatch(/aliases moved/);
    expect(currentAliases(db, shop, 'segment').champion).toBe(v);
  }, 120_000);
});
