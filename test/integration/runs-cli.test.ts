// `shopml runs list|show|compare` in a separate Node process on a real database file: every
// attempt (succeeded, failed, blocked) is listed; show has the log, snapshot and decision;
// compare puts params and metrics side by side with deltas against the first run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDb } from '../../backend/src/store/db.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SHOP = 'runs-shop.myshopify.com';
const OTHER = 'other-runs.myshopify.com';
let dir: string;
let dbPath: string;

const shopml = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/shopml.js'), ...args, '--db', dbPath], {
    cwd: root, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
  });
const json = (args: string[]) => {
  const r = shopml([...args, '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, any>;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shopml-runs-cli-'));
  dbPath = join(dir, 'shopml.db');
  const db = openDb(dbPath);
  db.prepare(`INSERT INTO dataset_snapshots (shop, snapshot_id, watermark, code_version, created_at, counts_json, profile_json, quality_ok, quality_json)
    VALUES (?, 'snap1', '2025-05-01T00:00:00.000Z', 'features-1', '2025-05-01T03:00:00.000Z', '{}', '{}', 1, '[]')`).run(SHOP);
  const ins = db.prepare(`INSERT INTO training_runs (id, shop, kind, status, started_at, finished_at, snapshot_id, seed, tensor_backend, code_version,
    params_json, metrics_json, durations_json, artifact_sha256, error, log, decision, decision_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'features-1', ?, ?, ?, ?, ?, ?, ?, ?)`);
  ins.run(1, SHOP, 'recommend', 'succeeded', '2025-05-01T03:00:00.000Z', '2025-05-01T03:00:30.000Z', 'snap1', 42, 'wasm',
    JSON.stringify({ model: 'ranker', ranker: { trees: 100, depth: 6 }, listLength: 50 }), JSON.stringify({ 'recall@20': 0.40, 'ndcg@10': 0.44 }),
    JSON.stringify({ train_seconds: 28, total_seconds: 30 }), 'a'.repeat(64), null, 'tensor backend: wasm\npromotion gate: champion — first version', 'champion',
    JSON.stringify({ reason: 'first version', metric: 'recall@20' }));
  ins.run(2, SHOP, 'recommend', 'succeeded', '2025-05-08T03:00:00.000Z', '2025-05-08T03:00:40.000Z', 'snap1', 43, 'wasm',
    JSON.stringify({ model: 'ranker', ranker: { trees: 200, depth: 6 }, listLength: 50 }), JSON.stringify({ 'recall@20': 0.37, 'ndcg@10': 0.45, coverage: 0.5 }),
    JSON.stringify({ train_seconds: 38, total_seconds: 40 }), 'b'.repeat(64), null, 'tensor backend: wasm\npromotion gate: kept — worse', 'kept',
    JSON.stringify({ reason: 'worse than the champion beyond the tolerance', metric: 'recall@20' }));
  ins.run(3, SHOP, 'churn', 'failed', '2025-05-08T03:01:00.000Z', '2025-05-08T03:01:02.000Z', 'snap1', 42, null, '{}', null,
    JSON.stringify({ total_seconds: 2 }), null, 'worker ran out of memory', 'Error: worker ran out of memory\n    at …', null, null);
  ins.run(4, SHOP, 'segment', 'blocked', '2025-05-09T03:00:00.000Z', '2025-05-09T03:00:00.000Z', 'snap1', 42, null, '{}', null, null, null,
    'data-quality gate failed', 'quality: FAILED', null, null);
  ins.run(5, OTHER, 'recommend', 'succeeded', '2025-05-09T03:00:00.000Z', '2025-05-09T03:00:10.000Z', null, 42, 'cpu', '{}', '{}', '{}', 'c'.repeat(64), null, null, null, null);
  db.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shopml runs', () => {
  it('list --json: every attempt, newest first, filterable; no logs in the list', () => {
    const all = json(['runs', 'list']);
    expect(all.runs.map((r: any) => [r.id, r.status])).toEqual([[5, 'succeeded'], [4, 'blocked'], [3, 'failed'], [2, 'succeeded'], [1, 'succeeded']]);
    expect(all.runs.every((r: any) => r.log === null)).toBe(true);
    expect(json(['runs', 'list', '--shop', SHOP, '--kind', 'recommend']).runs.map((r: any) => r.id)).toEqual([2, 1]);
    expect(json(['runs', 'list', '--status', 'failed']).runs.map((r: any) => [r.id, r.error, r.durations])).toEqual([[3, 'worker ran out of memory', { total_seconds: 2 }]]);
    expect(json(['runs', 'list', '--limit', '2']).runs).toHaveLength(2);
    const text = shopml(['runs', 'list', '--shop', SHOP]);
    expect(text.stdout.trim().split('\n')).toHaveLength(4);
    expect(text.stdout).toMatch(/kept {2}recall@20 0\.37/);
  });

  it('show --json: params, metrics, durations, snapshot watermark, log and decision', () => {
    const { run } = json(['runs', 'show', '2']);
    expect(run).toMatchObject({
      id: 2, shop: SHOP, kind: 'recommend', status: 'succeeded', seconds: 40, snapshot_id: 'snap1', watermark: '2025-05-01T00:00:00.000Z', seed: 43,
      tensor_backend: 'wasm', code_version: 'features-1', params: { ranker: { trees: 200 } }, metrics: { 'recall@20': 0.37 }, durations: { train_seconds: 38 },
      version: 'b'.repeat(64), decision: 'kept', decision_detail: { reason: 'worse than the champion beyond the tolerance' },
    });
    expect(run.log).toMatch(/promotion gate: kept/);
    const text = shopml(['runs', 'show', '3']).stdout;
    expect(text).toMatch(/^run 3: runs-shop\.myshopify\.com churn failed/);
    expect(text).toMatch(/error {6}worker ran out of memory/);
    expect(shopml(['runs', 'show', '99']).status).toBe(1);
    expect(shopml(['runs', 'show', '5', '--shop', SHOP]).status).toBe(1); // another shop's run
  });

  it('compare --json: params and metrics side by side with deltas against the first', () => {
    const c = json(['runs', 'compare', '1', '2']);
    expect(c.runs.map((r: any) => r.id)).toEqual([1, 2]);
    const metric = (k: string) => c.metrics.find((m: any) => m.key === k);
    expect(metric('recall@20').values).toEqual([0.40, 0.37]);
    expect(metric('recall@20').deltas[0]).toBe(0);
    expect(metric('recall@20').deltas[1]).toBeCloseTo(-0.03, 12);
    expect(metric('coverage')).toEqual({ key: 'coverage', values: [null, 0.5], deltas: [null, null] });
    expect(c.params).toContainEqual({ key: 'ranker.trees', values: [100, 200], same: false });
    expect(c.params).toContainEqual({ key: 'ranker.depth', values: [6, 6], same: true });
    expect(c.durations.find((d: any) => d.key === 'total_seconds').deltas).toEqual([0, 10]);
    const text = shopml(['runs', 'compare', '1', '2']).stdout;
    expect(text).toMatch(/recall@20 +0\.4 +0\.37 +-0\.03/);
    expect(text).toMatch(/\* ranker\.trees +100 +200/);
  });

  it('usage errors exit 2', () => {
    expect(shopml(['runs', 'compare', '1']).status).toBe(2);
    expect(shopml(['runs', 'show']).status).toBe(2);
    expect(shopml(['runs', 'show', 'x1']).status).toBe(2);
    expect(shopml(['runs', 'list', '--kind', 'nope']).status).toBe(2);
    expect(shopml(['runs']).status).toBe(2);
  });
});
