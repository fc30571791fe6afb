// The model registry on a real SQLite file: content-addressed versions (same bytes = one
// version), the append-only alias history and "which version did alias X serve at time T",
// rollback effective on the next read (also from another connection, as the CLI does), the
// promotion gate's decisions, and shop/redact clearing it all.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import { artifactBytes, sha256, storeArtifact } from '../../backend/src/ml/artifact.ts';
import { getVersion, listVersions, registerVersion, resolveVersion, RegistryError, type NewVersion } from '../../backend/src/registry/versions.ts';
import {
  aliasAt, aliasesAt, aliasGeneration, aliasHistory, currentAliases, getAlias, moveAlias, previousChampion, promote, rollback,
} from '../../backend/src/registry/aliases.ts';
import { applyPromotionGate, decidePromotion, DEFAULT_GATE, gatePolicy, gatePolicyFromEnv } from '../../backend/src/registry/gate.ts';
import { modelCatalog, historyReport } from '../../backend/src/registry/catalog.ts';
import { redactShop } from '../../backend/src/ingest/compliance.ts';
import type { ModelKind } from '../../backend/src/models/types.ts';

const SHOP = 'reg-shop.myshopify.com';
const OTHER = 'other-shop.myshopify.com';
let dir: string;
let db: Db;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shopml-registry-'));
  db = openDb(join(dir, 'db.sqlite'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const hash = (s: string) => sha256(Buffer.from(s));

function version(name: string, metrics: Record<string, number> = {}, o: Partial<NewVersion> = {}): string {
  const v = hash(name);
  registerVersion(db, {
    shop: SHOP, kind: 'recommend', version: v, runId: null, snapshotId: 'snap-a', codeVersion: 'features-1', tensorBackend: 'cpu',
    params: { name }, metrics, trainedAt: '2025-01-01T00:00:00.000Z', trainSeconds: 1, ...o,
  });
  return v;
}

/** A training_runs row, as the pipeline writes one, for the gate to record its decision on. */
function run(kind: ModelKind = 'recommend'): number {
  return Number(db.prepare(`INSERT INTO training_runs (shop, kind, status, started_at, seed, code_version) VALUES (?, ?, 'succeeded', '2025-01-01T00:00:00.000Z', 1, 'features-1')`)
    .run(SHOP, kind).lastInsertRowid);
}

const move = (alias: 'champion' | 'challenger', to: string | null, at: string, action: 'promote' | 'rollback' | 'gate' | 'clear' = 'promote') =>
  moveAlias(db, { shop: SHOP, kind: 'recommend', alias, to, action, reason: 'test', actor: 'test', at });

describe('versions', () => {
  it('identical artifact bytes are one version; registering twice is a no-op that keeps the first metadata', () => {
    const bytes = artifactBytes({ kind: 'recommend', artifact: { weights: new Float32Array([1, 2, 3]) } });
    const again = artifactBytes({ artifact: { weights: new Float32Array([1, 2, 3]) }, kind: 'recommend' }); // key order does not matter
    const a = storeArtifact(join(dir, 'artifacts'), bytes);
    const b = storeArtifact(join(dir, 'artifacts'), again);
    expect(b).toBe(a);
    const base = { shop: SHOP, kind: 'recommend' as const, snapshotId: 's', codeVersion: 'features-1', tensorBackend: 'cpu', params: {}, trainSeconds: 1 };
    expect(registerVersion(db, { ...base, version: a, runId: 1, metrics: { 'recall@20': 0.3 }, trainedAt: '2025-01-01T00:00:00.000Z' })).toEqual({ version: a, created: true });
    expect(registerVersion(db, { ...base, version: b, runId: 2, metrics: { 'recall@20': 0.9 }, trainedAt: '2025-02-01T00:00:00.000Z' })).toEqual({ version: a, created: false });
    expect(listVersions(db, { shop: SHOP })).toHaveLength(1);
    expect(getVersion(db, SHOP, 'recommend', a)).toMatchObject({ runId: 1, metrics: { 'recall@20': 0.3 }, trainedAt: '2025-01-01T00:00:00.000Z' });
    // The same bytes in another shop are that shop's own version.
    expect(registerVersion(db, { ...base, shop: OTHER, version: a, runId: 3, metrics: {}, trainedAt: '2025-01-01T00:00:00.000Z' }).created).toBe(true);
  });

  it('versions and history rows cannot be updated', () => {
    const v = version('v1');
    expect(() => db.prepare(`UPDATE model_versions SET metrics_json = '{}' WHERE version = ?`).run(v)).toThrow(/immutable/);
    move('champion', v, '2025-01-01T00:00:00.000Z');
    expect(() => db.prepare(`UPDATE alias_history SET to_version = NULL`).run()).toThrow(/append-only/);
  });

  it('resolves unique prefixes, refuses ambiguous or unknown ones', () => {
    const v = version('v1');
    expect(resolveVersion(db, SHOP, 'recommend', v.slice(0, 12))).toBe(v);
    expect(resolveVersion(db, SHOP, 'recommend', v.toUpperCase())).toBe(v);
    expect(() => resolveVersion(db, SHOP, 'recommend', 'abc')).toThrow(RegistryError);
    expect(() => resolveVersion(db, SHOP, 'churn', v)).toThrow(/no churn version/);
    expect(() => resolveVersion(db, OTHER, 'recommend', v)).toThrow(/no recommend version/);
  });
});

describe('aliases and their history', () => {
  it('aliasAt answers before, at, between and after moves', () => {
    const [v1, v2, v3] = ['v1', 'v2', 'v3'].map((n) => version(n));
    move('champion', v1!, '2025-03-01T10:00:00.000Z', 'gate');
    move('champion', v2!, '2025-03-02T10:00:00.000Z');
    move('challenger', v3!, '2025-03-03T10:00:00.000Z', 'gate');
    rollback(db, { shop: SHOP, kind: 'recommend', reason: 'peak sale: conversion dropped', actor: 'cli:alice', at: '2025-03-04T10:00:00.000Z' });
    const at = (t: string) => aliasesAt(db, SHOP, 'recommend', t);
    expect(at('2025-02-28T00:00:00Z')).toEqual({ champion: null, challenger: null });
    expect(at('2025-03-01T10:00:00.000Z')).toEqual({ champion: v1, challenger: null }); // a move at exactly T counts
    expect(at('2025-03-01T09:59:59.999Z')).toEqual({ champion: null, challenger: null });
    expect(at('2025-03-02T00:00:00Z')).toEqual({ champion: v1, challenger: null });
    expect(at('2025-03-03T12:00:00Z')).toEqual({ champion: v2, challenger: v3 });
    expect(at('2025-03-04T10:00:00.001Z')).toEqual({ champion: v1, challenger: v3 });
    expect(at('2030-01-01')).toEqual(currentAliases(db, SHOP, 'recommend'));
    expect(aliasAt(db, SHOP, 'recommend', 'champion', '2025-03-02')).toBe(v1); // a date alone is midnight UTC
    expect(() => aliasAt(db, SHOP, 'recommend', 'champion', 'yesterday')).toThrow(RegistryError);
    // Another kind and another shop have their own aliases.
    expect(getAlias(db, SHOP, 'churn', 'champion')).toBeNull();
    expect(getAlias(db, OTHER, 'recommend', 'champion')).toBeNull();

    const h = aliasHistory(db, SHOP, 'recommend');
    expect(h.map((m) => [m.alias, m.from, m.to, m.action])).toEqual([
      ['champion', null, v1, 'gate'], ['champion', v1, v2, 'promote'], ['challenger', null, v3, 'gate'], ['champion', v2, v1, 'rollback'],
    ]);
    expect(h[3]).toMatchObject({ actor: 'cli:alice', reason: 'peak sale: conversion dropped' });
    expect(aliasHistory(db, SHOP, 'recommend', { until: '2025-03-02T12:00:00Z' })).toHaveLength(2);
    const r = historyReport(db, SHOP, 'recommend', '2025-03-03T12:00:00Z');
    expect(r.moves).toHaveLength(3);
    expect(r.state).toEqual([{ kind: 'recommend', champion: v2, challenger: v3 }]);
  });

  it('keeps history times in order when the clock goes backwards', () => {
    const [v1, v2] = ['v1', 'v2'].map((n) => version(n));
    move('champion', v1!, '2025-03-02T00:00:00.000Z');
    const m = move('champion', v2!, '2025-03-01T00:00:00.000Z')!;
    expect(m.at).toBe('2025-03-02T00:00:00.000Z');
    expect(aliasAt(db, SHOP, 'recommend', 'champion', '2025-03-02T00:00:00.000Z')).toBe(v2);
  });

  it('a move to where the alias already points records nothing; moves need a registered version', () => {
    const v1 = version('v1');
    expect(move('champion', v1, '2025-03-01T00:00:00Z')).not.toBeNull();
    expect(move('champion', v1, '2025-03-02T00:00:00Z')).toBeNull();
    expect(aliasHistory(db, SHOP)).toHaveLength(1);
    expect(() => move('champion', hash('never registered'), '2025-03-03T00:00:00Z')).toThrow(/no recommend version/);
    expect(() => move('champion', null, '2025-03-03T00:00:00Z')).toThrow(/cannot be cleared/);
  });

  it('rollback walks back through champions (not a toggle), or to a named version, and is effective on the next read', () => {
    const [v1, v2, v3] = ['v1', 'v2', 'v3'].map((n) => version(n));
    const other = openDb(join(dir, 'db.sqlite')); // a second connection: the CLI while the server runs
    try {
      promote(db, { shop: SHOP, kind: 'recommend', version: v1!, reason: 'first', actor: 't', action: 'gate' });
      promote(db, { shop: SHOP, kind: 'recommend', version: v2!, reason: 'better', actor: 't' });
      promote(db, { shop: SHOP, kind: 'recommend', version: v3!, reason: 'better', actor: 't' });
      const gen = aliasGeneration(db, SHOP);
      expect(gen).toBe(3);
      expect(getAlias(db, SHOP, 'recommend', 'champion')).toBe(v3);

      const m = rollback(other, { shop: SHOP, kind: 'recommend', reason: 'peak sale', actor: 'cli:bob' });
      expect(m).toMatchObject({ from: v3, to: v2, action: 'rollback' });
      expect(getAlias(db, SHOP, 'recommend', 'champion')).toBe(v2); // next read, no restart, other connection
      expect(aliasGeneration(db, SHOP)).toBe(gen + 1);

      expect(previousChampion(db, SHOP, 'recommend')).toBe(v1);
      rollback(db, { shop: SHOP, kind: 'recommend', reason: 'still bad', actor: 't' });
      expect(getAlias(db, SHOP, 'recommend', 'champion')).toBe(v1);
      expect(() => rollback(db, { shop: SHOP, kind: 'recommend', reason: 'again', actor: 't' })).toThrow(/no previous recommend champion/);

      rollback(db, { shop: SHOP, kind: 'recommend', to: v3!, reason: 'it was fine after all', actor: 't' });
      expect(getAlias(other, SHOP, 'recommend', 'champion')).toBe(v3);
      // Guard against a double click: only if the champion is still what the caller saw.
      expect(() => rollback(db, { shop: SHOP, kind: 'recommend', reason: 'x', actor: 't', expectFrom: v2! })).toThrow(expect.objectContaining({ code: 'conflict' }));
      expect(rollback(db, { shop: SHOP, kind: 'recommend', reason: 'x', actor: 't', expectFrom: v3! }).to).toBe(v1);
    } finally {
      other.close();
    }
  });

  it('promoting the challenger to champion withdraws it as challenger; rolling back the challenger clears it', () => {
    const [v1, v2] = ['v1', 'v2'].map((n) => version(n));
    promote(db, { shop: SHOP, kind: 'recommend', version: v1!, reason: 'first', actor: 't' });
    promote(db, { shop: SHOP, kind: 'recommend', version: v2!, to: 'challenger', reason: 'canary', actor: 't' });
    expect(() => promote(db, { shop: SHOP, kind: 'recommend', version: v1!, to: 'challenger', reason: 'x', actor: 't' })).toThrow(/already the champion/);
    const moves = promote(db, { shop: SHOP, kind: 'recommend', version: v2!, reason: 'won the canary', actor: 't' });
    expect(moves.map((m) => [m.alias, m.to, m.action])).toEqual([['champion', v2, 'promote'], ['challenger', null, 'clear']]);
    expect(currentAliases(db, SHOP, 'recommend')).toEqual({ champion: v2, challenger: null });
    expect(promote(db, { shop: SHOP, kind: 'recommend', version: v2!, reason: 'again', actor: 't' })).toEqual([]);

    promote(db, { shop: SHOP, kind: 'recommend', version: v1!, to: 'challenger', reason: 'canary', actor: 't' });
    expect(rollback(db, { shop: SHOP, kind: 'recommend', alias: 'challenger', reason: 'guardrail', actor: 't' })).toMatchObject({ from: v1, to: null });
    expect(getAlias(db, SHOP, 'recommend', 'challenger')).toBeNull();
    expect(() => rollback(db, { shop: SHOP, kind: 'recommend', alias: 'challenger', reason: 'x', actor: 't' })).toThrow(/no recommend challenger/);
  });

  it('lists versions with their aliases', () => {
    const [v1, v2] = ['v1', 'v2'].map((n) => version(n, { 'recall@20': 0.3 }));
    promote(db, { shop: SHOP, kind: 'recommend', version: v1!, reason: 'first', actor: 't' });
    promote(db, { shop: SHOP, kind: 'recommend', version: v2!, to: 'challenger', reason: 'canary', actor: 't' });
    const c = modelCatalog(db, { shop: SHOP });
    expect(Object.fromEntries(c.versions.map((v) => [v.version, v.aliases]))).toEqual({ [v1!]: ['champion'], [v2!]: ['challenger'] });
    expect(c.aliases.map((a) => [a.alias, a.version])).toEqual([['challenger', v2], ['champion', v1]]);
    expect(modelCatalog(db, { shop: OTHER }).versions).toEqual([]);
  });

  it('shop/redact removes versions and history', () => {
    const v1 = version('v1');
    promote(db, { shop: SHOP, kind: 'recommend', version: v1, reason: 'first', actor: 't' });
    redactShop(db, SHOP);
    expect(listVersions(db, { shop: SHOP })).toEqual([]);
    expect(aliasHistory(db, SHOP)).toEqual([]);
  });
});

describe('promotion gate', () => {
  const gate = (v: string, runId: number | null = run(), kind: ModelKind = 'recommend', policy = DEFAULT_GATE) =>
    applyPromotionGate(db, { shop: SHOP, kind, version: v, runId, policy, at: '2025-04-01T00:00:00.000Z' });

  it('first good version → champion; better → challenger; worse beyond tolerance → kept, and the run says why', () => {
    const first = version('first', { 'recall@20': 0.30 });
    expect(gate(first)).toMatchObject({ decision: 'champion' });
    expect(getAlias(db, SHOP, 'recommend', 'champion')).toBe(first);

    const better = version('better', { 'recall@20': 0.32 });
    const rb = run();
    const d = gate(better, rb);
    expect(d.decision).toBe('challenger');
    expect(d.figures).toMatchObject({ metric: 'recall@20', candidate: 0.32, champion: 0.30, basis: 'same_snapshot' });
    expect(currentAliases(db, SHOP, 'recommend')).toEqual({ champion: first, challenger: better });
    expect(aliasHistory(db, SHOP, 'recommend').at(-1)).toMatchObject({ action: 'gate', actor: 'train:gate', figures: expect.objectContaining({ run_id: rb, delta: expect.any(Number) }) });

    const within = version('within', { 'recall@20': 0.295 }); // 0.005 worse, tolerance 0.01
    expect(gate(within).decision).toBe('challenger');

    const worse = version('worse', { 'recall@20': 0.25 });
    const rw = run();
    const k = gate(worse, rw);
    expect(k.decision).toBe('kept');
    expect(k.reason).toMatch(/worse than the champion beyond the tolerance: recall@20 0\.25 vs champion 0\.3 \(-0\.05, tolerance 0\.01/);
    expect(currentAliases(db, SHOP, 'recommend')).toEqual({ champion: first, challenger: within });
    const row = db.prepare('SELECT decision, decision_json FROM training_runs WHERE id = ?').get(rw) as { decision: string; decision_json: string };
    expect(row.decision).toBe('kept');
    expect(JSON.parse(row.decision_json)).toMatchObject({ reason: k.reason, candidate: 0.25, champion: 0.3, tolerance: 0.01 });
    expect(getVersion(db, SHOP, 'recommend', worse)).not.toBeNull(); // kept: registered, not deployed

    expect(gate(first).decision).toBe('unchanged'); // the same bytes again
  });

  it('lower is better for forecast RMSSE; tolerances are configurable', () => {
    const base = { kind: 'forecast' as const };
    const champ = version('f1', { validation_rmsse: 0.97 }, base);
    expect(gate(champ, run('forecast'), 'forecast').decision).toBe('champion');
    const lower = version('f2', { validation_rmsse: 0.95 }, base);
    expect(gate(lower, run('forecast'), 'forecast').decision).toBe('challenger');
    const higher = version('f3', { validation_rmsse: 1.0 }, base);
    expect(gate(higher, run('forecast'), 'forecast').decision).toBe('kept'); // +0.03 > 0.02
    expect(gate(higher, run('forecast'), 'forecast', gatePolicy({ forecast: 0.05 })).decision).toBe('challenger');
  });

  it('a version without its validation metric is not deployed; one the champion lacks lets live traffic decide', () => {
    const none = version('none', {});
    const d = gate(none);
    expect(d).toMatchObject({ decision: 'kept' });
    expect(d.reason).toMatch(/no recall@20 on the validation slice/);
    expect(getAlias(db, SHOP, 'recommend', 'champion')).toBeNull();

    const champ = version('champ', { 'recall@20': 0.3 });
    gate(champ);
    const nan = version('nan', { 'recall@20': NaN }); // stored as JSON null
    expect(gate(nan).decision).toBe('kept');
    // A champion promoted by hand without the metric: the new version is the challenger.
    promote(db, { shop: SHOP, kind: 'recommend', version: none, reason: 'by hand', actor: 't' });
    expect(gate(version('next', { 'recall@20': 0.1 })).decision).toBe('challenger');
  });

  it('compares on the same validation data when the snapshot is the same, and says when it is not', () => {
    const champ = version('c', { 'recall@20': 0.3 }, { snapshotId: 'snap-old' });
    gate(champ);
    const d = gate(version('n', { 'recall@20': 0.31 }, { snapshotId: 'snap-new' }));
    expect(d.figures).toMatchObject({ basis: 'recorded', champion_snapshot: 'snap-old', candidate_snapshot: 'snap-new' });
    expect(d.reason).toMatch(/champion's figure from snapshot snap-old/);
  });

  it('a retrain reproducing a version someone rolled back is not redeployed automatically', () => {
    const v1 = version('v1', { 'recall@20': 0.3 });
    const v2 = version('v2', { 'recall@20': 0.35 });
    gate(v1);
    promote(db, { shop: SHOP, kind: 'recommend', version: v2, reason: 'better', actor: 't' });
    rollback(db, { shop: SHOP, kind: 'recommend', reason: 'peak sale: conversion down', actor: 'api:operator' });
    const d = gate(v2);
    expect(d.decision).toBe('kept');
    expect(d.reason).toMatch(/rolled back from .* by api:operator/);
    // Promoting it by hand again lifts that.
    promote(db, { shop: SHOP, kind: 'recommend', version: v2, to: 'challenger', reason: 'try again', actor: 't' });
    expect(gate(v2).decision).toBe('unchanged');
  });

  it('decidePromotion is pure and explains every branch', () => {
    const rule = DEFAULT_GATE.churn;
    const cand = { version: 'a', snapshotId: 's', metrics: { validation_auc: 0.7 } };
    const champ = { shop: SHOP, kind: 'churn' as const, version: 'b', runId: 1, snapshotId: 's', codeVersion: 'x', tensorBackend: null, params: {}, metrics: { validation_auc: 0.75 }, trainedAt: '', trainSeconds: null, registeredAt: '' };
    expect(decidePromotion(cand, null, null, rule).decision).toBe('champion');
    expect(decidePromotion(cand, champ, null, rule).decision).toBe('kept');
    expect(decidePromotion(cand, champ, null, { ...rule, tolerance: 0.05 }).decision).toBe('challenger');
    expect(decidePromotion(cand, champ, 'a', { ...rule, tolerance: 0.05 }).decision).toBe('unchanged');
    expect(decidePromotion({ ...cand, version: 'b' }, champ, null, rule).decision).toBe('unchanged');
  });

  it('reads tolerances from SHOPML_PROMOTION_TOLERANCE', () => {
    expect(gatePolicyFromEnv({})).toEqual(DEFAULT_GATE);
    expect(gatePolicyFromEnv({ SHOPML_PROMOTION_TOLERANCE: '{"recommend":0.02}' }).recommend).toEqual({ metric: 'recall@20', higherIsBetter: true, tolerance: 0.02 });
    expect(() => gatePolicyFromEnv({ SHOPML_PROMOTION_TOLERANCE: '{"nope":1}' })).toThrow(/unknown kind/);
    expect(() => gatePolicyFromEnv({ SHOPML_PROMOTION_TOLERANCE: 'x' })).toThrow(/must be JSON/);
  });
});
