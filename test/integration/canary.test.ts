// The canary from start to decision, through the three doors people use: the service (what
// training and the scheduler call), the CLI (a separate process on the database file) and
// /api/v1/canary (a real Fastify server). A canary starts from the registry's challenger with the
// plan from the shop's traffic, refuses a second live one, reports per-variant figures, is
// promoted / rolled back / stopped with the figures in the alias history, and is stopped when
// the aliases move under it (a manual move or a newer challenger from a retrain).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import { loadConfig } from '../../backend/src/config.ts';
import { createDeps } from '../../backend/src/runtime.ts';
import type { AppDeps } from '../../backend/src/app.ts';
import { canaryRoutes } from '../../backend/src/api/canary-routes.ts';
import { registryRoutes } from '../../backend/src/api/registry-routes.ts';
import { storeOfflineToken } from '../../backend/src/shopify/auth.ts';
import { sha256 } from '../../backend/src/ml/artifact.ts';
import { registerVersion } from '../../backend/src/registry/versions.ts';
import { aliasHistory, currentAliases, promote } from '../../backend/src/registry/aliases.ts';
import { activeExperiment, decisionLog, getExperiment, recordConversion, recordExposure } from '../../backend/src/rollout/experiments.ts';
import { variantFor } from '../../backend/src/rollout/bucket.ts';
import { afterTraining, canaryStatus, CanaryError, decideCanary, planFor, runPolicies, startCanary } from '../../backend/src/rollout/canary.ts';
import { createPrng } from '../../backend/src/ml/prng.ts';
import { sessionToken } from '../../simulator/sign.ts';
import { testEnv, TEST_API_KEY, TEST_SECRET } from '../helpers/backend.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const v = (n: string) => sha256(Buffer.from(n));
const DAY = 86_400_000;
const T0 = Date.parse('2026-03-02T00:00:00.000Z');
const at = (days: number) => new Date(T0 + days * DAY);

function register(db: Db, shop: string, name: string, recall: number, day: number): string {
  const version = v(`${shop}-${name}`);
  registerVersion(db, {
    shop, kind: 'recommend', version, runId: null, snapshotId: 's', codeVersion: 'features-1', tensorBackend: 'cpu',
    params: {}, metrics: { 'recall@20': recall }, trainedAt: at(day).toISOString(), trainSeconds: 1,
  });
  return version;
}

/** A shop with a champion and a challenger (as the promotion gate leaves them after two trainings). */
function shopWithChallenger(db: Db, shop: string): { champion: string; challenger: string } {
  const champion = register(db, shop, 'one', 0.30, -20);
  const challenger = register(db, shop, 'two', 0.31, -1);
  promote(db, { shop, kind: 'recommend', version: champion, reason: 'first', actor: 'train:gate', action: 'gate', at: at(-20).toISOString() });
  promote(db, { shop, kind: 'recommend', version: challenger, to: 'challenger', reason: 'better', actor: 'train:gate', action: 'gate', at: at(-1).toISOString() });
  return { champion, challenger };
}

/** Storefront traffic of the last 28 days: `perDay` distinct units a day (what the plan reads). */
function storefrontTraffic(db: Db, shop: string, perDay: number, endDay: number): void {
  const put = db.prepare(`INSERT INTO storefront_events (shop, event_id, type, unit, occurred_at) VALUES (?, ?, 'impression', ?, ?)`);
  db.transaction(() => {
    for (let d = 1; d <= 28; d++) for (let u = 0; u < perDay; u++) put.run(shop, `e${d}-${u}`, `anon-${d}-${u}`, at(endDay - d).toISOString());
  })();
}

/** Exposures and conversions for `days` days: each arm converts at its rate (seeded). */
function experimentTraffic(db: Db, shop: string, id: number, salt: string, days: number, unitsPerDay: number, rates: Record<string, number>): void {
  const rng = createPrng(7);
  db.transaction(() => {
    for (let d = 0; d < days; d++) {
      for (let u = 0; u < unitsPerDay; u++) {
        const unit = `u-${d}-${u}`;
        const variant = variantFor(salt, unit, { holdoutPct: 5, challengerPct: 5 });
        const t = new Date(T0 + d * DAY + u * 1000);
        recordExposure(db, shop, id, unit, variant, t, null);
        if (rng.next() < rates[variant]!) recordConversion(db, shop, id, unit, variant, 40, new Date(t.getTime() + 60_000), `o-${d}-${u}`);
      }
    }
  })();
}

describe('canary service', () => {
  let dir: string;
  let db: Db;
  const SHOP = 'canary-svc.myshopify.com';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shopml-canary-'));
    db = openDb(join(dir, 'shopml.db'));
    return () => { db.close(); rmSync(dir, { recursive: true, force: true }); };
  });

  it('plans from the shop’s own traffic: unknown without storefront events, days and an 8-week warning with them', () => {
    shopWithChallenger(db, SHOP);
    const none = planFor(db, SHOP, 'recommend', at(0));
    expect(none.plan).toBeNull();
    expect(none.warning).toMatch(/no storefront traffic/);
    storefrontTraffic(db, SHOP, 50, 0); // 50 units/day: a 5% canary sees 2.5 a day
    const slow = planFor(db, SHOP, 'recommend', at(0));
    expect(slow.traffic.dailyUnits).toBeCloseTo(50, 5);
    expect(slow.baselineSource).toBe('assumed');
    expect(slow.warning).toMatch(/weeks|no decision expected/);
    const wider = planFor(db, SHOP, 'recommend', at(0), { challengerPct: 45, mdeRel: 1 });
    expect(wider.plan!.estimate.days!).toBeLessThan(slow.plan!.estimate.days ?? Infinity);
  });

  it('starts from the challenger alias with the plan in the decision log; one live canary per shop', () => {
    const { champion, challenger } = shopWithChallenger(db, SHOP);
    storefrontTraffic(db, SHOP, 4000, 0);
    const r = startCanary(db, { shop: SHOP, actor: 'test', now: at(0) });
    expect(r.experiment).toMatchObject({ status: 'running', championVersion: champion, challengerVersion: challenger, holdoutPct: 5, challengerPct: 5 });
    expect(r.plan.plan!.estimate.days).toBeGreaterThan(0);
    expect(r.experiment.config.plannedDays).toBe(r.plan.plan!.estimate.days);
    const start = decisionLog(db, r.experiment.id)[0]!;
    expect(start).toMatchObject({ action: 'start', actor: 'test' });
    expect((start.figures as any).plan.days).toBe(r.plan.plan!.estimate.days);
    expect(() => startCanary(db, { shop: SHOP, actor: 'test', now: at(0) })).toThrow(CanaryError);
    expect(() => startCanary(db, { shop: SHOP, kind: 'churn', actor: 'test', now: at(0) })).toThrow(/shadow/);
  });

  it('needs a champion and a challenger', () => {
    expect(() => startCanary(db, { shop: SHOP, actor: 't', now: at(0) })).toThrow(/no recommend champion/);
    const c = register(db, SHOP, 'one', 0.3, -3);
    promote(db, { shop: SHOP, kind: 'recommend', version: c, reason: 'first', actor: 't', action: 'gate', at: at(-3).toISOString() });
    expect(() => startCanary(db, { shop: SHOP, actor: 't', now: at(0) })).toThrow(/no recommend challenger/);
    const two = register(db, SHOP, 'two', 0.2, -2); // a version the gate kept: a person may still canary it
    const r = startCanary(db, { shop: SHOP, version: two.slice(0, 10), actor: 't', now: at(0) });
    expect(r.experiment.challengerVersion).toBe(two);
  });

  it('the scheduled policy promotes a clearly better challenger with the figures in the alias history', () => {
    const { challenger } = shopWithChallenger(db, SHOP);
    const { experiment } = startCanary(db, { shop: SHOP, actor: 'test', now: at(0), salt: 'fixed-salt' });
    experimentTraffic(db, SHOP, experiment.id, 'fixed-salt', 10, 3000, { holdout: 0.05, champion: 0.05, challenger: 0.12 });
    expect(runPolicies(db, at(3))[0]!.decision.action).toBe('hold'); // no promotion before day 7
    const [run] = runPolicies(db, at(10));
    expect(run!.decision).toMatchObject({ action: 'promote', rule: 'better_than_champion' });
    expect(currentAliases(db, SHOP, 'recommend')).toEqual({ champion: challenger, challenger: null });
    const move = aliasHistory(db, SHOP, 'recommend').find((m) => m.action === 'promote')!;
    expect(move.actor).toBe('policy');
    expect((move.figures as any).challengerVsChampion.lift).toBeGreaterThan(0.5);
    expect(getExperiment(db, experiment.id)!.status).toBe('promoted');
    expect(runPolicies(db, at(11))).toEqual([]); // nothing live any more
  });

  it('a manual rollback clears the challenger; a manual alias move under a live canary stops it', () => {
    const { champion } = shopWithChallenger(db, SHOP);
    const first = startCanary(db, { shop: SHOP, actor: 'test', now: at(0) }).experiment;
    const r = decideCanary(db, { shop: SHOP, action: 'rollback', actor: 'cli:bob', reason: 'looks off', now: at(2) });
    expect(r.experiment.status).toBe('rolled_back');
    expect(currentAliases(db, SHOP, 'recommend')).toEqual({ champion, challenger: null });
    expect(aliasHistory(db, SHOP, 'recommend').at(-1)).toMatchObject({ alias: 'challenger', action: 'rollback', actor: 'cli:bob', reason: 'looks off' });
    expect(getExperiment(db, first.id)!.status).toBe('rolled_back');

    const three = register(db, SHOP, 'three', 0.33, 3);
    const second = startCanary(db, { shop: SHOP, version: three, actor: 't', now: at(3) }).experiment;
    promote(db, { shop: SHOP, kind: 'recommend', version: three, reason: 'by hand', actor: 'cli:bob', at: at(4).toISOString() });
    expect(canaryStatus(db, SHOP, 'recommend', at(4))!.experiment.status).toBe('running'); // status reads; it does not act
    expect(runPolicies(db, at(4))).toEqual([]);
    expect(getExperiment(db, second.id)).toMatchObject({ status: 'stopped' });
    expect(getExperiment(db, second.id)!.statusReason).toMatch(/aliases moved outside the experiment/);
  });

  it('after training: a new recommend challenger starts a canary, a newer one supersedes it, --no-canary only notes', () => {
    shopWithChallenger(db, SHOP);
    const runs = (version: string) => [{ kind: 'recommend' as const, status: 'succeeded', version, decision: { decision: 'challenger', reason: 'ok' } }];
    const a = afterTraining(db, SHOP, runs(v(`${SHOP}-two`)), at(0));
    expect(a.canary!.experiment.status).toBe('running');
    const four = register(db, SHOP, 'four', 0.35, 1);
    promote(db, { shop: SHOP, kind: 'recommend', version: four, to: 'challenger', reason: 'gate', actor: 'train:gate', action: 'gate', at: at(1).toISOString() });
    const b = afterTraining(db, SHOP, runs(four), at(1));
    expect(b.superseded!.id).toBe(a.canary!.experiment.id);
    expect(b.canary!.experiment.challengerVersion).toBe(four);
    expect(activeExperiment(db, SHOP, 'recommend')!.id).toBe(b.canary!.experiment.id);
    decideCanary(db, { shop: SHOP, action: 'stop', actor: 't', now: at(2) });
    const five = register(db, SHOP, 'five', 0.36, 2);
    promote(db, { shop: SHOP, kind: 'recommend', version: five, to: 'challenger', reason: 'gate', actor: 'train:gate', action: 'gate', at: at(2).toISOString() });
    const c = afterTraining(db, SHOP, runs(five), at(2), { autoCanary: false });
    expect(c.canary).toBeNull();
    expect(c.note).toMatch(/auto canary is off/);
    // Kinds other than recommend never start a canary.
    expect(afterTraining(db, SHOP, [{ kind: 'churn', status: 'succeeded', version: 'x', decision: { decision: 'challenger', reason: '' } }], at(3)).canary).toBeNull();
  });
});

describe('shopml canary (CLI)', () => {
  let dir: string;
  let dbPath: string;
  let db: Db;
  const SHOP = 'canary-cli.myshopify.com';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shopml-canary-cli-'));
    dbPath = join(dir, 'shopml.db');
    db = openDb(dbPath);
    shopWithChallenger(db, SHOP);
  });
  afterAll(() => { db.close(); rmSync(dir, { recursive: true, force: true }); });
  const shopml = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin/shopml.js'), 'canary', ...args, '--db', dbPath], {
    cwd: root, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', USER: 'carol' },
  });
  const json = (args: string[]) => {
    const r = shopml([...args, '--json']);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, any>;
  };

  it('plan, start, status, a refused second start, promote — each with --json and as text', () => {
    expect(json(['plan', '--shop', SHOP]).warning).toMatch(/no storefront traffic/);
    const started = json(['start', '--shop', SHOP, '--holdout', '10', '--challenger', '20']);
    expect(started.experiment).toMatchObject({ status: 'running', holdoutPct: 10, challengerPct: 20, challengerVersion: v(`${SHOP}-two`) });
    const again = shopml(['start', '--shop', SHOP]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already live/);
    const status = json(['status', '--shop', SHOP]);
    expect(status.live).toBe(true);
    expect(status.report.variants.challenger.units).toBe(0);
    expect(status.next.action).toBe('hold');
    const text = shopml(['status', '--shop', SHOP]);
    expect(text.stdout).toMatch(/experiment #\d+ canary-cli\.myshopify\.com recommend: running/);
    expect(text.stdout).toMatch(/challenger vs champion: lift/);
    expect(text.stdout).toMatch(/policy now: hold/);
    expect(shopml(['start', '--shop', SHOP, '--holdout', '120']).status).toBe(2); // usage error
    const promoted = json(['promote', '--shop', SHOP, '--reason', 'merchant call']);
    expect(promoted.experiment.status).toBe('promoted');
    expect(promoted.decision).toMatchObject({ action: 'promote', rule: 'manual_promote', reason: 'merchant call' });
    expect(currentAliases(db, SHOP, 'recommend')).toEqual({ champion: v(`${SHOP}-two`), challenger: null });
    expect(aliasHistory(db, SHOP, 'recommend').at(-2)).toMatchObject({ action: 'promote', actor: 'cli:carol' });
    expect(json(['list', '--shop', SHOP]).experiments).toHaveLength(1);
    expect(json(['run-policy'])).toEqual({ runs: [], shadows: [] });
    expect(json(['shadows', '--shop', SHOP]).shadows).toEqual([]);
  });

  it('a `models rollback` under a live canary stops it and says so', () => {
    const three = register(db, SHOP, 'three', 0.4, 1);
    json(['start', '--shop', SHOP, '--version', three.slice(0, 12)]);
    const r = spawnSync(process.execPath, [join(root, 'bin/shopml.js'), 'models', 'rollback', '--shop', SHOP, '--kind', 'recommend', '--alias', 'challenger', '--db', dbPath, '--json'], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.stopped_experiment).toBeGreaterThan(0);
    expect(getExperiment(db, out.stopped_experiment)!.status).toBe('stopped');
  });
});

describe('/api/v1/canary', () => {
  const A = 'canary-a.myshopify.com';
  const B = 'canary-b.myshopify.com';
  let dir: string;
  let deps: AppDeps;
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shopml-canary-api-'));
    deps = await createDeps(loadConfig(testEnv(dir)), { defaultMetrics: false });
    app = Fastify();
    await app.register(canaryRoutes, deps);
    await app.register(registryRoutes, deps);
    url = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('[::1]', '127.0.0.1');
    for (const shop of [A, B]) {
      storeOfflineToken(deps.db, deps.keys, shop, `token-${shop}`, 'read_orders', new Date().toISOString());
      shopWithChallenger(deps.db, shop);
    }
  });
  afterAll(async () => {
    await app.close();
    await deps.writer.drain();
    deps.db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const OPERATOR = () => ({ Authorization: `Bearer ${deps.config.adminToken}` });
  const session = (shop: string) => ({ Authorization: `Bearer ${sessionToken({ apiKey: TEST_API_KEY, secret: TEST_SECRET, shop, sub: '71' })}` });
  async function call(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: unknown) {
    const res = await fetch(`${url}${path}`, { method, headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  }

  it('needs a credential; a session token starts, watches and rolls back its own shop only', async () => {
    expect((await call('GET', `/api/v1/canary?shop=${A}`, {})).status).toBe(401);
    expect((await call('POST', '/api/v1/canary/start', { Authorization: 'Bearer nope' }, {})).status).toBe(401);
    expect((await call('GET', '/api/v1/canary', session(A))).body).toEqual({ experiment: null });
    const started = await call('POST', '/api/v1/canary/start', session(A), { holdout: 5, challenger: 10 });
    expect(started.status).toBe(201);
    expect(started.body.experiment).toMatchObject({ shop: A, status: 'running', challengerPct: 10 });
    expect((await call('POST', '/api/v1/canary/start', session(A), {})).status).toBe(409);
    expect((await call('POST', '/api/v1/canary/start', session(A), { shop: B })).status).toBe(403); // not its shop
    expect((await call('GET', `/api/v1/canary?shop=${B}`, session(A))).status).toBe(403);
    expect((await call('POST', '/api/v1/canary/start', session(B), { holdout: 'lots' })).status).toBe(400);
    const status = await call('GET', '/api/v1/canary', session(A));
    expect(status.body.experiment.id).toBe(started.body.experiment.id);
    expect(status.body.report.variants).toHaveProperty('holdout');
    const rb = await call('POST', '/api/v1/canary/rollback', session(A), { reason: 'conversion dipped' });
    expect(rb.status).toBe(200);
    expect(rb.body.experiment.status).toBe('rolled_back');
    expect(currentAliases(deps.db, A, 'recommend').challenger).toBeNull();
    expect(aliasHistory(deps.db, A, 'recommend').at(-1)).toMatchObject({ action: 'rollback', actor: 'api:71', reason: 'conversion dipped' });
    expect((await call('POST', '/api/v1/canary/stop', session(A), {})).status).toBe(409); // nothing live
    expect(currentAliases(deps.db, B, 'recommend').challenger).not.toBeNull(); // B untouched
  });

  it('the operator plans and starts for any shop; a promotion through /models stops the live canary', async () => {
    const plan = await call('GET', `/api/v1/canary/plan?shop=${B}&challenger=20`, OPERATOR());
    expect(plan.status).toBe(200);
    expect(plan.body.plan).toBeNull();
    expect((await call('POST', '/api/v1/canary/start', OPERATOR(), { shop: B })).status).toBe(201);
    const moved = await call('POST', `/api/v1/models/promote?shop=${B}`, OPERATOR(), { kind: 'recommend', version: v(`${B}-two`) });
    expect(moved.status).toBe(200);
    expect(moved.body.stopped_experiment).toBeGreaterThan(0);
    const list = await call('GET', `/api/v1/canary/experiments?shop=${B}`, OPERATOR());
    expect(list.body.experiments[0]).toMatchObject({ status: 'stopped' });
    expect((await call('GET', `/api/v1/canary/shadows?shop=${B}`, OPERATOR())).body).toEqual({ shadows: [] });
    expect((await call('GET', `/api/v1/canary/shadows?shop=${B}&kind=recommend`, OPERATOR())).status).toBe(400);
  });
});
