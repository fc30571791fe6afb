// The Admin GraphQL client against the local Admin API simulator (real HTTP on port 0).
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AdminClientOptions,
  createAdminClient,
  GraphqlErrors,
  HttpError,
  mutate,
  RetriesExhaustedError,
  type ThrottleEvent,
  ThrottledError,
  UserErrors,
} from '../../backend/src/shopify/admin-client.ts';
import { CURRENT_APP_INSTALLATION, TAGS_ADD } from '../../backend/src/shopify/documents.ts';
import { type AdminSimulator, type AdminSimulatorOptions, startAdminSimulator } from '../../simulator/admin-server.ts';
import { fixtureStore } from '../fixtures/admin-sim-store.ts';

const TOKEN = 'shpat_test_token_value';
const store = fixtureStore({ customers: 5 });
let sim: AdminSimulator | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function setup(simOpts: Partial<AdminSimulatorOptions> = {}, clientOpts: Partial<AdminClientOptions> = {}) {
  sim = await startAdminSimulator({ store, apiKey: 'key', apiSecret: 'secret', accessTokens: { [store.shop]: TOKEN }, ...simOpts });
  const events: ThrottleEvent[] = [];
  const client = createAdminClient({
    shop: store.shop,
    accessToken: TOKEN,
    baseUrl: sim.baseUrlTemplate,
    backoffBaseMs: 5,
    onThrottle: (e) => events.push(e),
    ...clientOpts,
  });
  return { sim, client, events };
}

const customerGid = (i: number) => `gid://shopify/Customer/${store.customers[i % store.customers.length]!.id}`;

describe('admin client: throttling', () => {
  it('50 concurrent mutations at a low restore rate all land exactly once', async () => {
    const { sim, client, events } = await setup({ bucketSize: 50, restoreRate: 200 });
    const t0 = Date.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => mutate(client, TAGS_ADD, { id: customerGid(i), tags: [`t${i}`] })),
    );
    const elapsed = Date.now() - t0;
    expect(results).toHaveLength(50);

    const applied = sim.calls.filter((c) => c.operationName === 'TagsAdd' && c.outcome === 'ok');
    const tags = applied.map((c) => (c.variables.tags as string[])[0]);
    expect(tags).toHaveLength(50);
    expect(new Set(tags).size).toBe(50); // none twice
    for (let i = 0; i < 50; i++) expect(sim.state(store.shop).customerTags.get(store.customers[i % 5]!.id)).toContain(`t${i}`);
    // It really was throttled, and recovered by waiting, not by luck.
    expect(sim.calls.filter((c) => c.outcome === 'throttled').length).toBeGreaterThan(0);
    expect(events.some((e) => e.reason === 'throttled' || e.reason === 'budget')).toBe(true);
    // 50 × 10 points with 50 in the bucket at 200/s: at least (500 − 50) / 200 s.
    expect(elapsed).toBeGreaterThanOrEqual(2250 - 50);
  });

  it('sequential calls wait for the bucket before sending, so none is throttled', async () => {
    const { sim, client, events } = await setup({ bucketSize: 30, restoreRate: 100 });
    for (let i = 0; i < 12; i++) await mutate(client, TAGS_ADD, { id: customerGid(i), tags: [`s${i}`] });
    expect(sim.calls.filter((c) => c.outcome === 'throttled')).toEqual([]);
    expect(sim.calls.filter((c) => c.outcome === 'ok')).toHaveLength(12);
    const budgetWaits = events.filter((e) => e.reason === 'budget');
    expect(budgetWaits.length).toBeGreaterThan(0);
    // Each wait is what the missing points need at 100/s: never more than one call's cost.
    for (const e of budgetWaits) expect(e.waitMs).toBeLessThanOrEqual(100 + 1);
    expect(client.throttleEstimate()?.maximumAvailable).toBe(30);
  });

  it('gives up on THROTTLED after the throttle budget with a typed error', async () => {
    // Another process (a second client) drained the shared bucket; this one has no reading yet.
    const { sim, client } = await setup({ bucketSize: 20, restoreRate: 0.5 }, { maxThrottleRetries: 0 });
    const other = createAdminClient({ shop: store.shop, accessToken: TOKEN, baseUrl: sim.baseUrlTemplate });
    await other.request(TAGS_ADD, { id: customerGid(0), tags: ['a'] });
    await other.request(TAGS_ADD, { id: customerGid(0), tags: ['b'] });
    const err = await client.request(TAGS_ADD, { id: customerGid(0), tags: ['c'] }).catch((e) => e);
    expect(err).toBeInstanceOf(RetriesExhaustedError);
    expect(err.lastError).toBeInstanceOf(ThrottledError);
    expect(err.operationName).toBe('TagsAdd');
  });
});

describe('admin client: transient failures', () => {
  it('honours Retry-After on 429', async () => {
    const { sim, client, events } = await setup();
    sim.failNext(2, 429, { retryAfterSeconds: 0.2 });
    const t0 = Date.now();
    const { data } = await client.request<{ currentAppInstallation: { id: string } }>(CURRENT_APP_INSTALLATION);
    expect(data.currentAppInstallation.id).toMatch(/^gid:\/\/shopify\/AppInstallation\//);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400 - 10);
    expect(events.filter((e) => e.reason === 'http_429').map((e) => e.waitMs)).toEqual([200, 200]);
    expect(sim.calls.map((c) => c.outcome)).toEqual(['injected', 'injected', 'ok']);
  });

  it('retries 5xx and dropped connections with backoff', async () => {
    const { sim, client, events } = await setup();
    sim.failNext(2, 500);
    sim.failNext(1, 'network');
    sim.failNext(1, 503);
    await client.request(CURRENT_APP_INSTALLATION);
    expect(sim.calls.map((c) => c.outcome)).toEqual(['injected', 'injected', 'injected', 'injected', 'ok']);
    expect(events.map((e) => e.reason)).toEqual(['http_5xx', 'http_5xx', 'network', 'http_5xx']);
  });

  it('retries are bounded: RetriesExhaustedError after maxRetries, no extra request', async () => {
    const { sim, client } = await setup({}, { maxRetries: 3 });
    sim.failNext(10, 502);
    const err = await client.request(CURRENT_APP_INSTALLATION).catch((e) => e);
    expect(err).toBeInstanceOf(RetriesExhaustedError);
    expect(err.attempts).toBe(4);
    expect(err.lastError).toBeInstanceOf(HttpError);
    expect(err.lastError.status).toBe(502);
    expect(err.message).toContain('CurrentAppInstallation');
    expect(sim.calls).toHaveLength(4);
  });
});

describe('admin client: errors that are not retried', () => {
  it('an invalid document is rejected by the simulator and surfaces as GraphqlErrors', async () => {
    const { sim, client } = await setup();
    const err = await client.request('query Broken { orders(first: 1) { nodes { bogusField } } }').catch((e) => e);
    expect(err).toBeInstanceOf(GraphqlErrors);
    expect(err.operationName).toBe('Broken');
    expect(err.errors[0].message).toMatch(/Cannot query field "bogusField" on type "Order"/);
    expect(sim.calls.map((c) => c.outcome)).toEqual(['invalid']);
  });

  it('a wrong token is a 401 HttpError that does not echo the token', async () => {
    const { sim } = await setup();
    const client = createAdminClient({ shop: store.shop, accessToken: 'shpat_wrong_secret', baseUrl: sim.baseUrlTemplate });
    const err = await client.request(CURRENT_APP_INSTALLATION).catch((e) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err.status).toBe(401);
    expect(`${err.message} ${err.body} ${err.stack}`).not.toContain('shpat_wrong_secret');
    expect(sim.calls).toHaveLength(1);
  });

  it('mutation user errors become UserErrors', async () => {
    const { client } = await setup();
    const err = await mutate(client, TAGS_ADD, { id: 'gid://shopify/Customer/999999', tags: ['x'] }).catch((e) => e);
    expect(err).toBeInstanceOf(UserErrors);
    expect(err.userErrors[0].message).toBe('Customer does not exist');
    expect(err.operationName).toBe('TagsAdd');
  });
});

describe('admin client: throttle maths (scripted responses)', () => {
  it('on THROTTLED waits (requested − available) / restoreRate, then retries', async () => {
    const sleeps: number[] = [];
    let t = 1_000_000;
    const responses = [
      { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }], extensions: { cost: { requestedQueryCost: 152, actualQueryCost: null, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 2, restoreRate: 50 } } } },
      { data: { ok: true }, extensions: { cost: { requestedQueryCost: 152, actualQueryCost: 152, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 0, restoreRate: 50 } } } },
    ];
    const fetch = (async () => new Response(JSON.stringify(responses.shift()), { status: 200 })) as typeof globalThis.fetch;
    const client = createAdminClient({
      shop: 's.myshopify.com',
      accessToken: 'x',
      fetch,
      now: () => t,
      sleep: async (ms) => {
        sleeps.push(ms);
        t += ms;
      },
    });
    const res = await client.request<{ ok: boolean }>('query Q { shop { id } }');
    expect(res.data.ok).toBe(true);
    expect(sleeps).toEqual([3000]); // (152 − 2) / 50 s
    // The next call with the same document expects 152 points: 0 available → waits 3.04 s.
    responses.push({ data: { ok: true }, extensions: { cost: { requestedQueryCost: 152, actualQueryCost: 152, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 0, restoreRate: 50 } } } });
    await client.request('query Q { shop { id } }');
    expect(sleeps[1]).toBeCloseTo(3040, 6);
  });

  it('a query costing more than the whole bucket fails at once instead of waiting forever', async () => {
    let calls = 0;
    const fetch = (async () => {
      calls++;
      return new Response(JSON.stringify({ errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }], extensions: { cost: { requestedQueryCost: 506, actualQueryCost: null, throttleStatus: { maximumAvailable: 200, currentlyAvailable: 200, restoreRate: 10 } } } }), { status: 200 });
    }) as typeof globalThis.fetch;
    const client = createAdminClient({ shop: 's.myshopify.com', accessToken: 'x', fetch, sleep: async () => {} });
    const err = await client.request('query Big { shop { id } }').catch((e) => e);
    expect(err.name).toBe('GraphqlErrors');
    expect(err.message).toMatch(/exceeds the bucket size 200/);
    expect(calls).toBe(1);
  });
});

describe('simulator: several shops', () => {
  it('keeps tokens and buckets per shop', async () => {
    const other = fixtureStore({ shop: 'other-shop.myshopify.com', orders: 2 });
    sim = await startAdminSimulator({ store: [store, other], apiKey: 'k', apiSecret: 's', accessTokens: { [store.shop]: TOKEN, [other.shop]: 'other-token' }, bucketSize: 100 });
    const a = createAdminClient({ shop: store.shop, accessToken: TOKEN, baseUrl: sim.baseUrlTemplate });
    const wrong = createAdminClient({ shop: other.shop, accessToken: TOKEN, baseUrl: sim.baseUrlTemplate });
    const b = createAdminClient({ shop: other.shop, accessToken: 'other-token', baseUrl: sim.baseUrlTemplate });
    await a.request(TAGS_ADD, { id: customerGid(0), tags: ['x'] });
    expect(await wrong.request(CURRENT_APP_INSTALLATION).catch((e) => e.status)).toBe(401);
    const r = await b.request(CURRENT_APP_INSTALLATION);
    expect(r.extensions?.cost?.throttleStatus.currentlyAvailable).toBe(98); // its own cost (2) only, not shop A's 10
    expect(sim.state(store.shop).bucket.available()).toBeLessThan(100);
  });
});
