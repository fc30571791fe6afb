// The admin UI extension's endpoints over HTTP on the real backend (Fastify on port 0, SQLite, the
// webhook writer thread), for a simulated shop whose history went through the real ingestion path
// and the four real training runs: GET /api/v1/customers/:id/insights and
// GET /api/v1/products/:id/insights. Checked: answers equal what the champion models stored;
// figures as of now follow a stock change (signed webhook) and a lead-time change (API); session
// tokens are verified (wrong audience, expiry, forged, another shop → no data of shop A); CORS
// preflight from the admin extension origin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateStore } from '../../simulator/store.ts';
import { sessionToken, webhookHeaders } from '../../simulator/sign.ts';
import { inventoryLevelPayload, orderPayload } from '../../simulator/rest-payloads.ts';
import { getAlias } from '../../backend/src/registry/aliases.ts';
import { loadArtifact } from '../../backend/src/ml/artifact.ts';
import type { ForecastArtifact } from '../../backend/src/models/forecast/train.ts';
import type { RecommendArtifact } from '../../backend/src/models/recommend/index.ts';
import { relatedToOne } from '../../backend/src/serve/recommend.ts';
import { recordTags } from '../../backend/src/flow/tags.ts';
import type { CustomerInsights, ProductInsights } from '../../backend/src/insights/types.ts';
import { startTestBackend, TEST_API_KEY, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';
import { seedShop } from '../helpers/insights-shop.ts';

const A = 'insights-a.myshopify.com';
const B = 'insights-b.myshopify.com';
const storeA = generateStore({ seed: 41, shop: A, customers: 200, products: 30, days: 240 });
const storeB = generateStore({ seed: 42, shop: B, customers: 40, products: 8, days: 120 });
const ORIGIN = 'https://extensions.shopifycdn.com';
const DAY = 86_400_000;

let be: TestBackend;
let nowMs = Date.parse(storeA.asOf!);
let webhookSeq = 0;

const token = (shop: string, over: Partial<Parameters<typeof sessionToken>[0]> = {}) =>
  sessionToken({ apiKey: TEST_API_KEY, secret: TEST_SECRET, shop, sub: '42', ...over });

async function get<T = any>(path: string, auth: string | null, headers: Record<string, string> = {}) {
  const res = await fetch(`${be.url}${path}`, { headers: { ...(auth === null ? {} : { Authorization: `Bearer ${auth}` }), Origin: ORIGIN, ...headers } });
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => null)) as T };
}

async function webhook(shop: string, topic: string, payload: unknown): Promise<number> {
  const body = JSON.stringify(payload);
  const res = await fetch(`${be.url}/webhooks`, { method: 'POST', body, headers: webhookHeaders({ secret: TEST_SECRET, shop, topic, rawBody: body, webhookId: `insights-${++webhookSeq}` }) });
  return res.status;
}

const champion = (kind: 'segment' | 'churn' | 'forecast' | 'recommend') => getAlias(be.deps.db, A, kind, 'champion')!;
const output = <T>(kind: string, customer: string) =>
  JSON.parse(be.deps.db.prepare('SELECT output_json FROM customer_outputs WHERE shop = ? AND model_version = ? AND customer_id = ?').pluck().get(A, champion(kind as 'churn'), customer) as string) as T;

let customer: string;
let forecast: ForecastArtifact;
let product: ForecastArtifact['products'][number];

beforeAll(async () => {
  be = await startTestBackend({}, { now: () => new Date(nowMs) });
  const seeded = await seedShop(be, storeA);
  await seedShop(be, storeB, { train: false });
  // "Now" is an hour after the watermark: the same UTC day the forecast starts on.
  nowMs = Date.parse(seeded.latestOrder) + 3_600_000;
  customer = be.deps.db.prepare(`SELECT customer_id FROM orders WHERE shop = ? AND customer_id IS NOT NULL AND kind = 'order' AND cancelled_at IS NULL
    GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 1`).pluck().get(A) as string;
  forecast = loadArtifact<{ artifact: ForecastArtifact }>(be.config.artifactsDir, champion('forecast')).artifact;
  // A product that sells, with stock on record and a neighbour in the recommendation model.
  const rec = loadArtifact<{ artifact: RecommendArtifact }>(be.config.artifactsDir, champion('recommend')).artifact;
  product = forecast.products.filter((p) => p.stock !== null && p.velocityPerDay > 0 && relatedToOne(rec, p.productId).length > 0)
    .sort((a, b) => b.velocityPerDay - a.velocityPerDay || (a.productId < b.productId ? -1 : 1))[0]!;
  expect(product).toBeDefined();
}, 120_000);

afterAll(async () => {
  await be?.stop();
});

describe('GET /api/v1/customers/:id/insights', () => {
  it("answers the champion models' view of the customer, for a session token of the shop", async () => {
    const r = await get<CustomerInsights>(`/api/v1/customers/${customer}/insights`, token(A));
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    const c = r.body;
    expect(c).toMatchObject({ shop: A, customer_id: customer, status: 'ok', reason: null, currency: 'USD' });

    const seg = output<{ segment: string; tag: string }>('segment', customer);
    expect(c.segment).toMatchObject({ name: seg.segment, tag: seg.tag, model: { kind: 'segment', version: champion('segment') } });
    expect(c.segment!.tag).toMatch(/^shopml:[a-z-]+$/);

    const ch = output<{ churnProbability: number; orderProbability: number; pAlive?: number; expectedNextOrder: number; predictedSpend: number }>('churn', customer);
    expect(c.churn!.churn_probability).toBeCloseTo(ch.churnProbability, 4);
    expect(c.churn!.order_probability).toBeCloseTo(ch.orderProbability, 4);
    expect(c.churn!.churn_probability + c.churn!.order_probability).toBeCloseTo(1, 3);
    expect(c.churn!.horizon_days).toBe(90);
    expect(c.churn!.model).toMatchObject({ kind: 'churn', version: champion('churn') });
    expect(c.churn!.model.as_of).toBe(new Date(Date.parse(c.churn!.model.as_of!)).toISOString());
    // The percentile is the share of the shop's scored customers below this one's risk.
    const all = (be.deps.db.prepare(`SELECT json_extract(output_json, '$.churnProbability') FROM customer_outputs WHERE shop = ? AND model_version = ?`).pluck().all(A, champion('churn')) as number[]);
    const below = all.filter((p) => p < ch.churnProbability).length, ties = all.filter((p) => p === ch.churnProbability).length;
    expect(c.churn!.percentile).toBeCloseTo((below + ties / 2) / all.length, 3);
    expect(c.churn!.risk).toBe(c.churn!.percentile >= 2 / 3 ? 'high' : c.churn!.percentile >= 1 / 3 ? 'medium' : 'low');

    expect(c.expected_next_order!.date).toBe(new Date(ch.expectedNextOrder).toISOString().slice(0, 10));
    expect(c.expected_next_order!.overdue).toBe(ch.expectedNextOrder < nowMs);
    expect(c.predicted_value).toEqual({ amount: Math.round(ch.predictedSpend * 100) / 100, horizon_days: 90 });

    const h = be.deps.db.prepare(`SELECT count(*) AS n, max(created_at) AS last, sum(total_price) AS spent FROM orders WHERE shop = ? AND customer_id = ? AND kind = 'order' AND cancelled_at IS NULL AND test = 0`)
      .get(A, customer) as { n: number; last: string; spent: number };
    expect(c.history).toMatchObject({ orders: h.n, last_order_at: h.last });
    expect(c.history.total_spent).toBeCloseTo(h.spent, 2);
    expect(c.history.orders).toBeGreaterThan(1);
    expect(c.tags).toEqual([]);

    // The admin hands the extension a GID; the endpoint takes either form.
    const byGid = await get<CustomerInsights>(`/api/v1/customers/${encodeURIComponent(`gid://shopify/Customer/${customer}`)}/insights`, token(A));
    expect(byGid.status).toBe(200);
    expect(byGid.body.churn).toEqual(c.churn);
  });

  it('spreads risk bands over the shop: each band holds about a third of the scored customers', async () => {
    const ids = be.deps.db.prepare(`SELECT customer_id FROM customer_outputs WHERE shop = ? AND model_version = ? ORDER BY customer_id LIMIT 60`).pluck().all(A, champion('churn')) as string[];
    const bands = { low: 0, medium: 0, high: 0 };
    expect((await get(`/api/v1/customers/${ids[0]}/insights`, be.config.adminToken)).status).toBe(400); // the operator must name the shop
    for (const id of ids) {
      const ok = await get<CustomerInsights>(`/api/v1/customers/${id}/insights?shop=${A}`, be.config.adminToken);
      expect(ok.status).toBe(200);
      bands[ok.body.churn!.risk]++;
    }
    for (const n of Object.values(bands)) expect(n).toBeGreaterThan(8);
  });

  it('shows the tags shopml applied, newest first', async () => {
    be.deps.db.transaction(() => {
      recordTags(be.deps.db, A, customer, new Map([['shopml:', 'shopml:champions']]), '2026-10-01T10:00:00.000Z');
      recordTags(be.deps.db, A, customer, new Map([['shopml:', 'shopml:champions'], ['vip-', 'vip-champions']]), '2026-10-02T10:00:00.000Z');
    })();
    const r = await get<CustomerInsights>(`/api/v1/customers/${customer}/insights`, token(A));
    expect(r.body.tags.map((t) => t.tag)).toContain('shopml:champions');
    expect(r.body.tags.map((t) => t.tag)).toContain('vip-champions');
    expect(r.body.tags.every((t, i, a) => i === 0 || a[i - 1]!.applied_at >= t.applied_at)).toBe(true);
    // Another shop's token never sees them.
    const other = await get<CustomerInsights>(`/api/v1/customers/${customer}/insights`, token(B));
    expect(other.body.tags).toEqual([]);
  });

  it('says "not enough history" for a customer the models have not scored', async () => {
    const none = await get<CustomerInsights>('/api/v1/customers/987654321/insights', token(A));
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ status: 'not_enough_history', reason: 'no_orders', segment: null, churn: null, expected_next_order: null, predicted_value: null, history: { orders: 0 } });
    // A first order after the last training: stored, not scored yet.
    const tpl = storeA.orders.find((o) => o.customerId !== null && o.cancelledAt === null && !o.refunds?.length)!;
    const at = new Date(nowMs).toISOString();
    const payload = orderPayload({ ...tpl, id: 7_700_000_001, name: '#7700000001', createdAt: at, updatedAt: at, processedAt: at }, storeA) as Record<string, any>;
    payload.customer = { ...payload.customer, id: 7_700_000_555, admin_graphql_api_id: 'gid://shopify/Customer/7700000555' };
    payload.email = payload.contact_email = 'first-order@example.com';
    expect(await webhook(A, 'orders/create', payload)).toBe(200);
    const late = await get<CustomerInsights>('/api/v1/customers/7700000555/insights', token(A));
    expect(late.body).toMatchObject({ status: 'not_enough_history', reason: 'not_scored_yet', history: { orders: 1 } });
  });
});

describe('GET /api/v1/products/:id/insights', () => {
  it("answers the champion forecast, the figures as of now and the recommendation model's neighbours", async () => {
    const r = await get<ProductInsights>(`/api/v1/products/${product.productId}/insights`, token(A));
    expect(r.status).toBe(200);
    const p = r.body;
    expect(p).toMatchObject({ shop: A, product_id: product.productId, status: 'ok', reason: null });
    expect(p.title).toBe(storeA.products.find((x) => String(x.id) === product.productId)!.title);
    const f = p.forecast!;
    expect(f.model).toMatchObject({ kind: 'forecast', version: champion('forecast') });
    expect(f).toMatchObject({ method: product.method, interval_level: forecast.intervalLevel, velocity_per_day: product.velocityPerDay, expired: false });
    // Today is in week 0 of the forecast: every week of the horizon, with its interval.
    expect(f.weeks.map((w) => w.mean)).toEqual(product.weekly.mean);
    expect(f.weeks.map((w) => [w.lo, w.hi])).toEqual(product.weekly.lo.map((lo, k) => [lo, product.weekly.hi[k]]));
    expect(f.weeks[0]!.current).toBe(true);
    expect(f.weeks[0]!.week_start).toBe(forecast.weekStart.slice(0, 10));
    for (const w of f.weeks) expect(w.lo).toBeLessThanOrEqual(w.hi);
    expect(f.next_28_days).toBeCloseTo(product.daily.mean.slice(0, 28).reduce((s, v) => s + v, 0), 2);
    // Same day, same stock, same lead time: the figures the training computed.
    const inv = p.inventory!;
    expect(inv).toMatchObject({ stock: product.stock, lead_time_days: 14, lead_time_source: 'default', service_level: forecast.serviceLevel, review_days: forecast.reviewDays });
    expect(inv.reorder_point).toBeCloseTo(product.reorderPoint, 1);
    expect(inv.safety_stock).toBeCloseTo(product.safetyStock, 2);
    expect(Math.abs(inv.suggested_order_qty! - product.suggestedOrderQty!)).toBeLessThanOrEqual(1);
    expect(inv.stockout_date).toBe(product.stockoutDate);
    // Related: the champion recommendation model's neighbours, as the storefront ranks them.
    const rec = loadArtifact<{ artifact: RecommendArtifact }>(be.config.artifactsDir, champion('recommend')).artifact;
    expect(p.related.model).toMatchObject({ kind: 'recommend', version: champion('recommend') });
    expect(p.related.products.map((x) => x.id)).toEqual(relatedToOne(rec, product.productId).slice(0, 5));
    for (const x of p.related.products) expect(x.title).toBe(storeA.products.find((s) => String(s.id) === x.id)!.title);
  });

  it("follows the merchant's lead time and the stock as they change, without retraining", async () => {
    const path = `/api/v1/products/${product.productId}/insights`;
    const before = (await get<ProductInsights>(path, token(A))).body.inventory!;
    const put = await fetch(`${be.url}/api/v1/products/${product.productId}/lead-time`, {
      method: 'PUT', headers: { Authorization: `Bearer ${token(A)}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ lead_time_days: 35 }),
    });
    expect(put.status).toBe(200);
    const longer = (await get<ProductInsights>(path, token(A))).body.inventory!;
    expect(longer).toMatchObject({ lead_time_days: 35, lead_time_source: 'merchant' });
    expect(longer.reorder_point).toBeGreaterThan(before.reorder_point);
    expect(longer.safety_stock).toBeGreaterThan(before.safety_stock);

    // Sold out everywhere (a signed inventory webhook): stock-out today, order up to S now.
    const sim = storeA.products.find((x) => String(x.id) === product.productId)!;
    for (const v of sim.variants) {
      const level = { inventoryItemId: v.inventoryItemId, locationId: storeA.locationId ?? 1, available: 0, updatedAt: new Date(Date.parse(storeA.asOf!) + 60_000).toISOString() }; // newer than the seeded level
      expect(await webhook(A, 'inventory_levels/update', inventoryLevelPayload(level))).toBe(200);
    }
    const out = (await get<ProductInsights>(path, token(A))).body.inventory!;
    expect(out.stock).toBe(0);
    expect(out.stockout_date).toBe(new Date(nowMs).toISOString().slice(0, 10));
    expect(out.suggested_order_qty).toBe(Math.ceil(out.order_up_to - 1e-9));
    expect(out.suggested_order_qty).toBeGreaterThan(0);
  });

  it('reads the forecast from today on as days pass, and says when it has run out', async () => {
    const path = `/api/v1/products/${product.productId}/insights`;
    const saved = nowMs;
    try {
      nowMs = Date.parse(forecast.weekStart) + 15 * DAY; // in week 2
      const later = (await get<ProductInsights>(path, token(A))).body.forecast!;
      expect(later.weeks[0]).toMatchObject({ week_start: new Date(Date.parse(forecast.weekStart) + 14 * DAY).toISOString().slice(0, 10), current: true, mean: product.weekly.mean[2] });
      expect(later.weeks).toHaveLength(product.weekly.mean.length - 2);
      nowMs = Date.parse(forecast.weekStart) + (forecast.horizonWeeks * 7 + 1) * DAY;
      const expired = (await get<ProductInsights>(path, token(A))).body;
      expect(expired.forecast).toMatchObject({ expired: true, weeks: [], next_28_days: 0 });
      expect(expired.inventory).toBeNull();
    } finally {
      nowMs = saved;
    }
  });

  it('says "not enough history" for a product the forecast has not seen sell', async () => {
    const r = await get<ProductInsights>('/api/v1/products/123456789/insights', token(A));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'not_enough_history', reason: 'no_sales', forecast: null, inventory: null, related: { products: [] } });
  });
});

describe('authentication, shop isolation and CORS', () => {
  const paths = () => [`/api/v1/customers/${customer}/insights`, `/api/v1/products/${product.productId}/insights`];

  it('refuses a missing, forged, wrong-audience or expired token (401, with CORS headers)', async () => {
    for (const path of paths()) {
      const bad = [
        null,
        'not-a-jwt',
        sessionToken({ apiKey: TEST_API_KEY, secret: 'someone-elses-secret-00000', shop: A }),
        token(A, { apiKey: 'another-app' }),
        token(A, { exp: Math.floor(Date.now() / 1000) - 120 }),
        token(A, { nbf: Math.floor(Date.now() / 1000) + 600 }),
      ];
      for (const t of bad) {
        const r = await get(path, t);
        expect(r.status, `${path} ${t?.slice(0, 20)}`).toBe(401);
        expect(r.body.error).toBe('unauthorized');
        expect(r.headers.get('access-control-allow-origin')).toBe('*');
      }
    }
  });

  it("never answers with another shop's data: a token of shop B reads shop B only", async () => {
    const c = await get<CustomerInsights>(`/api/v1/customers/${customer}/insights`, token(B));
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ shop: B, status: 'no_model', segment: null, churn: null, predicted_value: null, history: { orders: 0, total_spent: 0 }, tags: [] });
    const p = await get<ProductInsights>(`/api/v1/products/${product.productId}/insights`, token(B));
    expect(p.body).toMatchObject({ shop: B, status: 'no_model', title: null, forecast: null, inventory: null, related: { model: null, products: [] } });
    // Naming shop A with B's token is refused outright.
    expect((await get(`/api/v1/customers/${customer}/insights?shop=${A}`, token(B))).status).toBe(403);
    expect((await get(`/api/v1/products/${product.productId}/insights?shop=${A}`, token(B))).status).toBe(403);
    // The operator token reads any shop it names.
    const op = await get<CustomerInsights>(`/api/v1/customers/${customer}/insights?shop=${A}`, be.config.adminToken);
    expect(op.body).toMatchObject({ shop: A, status: 'ok' });
  });

  it('rejects ids that are not Shopify ids of the right kind', async () => {
    for (const id of ['abc', '12a', encodeURIComponent('gid://shopify/Product/1'), '1'.repeat(30)]) {
      const r = await get(`/api/v1/customers/${id}/insights`, token(A));
      expect(r.status, id).toBe(400);
    }
    expect((await get(`/api/v1/products/${encodeURIComponent('gid://shopify/Customer/1')}/insights`, token(A))).status).toBe(400);
  });

  it('answers the CORS preflight the admin extension sends before its authorized GET', async () => {
    for (const path of paths()) {
      const res = await fetch(`${be.url}${path}`, {
        method: 'OPTIONS',
        headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-headers')).toMatch(/\bAuthorization\b/i);
      expect(res.headers.get('access-control-allow-methods')).toMatch(/\bGET\b/);
      expect(await res.text()).toBe('');
    }
  });
});
