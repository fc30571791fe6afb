// `shopml models list|promote|rollback|history` as an operator runs them: a separate Node process
// on a real database file; every --json output parses and says what moved; a move made by the
// CLI is what the next read in another connection (the server's) sees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import { sha256 } from '../../backend/src/ml/artifact.ts';
import { registerVersion } from '../../backend/src/registry/versions.ts';
import { applyPromotionGate } from '../../backend/src/registry/gate.ts';
import { getAlias } from '../../backend/src/registry/aliases.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SHOP = 'cli-shop.myshopify.com';
let dir: string;
let dbPath: string;
let server: Db; // stands for the running server's connection
const v = (n: string) => sha256(Buffer.from(n));
const [V1, V2, V3] = [v('one'), v('two'), v('three')];

const shopml = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/shopml.js'), ...args, '--db', dbPath], {
    cwd: root, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', USER: 'alice' },
  });
const json = (args: string[]) => {
  const r = shopml([...args, '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, any>;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shopml-registry-cli-'));
  dbPath = join(dir, 'shopml.db');
  server = openDb(dbPath);
  const metrics = [0.30, 0.33, 0.20];
  [V1, V2, V3].forEach((version, i) => {
    const runId = Number(server.prepare(`INSERT INTO training_runs (shop, kind, status, started_at, finished_at, seed, code_version, artifact_sha256)
      VALUES (?, 'recommend', 'succeeded', ?, ?, 1, 'features-1', ?)`).run(SHOP, `2025-05-0${i + 1}T03:00:00.000Z`, `2025-05-0${i + 1}T03:01:00.000Z`, version).lastInsertRowid);
    registerVersion(server, {
      shop: SHOP, kind: 'recommend', version, runId, snapshotId: 'snap', codeVersion: 'features-1', tensorBackend: 'cpu',
      params: { model: 'ranker' }, metrics: { 'recall@20': metrics[i]! }, trainedAt: `2025-05-0${i + 1}T03:01:00.000Z`, trainSeconds: 60,
    });
    applyPromotionGate(server, { shop: SHOP, kind: 'recommend', version, runId, at: `2025-05-0${i + 1}T03:01:00.000Z` });
  });
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('shopml models', () => {
  it('list --json: versions with metrics and aliases', () => {
    const out = json(['models', 'list', '--shop', SHOP]);
    expect(out.versions).toHaveLength(3);
    const byVersion = Object.fromEntries(out.versions.map((x: any) => [x.version, x]));
    expect(byVersion[V1].aliases).toEqual(['champion']);
    expect(byVersion[V2].aliases).toEqual(['challenger']);
    expect(byVersion[V3].aliases).toEqual([]); // 0.20 vs 0.30: kept by the gate
    expect(byVersion[V2]).toMatchObject({ kind: 'recommend', metrics: { 'recall@20': 0.33 }, params: { model: 'ranker' }, snapshot_id: 'snap', code_version: 'features-1', tensor_backend: 'cpu' });
    expect(out.aliases.map((a: any) => [a.alias, a.version])).toEqual([['challenger', V2], ['champion', V1]]);
    const text = shopml(['models', 'list', '--kind', 'recommend']);
    expect(text.stdout).toContain(`${V1.slice(0, 12)}`);
    expect(text.stdout).toMatch(/recall@20/);
    expect(json(['models', 'list', '--kind', 'churn']).versions).toEqual([]);
  });

  it('promote --json by a unique prefix; the challenger promoted to champion stops being challenger; actor is cli:<user>', () => {
    const out = json(['models', 'promote', '--shop', SHOP, '--kind', 'recommend', '--version', V2.slice(0, 10), '--reason', 'won the canary']);
    expect(out.moves.map((m: any) => [m.alias, m.from, m.to, m.action, m.actor])).toEqual([
      ['champion', V1, V2, 'promote', 'cli:alice'], ['challenger', V2, null, 'clear', 'cli:alice'],
    ]);
    expect(out.aliases).toEqual({ champion: V2, challenger: null });
    expect(out.generation).toBeGreaterThan(2);
    expect(getAlias(server, SHOP, 'recommend', 'champion')).toBe(V2); // the server's next read
  });

  it('rollback --json: champion back to the previous one, effective on the next read; --from guards a double click', () => {
    const before = new Date().toISOString();
    const out = json(['models', 'rollback', '--shop', SHOP, '--kind', 'recommend', '--reason', 'peak sale: conversion down', '--from', V2]);
    expect(out.moves).toEqual([expect.objectContaining({ alias: 'champion', from: V2, to: V1, action: 'rollback', actor: 'cli:alice', reason: 'peak sale: conversion down' })]);
    expect(out.moves[0].at >= before).toBe(true);
    expect(getAlias(server, SHOP, 'recommend', 'champion')).toBe(V1);
    const again = shopml(['models', 'rollback', '--shop', SHOP, '--kind', 'recommend', '--from', V2]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/moved meanwhile/);
    expect(getAlias(server, SHOP, 'recommend', 'champion')).toBe(V1);
  });

  it('history --json (with --at: the state then) and in text', () => {
    const h = json(['models', 'history', '--shop', SHOP, '--kind', 'recommend']);
    expect(h.moves.map((m: any) => [m.alias, m.action])).toEqual([
      ['champion', 'gate'], ['challenger', 'gate'], ['champion', 'promote'], ['challenger', 'clear'], ['champion', 'rollback'],
    ]);
    const at = json(['models', 'history', '--shop', SHOP, '--kind', 'recommend', '--at', '2025-05-02T12:00:00Z']);
    expect(at.moves).toHaveLength(2);
    expect(at.state).toEqual([{ kind: 'recommend', champion: V1, challenger: V2 }]);
    const early = json(['models', 'history', '--shop', SHOP, '--at', '2025-04-01']);
    expect(early.moves).toEqual([]);
    expect(early.state.find((s: any) => s.kind === 'recommend')).toEqual({ kind: 'recommend', champion: null, challenger: null });
    const text = shopml(['models', 'history', '--shop', SHOP, '--at', '2025-05-02T12:00:00Z']);
    expect(text.stdout).toMatch(/at 2025-05-02T12:00:00.000Z:\n {2}recommend +champion [0-9a-f]{12} +challenger [0-9a-f]{12}/);
  });

  it('usage errors exit 2; registry errors exit 1 with one line', () => {
    expect(shopml(['models', 'promote', '--shop', SHOP, '--kind', 'recommend']).status).toBe(2); // no --version
    expect(shopml(['models', 'promote', '--shop', SHOP, '--kind', 'nope', '--version', V1]).status).toBe(2);
    expect(shopml(['models', 'frob']).status).toBe(2);
    const unknown = shopml(['models', 'promote', '--shop', SHOP, '--kind', 'recommend', '--version', 'abcdef123']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr.trim()).toBe(`error: no recommend version abcdef123 for ${SHOP}`);
    const none = shopml(['models', 'rollback', '--shop', SHOP, '--kind', 'churn']);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no churn champion/);
  });
});
