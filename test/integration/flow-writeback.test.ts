// Flow actions, triggers, tags and metafields end to end: the real server on port 0 with a real
// SQLite file, Flow requests signed as Shopify signs them, the real job runner, and the Admin API
// simulator (cost-based throttling, payloads checked against the committed trigger tomls).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startAdminSimulator, type AdminSimulator, type RecordedCall } from '../../simulator/admin-server.ts';
import { loadFlowTriggers } from '../../simulator/flow-extensions.ts';
import { flowActionRequest, flowLifecycleRequest } from '../../simulator/sign.ts';
import { fixtureStore } from '../fixtures/admin-sim-store.ts';
import { SHOP, startTestBackend, TEST_API_KEY, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';
import { storeOfflineToken } from '../../backend/src/shopify/auth.ts';
import { createAdminClient } from '../../backend/src/shopify/admin-client.ts';
import { TAGS_ADD } from '../../backend/src/shopify/documents.ts';
import { registerVersion } from '../../backend/src/registry/versions.ts';
import { promote } from '../../backend/src/registry/aliases.ts';
import { createJobRunner } from '../../backend/src/jobs/runner.ts';
import { flowJobHandlers } from '../../backend/src/flow/jobs.ts';
import { retagChangedCustomers } from '../../backend/src/flow/retag.ts';
import { syncCustomerMetafields } from '../../backend/src/flow/metafields.ts';
import { fireModelDrift, fireStockOut, fireTrigger, TriggerPayloadError } from '../../backend/src/flow/triggers.ts';
import type { ModelKind } from '../../backend/src/models/types.ts';

const EXTENSIONS = fileURLToPath(new URL('../../extensions', import.meta.url));
const store = fixtureStore({ shop: SHOP, customers: 30, orders: 40 });
// A wholesale order of 120 lines: more than one page of line items.
store.orders.push({
  ...store.orders[0]!, id: 4_100_000, name: '#9001', orderNumber: 9001,
  lines: Array.from({ length: 120 }, (_, j) => ({ id: 900_000 + j, productId: 7001 + (j % 3), variantId: 8001 + (j % 3), sku: `SKU-${1 + (j % 3)}`, title: `Product ${1 + (j % 3)}`, quantity: 1 + (j % 4), price: '5.00' })),
});
const customers = store.customers.map((c) => String(c.id)); // 5000 … 5029; 5000 carries the merchant's own tag "vip"
let sim: AdminSimulator;
let be: TestBackend;

const SEGMENTS = ['Loyal', 'At risk', 'New'];
const tagOf = (s: string) => `shopml:${s.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;

/** Publishes a model version the way training does: outputs per customer, registered, champion. */
function publish(kind: ModelKind, label: string, outputs: Record<string, object>): string {
  const version = createHash('sha256').update(`${kind}:${label}`).digest('hex');
  const db = be.deps.db;
  db.transaction(() => {
    const put = db.prepare('INSERT OR REPLACE INTO customer_outputs (shop, kind, model_version, customer_id, output_json) VALUES (?, ?, ?, ?, ?)');
    for (const [c, o] of Object.entries(outputs)) put.run(SHOP, kind, version, c, JSON.stringify(o));
    registerVersion(db, { shop: SHOP, kind, version, runId: null, snapshotId: null, codeVersion: 'test', tensorBackend: null, params: {}, metrics: {}, trainedAt: new Date().toISOString(), trainSeconds: null });
    promote(db, { shop: SHOP, kind, version, reason: 'test', actor: 'test' });
  })();
  return version;
}

const segmentsV1 = (i: number) => SEGMENTS[i % 3]!;
const segmentsV2 = (i: number) => (i % 3 === 0 && i < 30 ? 'At risk' : segmentsV1(i)); // Loyal (i%3==0) → At risk: 10 customers
const churnV1 = (i: number) => 0.5 + (i % 5) * 0.05; // 0.50 … 0.70
const churnV2 = (i: number) => (i < 3 ? 0.9 : churnV1(i)); // 5000, 5001, 5002 cross 0.75

function publishSegments(label: string, seg: (i: number) => string) {
  return publish('segment', label, Object.fromEntries(customers.map((c, i) => [c, { segment: seg(i), tag: tagOf(seg(i)) }])));
}
function publishChurn(label: string, churn: (i: number) => number) {
  return publish('churn', label, Object.fromEntries(customers.map((c, i) => [c, { churnProbability: churn(i), orderProbability: 1 - churn(i), expectedNextOrder: 0, predictedSpend: 10 + i }])));
}

const tagsOf = (customerId: string) => sim.state(SHOP).customerTags.get(Number(customerId)) ?? store.customers.find((c) => String(c.id) === customerId)!.tags;
const okCalls = (op: string, since = 0): RecordedCall[] => sim.calls.slice(since).filter((c) => c.operationName === op && c.outcome === 'ok');

async function post(path: string, req: { body: string; headers: Record<string, string> }) {
  const res = await fetch(`${be.url}${path}`, { method: 'POST', headers: req.headers, body: req.body });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
}
const action = (handle: string, actionRunId: string, properties: Record<string, unknown>, secret = TEST_SECRET) =>
  flowActionRequest({ secret, shop: SHOP, shopId: 1, handle, actionRunId, actionDefinitionId: handle, properties });
const enableTrigger = (definitionId: string, enabled = true) =>
  post('/flow/lifecycle', flowLifecycleRequest({ secret: TEST_SECRET, shop: SHOP, shopId: 1, flowTriggerDefinitionId: definitionId, hasEnabledFlow: enabled }));

async function runJobs() {
  const outcomes: { type: string; state: string; error?: string }[] = [];
  const runner = createJobRunner(be.deps, { concurrency: 2, onOutcome: (o) => outcomes.push({ type: o.job.type, state: o.state, error: o.error }) } as Parameters<typeof createJobRunner>[1]);
  await runner.drain();
  return outcomes;
}
const jobs = (type: string) => be.deps.db.prepare('SELECT id, status, last_error AS error, result FROM jobs WHERE shop = ? AND type = ? ORDER BY id').all(SHOP, type) as { id: number; status: string; error: string | null; result: string | null }[];

beforeAll(async () => {
  sim = await startAdminSimulator({ store, apiKey: TEST_API_KEY, apiSecret: TEST_SECRET, bucketSize: 1000, restoreRate: 1000, flowTriggers: loadFlowTriggers(EXTENSIONS) });
  be = await startTestBackend({ SHOPIFY_ADMIN_BASE_URL: sim.baseUrlTemplate }, { jobs: false } as Parameters<typeof startTestBackend>[1]);
  for (const [type, handler] of Object.entries(flowJobHandlers())) be.deps.jobHandlers.set(type, handler);
  storeOfflineToken(be.deps.db, be.deps.keys, SHOP, sim.issueAccessToken(SHOP), 'read_orders,write_customers', new Date().toISOString());
  publishSegments('v1', segmentsV1);
  publishChurn('v1', churnV1);
});
afterAll(async () => {
  await be?.stop();
  await sim?.close();
});

describe('Flow action: Tag customer with ML segment', () => {
  it('refuses a forged request with 401 and enqueues nothing', async () => {
    const forged = await post('/flow/actions/tag-customer-ml-segment', action('tag-customer-ml-segment', 'run-forged', { customer_id: customers[0] }, 'not-the-app-secret-at-all'));
    expect(forged.status).toBe(401);
    const req = action('tag-customer-ml-segment', 'run-tampered', { customer_id: customers[0] });
    expect((await post('/flow/actions/tag-customer-ml-segment', { ...req, body: req.body.replace(customers[0]!, customers[1]!) })).status).toBe(401);
    expect(jobs('flow.tag_customer')).toEqual([]);
  });

  it('answers 200 at once; a re-sent action_run_id tags once; the merchant\'s own tag stays', async () => {
    const req = action('tag-customer-ml-segment', 'run-1', { customer_id: customers[0] });
    const t0 = performance.now();
    const first = await post('/flow/actions/tag-customer-ml-segment', req);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(first).toEqual({ status: 200, body: { ok: true } });
    expect(await post('/flow/actions/tag-customer-ml-segment', req)).toEqual(first); // Flow's retry of the same run
    expect(jobs('flow.tag_customer')).toHaveLength(1);
    const since = sim.calls.length;
    expect(await runJobs()).toEqual([{ type: 'flow.tag_customer', state: 'done', error: undefined }]);
    expect(okCalls('TagsAdd', since).map((c) => c.variables)).toEqual([{ id: `gid://shopify/Customer/${customers[0]}`, tags: ['shopml:loyal'] }]);
    expect(okCalls('TagsRemove', since)).toEqual([]);
    expect(tagsOf(customers[0]!)).toEqual(['vip', 'shopml:loyal']);
    // Re-sending after the job ran changes nothing either.
    expect(await post('/flow/actions/tag-customer-ml-segment', req)).toEqual(first);
    expect(jobs('flow.tag_customer')).toHaveLength(1);
  });

  it('a tag prefix and a refused prefix', async () => {
    expect((await post('/flow/actions/tag-customer-ml-segment', action('tag-customer-ml-segment', 'run-2', { customer_id: customers[1], tag_prefix: 'vip-' }))).status).toBe(200);
    await runJobs();
    expect(tagsOf(customers[1]!)).toEqual(['vip-at-risk']);
    const bad = await post('/flow/actions/tag-customer-ml-segment', action('tag-customer-ml-segment', 'run-3', { customer_id: customers[1], tag_prefix: 'a,b' }));
    expect(bad.status).toBe(422);
    expect(String(bad.body?.detail)).toMatch(/commas/);
    const noCustomer = await post('/flow/actions/tag-customer-ml-segment', action('tag-customer-ml-segment', 'run-4', {}));
    expect(noCustomer.status).toBe(422);
    expect(String(noCustomer.body?.detail)).toMatch(/customer_id/);
  });

  it('when the Admin API throttles and fails, the tag still lands', async () => {
    // Another app drains the shop's bucket at a crawling restore rate: the job's request is
    // answered THROTTLED, then two 503s and a dropped connection follow; the client waits and retries.
    sim.setRestoreRate(20);
    const other = createAdminClient({ shop: SHOP, accessToken: sim.issueAccessToken(SHOP), baseUrl: sim.baseUrlTemplate });
    for (let i = 0; i < 150 && sim.state(SHOP).bucket.status().currentlyAvailable >= 10; i++) await other.request(TAGS_ADD, { id: `gid://shopify/Customer/${customers[29]}`, tags: ['other-app'] });
    expect(sim.state(SHOP).bucket.status().currentlyAvailable).toBeLessThan(10);
    expect((await post('/flow/actions/tag-customer-ml-segment', action('tag-customer-ml-segment', 'run-5', { customer_id: customers[2] }))).status).toBe(200);
    const since = sim.calls.length;
    const runDone = runJobs();
    // The other app keeps spending what the bucket restores until the job's request has been
    // answered THROTTLED (at 20 points/s the bucket would otherwise refill to the request's cost
    // within ~0.5 s, and a slow machine could take that long to send it). Then the next attempts fail too.
    const bucket = sim.state(SHOP).bucket;
    for (let i = 0; i < 500 && !sim.calls.slice(since).some((c) => c.outcome === 'throttled'); i++) {
      bucket.tryTake(Math.floor(bucket.available()));
      await new Promise((r) => setTimeout(r, 5));
    }
    sim.failNext(2, 503);
    sim.failNext(1, 'network');
    const outcomes = await runDone;
    sim.setRestoreRate(1000);
    expect(outcomes).toEqual([{ type: 'flow.tag_customer', state: 'done', error: undefined }]);
    const attempts = sim.calls.slice(since).filter((c) => c.operationName === 'TagsAdd' || c.outcome === 'injected');
    expect(attempts.some((c) => c.outcome === 'throttled')).toBe(true);
    expect(attempts.filter((c) => c.outcome === 'ok')).toHaveLength(1);
    expect(tagsOf(customers[2]!)).toEqual(['shopml:new']);
  }, 30_000);
});

describe('Flow actions: Score customer, Send order to shopml', () => {
  it('Score customer returns the champions\' figures as return data', async () => {
    const r = await post('/flow/actions/score-customer', action('score-customer', 'score-1', { customer_id: customers[4] }));
    expect(r).toEqual({ status: 200, body: { return_value: { segment: 'At risk', segmentTag: 'shopml:at-risk', churnRisk: churnV1(4), predictedValue: 14, scored: true } } });
    const unknown = await post('/flow/actions/score-customer', action('score-customer', 'score-2', { customer_id: '999999' }));
    expect(unknown.body).toEqual({ return_value: { segment: null, segmentTag: null, churnRisk: null, predictedValue: null, scored: false } });
  });

  it('Send order fetches the order through the Admin API and records it like a webhook', async () => {
    const order = store.orders[7]!;
    expect(be.deps.db.prepare('SELECT count(*) FROM orders WHERE shop = ? AND order_id = ?').pluck().get(SHOP, String(order.id))).toBe(0);
    expect((await post('/flow/actions/send-order-to-shopml', action('send-order-to-shopml', 'order-1', { order_id: String(order.id) }))).status).toBe(200);
    expect((await post('/flow/actions/send-order-to-shopml', action('send-order-to-shopml', 'order-404', { order_id: '123' }))).status).toBe(200);
    expect((await post('/flow/actions/send-order-to-shopml', action('send-order-to-shopml', 'order-big', { order_id: 'gid://shopify/Order/4100000' }))).status).toBe(200);
    await runJobs();
    expect(be.deps.db.prepare('SELECT count(*), sum(quantity) FROM order_lines WHERE shop = ? AND order_id = ?').raw().get(SHOP, '4100000'))
      .toEqual([120, Array.from({ length: 120 }, (_, j) => 1 + (j % 4)).reduce((a, b) => a + b, 0)]);
    const row = be.deps.db.prepare('SELECT customer_id, total_price FROM orders WHERE shop = ? AND order_id = ?').get(SHOP, String(order.id)) as { customer_id: string | null } | undefined;
    expect(row?.customer_id).toBe(order.customerId === null ? null : String(order.customerId));
    expect(be.deps.db.prepare('SELECT count(*) FROM order_lines WHERE shop = ? AND order_id = ?').pluck().get(SHOP, String(order.id))).toBe(order.lines.length);
    expect(be.deps.db.prepare(`SELECT source, outcome FROM events WHERE shop = ? AND order_id = ?`).get(SHOP, String(order.id))).toEqual({ source: 'flow', outcome: 'applied' });
    const [ok, missing, big] = jobs('flow.ingest_order');
    expect(ok!.status).toBe('done');
    expect(big!.status).toBe('done');
    expect(missing!.status).toBe('dead'); // not retried: the order does not exist
    expect(missing!.error).toMatch(/does not exist/);
  });
});

describe('after a retrain: re-tagging, metafields, triggers', () => {
  it('tags every scored customer once; no trigger without a listening workflow', async () => {
    const since = sim.calls.length;
    const r = await retagChangedCustomers(be.deps, SHOP, { batchSize: 7 });
    expect(r.done).toBe(true);
    // 5000, 5002 (default prefix) were tagged by the Flow action already; 5001 has only its vip- tag.
    expect(r.counts).toMatchObject({ visited: 30, retagged: 28, unchanged: 2, segmentChangedFired: 0 });
    expect(okCalls('TagsAdd', since)).toHaveLength(28);
    expect(okCalls('TagsRemove', since)).toHaveLength(0);
    expect(okCalls('FlowTriggerReceive', since)).toHaveLength(0);
    customers.forEach((c, i) => expect(tagsOf(c)).toContain(tagOf(segmentsV1(i))));
    expect(tagsOf(customers[0]!)).toEqual(['vip', 'shopml:loyal']);
    expect(tagsOf(customers[1]!)).toEqual(['vip-at-risk', 'shopml:at-risk']);
  });

  it('a second pass without a new champion costs no API calls', async () => {
    const since = sim.calls.length;
    const r = await retagChangedCustomers(be.deps, SHOP, { batchSize: 7 });
    expect(r.counts).toMatchObject({ visited: 30, retagged: 0, unchanged: 30 });
    expect(sim.calls.length).toBe(since);
  });

  it('a new champion: only changed customers are re-tagged, resumably, each announced once to a listening workflow', async () => {
    expect((await enableTrigger('customer-segment-changed')).status).toBe(200);
    publishSegments('v2', segmentsV2);
    const since = sim.calls.length;
    // A fast-retrying client, and a crash: the Admin API fails for longer than the client retries.
    const client = createAdminClient({ shop: SHOP, accessToken: sim.issueAccessToken(SHOP), baseUrl: sim.baseUrlTemplate, backoffBaseMs: 2, maxRetries: 2 });
    const first = await retagChangedCustomers(be.deps, SHOP, { batchSize: 4, client, maxBatches: 2 });
    expect(first.done).toBe(false); // stopped after two committed batches
    sim.failNext(3, 500);
    await expect(retagChangedCustomers(be.deps, SHOP, { batchSize: 4, client, concurrency: 1 })).rejects.toThrow(/gave up/);
    const resumed = await retagChangedCustomers(be.deps, SHOP, { batchSize: 4, client });
    expect(resumed.resumed).toBe(true);
    expect(resumed.done).toBe(true);

    const changed = customers.filter((_, i) => segmentsV2(i) !== segmentsV1(i));
    expect(changed).toHaveLength(10);
    const removes = okCalls('TagsRemove', since);
    const adds = okCalls('TagsAdd', since);
    // Each changed customer: its old shopml tags removed and new ones added — once (5001 also has a vip- tag to move).
    expect(removes.map((c) => c.variables.id).sort()).toEqual(changed.map((c) => `gid://shopify/Customer/${c}`).sort());
    expect(adds.map((c) => c.variables.id).sort()).toEqual(changed.map((c) => `gid://shopify/Customer/${c}`).sort());
    for (const c of removes) expect((c.variables.tags as string[]).every((t) => t.endsWith('loyal'))).toBe(true);
    customers.forEach((c, i) => {
      expect(tagsOf(c).filter((t) => t.startsWith('shopml:'))).toEqual([tagOf(segmentsV2(i))]);
    });
    expect(tagsOf(customers[0]!)).toEqual(['vip', 'shopml:at-risk']);

    const fired = okCalls('FlowTriggerReceive', since);
    expect(fired.map((c) => c.variables.handle)).toEqual(new Array(10).fill('customer-segment-changed'));
    expect(fired.map((c) => c.variables.payload).sort((a, b) => (a as { customer_id: number }).customer_id - (b as { customer_id: number }).customer_id))
      .toEqual(changed.map((c) => ({ customer_id: Number(c), Segment: 'At risk', 'Previous segment': 'Loyal' })));
    expect(sim.state(SHOP).flowTriggers.filter((t) => t.handle === 'customer-segment-changed')).toHaveLength(10);
  });

  it('writes segment, churn risk and value as metafields after creating their definitions', async () => {
    const since = sim.calls.length;
    const r = await syncCustomerMetafields(be.deps, SHOP, { batchSize: 12 });
    expect(r.counts).toMatchObject({ visited: 30, written: 30, metafields: 90, definitionsCreated: 3, churnRoseFired: 0 });
    const defs = okCalls('MetafieldDefinitionCreate', since);
    expect(defs.map((c) => (c.variables.definition as { key: string }).key)).toEqual(['segment', 'churn_risk', 'predicted_value']);
    expect(sim.state(SHOP).metafieldDefinitions.map((d) => [d.namespace, d.key, d.ownerType, d.type])).toEqual([
      ['shopml', 'segment', 'CUSTOMER', 'single_line_text_field'], ['shopml', 'churn_risk', 'CUSTOMER', 'number_decimal'], ['shopml', 'predicted_value', 'CUSTOMER', 'number_decimal'],
    ]);
    const sets = okCalls('MetafieldsSet', since);
    for (const c of sets) expect((c.variables.metafields as unknown[]).length).toBeLessThanOrEqual(25);
    expect(sets.reduce((a, c) => a + (c.variables.metafields as unknown[]).length, 0)).toBe(90);
    const mf = (c: string, key: string) => sim.state(SHOP).metafields.find((m) => m.ownerId === `gid://shopify/Customer/${c}` && m.key === key)?.value;
    customers.forEach((c, i) => {
      expect(mf(c, 'segment')).toBe(segmentsV2(i));
      expect(Number(mf(c, 'churn_risk'))).toBeCloseTo(churnV1(i), 4);
      expect(mf(c, 'predicted_value')).toBe((10 + i).toFixed(2));
    });
  });

  it('a churn retrain: definitions already exist (fine), only changed values are written, rises fire "Churn risk rose"', async () => {
    expect((await enableTrigger('Churn risk rose')).status).toBe(200); // Flow's definition id may be the title
    publishChurn('v2', churnV2);
    const since = sim.calls.length;
    const r = await syncCustomerMetafields(be.deps, SHOP, { batchSize: 12 });
    expect(r.counts).toMatchObject({ visited: 30, written: 3, unchanged: 27, definitionsCreated: 0, churnRoseFired: 3 });
    expect(sim.calls.slice(since).filter((c) => c.operationName === 'MetafieldDefinitionCreate').every((c) => c.outcome === 'ok')).toBe(true);
    const fired = okCalls('FlowTriggerReceive', since);
    expect(fired.map((c) => c.variables)).toEqual(customers.slice(0, 3).map((c) => ({ handle: 'churn-risk-rose', payload: { customer_id: Number(c), 'Churn score': 0.9 } })));
    // Published churn risk is now 0.9: another pass fires nothing.
    const again = await syncCustomerMetafields(be.deps, SHOP, { batchSize: 12 });
    expect(again.counts).toMatchObject({ written: 0, churnRoseFired: 0 });
  });
});

describe('a workflow switched off', () => {
  it('a segment change is re-tagged but not announced; another app\'s tag survives', async () => {
    expect((await enableTrigger('customer-segment-changed', false)).status).toBe(200);
    publishSegments('v3', (i) => (i === 29 ? 'Loyal' : segmentsV2(i))); // 5029: New → Loyal
    const since = sim.calls.length;
    const r = await retagChangedCustomers(be.deps, SHOP);
    expect(r.counts).toMatchObject({ retagged: 1, unchanged: 29, segmentChangedFired: 0 });
    expect(okCalls('FlowTriggerReceive', since)).toEqual([]);
    expect(okCalls('TagsRemove', since).map((c) => c.variables)).toEqual([{ id: `gid://shopify/Customer/${customers[29]}`, tags: ['shopml:new'] }]);
    expect(tagsOf(customers[29]!)).toEqual(['other-app', 'shopml:loyal']);
  });
});

describe('triggers fired by the rest of shopml', () => {
  it('not fired while no workflow listens; a payload that does not match the definition is an error, never a send', async () => {
    const since = sim.calls.length;
    expect(await fireModelDrift(be.deps, SHOP, { model: 'churn', driftShare: 0.6, reportId: 'r1' })).toEqual({ status: 'not_listening' });
    await expect(fireTrigger(be.deps, SHOP, 'model-drift-detected', { Model: 'churn', 'Drift share': '60%' })).rejects.toThrow(TriggerPayloadError);
    await expect(fireTrigger(be.deps, SHOP, 'model-drift-detected', { Model: 'churn', 'Drift share': 0.6, extra: 1 })).rejects.toThrow(/extra/);
    await runJobs();
    expect(okCalls('FlowTriggerReceive', since)).toEqual([]);
  });

  it('fired through a job once a workflow listens, once per event', async () => {
    expect((await enableTrigger('Model drift detected')).status).toBe(200);
    expect((await enableTrigger('stock-out-predicted')).status).toBe(200);
    const since = sim.calls.length;
    expect(await fireModelDrift(be.deps, SHOP, { model: 'churn', driftShare: 0.6, reportId: 'r1' })).toMatchObject({ status: 'queued' });
    expect(await fireModelDrift(be.deps, SHOP, { model: 'churn', driftShare: 0.6, reportId: 'r1' })).toEqual({ status: 'duplicate' });
    const stock = { productId: String(store.products[0]!.id), daysUntilStockOut: 3, suggestedOrderQuantity: 40, stockoutDate: '2026-08-01' };
    expect(await fireStockOut(be.deps, SHOP, [stock, stock])).toEqual({ queued: 1, duplicate: 1, notListening: 0 });
    const outcomes = await runJobs();
    expect(outcomes.map((o) => o.state)).toEqual(['done', 'done']);
    expect(okCalls('FlowTriggerReceive', since).map((c) => c.variables).sort((a, b) => String(a.handle).localeCompare(String(b.handle)))).toEqual([
      { handle: 'model-drift-detected', payload: { Model: 'churn', 'Drift share': 0.6 } },
      { handle: 'stock-out-predicted', payload: { product_id: store.products[0]!.id, 'Days until stock out': 3, 'Suggested order quantity': 40 } },
    ]);
    // Disabled again: nothing more goes out.
    expect((await enableTrigger('model-drift-detected', false)).status).toBe(200);
    expect(await fireModelDrift(be.deps, SHOP, { model: 'segment', driftShare: 0.7, reportId: 'r2' })).toEqual({ status: 'not_listening' });
  });

  it('the simulator holds payloads to the deployed definition (so the checks above are against what Shopify knows)', async () => {
    const client = createAdminClient({ shop: SHOP, accessToken: sim.issueAccessToken(SHOP), baseUrl: sim.baseUrlTemplate });
    const send = async (handle: string, payload: unknown) => ((await client.request<{ flowTriggerReceive: { userErrors: { message: string }[] } }>(
      'mutation FlowTriggerReceive($handle: String!, $payload: JSON!) { flowTriggerReceive(handle: $handle, payload: $payload) { userErrors { field message } } }',
      { handle, payload })).data.flowTriggerReceive.userErrors.map((e) => e.message).join(' '));
    expect(await send('churn-risk-rose', { customer_id: Number(customers[0]), 'Churn score': 0.8 })).toBe('');
    expect(await send('churn-risk-rose', { customer_id: Number(customers[0]), churn_score: 0.8 })).toMatch(/Missing required property: Churn score.*Unknown property: churn_score/s);
    expect(await send('churn-risk-rose', { customer_id: 1, 'Churn score': 0.8 })).toMatch(/does not exist/);
    expect(await send('churn-risk-rose', { customer_id: Number(customers[0]), 'Churn score': 'high' })).toMatch(/number_decimal/);
    expect(await send('order-scored', {})).toMatch(/Invalid handle/);
  });
});
