// Storefront serving end to end, through the simulator's signing and the real backend (Fastify on
// port 0, SQLite, the webhook writer thread), with the real registry and rollout engine behind
// serving's seams: a trained champion and challenger, a live experiment, signed proxy requests →
// recommendations (arm + version) → impression → click → signed orders/create → conversion
// attributed to the right arm; Cache-Control; controls (API and CLI); stock; rollback on the
// next request; fallback to popularity when the artifact is missing or corrupt; rate limits.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appProxyQuery, webhookHeaders } from '../../simulator/sign.ts';
import { generateStore } from '../../simulator/store.ts';
import { inventoryLevelPayload, orderPayload, productDeletePayload, productPayload } from '../../simulator/rest-payloads.ts';
import type { SimOrder } from '../../simulator/types.ts';
import { recordEvent } from '../../backend/src/ingest/record.ts';
import { normalizeOrder, normalizeProduct } from '../../backend/src/ingest/normalize-rest.ts';
import { trainShop } from '../../backend/src/models/train-pipeline.ts';
import { getAlias, promote, rollback } from '../../backend/src/registry/aliases.ts';
import { armsFor, startExperiment } from '../../backend/src/rollout/experiments.ts';
import { createRecIds } from '../../backend/src/serve/rec-id.ts';
import { relatedToOne } from '../../backend/src/serve/recommend.ts';
import { artifactBytes, loadArtifact, storeArtifact } from '../../backend/src/ml/artifact.ts';
import { registerVersion } from '../../backend/src/registry/versions.ts';
import { relatedProducts, type RecommendArtifact } from '../../backend/src/models/recommend/index.ts';
import { configureServing, MAX_EXPOSURE_RETRIES, serveStateFor } from '../../backend/src/serve/state.ts';
import { rolloutExposureSink } from '../../backend/src/serve/wiring.ts';
import { controlsRoutes } from '../../backend/src/api/controls-routes.ts';
import { runControlsCommand } from '../../backend/src/serve/controls-command.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { SHOP, startTestBackend, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';

const store = generateStore({ seed: 21, shop: SHOP, customers: 300, products: 60, days: 240 });
let be: TestBackend;
let api: FastifyInstance;
let apiUrl: string;
let V1: string;
let V2: string;
let experimentId: number;
let arms: (unit: string) => string;
let nextId = 9_000_000_000;

interface Served { variant: string; model_version: string; rec_id: string; products: { id: string; variant_id: string | null; handle: string | null; title: string | null; price: { amount: string; currency: string } | null; image: string | null; url: string | null }[] }

async function recs(extra: Record<string, string | string[]>, customer = ''): Promise<{ status: number; cache: string | null; body: Served }> {
  const q = appProxyQuery({ secret: TEST_SECRET, shop: SHOP, loggedInCustomerId: customer, extra });
  const res = await fetch(`${be.url}/proxy/recommendations?${q}`);
  return { status: res.status, cache: res.headers.get('cache-control'), body: (await res.json()) as Served };
}

async function events(body: unknown, customer = ''): Promise<number> {
  const q = appProxyQuery({ secret: TEST_SECRET, shop: SHOP, loggedInCustomerId: customer });
  const res = await fetch(`${be.url}/proxy/events?${q}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.status;
}

async function webhook(topic: string, payload: unknown): Promise<number> {
  const body = JSON.stringify(payload);
  const res = await fetch(`${be.url}/webhooks`, { method: 'POST', body, headers: webhookHeaders({ secret: TEST_SECRET, shop: SHOP, topic, rawBody: body, webhookId: `w-${nextId++}` }) });
  return res.status;
}

const productOf = (id: string) => store.products.find((p) => String(p.id) === id)!;

/** A new order for `customerId` (null: a guest) of the given products, one unit each, placed now. */
function liveOrder(customerId: number | null, productIds: string[]): SimOrder {
  const tpl = store.orders.find((o) => o.customerId !== null && o.cancelledAt === null)!;
  const id = nextId++;
  const now = new Date().toISOString();
  return {
    ...tpl, id, name: `#${id}`, orderNumber: id, customerId, createdAt: now, updatedAt: now, processedAt: now, cancelledAt: null, cancelReason: null,
    financialStatus: 'paid', refunds: [], discount: null, test: false, fulfilledAt: null, tags: [],
    lines: productIds.map((pid, i) => {
      const p = productOf(pid);
      const v = p.variants[0]!;
      return { id: id * 10 + i, productId: p.id, variantId: v.id, sku: v.sku, title: p.title, quantity: 1, price: v.price };
    }),
  };
}

function orderJson(o: SimOrder, recProperty?: Record<string, string>): Record<string, unknown> {
  const payload = orderPayload(o, store) as Record<string, unknown> & { line_items: { product_id: number; properties: unknown[] }[] };
  for (const li of payload.line_items) {
    const rec = recProperty?.[String(li.product_id)];
    if (rec) li.properties = [{ name: '_shopml_rec', value: rec }, { name: 'Engraving', value: 'hi' }];
  }
  return payload;
}

function unitIn(variant: string, candidates: string[]): string {
  const u = candidates.find((c) => arms(c) === variant);
  if (!u) throw new Error(`no unit in ${variant}`);
  return u;
}

const buyers = () => [...new Set(store.orders.filter((o) => o.customerId !== null).map((o) => String(o.customerId)))];
const active = () => new Set(store.products.filter((p) => p.status === 'ACTIVE').map((p) => String(p.id)));

beforeAll(async () => {
  be = await startTestBackend();
  const db = be.deps.db;
  const keys = be.deps.keys;
  db.transaction(() => {
    for (const p of store.products) {
      recordEvent(db, keys, { shop: SHOP, topic: 'products/create', source: 'webhook', sourceId: `p-${p.id}`, receivedAt: p.createdAt, payloadSha256: 'x', event: { type: 'product', product: normalizeProduct(productPayload(p, store)) } });
    }
    for (const o of store.orders) {
      recordEvent(db, keys, { shop: SHOP, topic: 'orders/create', source: 'webhook', sourceId: `o-${o.id}`, receivedAt: o.createdAt, payloadSha256: 'x', event: { type: 'order', order: normalizeOrder(orderPayload(o, store), SHOP, keys) } });
    }
  })();
  const r1 = await trainShop({ db, shop: SHOP, kinds: ['recommend'], seed: 1, artifactsDir: be.config.artifactsDir });
  const r2 = await trainShop({ db, shop: SHOP, kinds: ['recommend'], seed: 2, artifactsDir: be.config.artifactsDir });
  V1 = r1.runs[0]!.version!;
  V2 = r2.runs[0]!.version!;
  expect(V1).not.toBe(V2);
  expect(getAlias(db, SHOP, 'recommend', 'champion')).toBe(V1);
  if (getAlias(db, SHOP, 'recommend', 'challenger') !== V2) promote(db, { shop: SHOP, kind: 'recommend', version: V2, to: 'challenger', reason: 'test', actor: 'test' });
  experimentId = startExperiment(db, { shop: SHOP, kind: 'recommend', championVersion: V1, challengerVersion: V2, holdoutPct: 30, challengerPct: 30 }).id;
  arms = armsFor(db, SHOP, 'recommend').variantOf;

  api = Fastify();
  await api.register(controlsRoutes, be.deps);
  apiUrl = await api.listen({ port: 0, host: '127.0.0.1' });
}, 120_000);

afterAll(async () => {
  await api?.close();
  await be?.stop();
});

describe('GET /proxy/recommendations', () => {
  it('serves each arm its version, only active products, with the storefront fields', async () => {
    const customers = buyers();
    for (const [variant, version] of [['champion', V1], ['challenger', V2], ['holdout', 'popularity']] as const) {
      const c = unitIn(variant, customers);
      const r = await recs({ limit: '6' }, c);
      expect(r.status).toBe(200);
      expect(r.body.variant).toBe(variant);
      expect(r.body.model_version).toBe(version);
      expect(r.body.products.length).toBeGreaterThan(0);
      expect(createRecIds(be.deps.keys).parse(SHOP, r.body.rec_id)).toMatchObject({ variant, version: version === 'popularity' ? null : version, experiment: experimentId });
      for (const p of r.body.products) {
        expect(active().has(p.id)).toBe(true);
        const sim = productOf(p.id);
        expect(p).toMatchObject({ handle: sim.handle, title: sim.title, url: `/products/${sim.handle}`, price: { currency: 'USD' } });
        expect(sim.variants.map((v) => String(v.id))).toContain(p.variant_id);
      }
    }
  });

  it('Cache-Control: only anonymous product-keyed lists are cacheable', async () => {
    const pid = [...active()][0]!;
    const anonProduct = await recs({ product_id: pid, anonymous_id: 'cache-anon-1' });
    expect(anonProduct.cache).toBe('public, max-age=60');
    expect(anonProduct.body.products.map((p) => p.id)).not.toContain(pid);
    expect((await recs({ anonymous_id: 'cache-anon-1' })).cache).toBe('private, no-store');
    expect((await recs({ product_id: pid }, buyers()[0])).cache).toBe('private, no-store');
    expect((await recs({}, buyers()[0])).cache).toBe('private, no-store');
    // A cart: several products, none of them served back.
    const cart = [...active()].slice(0, 3);
    const c = await recs({ product_id: cart.join(','), anonymous_id: 'cache-anon-2' });
    expect(c.status).toBe(200);
    for (const p of c.body.products) expect(cart).not.toContain(p.id);
  });

  it('refuses a forged or stale signature with 401 (both routes)', async () => {
    const forged = appProxyQuery({ secret: 'not-the-secret-at-all', shop: SHOP, extra: { product_id: '1' } });
    expect((await fetch(`${be.url}/proxy/recommendations?${forged}`)).status).toBe(401);
    const stale = appProxyQuery({ secret: TEST_SECRET, shop: SHOP, timestamp: Math.floor(Date.now() / 1000) - 300 });
    expect((await fetch(`${be.url}/proxy/recommendations?${stale}`)).status).toBe(401);
    const tampered = appProxyQuery({ secret: TEST_SECRET, shop: SHOP, loggedInCustomerId: '' });
    tampered.set('logged_in_customer_id', buyers()[0]!);
    expect((await fetch(`${be.url}/proxy/recommendations?${tampered}`)).status).toBe(401);
    const ev = await fetch(`${be.url}/proxy/events?${forged}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ consent: true, events: [] }) });
    expect(ev.status).toBe(401);
  });
});

describe('impressions, clicks and conversions', () => {
  it('a logged-in challenger: recommendation → impression → click → order → conversion for the challenger', async () => {
    const c = unitIn('challenger', buyers());
    const r = await recs({ limit: '8', consent: '1' }, c);
    expect(r.body).toMatchObject({ variant: 'challenger', model_version: V2 });
    const shown = r.body.products.map((p) => p.id);
    const clicked = shown[1]!;
    const notShown = [...active()].find((p) => !shown.includes(p))!;
    expect(await events({ consent: true, events: [
      { id: `imp-${c}-0001`, type: 'impression', rec_id: r.body.rec_id, product_ids: shown },
      { id: `clk-${c}-0001`, type: 'click', rec_id: r.body.rec_id, product_id: clicked },
    ] }, c)).toBe(204);
    const row = be.deps.db.prepare('SELECT unit, customer_id, variant, model_version, experiment_id, product_ids FROM storefront_events WHERE event_id = ?').get(`imp-${c}-0001`);
    expect(row).toEqual({ unit: c, customer_id: c, variant: 'challenger', model_version: V2, experiment_id: experimentId, product_ids: shown.join(',') });

    const order = liveOrder(Number(c), [clicked, notShown]);
    expect(await webhook('orders/create', orderJson(order))).toBe(200);
    const conv = be.deps.db.prepare('SELECT product_id, unit, variant, model_version, experiment_id, method, revenue, rec_id FROM rec_conversions WHERE order_id = ?').all(String(order.id));
    const price = Number(productOf(clicked).variants[0]!.price);
    expect(conv).toEqual([{ product_id: clicked, unit: c, variant: 'challenger', model_version: V2, experiment_id: experimentId, method: 'window', revenue: price, rec_id: r.body.rec_id }]);
    // The rollout engine counted it for the challenger arm of the live experiment. The exposure
    // was written by the telemetry thread, not by a commit on the event loop.
    const telemetryBatches = be.deps.telemetry!.stats.batches;
    await serveStateFor(be.deps).flush();
    const exposure = be.deps.db.prepare('SELECT variant, conversions, revenue FROM rollout_exposures WHERE experiment_id = ? AND unit = ?').all(experimentId, c);
    expect(exposure).toEqual([{ variant: 'challenger', conversions: 1, revenue: price }]);
    expect(be.deps.telemetry!.stats.batches).toBeGreaterThan(telemetryBatches);
    // A redelivery of the same order counts nothing twice.
    const payload = orderJson(order);
    const body = JSON.stringify(payload);
    const again = await fetch(`${be.url}/webhooks`, { method: 'POST', body, headers: webhookHeaders({ secret: TEST_SECRET, shop: SHOP, topic: 'orders/create', rawBody: body, webhookId: `w-${nextId++}` }) });
    expect(again.status).toBe(200);
    expect(be.deps.db.prepare('SELECT count(*) FROM rec_conversions WHERE order_id = ?').pluck().get(String(order.id))).toBe(1);
  });

  it('a guest in the holdout: the line-item property attributes the order to the holdout and its anonymous unit', async () => {
    const anon = unitIn('holdout', Array.from({ length: 200 }, (_, i) => `anon-guest-${i}`));
    const pid = [...active()][2]!;
    const r = await recs({ product_id: pid, anonymous_id: anon, consent: '1' });
    expect(r.body).toMatchObject({ variant: 'holdout', model_version: 'popularity' });
    const bought = r.body.products[0]!.id;
    expect(await events({ consent: true, anonymous_id: anon, events: [{ id: `imp-${anon}`, type: 'impression', rec_id: r.body.rec_id, product_ids: r.body.products.map((p) => p.id) }] })).toBe(204);
    const order = liveOrder(null, [bought, pid]);
    expect(await webhook('orders/create', orderJson(order, { [bought]: r.body.rec_id }))).toBe(200);
    const conv = be.deps.db.prepare('SELECT product_id, unit, customer_id, variant, model_version, method FROM rec_conversions WHERE order_id = ?').all(String(order.id));
    expect(conv).toEqual([{ product_id: bought, unit: anon, customer_id: null, variant: 'holdout', model_version: null, method: 'property' }]);
    expect(be.deps.db.prepare('SELECT conversions FROM rollout_exposures WHERE experiment_id = ? AND unit = ? AND variant = ?').pluck().get(experimentId, anon, 'holdout')).toBe(1);
  });

  it('attributes nothing for a forged rec_id, a rec_id older than the window, or a product never recommended', async () => {
    const c = unitIn('champion', buyers());
    const pid = [...active()][4]!;
    const keys = createKeys('k'.repeat(48)); // the test backend's SHOPML_SECRET_KEY
    const old = createRecIds(keys).issue(SHOP, 'champion', V1, experimentId, Date.now() - 8 * 86_400_000);
    const forged = createRecIds(createKeys('z'.repeat(48))).issue(SHOP, 'champion', V1, experimentId, Date.now());
    const o1 = liveOrder(null, [pid]);
    expect(await webhook('orders/create', orderJson(o1, { [pid]: forged }))).toBe(200);
    const o2 = liveOrder(null, [pid]);
    expect(await webhook('orders/create', orderJson(o2, { [pid]: old }))).toBe(200);
    const o3 = liveOrder(Number(c), [pid]);
    expect(await webhook('orders/create', orderJson(o3))).toBe(200);
    const n = be.deps.db.prepare('SELECT count(*) FROM rec_conversions WHERE order_id IN (?, ?, ?)').pluck().get(String(o1.id), String(o2.id), String(o3.id));
    expect(n).toBe(0);
    // The orders themselves were recorded.
    expect(be.deps.db.prepare('SELECT count(*) FROM orders WHERE order_id IN (?, ?, ?)').pluck().get(String(o1.id), String(o2.id), String(o3.id))).toBe(3);
  });

  it('reports attributed revenue per arm over the API', async () => {
    const res = await fetch(`${apiUrl}/api/v1/controls/attribution?shop=${SHOP}`, { headers: { Authorization: `Bearer ${be.config.adminToken}` } });
    const body = (await res.json()) as { variants: { variant: string; orders: number; revenue: number }[] };
    expect(body.variants.map((v) => v.variant).sort()).toEqual(['challenger', 'holdout']);
    for (const v of body.variants) expect(v).toMatchObject({ orders: 1, revenue: expect.any(Number) });
  });

  it('records nothing without consent, rate-limits per unit with 429, and answers 204 when storage fails', async () => {
    const before = be.deps.db.prepare('SELECT count(*) FROM storefront_events').pluck().get() as number;
    expect(await events({ consent: false, anonymous_id: 'no-consent', events: [{ id: 'evt-nc-000001', type: 'impression', product_id: '5' }] })).toBe(204);
    expect(be.deps.db.prepare('SELECT count(*) FROM storefront_events').pluck().get()).toBe(before);

    const statuses: number[] = [];
    for (let i = 0; i < 26; i++) statuses.push(await events({ consent: true, anonymous_id: 'busy-unit', events: [{ id: `evt-busy-${String(i).padStart(4, '0')}`, type: 'click', product_id: '5' }] }));
    expect(statuses.slice(0, 20).every((s) => s === 204)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    // Another unit is not affected.
    expect(await events({ consent: true, anonymous_id: 'calm-unit', events: [{ id: 'evt-calm-0001', type: 'click', product_id: '5' }] })).toBe(204);

    const writer = be.deps.writer;
    be.deps.writer = { ...writer, write: () => Promise.reject(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' })) };
    try {
      expect(await events({ consent: true, anonymous_id: 'unlucky', events: [{ id: 'evt-lost-0001', type: 'click', product_id: '5' }, { id: 'evt-lost-0002', type: 'click', product_id: '6' }] })).toBe(204);
    } finally {
      be.deps.writer = writer;
    }
    const metrics = await (await fetch(`${be.url}/metrics`)).text();
    expect(metrics).toMatch(/shopml_storefront_events_dropped_total\{reason="storage"\} 2/);
    expect(metrics).toMatch(/shopml_storefront_events_dropped_total\{reason="rate_limited"\} 6/);
    expect(metrics).toMatch(/shopml_storefront_events_dropped_total\{reason="no_consent"\} 1/);
  });
});

describe('merchant controls', () => {
  const auth = () => ({ Authorization: `Bearer ${be.config.adminToken}`, 'content-type': 'application/json' });
  const put = async (path: string, body: unknown) => fetch(`${apiUrl}${path}?shop=${SHOP}`, { method: 'PUT', headers: auth(), body: JSON.stringify(body) });

  it('exclusions and pins from the API apply to the next request, in every arm', async () => {
    const c = unitIn('champion', buyers());
    const h = unitIn('holdout', buyers());
    const first = await recs({ limit: '8' }, c);
    const excluded = first.body.products[0]!.id;
    const pinned = [...active()].filter((p) => !first.body.products.some((x) => x.id === p)).slice(0, 2);
    expect((await put(`/api/v1/controls/products/${excluded}`, { action: 'exclude' })).status).toBe(200);
    expect((await put(`/api/v1/controls/products/${pinned[0]}`, { action: 'pin' })).status).toBe(200);
    const res = await put(`/api/v1/controls/products/${pinned[1]}`, { action: 'pin', position: 1 });
    expect(await res.json()).toMatchObject({ excluded: [excluded], pinned: [{ product_id: pinned[1], position: 1 }, { product_id: pinned[0], position: 2 }] });
    for (const unit of [c, h]) {
      const after = await recs({ limit: '8' }, unit);
      const ids = after.body.products.map((p) => p.id);
      expect(ids.slice(0, 2)).toEqual([pinned[1], pinned[0]]);
      expect(ids).not.toContain(excluded);
    }
    expect((await put('/api/v1/controls/products/abc', { action: 'pin' })).status).toBe(400);
    expect((await put(`/api/v1/controls/products/${excluded}`, { action: 'hide' })).status).toBe(400);
    expect((await fetch(`${apiUrl}/api/v1/controls?shop=${SHOP}`)).status).toBe(401);
    // Undo through the API.
    await put(`/api/v1/controls/products/${excluded}`, { action: 'include' });
    await put(`/api/v1/controls/products/${pinned[0]}`, { action: 'unpin' });
    await put(`/api/v1/controls/products/${pinned[1]}`, { action: 'unpin' });
    expect((await recs({ limit: '8' }, c)).body.products.map((p) => p.id)).toEqual(first.body.products.map((p) => p.id));
  });

  it('the CLI (another connection) changes what the running server serves', async () => {
    const env = { DATABASE_PATH: be.config.databasePath };
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const anon = unitIn('champion', Array.from({ length: 100 }, (_, i) => `cli-anon-${i}`));
      const before = await recs({ anonymous_id: anon, limit: '5' });
      const top = before.body.products[0]!.id;
      const pin = [...active()].find((p) => !before.body.products.some((x) => x.id === p))!;
      expect(await runControlsCommand(['exclude', '--shop', SHOP, '--product', top, '--json'], env)).toBe(0);
      expect(await runControlsCommand(['pin', '--shop', SHOP, '--product', pin], env)).toBe(0);
      expect(await runControlsCommand(['show', '--shop', SHOP, '--json'], env)).toBe(0);
      const shown = JSON.parse(String(log.mock.calls.at(-1)![0])) as { excluded: string[]; pinned: { product_id: string }[] };
      expect(shown).toMatchObject({ excluded: [top], pinned: [{ product_id: pin }] });
      const after = (await recs({ anonymous_id: anon, limit: '5' })).body.products.map((p) => p.id);
      expect(after[0]).toBe(pin);
      expect(after).not.toContain(top);
      await runControlsCommand(['include', '--shop', SHOP, '--product', top], env);
      await runControlsCommand(['unpin', '--shop', SHOP, '--product', pin], env);
      await expect(runControlsCommand(['pin', '--shop', SHOP, '--product', 'x1'], env)).rejects.toThrow(/digits/);
    } finally {
      log.mockRestore();
    }
  });

  it('minimum history: below it a logged-in customer gets no personal list', async () => {
    const c = unitIn('champion', buyers());
    const serve = serveStateFor(be.deps);
    expect(serve.recommend(SHOP, { productIds: [], customerId: c, anonymousId: null, limit: 6 }).source).toBe('personal');
    expect((await put('/api/v1/controls/settings', { min_history_orders: 1000 })).status).toBe(200);
    expect(serve.recommend(SHOP, { productIds: [], customerId: c, anonymousId: null, limit: 6 }).source).toBe('popular');
    expect((await put('/api/v1/controls/settings', { min_history_orders: 1 })).status).toBe(200);
    expect((await put('/api/v1/controls/settings', { attribution_days: 0 })).status).toBe(400);
  });
});

describe('the product-page fast path and the list cache', () => {
  it('ranks one product\'s neighbours exactly as relatedProducts does', () => {
    const art = loadArtifact<{ artifact: RecommendArtifact }>(be.config.artifactsDir, V1).artifact;
    for (const [n, id] of art.products.entries()) {
      const ok = (p: string) => Number(p) % 7 !== n % 7; // some products unavailable, differently per product
      const out: string[] = [];
      const push = (p: string) => { if (out.length < 10 && p !== id && ok(p) && !out.includes(p)) out.push(p); };
      for (const p of relatedToOne(art, id)) push(p);
      for (const i of art.popular) push(art.products[i]!);
      expect(out).toEqual(relatedProducts(art, [id], 10, null, ok));
    }
  });

  it('cached anonymous product lists follow controls and alias moves on the next request', async () => {
    const anon = unitIn('champion', Array.from({ length: 100 }, (_, i) => `cached-anon-${i}`));
    const pid = [...active()][3]!;
    const q = { product_id: pid, anonymous_id: anon, limit: '6' };
    const a = await recs(q);
    const b = await recs(q);
    expect(b.body.products).toEqual(a.body.products);
    expect(b.body.rec_id).not.toBe(a.body.rec_id); // each answer its own rec_id
    expect(serveStateFor(be.deps).stats.listHits).toBeGreaterThan(0);
    const auth = { Authorization: `Bearer ${be.config.adminToken}`, 'content-type': 'application/json' };
    const top = a.body.products[0]!.id;
    await fetch(`${apiUrl}/api/v1/controls/products/${top}?shop=${SHOP}`, { method: 'PUT', headers: auth, body: JSON.stringify({ action: 'exclude' }) });
    expect((await recs(q)).body.products.map((p) => p.id)).not.toContain(top);
    await fetch(`${apiUrl}/api/v1/controls/products/${top}?shop=${SHOP}`, { method: 'PUT', headers: auth, body: JSON.stringify({ action: 'include' }) });
    expect((await recs(q)).body.products).toEqual(a.body.products);
    promote(be.deps.db, { shop: SHOP, kind: 'recommend', version: V2, to: 'champion', reason: 'cache test', actor: 'test' });
    expect((await recs(q)).body.model_version).toBe(V2);
    rollback(be.deps.db, { shop: SHOP, kind: 'recommend', reason: 'cache test', actor: 'test' });
    expect((await recs(q)).body.model_version).toBe(V1);
  });
});

describe('stock, rollback, fallback', () => {
  it('never serves a product once it is out of stock or deleted (webhooks, next request)', async () => {
    const anon = unitIn('champion', Array.from({ length: 100 }, (_, i) => `stock-anon-${i}`));
    const pid = [...active()][1]!;
    const before = (await recs({ product_id: pid, anonymous_id: anon, limit: '8' })).body.products.map((p) => p.id);
    const [gone, deleted] = before;
    const at = new Date().toISOString();
    for (const v of productOf(gone!).variants) {
      expect(await webhook('inventory_levels/update', inventoryLevelPayload({ inventoryItemId: v.inventoryItemId, locationId: store.locationId ?? 1, available: 0, updatedAt: at }))).toBe(200);
    }
    expect(await webhook('products/delete', productDeletePayload(Number(deleted)))).toBe(200);
    const after = (await recs({ product_id: pid, anonymous_id: anon, limit: '8' })).body.products.map((p) => p.id);
    expect(after).not.toContain(gone);
    expect(after).not.toContain(deleted);
    expect(after.length).toBe(before.length);
    // Back in stock: served again.
    for (const v of productOf(gone!).variants) {
      await webhook('inventory_levels/update', inventoryLevelPayload({ inventoryItemId: v.inventoryItemId, locationId: store.locationId ?? 1, available: 5, updatedAt: new Date(Date.now() + 1000).toISOString() }));
    }
    expect((await recs({ product_id: pid, anonymous_id: anon, limit: '8' })).body.products.map((p) => p.id)).toContain(gone);
  });

  it('a promotion and a rollback (alias moves) are effective on the next request', async () => {
    const c = unitIn('champion', buyers());
    expect((await recs({}, c)).body.model_version).toBe(V1);
    promote(be.deps.db, { shop: SHOP, kind: 'recommend', version: V2, to: 'champion', reason: 'test promotion', actor: 'test' });
    expect((await recs({}, c)).body.model_version).toBe(V2);
    rollback(be.deps.db, { shop: SHOP, kind: 'recommend', reason: 'test rollback', actor: 'test' });
    expect((await recs({}, c)).body.model_version).toBe(V1);
  });

  it('falls back to popularity, never a 5xx, when the artifact is corrupt or missing', async () => {
    const c = unitIn('champion', buyers());
    const file = join(be.config.artifactsDir, `${V1}.json.gz`);
    const bytes = readFileSync(file);
    configureServing(be.deps, { artifactRetryMs: 0 }); // a fresh process: nothing loaded yet
    try {
      writeFileSync(file, Buffer.from('garbage'));
      const corrupt = await recs({ product_id: [...active()][0]! }, c);
      expect(corrupt.status).toBe(200);
      expect(corrupt.body).toMatchObject({ variant: 'champion', model_version: 'popularity' });
      expect(corrupt.body.products.length).toBeGreaterThan(0);
      renameSync(file, `${file}.away`);
      const missing = await recs({}, c);
      expect(missing.status).toBe(200);
      expect(missing.body.model_version).toBe('popularity');
      renameSync(`${file}.away`, file);
      writeFileSync(file, bytes);
      expect((await recs({}, c)).body.model_version).toBe(V1);
      const metrics = await (await fetch(`${be.url}/metrics`)).text();
      expect(metrics).toMatch(/shopml_proxy_requests_total\{route="recommendations",outcome="fallback"\} 2/);
    } finally {
      writeFileSync(file, bytes);
    }
  });

  it('answers popularity (variant "fallback") when the resolver itself fails', async () => {
    configureServing(be.deps, { resolver: { generation: () => { throw new Error('registry unreadable'); }, load: () => { throw new Error('unreachable'); } } });
    try {
      const r = await recs({ anonymous_id: 'any-unit' });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ variant: 'fallback', model_version: 'popularity' });
      expect(r.body.products.length).toBeGreaterThan(0);
      expect(r.cache).toBe('private, no-store');
    } finally {
      configureServing(be.deps, {});
    }
  });
});

// After the fallback tests: the broken version here adds a fallback to the metrics they count.
describe('a version going live is read off the request path', () => {
  /** A registered recommend version: V1's artifact under another seed (other bytes, so another version). */
  const newVersion = (seed: number): string => {
    const file = loadArtifact<{ kind: string; artifact: RecommendArtifact }>(be.config.artifactsDir, V1);
    const version = storeArtifact(be.config.artifactsDir, artifactBytes({ ...file, artifact: { ...file.artifact, seed } }));
    registerVersion(be.deps.db, { shop: SHOP, kind: 'recommend', version, runId: null, snapshotId: null, codeVersion: 'test', tensorBackend: null, params: {}, metrics: {}, trainedAt: new Date().toISOString(), trainSeconds: null });
    return version;
  };

  it('a version not in memory goes live without a load on the request path: the current one serves until it is read', async () => {
    const c = unitIn('champion', buyers());
    expect((await recs({}, c)).body.model_version).toBe(V1);
    // A third version, never served before: its file is read only when an alias points at it.
    const V3 = newVersion(3);
    const cache = serveStateFor(be.deps).artifacts;
    const preload = vi.spyOn(cache, 'preload');
    const get = vi.spyOn(cache, 'get');
    try {
      promote(be.deps.db, { shop: SHOP, kind: 'recommend', version: V3, to: 'champion', reason: 'preload test', actor: 'test' });
      // The request right after the move: answered by the version in memory, and V3 read in the background.
      expect((await recs({}, c)).body.model_version).toBe(V1);
      expect(preload).toHaveBeenCalledWith(V3);
      await preload.mock.results[0]!.value;
      expect(cache.has(V3)).toBe(true);
      expect(get.mock.calls.filter(([v]) => v === V3)).toEqual([]); // never loaded synchronously
      expect((await recs({}, c)).body.model_version).toBe(V3);
      // Back to a version in memory: on the next request.
      rollback(be.deps.db, { shop: SHOP, kind: 'recommend', reason: 'preload test', actor: 'test' });
      expect((await recs({}, c)).body.model_version).toBe(V1);
    } finally {
      preload.mockRestore();
      get.mockRestore();
    }
  });

  it('a version going live whose file is broken: the current one serves until the read failed, then popularity, as a load on the request path would', async () => {
    const c = unitIn('champion', buyers());
    expect((await recs({}, c)).body.model_version).toBe(V1);
    const V4 = newVersion(4);
    const path = join(be.config.artifactsDir, `${V4}.json.gz`);
    writeFileSync(path, Buffer.from('garbage'));
    const cache = serveStateFor(be.deps).artifacts;
    const preload = vi.spyOn(cache, 'preload');
    try {
      promote(be.deps.db, { shop: SHOP, kind: 'recommend', version: V4, to: 'champion', reason: 'broken preload test', actor: 'test' });
      expect((await recs({}, c)).body.model_version).toBe(V1);
      await preload.mock.results[0]!.value;
      expect(cache.has(V4)).toBe(false);
      const after = await recs({}, c);
      expect(after.status).toBe(200);
      expect(after.body).toMatchObject({ variant: 'champion', model_version: 'popularity' });
      rollback(be.deps.db, { shop: SHOP, kind: 'recommend', reason: 'broken preload test', actor: 'test' });
      expect((await recs({}, c)).body.model_version).toBe(V1);
    } finally {
      preload.mockRestore();
    }
  });
});

describe('exposures when the store fails', () => {
  const units = (prefix: string) => be.deps.db.prepare('SELECT count(*) FROM rollout_exposures WHERE experiment_id = ? AND unit LIKE ?').pluck().get(experimentId, `${prefix}%`) as number;
  const serveAll = async (prefix: string, n: number) => {
    for (let i = 0; i < n; i++) expect((await recs({ anonymous_id: `${prefix}${i}`, consent: '1', limit: '4' })).status).toBe(200);
  };

  it('a batch that failed to write is written later, not dropped: every consented unit counted once, none served again', async () => {
    let failures = 3;
    const attempts: number[] = [];
    const s = configureServing(be.deps, {
      exposureRetryMs: 20,
      exposures: { record(db, batch) { attempts.push(batch.length); if (failures-- > 0) throw new Error('database is locked'); rolloutExposureSink.record(db, batch); } },
    });
    try {
      await serveAll('retry-unit-', 12);
      await vi.waitFor(() => expect(units('retry-unit-')).toBe(12), { timeout: 10_000, interval: 20 });
      expect(attempts.length).toBeGreaterThanOrEqual(4);
      expect(s.stats.exposureErrors).toBeGreaterThanOrEqual(3);
      expect(s.stats.exposures).toBe(12);
    } finally {
      configureServing(be.deps, {});
    }
  });

  it('after MAX_EXPOSURE_RETRIES failed writes in a row a batch is dropped, and its units are logged when next served', async () => {
    let failing = true;
    const s = configureServing(be.deps, {
      exposureRetryMs: 5, exposureFlushMs: 600_000, // one batch, written when flushed here
      exposures: { record(db, batch) { if (failing) throw new Error('disk full'); rolloutExposureSink.record(db, batch); } },
    });
    try {
      await serveAll('dropped-unit-', 5);
      await s.flush();
      // Each failed write of the 5-unit batch counts 5 errors: the first write and every retry.
      await vi.waitFor(() => expect(s.stats.exposureErrors).toBe(5 * (MAX_EXPOSURE_RETRIES + 1)), { timeout: 10_000, interval: 10 });
      await new Promise((r) => setTimeout(r, 400)); // and no write after the batch was dropped
      expect(s.stats.exposureErrors).toBe(5 * (MAX_EXPOSURE_RETRIES + 1));
      expect(units('dropped-unit-')).toBe(0);
      failing = false;
      await serveAll('dropped-unit-', 5);
      await s.flush();
      expect(units('dropped-unit-')).toBe(5);
      expect(s.stats.exposures).toBe(5);
    } finally {
      configureServing(be.deps, {});
    }
  });
});
