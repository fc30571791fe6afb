// /api/v1/models over a real Fastify server on port 0 with the real dependencies (SQLite file,
// group writer, Shopify session-token verifier): no token → 401; a session token acts on its
// own shop only (shop A cannot read or move shop B's aliases); the operator token acts on any
// shop; a rollback is effective on the next read; moves record who made them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig } from '../../backend/src/config.ts';
import { createDeps } from '../../backend/src/runtime.ts';
import type { AppDeps } from '../../backend/src/app.ts';
import { registryRoutes } from '../../backend/src/api/registry-routes.ts';
import { storeOfflineToken } from '../../backend/src/shopify/auth.ts';
import { sha256 } from '../../backend/src/ml/artifact.ts';
import { registerVersion } from '../../backend/src/registry/versions.ts';
import { getAlias, promote } from '../../backend/src/registry/aliases.ts';
import { sessionToken } from '../../simulator/sign.ts';
import { testEnv, TEST_API_KEY, TEST_SECRET } from '../helpers/backend.ts';

const A = 'shop-a.myshopify.com';
const B = 'shop-b.myshopify.com';
const v = (n: string) => sha256(Buffer.from(n));
let dir: string;
let deps: AppDeps;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shopml-registry-api-'));
  deps = await createDeps(loadConfig(testEnv(dir)), { defaultMetrics: false });
  app = Fastify();
  await app.register(registryRoutes, deps);
  url = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('[::1]', '127.0.0.1');
  const db = deps.db;
  for (const shop of [A, B]) {
    storeOfflineToken(db, deps.keys, shop, `token-${shop}`, 'read_orders', new Date().toISOString()); // installed: no token exchange
    for (const [i, name] of ['one', 'two', 'three'].entries()) {
      registerVersion(db, {
        shop, kind: 'recommend', version: v(`${shop}-${name}`), runId: null, snapshotId: 's', codeVersion: 'features-1', tensorBackend: 'cpu',
        params: {}, metrics: { 'recall@20': 0.3 + i / 100 }, trainedAt: `2025-05-0${i + 1}T00:00:00.000Z`, trainSeconds: 1,
      });
    }
    promote(db, { shop, kind: 'recommend', version: v(`${shop}-one`), reason: 'first', actor: 'train:gate', action: 'gate', at: '2025-05-01T00:00:00.000Z' });
    promote(db, { shop, kind: 'recommend', version: v(`${shop}-two`), to: 'challenger', reason: 'better', actor: 'train:gate', action: 'gate', at: '2025-05-02T00:00:00.000Z' });
  }
});
afterAll(async () => {
  await app.close();
  await deps.writer.drain();
  deps.db.close();
  rmSync(dir, { recursive: true, force: true });
});

const OPERATOR = () => ({ Authorization: `Bearer ${deps.config.adminToken}` });
const session = (shop: string, sub = '71') => ({ Authorization: `Bearer ${sessionToken({ apiKey: TEST_API_KEY, secret: TEST_SECRET, shop, sub })}` });

async function call(method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method, headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => null)) as any };
}

describe('/api/v1/models', () => {
  it('needs a credential: no token or a wrong one → 401, for reads and moves', async () => {
    expect((await call('GET', '/api/v1/models')).status).toBe(401);
    expect((await call('GET', `/api/v1/models/history?shop=${A}`, { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await call('POST', `/api/v1/models/rollback?shop=${A}`, {}, { kind: 'recommend' })).status).toBe(401);
    const forged = sessionToken({ apiKey: TEST_API_KEY, secret: 'not-the-app-secret-0000', shop: A });
    expect((await call('POST', '/api/v1/models/rollback', { Authorization: `Bearer ${forged}` }, { kind: 'recommend' })).status).toBe(401);
    expect(getAlias(deps.db, A, 'recommend', 'champion')).toBe(v(`${A}-one`));
  });

  it('a session token reads its own shop only', async () => {
    const own = await call('GET', '/api/v1/models', session(A));
    expect(own.status).toBe(200);
    expect(own.headers.get('cache-control')).toBe('no-store');
    expect(new Set(own.body.versions.map((x: any) => x.shop))).toEqual(new Set([A]));
    expect(own.body.versions).toHaveLength(3);
    expect((await call('GET', `/api/v1/models?shop=${B}`, session(A))).status).toBe(403);
    expect((await call('GET', `/api/v1/models/history?shop=${B}`, session(A))).status).toBe(403);
    const h = await call('GET', '/api/v1/models/history?kind=recommend&at=2025-05-01T12:00:00Z', session(A));
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ shop: A, state: [{ kind: 'recommend', champion: v(`${A}-one`), challenger: null }] });
  });

  it("a session token cannot move another shop's aliases (query or body), and nothing moves", async () => {
    const gen = deps.db.prepare('SELECT generation FROM alias_generations WHERE shop = ?').pluck().get(B);
    expect((await call('POST', `/api/v1/models/rollback?shop=${B}`, session(A), { kind: 'recommend', reason: 'x' })).status).toBe(403);
    expect((await call('POST', '/api/v1/models/rollback', session(A), { shop: B, kind: 'recommend', reason: 'x' })).status).toBe(403);
    expect((await call('POST', '/api/v1/models/promote', session(A), { shop: B, kind: 'recommend', version: v(`${B}-three`) })).status).toBe(403);
    // Shop A naming shop B's version is simply not found in shop A.
    expect((await call('POST', '/api/v1/models/promote', session(A), { kind: 'recommend', version: v(`${B}-three`) })).status).toBe(404);
    expect(getAlias(deps.db, B, 'recommend', 'champion')).toBe(v(`${B}-one`));
    expect(deps.db.prepare('SELECT generation FROM alias_generations WHERE shop = ?').pluck().get(B)).toBe(gen);
  });

  it('a session token rolls back its own champion: effective on the next read, actor api:<user id>', async () => {
    // The gate made two a challenger; promote it, then roll back during the "peak sale".
    const p = await call('POST', '/api/v1/models/promote', session(A, '71'), { kind: 'recommend', version: v(`${A}-two`).slice(0, 12), reason: 'canary won' });
    expect(p.status).toBe(200);
    expect(p.body.aliases).toEqual({ champion: v(`${A}-two`), challenger: null });
    const r = await call('POST', '/api/v1/models/rollback', session(A, '71'), { kind: 'recommend', reason: 'peak sale: conversion down' });
    expect(r.status).toBe(200);
    expect(r.body.moves).toEqual([expect.objectContaining({ alias: 'champion', from: v(`${A}-two`), to: v(`${A}-one`), action: 'rollback', actor: 'api:71' })]);
    expect(getAlias(deps.db, A, 'recommend', 'champion')).toBe(v(`${A}-one`));
    const list = await call('GET', '/api/v1/models?kind=recommend', session(A));
    expect(list.body.aliases).toEqual([expect.objectContaining({ alias: 'champion', version: v(`${A}-one`), actor: 'api:71', reason: 'peak sale: conversion down' })]);
  });

  it('the operator acts on any shop with ?shop=, needs one for moves, and a stale `from` is a 409', async () => {
    const all = await call('GET', '/api/v1/models', OPERATOR());
    expect(new Set(all.body.versions.map((x: any) => x.shop))).toEqual(new Set([A, B]));
    expect((await call('POST', '/api/v1/models/rollback', OPERATOR(), { kind: 'recommend' })).status).toBe(400);
    const stale = await call('POST', `/api/v1/models/rollback?shop=${B}`, OPERATOR(), { kind: 'recommend', from: v(`${B}-three`) });
    expect(stale.status).toBe(409);
    const ok = await call('POST', `/api/v1/models/promote?shop=${B}`, OPERATOR(), { kind: 'recommend', version: v(`${B}-three`), to: 'challenger' });
    expect(ok.status).toBe(200);
    expect(ok.body.moves[0]).toMatchObject({ alias: 'challenger', from: v(`${B}-two`), to: v(`${B}-three`), actor: 'api:operator', reason: 'manual promotion to challenger' });
    const withdraw = await call('POST', '/api/v1/models/rollback', OPERATOR(), { shop: B, kind: 'recommend', alias: 'challenger', reason: 'guardrail' });
    expect(withdraw.status).toBe(200);
    expect(getAlias(deps.db, B, 'recommend', 'challenger')).toBeNull();
  });

  it('bad input is a 400 with a reason', async () => {
    const bad = async (body: unknown, path = '/api/v1/models/promote') => call('POST', path, session(A), body);
    expect((await bad({ kind: 'nope', version: 'abcdef' })).status).toBe(400);
    expect((await bad({ kind: 'recommend' })).body.detail).toMatch(/version is required/);
    expect((await bad({ kind: 'recommend', version: 'xyz' })).status).toBe(400);
    expect((await bad({ kind: 'recommend', version: v(`${A}-one`), to: 'everyone' })).status).toBe(400);
    expect((await bad([1, 2])).status).toBe(400);
    expect((await call('POST', `/api/v1/models/rollback?shop=${A}`, session(A), { shop: B, kind: 'recommend' })).status).toBe(400);
    expect((await call('GET', '/api/v1/models/history?at=not-a-time', session(A))).status).toBe(400);
  });
});
