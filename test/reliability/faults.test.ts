// Issue 7, item 6 — dependencies and platform faults, proved against the real server (Fastify on
// port 0, a real SQLite file, the webhook writer thread, the real job runner) with Shopify played
// by the simulator:
//   1. the Admin API down (503 / 502 / 504 / 429 / dropped connections through a fault proxy),
//      then throttled (the shop's cost bucket drained, a crawling restore rate): the tag, re-tag,
//      metafield, order and trigger jobs wait and complete — none lost, none duplicated;
//   2. the disk full (a real tmpfs filled to its last byte) or the database locked by another
//      connection for longer than busy_timeout: webhooks and Flow get 503 + Retry-After, the
//      storefront still gets its recommendations, nothing is half-written, and once the space
//      or the lock is back every redelivery is stored exactly once;
//   3. clock skew: app proxy timestamps and session tokens inside Shopify's tolerance accepted,
//      beyond it refused; webhooks' X-Shopify-Triggered-At is not a freshness check (see below).
// Short run inside `npm test`; long run with `npm run test:reliability` (profile.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, createHmac } from 'node:crypto';
import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startAdminSimulator, type AdminSimulator, type RecordedCall } from '../../simulator/admin-server.ts';
import { loadFlowTriggers } from '../../simulator/flow-extensions.ts';
import { appProxyQuery, flowActionRequest, flowLifecycleRequest, sessionToken, webhookHeaders } from '../../simulator/sign.ts';
import { generateStore } from '../../simulator/store.ts';
import { orderPayload, productPayload } from '../../simulator/rest-payloads.ts';
import { fixtureStore } from '../fixtures/admin-sim-store.ts';
import { SHOP, startTestBackend, TEST_API_KEY, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';
import { storeOfflineToken } from '../../backend/src/shopify/auth.ts';
import { shopAdminClient } from '../../backend/src/shopify/shop-client.ts';
import { registerVersion } from '../../backend/src/registry/versions.ts';
import { promote } from '../../backend/src/registry/aliases.ts';
import { createJobRunner, type JobOutcome } from '../../backend/src/jobs/runner.ts';
import { enqueueCustomerWriteBack } from '../../backend/src/flow/jobs.ts';
import { fireModelDrift, fireStockOut } from '../../backend/src/flow/triggers.ts';
import { createPrng } from '../../backend/src/ml/prng.ts';
import type { ModelKind } from '../../backend/src/models/types.ts';
import { recordEvent } from '../../backend/src/ingest/record.ts';
import { normalizeOrder, normalizeProduct } from '../../backend/src/ingest/normalize-rest.ts';
import { trainShop } from '../../backend/src/models/train-pipeline.ts';
import { serveStateFor } from '../../backend/src/serve/state.ts';
import { PROXY_CLOCK_TOLERANCE_SEC } from '../../backend/src/serve/proxy-verify.ts';
import { SESSION_TOKEN_CLOCK_TOLERANCE_SEC } from '../../backend/src/shopify/verify.ts';
import { LONG, reportFigures, size } from './profile.ts';
import { mountSmallDisk, startFaultProxy, virtualClock, wallClock, type Clock, type Fault, type FaultProxy } from './faults-env.ts';

const EXTENSIONS = fileURLToPath(new URL('../../extensions', import.meta.url));

const gid = (id: string) => `gid://shopify/Customer/${id}`;
/** The p-quantile (0…1) of a list of milliseconds, to 0.1 ms. */
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Number((s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? 0).toFixed(1));
};

// ---------------------------------------------------------------------------------------------
// 1. Admin API down, then throttled
// ---------------------------------------------------------------------------------------------

describe('Admin API down for minutes, then throttled', () => {
  const N = size(60, 300);
  const OUTAGE_MS = size(20 * 60_000, 150_000); // short: on the virtual clock; long: wall time
  const THROTTLE_MS = size(3 * 60_000, 60_000);
  const SEGMENTS = ['Loyal', 'At risk', 'New'];
  const tagOf = (s: string, prefix = 'shopml:') => `${prefix}${s.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  const segV1 = (i: number) => SEGMENTS[i % 3]!;
  const segV2 = (i: number) => (i % 4 === 0 ? SEGMENTS[(i + 1) % 3]! : segV1(i)); // every 4th customer moves
  const churnV1 = (i: number) => 0.5 + (i % 5) * 0.05; // 0.50 … 0.70
  const churnV2 = (i: number) => (i % 10 === 1 ? 0.9 : churnV1(i)); // every 10th crosses 0.75
  const isVip = (i: number) => i % 5 === 2; // a workflow tags these with its own prefix during the outage
  const isRetouch = (i: number) => i % 7 === 3 && i % 4 !== 0; // a workflow re-tags these (unchanged) with the default prefix

  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('tag, re-tag, metafield, order and trigger jobs wait out the outage and complete: none lost, none duplicated', async () => {
    const wall0 = performance.now();
    const clock: Clock = LONG ? wallClock : virtualClock(Date.now());
    const rng = createPrng('faults:admin-outage');
    const store = fixtureStore({ shop: SHOP, customers: N, orders: 12 });
    const customers = store.customers.map((c) => String(c.id));
    const sim: AdminSimulator = await startAdminSimulator({
      store, apiKey: TEST_API_KEY, apiSecret: TEST_SECRET, flowTriggers: loadFlowTriggers(EXTENSIONS), now: () => clock.now(),
    });
    cleanups.push(() => sim.close());

    // The outage window and the throttling after it, on the test's clock; set when the jobs are queued.
    let outage = { start: Infinity, end: Infinity };
    let throttle: { start: number; over: boolean } | null = null;
    const decide = (): Fault => {
      const t = clock.now();
      if (t >= outage.start && t < outage.end) {
        const u = rng.next();
        if (u < 0.35) return { kind: 'status', status: 503 };
        if (u < 0.5) return { kind: 'status', status: 502 };
        if (u < 0.6) return { kind: 'status', status: 504 };
        if (u < 0.8) return { kind: 'reset' };
        return { kind: 'status', status: 429, retryAfterSeconds: 1 + rng.below(5) };
      }
      if (t >= outage.end && throttle === null) {
        // Back up, but another app has drained the shop's bucket and the restore rate crawls.
        throttle = { start: t, over: false };
        const bucket = sim.state(SHOP).bucket;
        bucket.tryTake(Math.floor(bucket.available()));
        sim.setRestoreRate(2, SHOP);
      } else if (throttle && !throttle.over && t >= throttle.start + THROTTLE_MS) {
        throttle.over = true;
        sim.setRestoreRate(100, SHOP);
      }
      return { kind: 'forward' };
    };
    const proxy: FaultProxy = await startFaultProxy(sim.url, decide);
    cleanups.push(() => proxy.close());

    const be: TestBackend = await startTestBackend({ SHOPIFY_ADMIN_BASE_URL: proxy.baseUrlTemplate }, { jobs: false, now: () => new Date(clock.now()) });
    cleanups.push(() => be.stop());
    const db = be.deps.db;
    storeOfflineToken(db, be.deps.keys, SHOP, sim.issueAccessToken(SHOP), 'read_orders,write_customers', new Date(clock.now()).toISOString());
    // The shop's shared Admin client, on the test's clock; otherwise production settings (5 retries, 0.5 s backoff base).
    shopAdminClient(be.deps, SHOP, { now: () => clock.now(), sleep: (ms) => clock.sleep(ms), random: createPrng('faults:client').next });

    const publish = (kind: ModelKind, label: string, outputs: (i: number) => object): string => {
      const version = createHash('sha256').update(`${kind}:${label}`).digest('hex');
      db.transaction(() => {
        const put = db.prepare('INSERT OR REPLACE INTO customer_outputs (shop, kind, model_version, customer_id, output_json) VALUES (?, ?, ?, ?, ?)');
        customers.forEach((c, i) => put.run(SHOP, kind, version, c, JSON.stringify(outputs(i))));
        registerVersion(db, { shop: SHOP, kind, version, runId: null, snapshotId: null, codeVersion: 'test', tensorBackend: null, params: {}, metrics: {}, trainedAt: new Date(clock.now()).toISOString(), trainSeconds: null });
        promote(db, { shop: SHOP, kind, version, reason: 'test', actor: 'test' });
      })();
      return version;
    };
    const publishSegments = (label: string, seg: (i: number) => string) => publish('segment', label, (i) => ({ segment: seg(i), tag: tagOf(seg(i)) }));
    const publishChurn = (label: string, churn: (i: number) => number) =>
      publish('churn', label, (i) => ({ churnProbability: churn(i), orderProbability: 1 - churn(i), expectedNextOrder: 0, predictedSpend: 10 + i }));
    const post = async (path: string, req: { body: string; headers: Record<string, string> }) => {
      const t0 = performance.now();
      const res = await fetch(`${be.url}${path}`, { method: 'POST', headers: req.headers, body: req.body });
      await res.body?.cancel();
      return { status: res.status, ms: performance.now() - t0 };
    };
    const action = (handle: string, actionRunId: string, properties: Record<string, unknown>) =>
      flowActionRequest({ secret: TEST_SECRET, shop: SHOP, shopId: 1, handle, actionRunId, actionDefinitionId: handle, properties });

    const outcomes: JobOutcome[] = [];
    const runner = createJobRunner(be.deps, {
      concurrency: 2, seed: 'faults', onOutcome: (o) => outcomes.push(o),
      // On the virtual clock a handler's waits pass in no wall time, before any heartbeat timer fires.
      leaseMs: clock.virtual ? 6 * 3_600_000 : 60_000,
    });
    const openJobs = () => db.prepare(`SELECT count(*) FROM jobs WHERE shop = ? AND status IN ('pending', 'running', 'failed')`).pluck().get(SHOP) as number;
    /** Runs jobs until none is left, letting the clock reach each deferred job's run_at. */
    const settle = async (wallBudgetMs: number) => {
      const until = performance.now() + wallBudgetMs;
      for (;;) {
        await runner.drain();
        if (openJobs() === 0) return;
        if (performance.now() > until) throw new Error(`jobs still open after ${wallBudgetMs} ms: ${JSON.stringify(db.prepare(`SELECT type, status, attempts, run_at, last_error FROM jobs WHERE shop = ? AND status != 'done'`).all(SHOP))}`);
        const next = db.prepare(`SELECT min(coalesce(run_at, created_at)) FROM jobs WHERE shop = ? AND status IN ('pending', 'failed')`).pluck().get(SHOP) as string | null;
        await clock.waitUntil(next ? Date.parse(next) : clock.now() + 1000);
      }
    };

    // ---- Before: the shop tagged and its metafields written, workflows listening ----
    publishSegments('v1', segV1);
    publishChurn('v1', churnV1);
    for (const trigger of ['customer-segment-changed', 'churn-risk-rose', 'model-drift-detected', 'stock-out-predicted']) {
      expect((await post('/flow/lifecycle', flowLifecycleRequest({ secret: TEST_SECRET, shop: SHOP, shopId: 1, flowTriggerDefinitionId: trigger, hasEnabledFlow: true, timestamp: new Date(clock.now()).toISOString() }))).status).toBe(200);
    }
    await enqueueCustomerWriteBack(be.deps, SHOP, 'baseline');
    await settle(120_000);
    customers.forEach((c, i) => expect(sim.state(SHOP).customerTags.get(Number(c)) ?? []).toContain(tagOf(segV1(i))));
    const since = sim.calls.length;
    const okCalls = (op: string): RecordedCall[] => sim.calls.slice(since).filter((c) => c.operationName === op && c.outcome === 'ok');
    const triggersBefore = sim.state(SHOP).flowTriggers.length;
    outcomes.length = 0;

    // ---- The outage starts; a retrain lands and workflows keep calling ----
    const t0 = clock.now();
    outage = { start: t0, end: t0 + OUTAGE_MS };
    publishSegments('v2', segV2);
    publishChurn('v2', churnV2);
    await enqueueCustomerWriteBack(be.deps, SHOP, 'champion changed');
    expect(await fireModelDrift(be.deps, SHOP, { model: 'churn', driftShare: 0.6, reportId: 'r1' })).toMatchObject({ status: 'queued' });
    expect(await fireModelDrift(be.deps, SHOP, { model: 'segment', driftShare: 0.7, reportId: 'r2' })).toMatchObject({ status: 'queued' });
    const stock = store.products.map((p, k) => ({ productId: String(p.id), daysUntilStockOut: 2 + k, suggestedOrderQuantity: 10 * (k + 1), stockoutDate: `2026-10-0${k + 1}` }));
    expect(await fireStockOut(be.deps, SHOP, stock)).toEqual({ queued: stock.length, duplicate: 0, notListening: 0 });

    const flowAnswers: { status: number; ms: number }[] = [];
    const vips = customers.filter((_, i) => isVip(i));
    const retouched = customers.filter((_, i) => isRetouch(i));
    const sentOrders = store.orders.slice(0, 3).map((o) => String(o.id));
    for (const c of vips) {
      const req = action('tag-customer-ml-segment', `vip-${c}`, { customer_id: c, tag_prefix: 'vip-' });
      flowAnswers.push(await post('/flow/actions/tag-customer-ml-segment', req), await post('/flow/actions/tag-customer-ml-segment', req)); // and Flow's retry of it
    }
    for (const c of retouched) flowAnswers.push(await post('/flow/actions/tag-customer-ml-segment', action('tag-customer-ml-segment', `again-${c}`, { customer_id: c })));
    for (const o of sentOrders) flowAnswers.push(await post('/flow/actions/send-order-to-shopml', action('send-order-to-shopml', `order-${o}`, { order_id: o })));
    // Flow is answered at once while the Admin API is down: the work is queued.
    expect(flowAnswers.map((a) => a.status)).toEqual(flowAnswers.map(() => 200));
    const jobsQueued = openJobs();

    await settle(size(50_000, 900_000));
    const doneAt = clock.now();

    // ---- None lost: every job done, none dead, none waiting ----
    const jobs = db.prepare(`SELECT type, status, attempts, last_error FROM jobs WHERE shop = ? AND created_at >= ?`).all(SHOP, new Date(t0).toISOString()) as { type: string; status: string; attempts: number }[];
    expect(jobs.filter((j) => j.status !== 'done')).toEqual([]);
    const deferrals = outcomes.filter((o) => o.state === 'deferred').length;
    expect(deferrals).toBeGreaterThan(0); // the outage did reach the jobs…
    expect(outcomes.filter((o) => o.state === 'failed' || o.state === 'dead')).toEqual([]); // …and used up no attempt
    expect(proxy.counts.reset ?? 0).toBeGreaterThan(0);
    expect(proxy.counts['503'] ?? 0).toBeGreaterThan(0);
    const throttled = sim.calls.slice(since).filter((c) => c.outcome === 'throttled').length;
    expect(throttled).toBeGreaterThan(0);

    // ---- None duplicated: each change sent exactly once (only successful calls counted) ----
    const changed = customers.filter((_, i) => segV2(i) !== segV1(i));
    const risers = customers.filter((_, i) => churnV1(i) < 0.75 && churnV2(i) >= 0.75);
    const byCustomer = (calls: RecordedCall[]) => calls.map((c) => `${String(c.variables.id)} ${(c.variables.tags as string[]).join(',')}`).sort();
    const idx = (c: string) => customers.indexOf(c);
    expect(byCustomer(okCalls('TagsRemove'))).toEqual(changed.map((c) => `${gid(c)} ${tagOf(segV1(idx(c)))}`).sort());
    expect(byCustomer(okCalls('TagsAdd'))).toEqual([
      ...changed.map((c) => `${gid(c)} ${tagOf(segV2(idx(c)))}`),
      ...vips.map((c) => `${gid(c)} ${tagOf(segV2(idx(c)), 'vip-')}`),
    ].sort());
    const metafieldOwners = okCalls('MetafieldsSet').flatMap((c) => [...new Set((c.variables.metafields as { ownerId: string }[]).map((m) => m.ownerId))]).sort();
    expect(metafieldOwners).toEqual([...new Set([...changed, ...risers])].map(gid).sort());
    const fired = sim.state(SHOP).flowTriggers.slice(triggersBefore);
    const firedKeys = fired.map((f) => `${f.handle} ${JSON.stringify(f.payload)}`).sort();
    expect(firedKeys).toEqual([
      ...changed.map((c) => `customer-segment-changed ${JSON.stringify({ customer_id: Number(c), Segment: segV2(idx(c)), 'Previous segment': segV1(idx(c)) })}`),
      ...risers.map((c) => `churn-risk-rose ${JSON.stringify({ customer_id: Number(c), 'Churn score': 0.9 })}`),
      `model-drift-detected ${JSON.stringify({ Model: 'churn', 'Drift share': 0.6 })}`,
      `model-drift-detected ${JSON.stringify({ Model: 'segment', 'Drift share': 0.7 })}`,
      ...stock.map((s) => `stock-out-predicted ${JSON.stringify({ product_id: Number(s.productId), 'Days until stock out': s.daysUntilStockOut, 'Suggested order quantity': s.suggestedOrderQuantity })}`),
    ].sort());
    expect(okCalls('FlowTriggerReceive')).toHaveLength(fired.length);
    // Orders sent by "Send order to shopml": each stored once.
    expect(db.prepare(`SELECT order_id FROM orders WHERE shop = ? ORDER BY order_id`).pluck().all(SHOP)).toEqual([...sentOrders].sort());
    expect(db.prepare(`SELECT count(*) FROM events WHERE shop = ? AND source = 'flow'`).pluck().get(SHOP)).toBe(sentOrders.length);

    // ---- The shop ends where it should: every customer's tags and metafields those of v2 ----
    customers.forEach((c, i) => {
      const tags = sim.state(SHOP).customerTags.get(Number(c)) ?? [];
      expect(tags.filter((t) => t.startsWith('shopml:'))).toEqual([tagOf(segV2(i))]);
      if (isVip(i)) expect(tags.filter((t) => t.startsWith('vip-'))).toEqual([tagOf(segV2(i), 'vip-')]);
      const mf = (key: string) => sim.state(SHOP).metafields.find((m) => m.ownerId === gid(c) && m.key === key)?.value;
      expect(mf('segment')).toBe(segV2(i));
      expect(Number(mf('churn_risk'))).toBeCloseTo(churnV2(i), 4);
    });
    // shopml's own record of what it applied agrees with Shopify (no lost update between concurrent jobs).
    const recorded = db.prepare(`SELECT customer_id AS c, prefix AS p, tag AS t FROM flow_customer_tags WHERE shop = ?`).all(SHOP) as { c: string; p: string; t: string }[];
    for (const r of recorded) expect(sim.state(SHOP).customerTags.get(Number(r.c)) ?? []).toContain(r.t);
    expect(recorded.filter((r) => r.p === 'vip-').map((r) => r.c).sort()).toEqual([...vips].sort());

    const injected = Object.entries(proxy.counts).filter(([k]) => k !== 'forwarded').reduce((a, [, n]) => a + n, 0);
    reportFigures('faults.admin-outage', {
      clock: clock.virtual ? 'virtual' : 'wall',
      customers: N,
      outageSeconds: OUTAGE_MS / 1000,
      throttleSeconds: THROTTLE_MS / 1000,
      jobsQueuedDuringOutage: jobsQueued,
      jobsDone: jobs.length,
      jobsLost: jobs.filter((j) => j.status !== 'done').length,
      maxAttemptsCounted: Math.max(...jobs.map((j) => j.attempts)),
      deferrals,
      requestsRefusedByOutage: injected,
      refusedByKind: Object.fromEntries(Object.entries(proxy.counts).filter(([k]) => k !== 'forwarded')),
      throttledAnswers: throttled,
      throttleStartedAfterSeconds: throttle ? Math.round(((throttle as { start: number }).start - t0) / 1000) : null,
      okCallsAfterOutageStart: sim.calls.slice(since).filter((c) => c.outcome === 'ok').length,
      expected: { tagsRemove: changed.length, tagsAdd: changed.length + vips.length, metafieldOwners: new Set([...changed, ...risers]).size, triggers: fired.length },
      duplicates: 0,
      flowActionAnswerMedianMs: pct(flowAnswers.map((a) => a.ms), 0.5),
      flowActionAnswerMaxMs: pct(flowAnswers.map((a) => a.ms), 1),
      allDoneSecondsAfterOutageEnd: Math.round((doneAt - outage.end) / 1000),
      wallSeconds: Number(((performance.now() - wall0) / 1000).toFixed(1)),
    });
  }, size(60_000, 1_200_000));
});

// ---------------------------------------------------------------------------------------------
// 2. The disk full, or the database locked by another connection
// ---------------------------------------------------------------------------------------------

interface StoreFault {
  name: 'disk-full' | 'locked';
  mode: string;
  /** Where the database and artifacts live (a small tmpfs for the disk), or null for the test's temp folder. */
  dir: string | null;
  /** Webhook writes in their own thread (the default), or on the main connection (the page-count fallback needs it). */
  webhookWriterThread: boolean;
  /** The fault refuses every write (a full filesystem, a held lock); the page-count fallback refuses only writes that need a new page. */
  refusesEveryWrite: boolean;
  apply(be: TestBackend): void;
  release(): void;
  cleanup(): void;
}

/** Every table's row count and a hash of its rows: equal digests mean not a byte of data changed. */
function storeDigest(db: TestBackend['deps']['db']): Record<string, string> {
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[];
  const out: Record<string, string> = {};
  for (const t of tables) {
    const rows = (db.prepare(`SELECT * FROM "${t}"`).raw().all() as unknown[][]).map((r) => JSON.stringify(r, (_k, v) => (Buffer.isBuffer(v) ? v.toString('base64') : typeof v === 'bigint' ? String(v) : v))).sort();
    out[t] = `${rows.length}:${createHash('sha256').update(rows.join('\n')).digest('hex').slice(0, 16)}`;
  }
  return out;
}

describe('the disk full or the database locked: 503 + Retry-After, storefront served, nothing half-written, recovery', () => {
  const DELIVERIES = size(40, 400);
  const FLOW_ACTIONS = size(8, 60);
  const RECS = size(80, 800);

  async function storeFaultScenario(fault: StoreFault) {
    const wall0 = performance.now();
    const store = generateStore({ seed: 77, shop: SHOP, customers: 150, products: 40, days: 120 });
    // Production settings, busy_timeout included (SQLITE_BUSY_TIMEOUT_MS, 2 s).
    const env: Record<string, string> = fault.dir ? { DATABASE_PATH: join(fault.dir, 'shopml.db'), ARTIFACTS_DIR: join(fault.dir, 'artifacts') } : {};
    const be = await startTestBackend(env, { jobs: false, webhookWriterThread: fault.webhookWriterThread });
    const db = be.deps.db;
    try {
      // A shop with history, an installed token and a trained recommender as champion.
      db.transaction(() => {
        for (const p of store.products) recordEvent(db, be.deps.keys, { shop: SHOP, topic: 'products/create', source: 'webhook', sourceId: `p-${p.id}`, receivedAt: p.createdAt, payloadSha256: 'x', event: { type: 'product', product: normalizeProduct(productPayload(p, store)) } });
        for (const o of store.orders) recordEvent(db, be.deps.keys, { shop: SHOP, topic: 'orders/create', source: 'webhook', sourceId: `o-${o.id}`, receivedAt: o.createdAt, payloadSha256: 'x', event: { type: 'order', order: normalizeOrder(orderPayload(o, store), SHOP, be.deps.keys) } });
      })();
      storeOfflineToken(db, be.deps.keys, SHOP, 'shpat_faults_test_token', 'read_orders,write_customers', new Date().toISOString());
      const trained = await trainShop({ db, shop: SHOP, kinds: ['recommend'], seed: 1, artifactsDir: be.config.artifactsDir });
      const champion = trained.runs[0]!.version!;
      const active = store.products.filter((p) => p.status === 'ACTIVE').map((p) => String(p.id));
      const buyers = [...new Set(store.orders.filter((o) => o.customerId !== null).map((o) => String(o.customerId)))];

      let nextId = 8_800_000_000;
      const tpl = store.orders.find((o) => o.customerId !== null && o.cancelledAt === null)!;
      const newOrder = (): { id: string; body: string } => {
        const id = nextId++;
        const now = new Date().toISOString();
        const o = { ...tpl, id, name: `#${id}`, orderNumber: id, createdAt: now, updatedAt: now, processedAt: now, lines: tpl.lines.map((l, k) => ({ ...l, id: id * 10 + k })) };
        return { id: String(id), body: JSON.stringify(orderPayload(o, store)) };
      };
      const deliver = async (d: { id: string; body: string }) => {
        const t0 = performance.now();
        const res = await fetch(`${be.url}/webhooks`, { method: 'POST', body: d.body, headers: webhookHeaders({ secret: TEST_SECRET, shop: SHOP, topic: 'orders/create', rawBody: d.body, webhookId: `fault-${d.id}` }) });
        const body = (await res.json().catch(() => null)) as { outcome?: string } | null;
        return { id: d.id, status: res.status, retryAfter: res.headers.get('retry-after'), outcome: body?.outcome, ms: performance.now() - t0 };
      };
      const flowAction = async (runId: string) => {
        const req = flowActionRequest({ secret: TEST_SECRET, shop: SHOP, shopId: 1, handle: 'tag-customer-ml-segment', actionRunId: runId, actionDefinitionId: 'Tag customer with ML segment', properties: { customer_id: buyers[0]! } });
        const t0 = performance.now();
        const res = await fetch(`${be.url}/flow/actions/tag-customer-ml-segment`, { method: 'POST', headers: req.headers, body: req.body });
        await res.body?.cancel();
        return { id: runId, status: res.status, retryAfter: res.headers.get('retry-after'), ms: performance.now() - t0 };
      };
      const lifecycle = async (at: string) => {
        const req = flowLifecycleRequest({ secret: TEST_SECRET, shop: SHOP, shopId: 1, flowTriggerDefinitionId: 'customer-segment-changed', hasEnabledFlow: true, timestamp: at });
        const t0 = performance.now();
        const res = await fetch(`${be.url}/flow/lifecycle`, { method: 'POST', headers: req.headers, body: req.body });
        await res.body?.cancel();
        return { id: 'lifecycle', status: res.status, retryAfter: res.headers.get('retry-after'), ms: performance.now() - t0 };
      };
      const recs = async (k: number) => {
        const q = appProxyQuery({ secret: TEST_SECRET, shop: SHOP, loggedInCustomerId: k % 2 ? buyers[k % buyers.length]! : '', extra: { limit: '6', product_id: active[k % active.length]! } });
        const t0 = performance.now();
        const res = await fetch(`${be.url}/proxy/recommendations?${q}`);
        const body = (await res.json()) as { variant: string; model_version: string; products: unknown[] };
        return { status: res.status, ms: performance.now() - t0, variant: body.variant, version: body.model_version, n: body.products.length };
      };
      const track = async () => {
        const q = appProxyQuery({ secret: TEST_SECRET, shop: SHOP, loggedInCustomerId: buyers[1]! });
        const res = await fetch(`${be.url}/proxy/events?${q}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ consent: true, events: [{ id: `fault-click-${nextId++}`, type: 'click', product_id: active[0] }] }) });
        return res.status;
      };
      const inPool = async <T, R>(items: T[], width: number, fn: (t: T) => Promise<R>): Promise<R[]> => {
        const out: R[] = new Array(items.length);
        let next = 0;
        await Promise.all(Array.from({ length: width }, async () => { while (next < items.length) { const i = next++; out[i] = await fn(items[i]!); } }));
        return out;
      };
      const eventsOf = (id: string) => db.prepare(`SELECT count(*) FROM events WHERE shop = ? AND source_id = ?`).pluck().get(SHOP, `fault-${id}`) as number;
      const actionRunsOf = (id: string) => db.prepare(`SELECT count(*) FROM flow_action_runs WHERE shop = ? AND action_run_id = ?`).pluck().get(SHOP, id) as number;

      // Before: deliveries stored, recommendations served (the champion loaded into memory).
      const before = await inPool(Array.from({ length: 10 }, newOrder), 5, deliver);
      expect(before.map((r) => r.status)).toEqual(before.map(() => 200));
      // The rollout keeps a holdout on popularity; everyone else gets the champion. Never a fallback.
      const served = (r: { status: number; variant: string; version: string; n: number }) =>
        r.status === 200 && r.n > 0 && (r.variant === 'holdout' ? r.version === 'popularity' : r.variant === 'champion' && r.version === champion);
      const warm = await Promise.all(Array.from({ length: 8 }, (_, k) => recs(k)));
      expect(warm.filter(served)).toHaveLength(warm.length);
      expect(warm.some((r) => r.version === champion)).toBe(true);
      await serveStateFor(be.deps).flush();
      await be.deps.writer.drain();
      const ordersBefore = db.prepare('SELECT count(*) FROM orders WHERE shop = ?').pluck().get(SHOP) as number;
      const snapshot = storeDigest(db);

      // ---- The fault: webhooks, Flow and the storefront all at once ----
      fault.apply(be);
      const probing = be.deps.writer.write((w) => w.prepare(`INSERT INTO shops (shop, installed_at, updated_at) VALUES ('probe-${fault.name}.myshopify.com', 'x', 'x')`).run())
        .then(() => 'written', (err: { code?: string }) => err.code ?? String(err));
      const batch = Array.from({ length: DELIVERIES }, newOrder);
      const runIds = Array.from({ length: FLOW_ACTIONS }, (_, k) => `fault-run-${k}`);
      const lifecycleAt = new Date().toISOString();
      const tFault = performance.now();
      const [during, flowDuring, lifeDuring, recsDuring, trackDuring] = await Promise.all([
        inPool(batch, 16, deliver),
        inPool(runIds, 8, flowAction),
        lifecycle(lifecycleAt),
        inPool(Array.from({ length: RECS }, (_, k) => k), 4, recs),
        inPool([1, 2, 3], 1, track),
      ]);
      const probe = await probing; // what the store answered a plain write: the fault's own error code
      const faultSeconds = (performance.now() - tFault) / 1000;
      await serveStateFor(be.deps).flush(); // the serving counts cannot be written either: dropped, never half-written

      // Webhooks and Flow: 200 only for what was stored, otherwise 503 with Retry-After — within Shopify's 5 s.
      const answers = [...during, ...flowDuring, lifeDuring];
      for (const r of answers) {
        expect([200, 503]).toContain(r.status);
        if (r.status === 503) expect(Number(r.retryAfter)).toBeGreaterThan(0);
        expect(r.ms).toBeLessThan(5000);
      }
      for (const r of during) expect(eventsOf(r.id)).toBe(r.status === 200 ? 1 : 0);
      for (const r of flowDuring) expect(actionRunsOf(r.id)).toBe(r.status === 200 ? 1 : 0);
      const refused = answers.filter((r) => r.status === 503).length;
      expect(refused).toBeGreaterThan(0);
      const digestDuring = storeDigest(db);
      if (fault.refusesEveryWrite) {
        // Nothing could be stored, so nothing was acknowledged — and not a byte of the database changed.
        expect(refused).toBe(answers.length);
        expect(digestDuring).toEqual(snapshot);
        expect(probe).toBe(fault.name === 'locked' ? 'SQLITE_BUSY' : 'SQLITE_FULL');
      }
      // The storefront: every answer as without the fault, and without waiting on the lock.
      expect(recsDuring.filter((r) => !served(r))).toEqual([]);
      expect(recsDuring.filter((r) => r.version === champion).length).toBeGreaterThan(recsDuring.length / 2);
      expect(pct(recsDuring.map((r) => r.ms), 0.99)).toBeLessThan(be.config.busyTimeoutMs / 2);
      expect(trackDuring).toEqual([204, 204, 204]); // tracking never breaks the page (counted as dropped)
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');

      // ---- The space / the lock is back: Shopify and Flow deliver again ----
      fault.release();
      const tRelease = performance.now();
      let firstOk = -1;
      for (let i = 0; i < 200 && firstOk < 0; i++) {
        if ((await deliver(batch[0]!)).status === 200) firstOk = performance.now() - tRelease;
        else await new Promise((r) => setTimeout(r, 25));
      }
      expect(firstOk).toBeGreaterThanOrEqual(0);
      const again = await inPool(batch, 16, deliver);
      expect(again.map((r) => r.status)).toEqual(batch.map(() => 200));
      const flowAgain = await inPool(runIds, 4, flowAction);
      expect(flowAgain.map((r) => r.status)).toEqual(runIds.map(() => 200));
      expect((await lifecycle(lifecycleAt)).status).toBe(200);
      // …and once more (Shopify and Flow deliver at least once): duplicates, nothing new.
      const third = await inPool(batch, 16, deliver);
      expect(third.map((r) => r.outcome)).toEqual(batch.map(() => 'duplicate'));
      expect((await inPool(runIds, 4, flowAction)).map((r) => r.status)).toEqual(runIds.map(() => 200));

      // Stored exactly once.
      const once = batch.filter((b) => eventsOf(b.id) === 1).length;
      expect(once).toBe(batch.length);
      expect(db.prepare('SELECT count(*) FROM orders WHERE shop = ?').pluck().get(SHOP)).toBe(ordersBefore + batch.length);
      expect(runIds.filter((id) => actionRunsOf(id) === 1)).toHaveLength(FLOW_ACTIONS);
      expect(db.prepare(`SELECT count(*) FROM jobs WHERE shop = ? AND dedupe_key LIKE 'flow-action:fault-run-%'`).pluck().get(SHOP)).toBe(FLOW_ACTIONS);
      expect(db.prepare(`SELECT has_enabled_flow FROM flow_trigger_lifecycle WHERE shop = ?`).pluck().all(SHOP)).toEqual([1]);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(served(await recs(1))).toBe(true);

      const lat = recsDuring.map((r) => r.ms);
      reportFigures(`faults.store-${fault.name}`, {
        mode: fault.mode,
        busyTimeoutMs: be.config.busyTimeoutMs,
        writeError: probe,
        faultSeconds: Number(faultSeconds.toFixed(2)),
        webhooksDuringFault: during.length,
        webhooks503WithRetryAfter: during.filter((r) => r.status === 503 && Number(r.retryAfter) > 0).length,
        webhook503MaxMs: pct(during.filter((r) => r.status === 503).map((r) => r.ms), 1),
        flowRequestsDuringFault: flowDuring.length + 1,
        flow503WithRetryAfter: [...flowDuring, lifeDuring].filter((r) => r.status === 503 && Number(r.retryAfter) > 0).length,
        acknowledgedDuringFault: answers.length - refused,
        storefrontRequestsDuringFault: recsDuring.length,
        storefrontServedAsUsual: recsDuring.filter(served).length,
        storefrontFromChampion: recsDuring.filter((r) => r.version === champion).length,
        storefrontP50Ms: pct(lat, 0.5),
        storefrontP99Ms: pct(lat, 0.99),
        storefrontMaxMs: pct(lat, 1),
        tablesChangedDuringFault: Object.keys(snapshot).filter((t) => snapshot[t] !== digestDuring[t]).length,
        firstAcceptedMsAfterRecovery: Math.round(firstOk),
        redeliveredStoredExactlyOnce: `${once}/${batch.length}`,
        integrity: 'ok',
        wallSeconds: Number(((performance.now() - wall0) / 1000).toFixed(1)),
      });
    } finally {
      fault.release();
      await be.stop();
      fault.cleanup();
    }
  }

  it('disk full: a real filesystem filled to its last byte, then freed', async () => {
    // SHOPML_FAULTS_DISK=page-count forces the fallback used where no tmpfs can be mounted.
    const disk = process.env.SHOPML_FAULTS_DISK === 'page-count' ? null : mountSmallDisk(32);
    if (!disk && process.env.CI === 'true') throw new Error('disk-full test: cannot mount a tmpfs here (needs root or passwordless sudo)');
    let released = false;
    let limited: TestBackend['deps']['db'] | null = null;
    await storeFaultScenario(disk
      ? {
        name: 'disk-full', mode: 'tmpfs of 32 MiB filled to the last byte by a ballast file', dir: disk.dir, webhookWriterThread: true, refusesEveryWrite: true,
        apply(be) {
          // An empty WAL first: a WAL keeps its size once grown, and the next commit must need new space.
          be.deps.db.pragma('wal_checkpoint(TRUNCATE)');
          expect(disk.fill()).toBeGreaterThan(0);
          expect(statfsSync(disk.dir).bavail).toBe(0);
        },
        release() { if (!released) { released = true; disk.free(); } },
        cleanup() { disk.release(); },
      }
      : {
        // No filesystem to fill: SQLite's own size limit, on the main connection (so webhooks are written there too).
        name: 'disk-full', mode: 'PRAGMA max_page_count on the main connection (no tmpfs could be mounted)', dir: null, webhookWriterThread: false, refusesEveryWrite: false,
        apply(be) {
          limited = be.deps.db;
          limited.exec('VACUUM'); // no free pages left to write into
          limited.pragma(`max_page_count = ${limited.pragma('page_count', { simple: true })}`);
        },
        release() { if (!released && limited) { released = true; limited.pragma('max_page_count = 1073741823'); } },
        cleanup() {},
      });
  }, size(60_000, 600_000));

  it('locked: another connection holds the write lock for longer than busy_timeout', async () => {
    let locker: InstanceType<typeof Database> | null = null;
    await storeFaultScenario({
      name: 'locked', mode: 'BEGIN IMMEDIATE held by another connection for the whole burst', dir: null, webhookWriterThread: true, refusesEveryWrite: true,
      apply(be) {
        locker = new Database(be.config.databasePath);
        locker.exec('BEGIN IMMEDIATE');
      },
      release() {
        if (!locker) return;
        locker.exec('ROLLBACK');
        locker.close();
        locker = null;
      },
      cleanup() {},
    });
  }, size(60_000, 600_000));
});

// ---------------------------------------------------------------------------------------------
// 3. Clock skew
// ---------------------------------------------------------------------------------------------

describe('clock skew: inside Shopify\'s tolerance accepted, beyond it refused', () => {
  let be: TestBackend;
  const store = generateStore({ seed: 78, shop: SHOP, customers: 30, products: 10, days: 60 });
  afterAll(async () => { await be?.stop(); });
  beforeAll(async () => {
    be = await startTestBackend({}, { jobs: false });
    storeOfflineToken(be.deps.db, be.deps.keys, SHOP, 'shpat_clock_skew', 'read_orders', new Date().toISOString());
  });

  /**
   * The tolerances are checked to the second against the wall clock: run `fn` at the start of a
   * second, and again if the second turned before it finished (the answer could straddle it).
   */
  async function withinOneSecond<T>(fn: (nowSec: number) => Promise<T>): Promise<T> {
    for (let i = 0; i < 10; i++) {
      const ms = Date.now() % 1000;
      if (ms > 600) await new Promise((r) => setTimeout(r, 1005 - ms));
      const s0 = Math.floor(Date.now() / 1000);
      const r = await fn(s0);
      if (Math.floor(Date.now() / 1000) === s0) return r;
    }
    throw new Error('could not finish a check within one second');
  }

  it(`app proxy: a timestamp up to ${PROXY_CLOCK_TOLERANCE_SEC} s off accepted, ${PROXY_CLOCK_TOLERANCE_SEC + 1} s and more refused (both routes, and the library agrees)`, async () => {
    const T = PROXY_CLOCK_TOLERANCE_SEC;
    const cases = [-(T - 1), T - 1, -T, T, -(T + 1), T + 1, -3600, 3600];
    const results: Record<string, { recommendations: number; events: number; library: boolean }> = {};
    for (const skew of cases) {
      results[String(skew)] = await withinOneSecond(async (now) => {
        const q = appProxyQuery({ secret: TEST_SECRET, shop: SHOP, timestamp: now + skew, extra: { limit: '4' } });
        const recs = await fetch(`${be.url}/proxy/recommendations?${q}`);
        await recs.body?.cancel();
        const eq = appProxyQuery({ secret: TEST_SECRET, shop: SHOP, timestamp: now + skew });
        const events = await fetch(`${be.url}/proxy/events?${eq}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ consent: false, events: [] }) });
        const library = await be.deps.verifier.appProxy(Object.fromEntries(q));
        return { recommendations: recs.status, events: events.status, library: library.ok };
      });
    }
    for (const skew of cases) {
      const inside = Math.abs(skew) <= T;
      expect(results[String(skew)]).toEqual({ recommendations: inside ? 200 : 401, events: inside ? 204 : 401, library: inside });
    }
    reportFigures('faults.clock-skew.app-proxy', { toleranceSeconds: T, results });
  });

  it(`session tokens: exp and nbf ${SESSION_TOKEN_CLOCK_TOLERANCE_SEC - 1} s past accepted, ${SESSION_TOKEN_CLOCK_TOLERANCE_SEC + 1} s refused; a token without exp refused`, async () => {
    const T = SESSION_TOKEN_CLOCK_TOLERANCE_SEC;
    const status = async (claims: { iat: number; nbf?: number; exp?: number }, dropExp = false) => {
      let token = sessionToken({ apiKey: TEST_API_KEY, secret: TEST_SECRET, shop: SHOP, ...claims });
      if (dropExp) {
        const [h, p] = token.split('.');
        const body = JSON.parse(Buffer.from(p!, 'base64url').toString());
        delete body.exp;
        const input = `${h}.${Buffer.from(JSON.stringify(body)).toString('base64url')}`;
        token = `${input}.${createHmac('sha256', TEST_SECRET).update(input).digest('base64url')}`;
      }
      const res = await fetch(`${be.url}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } });
      await res.body?.cancel();
      return res.status;
    };
    const cases: [string, (now: number) => { iat: number; nbf?: number; exp?: number }, number][] = [
      [`expired ${T - 1} s ago`, (n) => ({ iat: n - 60 - (T - 1), exp: n - (T - 1) }), 200],
      [`expired ${T} s ago`, (n) => ({ iat: n - 60 - T, exp: n - T }), 401],
      [`expired ${T + 1} s ago`, (n) => ({ iat: n - 60 - (T + 1), exp: n - (T + 1) }), 401],
      [`valid from ${T - 1} s ahead`, (n) => ({ iat: n + T - 1, nbf: n + T - 1, exp: n + T - 1 + 60 }), 200],
      [`valid from ${T} s ahead`, (n) => ({ iat: n + T, nbf: n + T, exp: n + T + 60 }), 200],
      [`valid from ${T + 1} s ahead`, (n) => ({ iat: n + T + 1, nbf: n + T + 1, exp: n + T + 1 + 60 }), 401],
      ['fresh', (n) => ({ iat: n }), 200],
    ];
    const results: Record<string, number> = {};
    for (const [name, claims, want] of cases) {
      results[name] = await withinOneSecond((now) => status(claims(now)));
      expect({ name, status: results[name] }).toEqual({ name, status: want });
    }
    results['no exp claim'] = await status({ iat: Math.floor(Date.now() / 1000) }, true);
    expect(results['no exp claim']).toBe(401);
    reportFigures('faults.clock-skew.session-token', { toleranceSeconds: T, results });
  });

  it('webhooks: X-Shopify-Triggered-At is recorded, not enforced — late retries and skewed senders are stored, replays change nothing, stale snapshots never overwrite', async () => {
    const db = be.deps.db;
    const order = store.orders.find((o) => o.customerId !== null && o.cancelledAt === null)!;
    const send = async (topic: string, payload: unknown, webhookId: string, triggeredAt: string) => {
      const body = JSON.stringify(payload);
      const res = await fetch(`${be.url}/webhooks`, { method: 'POST', body, headers: webhookHeaders({ secret: TEST_SECRET, shop: SHOP, topic, rawBody: body, webhookId, triggeredAt }) });
      return ((await res.json()) as { outcome: string }).outcome;
    };
    const iso = (ms: number) => new Date(ms).toISOString();
    const now = Date.now();
    const updated = Date.parse(order.updatedAt);
    const at = (id: string) => db.prepare('SELECT triggered_at FROM events WHERE shop = ? AND source_id = ?').pluck().get(SHOP, id);
    const orderRow = () => db.prepare('SELECT updated_at, financial_status FROM orders WHERE shop = ? AND order_id = ?').get(SHOP, String(order.id));

    // Shopify's last retry comes about 4 h after the event, with the original Triggered-At.
    expect(await send('orders/create', orderPayload(order, store), 'skew-late-retry', iso(now - (4 * 3600 - 60) * 1000))).toBe('applied');
    expect(at('skew-late-retry')).toBe(iso(now - (4 * 3600 - 60) * 1000));
    const stored = orderRow();
    const digest = storeDigest(db);
    // A replay of the same delivery (a captured body re-sent with a fresh Triggered-At): a duplicate, nothing changes.
    expect(await send('orders/create', orderPayload(order, store), 'skew-late-retry', iso(now))).toBe('duplicate');
    expect(storeDigest(db)).toEqual(digest);
    // A newer snapshot from a sender whose clock runs 10 minutes ahead: stored.
    const newer = { ...order, updatedAt: iso(updated + 3600_000), financialStatus: 'refunded' as const };
    expect(await send('orders/updated', orderPayload(newer, store), 'skew-ahead', iso(now + 600_000))).toBe('applied');
    expect(at('skew-ahead')).toBe(iso(now + 600_000));
    const newest = orderRow();
    expect(newest).not.toEqual(stored);
    // An older snapshot arriving later — however fresh its Triggered-At, even under a new delivery
    // id (the header is not signed): logged as stale, the newer state stays.
    expect(await send('orders/updated', orderPayload({ ...order, updatedAt: iso(updated + 60_000) }, store), 'skew-stale', iso(now + 3600_000))).toBe('stale');
    expect(orderRow()).toEqual(newest);
    // A Triggered-At that is not a date is not kept (it is not signed; it never decides anything).
    const other = store.orders.find((o) => o.id !== order.id && o.cancelledAt === null)!;
    expect(await send('orders/create', orderPayload(other, store), 'skew-garbage', 'yesterday-ish')).toBe('applied');
    expect(at('skew-garbage')).toBeNull();
    reportFigures('faults.clock-skew.webhooks', {
      lateRetry4h: 'applied', replay: 'duplicate, 0 tables changed', senderAhead10min: 'applied', staleSnapshot: 'stale (not applied)', unparsableTriggeredAt: 'applied, stored as null',
    });
  });
});
