// The loop closes by itself: a real backend (SQLite file, job runner, scheduler) and the Admin API
// simulator, with a simulated clock. Install by session token → catalog and history backfilled by
// a job → the volume trigger schedules a training → champions published to Shopify (tags,
// metafields, stock-out triggers) → live signed orders → retraining → the gate's challengers meet
// traffic (canary) or run in shadow → the scheduled policy decides → changed champions are
// re-published → the monitor stores its report. No step is called by hand except the scheduler's
// tick and the runner's drain (so the test need not wait for timers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startAdminSimulator, type AdminSimulator } from '../../simulator/admin-server.ts';
import { loadFlowTriggers } from '../../simulator/flow-extensions.ts';
import { flowLifecycleRequest, sessionToken } from '../../simulator/sign.ts';
import { sendWebhook } from '../../simulator/webhook-sender.ts';
import { orderPayload } from '../../simulator/rest-payloads.ts';
import { generateStore } from '../../simulator/store.ts';
import type { SimOrder } from '../../simulator/types.ts';
import { startTestBackend, TEST_API_KEY, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';
import { currentAliases } from '../../backend/src/registry/aliases.ts';
import { activeExperiment } from '../../backend/src/rollout/experiments.ts';
import { listShadows } from '../../backend/src/rollout/shadow.ts';
import { enqueuePeriodicJobs, POLICY_JOB } from '../../backend/src/jobs/loop.ts';
import { REGISTRY_KINDS } from '../../backend/src/registry/versions.ts';

const EXTENSIONS = fileURLToPath(new URL('../../extensions', import.meta.url));
const DAY = 86_400_000;
const full = generateStore({ seed: 31, customers: 250, products: 40, days: 400, endDate: '2026-11-01' });
const SHOP = full.shop;
const start = Date.parse(full.orders[0]!.createdAt);
const dayOf = (o: SimOrder) => (Date.parse(o.createdAt) - start) / DAY;
const history = full.orders.filter((o) => dayOf(o) < 240);
const live1 = full.orders.filter((o) => dayOf(o) >= 240 && dayOf(o) < 270);
const live2 = full.orders.filter((o) => dayOf(o) >= 270);

let sim: AdminSimulator;
let be: TestBackend;
let clock = start + 240 * DAY;

const jobsOf = (type: string) => be.deps.db.prepare('SELECT id, status, last_error AS error, result FROM jobs WHERE shop = ? AND type = ? ORDER BY id').all(SHOP, type) as { id: number; status: string; error: string | null; result: string | null }[];
const calls = (op: string) => sim.calls.filter((c) => c.operationName === op && c.outcome === 'ok');
async function drain() {
  await be.jobs!.runner.drain();
  const dead = be.deps.db.prepare(`SELECT type, last_error FROM jobs WHERE status IN ('dead', 'failed')`).all();
  expect(dead).toEqual([]);
}
async function deliver(orders: SimOrder[]) {
  for (const o of orders) {
    const r = await sendWebhook({ url: `${be.url}/webhooks`, secret: TEST_SECRET, shop: SHOP, topic: 'orders/create', payload: orderPayload(o, full), retry: { maxRetries: 0 } });
    expect(r.ok, JSON.stringify(r.attempts)).toBe(true);
  }
}

beforeAll(async () => {
  sim = await startAdminSimulator({
    store: { ...full, orders: history }, apiKey: TEST_API_KEY, apiSecret: TEST_SECRET, bucketSize: 2000, restoreRate: 2000,
    flowTriggers: loadFlowTriggers(EXTENSIONS), bulkDelayMs: 0,
  });
  be = await startTestBackend({
    SHOPIFY_ADMIN_BASE_URL: sim.baseUrlTemplate,
    SHOPML_RETRAIN_MIN_NEW_ORDERS: '100', SHOPML_RETRAIN_INTERVAL_DAYS: '0', SHOPML_RETRAIN_MIN_GAP_MINUTES: '0',
    // Any newer version becomes the challenger: the test is about the loop, not the gate's margin.
    SHOPML_PROMOTION_TOLERANCE: JSON.stringify({ recommend: 1, segment: 1, churn: 1, forecast: 100 }),
  }, { now: () => new Date(clock), jobOptions: { scheduler: { autoStart: false }, runner: { pollMs: 3_600_000 } } } as Parameters<typeof startTestBackend>[1]);
}, 60_000);
afterAll(async () => {
  await be?.stop();
  await sim?.close();
});

describe('the loop, by itself', () => {
  it('installs from a session token and backfills the catalog and the history in a job', async () => {
    const res = await fetch(`${be.url}/api/v1/canary`, { headers: { Authorization: `Bearer ${sessionToken({ apiKey: TEST_API_KEY, secret: TEST_SECRET, shop: SHOP })}` } });
    expect(res.status).toBe(200);
    expect(jobsOf('backfill').map((j) => j.status)).toEqual(['pending']);
    await drain();
    const count = (t: string) => be.deps.db.prepare(`SELECT count(*) FROM ${t} WHERE shop = ?`).pluck().get(SHOP) as number;
    expect(count('products')).toBe(full.products.length);
    expect(count('orders')).toBe(history.length);
    // Listen to two triggers, as a merchant's enabled workflows would.
    for (const id of ['stock-out-predicted', 'customer-segment-changed']) {
      const r = flowLifecycleRequest({ secret: TEST_SECRET, shop: SHOP, shopId: 1, flowTriggerDefinitionId: id, hasEnabledFlow: true });
      expect((await fetch(`${be.url}/flow/lifecycle`, { method: 'POST', headers: r.headers, body: r.body })).status).toBe(200);
    }
  }, 60_000);

  it('the volume trigger trains; first champions are published to Shopify', async () => {
    const scheduled = await be.jobs!.scheduler.tick();
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]!.reason).toMatch(/volume/);
    await drain();
    const train = jobsOf('train');
    expect(train.map((j) => j.status)).toEqual(['done']);
    for (const kind of REGISTRY_KINDS) expect(currentAliases(be.deps.db, SHOP, kind).champion).not.toBeNull();
    expect(jobsOf('flow.retag_changed').map((j) => j.status)).toEqual(['done']);
    expect(jobsOf('metafields.sync').map((j) => j.status)).toEqual(['done']);
    const tagged = calls('TagsAdd');
    expect(tagged.length).toBeGreaterThan(50);
    for (const c of tagged) expect((c.variables as { tags: string[] }).tags[0]).toMatch(/^shopml:/);
    expect(calls('MetafieldDefinitionCreate').length).toBeGreaterThanOrEqual(3);
    expect(calls('MetafieldsSet').length).toBeGreaterThan(0);
    // The forecast champion's predicted stock-outs reached the workflow listening to them.
    const fired = calls('FlowTriggerReceive').map((c) => (c.variables as { handle: string }).handle);
    expect(fired.length).toBeGreaterThan(0);
    expect(new Set(fired)).toEqual(new Set(['stock-out-predicted']));
  }, 240_000);

  it('live orders → retraining → canary for recommend, shadows for the others', async () => {
    clock = start + 270 * DAY;
    await deliver(live1);
    const scheduled = await be.jobs!.scheduler.tick();
    expect(scheduled.map((s) => s.reason)).toEqual([expect.stringMatching(/volume: \d+ new orders since the last training/)]);
    await drain();
    expect(jobsOf('train').map((j) => j.status)).toEqual(['done', 'done']);
    const result = JSON.parse(jobsOf('train')[1]!.result!) as { runs: { kind: string; decision: string }[] };
    const challenged = result.runs.filter((r) => r.decision === 'challenger').map((r) => r.kind);
    if (challenged.includes('recommend')) expect(activeExperiment(be.deps.db, SHOP, 'recommend')).not.toBeNull();
    const shadows = listShadows(be.deps.db, SHOP).filter((s) => s.status === 'running').map((s) => s.kind).sort();
    expect(shadows).toEqual(challenged.filter((k) => k !== 'recommend').sort());
    expect(shadows.length).toBeGreaterThan(0); // with this tolerance every retrained kind with new bytes is a challenger
  }, 240_000);

  it('the scheduled policy decides the matured shadows; promoted champions are re-published; the monitor reports', async () => {
    const before = Object.fromEntries(REGISTRY_KINDS.map((k) => [k, currentAliases(be.deps.db, SHOP, k)]));
    clock = start + 399 * DAY;
    await deliver(live2);
    const tagsBefore = calls('TagsAdd').length;
    // The periodic part of the scheduler's pass (the retrain part would supersede the shadows with a third training).
    expect(await be.deps.writer.write((db) => enqueuePeriodicJobs(db, new Date(clock), { policyEveryMs: 3_600_000, monitorEveryMs: DAY }))).toBe(2);
    await drain();
    const policy = jobsOf(POLICY_JOB);
    expect(policy.map((j) => j.status)).toEqual(['done']);
    const out = JSON.parse(policy[0]!.result!) as { shadows: { kind: string; action: string }[]; canaries: { action: string }[] };
    for (const s of out.shadows) expect(['promote', 'rollback']).toContain(s.action);
    for (const s of out.shadows) {
      const now = currentAliases(be.deps.db, SHOP, s.kind as (typeof REGISTRY_KINDS)[number]);
      expect(now.challenger).toBeNull();
      expect(now.champion).toBe(s.action === 'promote' ? before[s.kind]!.challenger : before[s.kind]!.champion);
    }
    // A canary with no traffic for 129 days is stopped (inconclusive): the champion stays.
    for (const c of out.canaries) expect(c.action).toBe('stop');
    if (out.shadows.some((s) => s.action === 'promote' && (s.kind === 'segment' || s.kind === 'churn'))) {
      expect(jobsOf('flow.retag_changed').length).toBe(2);
      expect(calls('TagsAdd').length + calls('TagsRemove').length).toBeGreaterThan(tagsBefore);
    }
    // The monitor ran on the earlier scheduler pass (day 270) and now again (day 399), each storing a report.
    const monitor = jobsOf('monitor.shop');
    expect(monitor.map((j) => j.status)).toEqual(['done', 'done']);
    const report = JSON.parse(monitor[1]!.result!) as { report: number; driftShare: number };
    expect(report.report).toBeGreaterThan(0);
    expect(be.deps.db.prepare('SELECT count(*) FROM monitor_reports WHERE shop = ?').pluck().get(SHOP)).toBe(2);
    // Policy and monitor are not due again right away.
    expect(await be.deps.writer.write((db) => enqueuePeriodicJobs(db, new Date(clock + 60_000), { policyEveryMs: 3_600_000, monitorEveryMs: DAY }))).toBe(0);
  }, 240_000);
});
