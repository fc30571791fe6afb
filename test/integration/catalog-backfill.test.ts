// The catalog backfill end to end: the real backend (Fastify on port 0, SQLite file, webhook
// writer thread) installed on a simulated shop by token exchange, the products bulk export from
// the Admin API simulator (JSONL with `__parentId` variant lines), signed webhooks, and the
// storefront through signed app proxy requests. Products that never sent a webhook reach the
// tables and the storefront; a re-run writes nothing; a newer webhook wins over an older bulk
// row; a malformed line fails with its number and leaves no partial chunk.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminSimulator, type AdminSimulator } from '../../simulator/admin-server.ts';
import { generateStore } from '../../simulator/store.ts';
import { appProxyQuery, sessionToken, webhookHeaders } from '../../simulator/sign.ts';
import { inventoryLevelPayload, productPayload } from '../../simulator/rest-payloads.ts';
import type { SimProduct, SimStore } from '../../simulator/types.ts';
import { backfillShop } from '../../backend/src/ingest/backfill-shop.ts';
import { backfillProducts } from '../../backend/src/ingest/backfill.ts';
import { normalizeProduct } from '../../backend/src/ingest/normalize-rest.ts';
import { ALL_LOCATIONS } from '../../backend/src/ingest/record.ts';
import { createAdminClient } from '../../backend/src/shopify/admin-client.ts';
import { loadOfflineToken } from '../../backend/src/shopify/auth.ts';
import { BulkJsonlError } from '../../backend/src/shopify/bulk-jsonl.ts';
import { startTestBackend, TEST_API_KEY, TEST_SECRET, testEnv, type TestBackend } from '../helpers/backend.ts';

const store = generateStore({ seed: 11, products: 40, customers: 80, days: 120 });
const shop = store.shop;
// A second shop for the failure test, so the first one's data stays as the earlier tests left it.
const other = generateStore({ seed: 12, shop: 'second-shop.myshopify.com', products: 30, customers: 10, days: 20 });
let sim: AdminSimulator;
let be: TestBackend;
let webhookId = 0;

interface Served { variant: string; model_version: string; products: { id: string; variant_id: string | null; handle: string | null; title: string | null; price: { amount: string; currency: string } | null; image: string | null; url: string | null }[] }

async function recs(limit = 24): Promise<Served> {
  const res = await fetch(`${be.url}/proxy/recommendations?${appProxyQuery({ secret: TEST_SECRET, shop, extra: { limit: String(limit) } })}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Served;
}

async function webhook(topic: string, payload: unknown): Promise<void> {
  const body = JSON.stringify(payload);
  const res = await fetch(`${be.url}/webhooks`, { method: 'POST', body, headers: webhookHeaders({ secret: TEST_SECRET, shop, topic, rawBody: body, webhookId: `catalog-test-${++webhookId}` }) });
  expect(res.status).toBe(200);
}

async function install(s: SimStore): Promise<void> {
  const res = await fetch(`${be.url}/api/v1/session`, { method: 'POST', headers: { Authorization: `Bearer ${sessionToken({ apiKey: TEST_API_KEY, secret: TEST_SECRET, shop: s.shop })}` } });
  expect(res.status).toBe(200);
}

const db = () => be.deps.db;
const count = (sql: string, ...args: unknown[]) => db().prepare(sql).pluck().get(...args) as number;
const catalogDump = (s = shop) => ({
  products: db().prepare('SELECT * FROM products WHERE shop = ? ORDER BY product_id').all(s),
  variants: db().prepare('SELECT * FROM variants WHERE shop = ? ORDER BY variant_id').all(s),
  inventory: db().prepare('SELECT * FROM inventory WHERE shop = ? ORDER BY inventory_item_id, location_id').all(s),
  orders: db().prepare('SELECT count(*) FROM orders WHERE shop = ?').pluck().get(s),
});
/** Events that carry data (not the bulk_operations/finish notices each export also brings). */
const dataEvents = (s = shop) => count(`SELECT count(*) FROM events WHERE shop = ? AND topic != 'bulk_operations/finish'`, s);
const variantCount = (s: SimStore) => s.products.reduce((a, p) => a + p.variants.length, 0);

beforeAll(async () => {
  // The backend's port is needed before the simulator starts (it posts bulk_operations/finish
  // there), and the simulator's URL before the backend starts: reserve the port first.
  const port = await new Promise<number>((r) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)); }); });
  sim = await startAdminSimulator({ store: [store, other], apiKey: TEST_API_KEY, apiSecret: TEST_SECRET, bulkDelayMs: 20, webhookTarget: { url: `http://127.0.0.1:${port}/webhooks` } });
  // No job runner: the install's own backfill job stays queued; these tests run the backfill themselves.
  be = await startTestBackend({ SHOPIFY_ADMIN_BASE_URL: sim.baseUrlTemplate, PORT: String(port) }, { jobs: false });
  await install(store);
  await install(other);
}, 60_000);

afterAll(async () => {
  await be?.stop();
  await sim?.close();
});

describe('catalog backfill', () => {
  it('orders alone: the storefront can only name products by id', async () => {
    const counts = await backfillShop({ db: db(), keys: be.deps.keys, shop, adminBaseUrl: sim.baseUrlTemplate, what: 'orders', pollIntervalMs: 50 });
    expect(counts.products).toBeNull();
    expect(counts.orders!.orders).toBe(store.orders.length);
    expect(count('SELECT count(*) FROM products WHERE shop = ?', shop)).toBe(0);
    const r = await recs();
    expect(r.products.length).toBeGreaterThan(0);
    for (const p of r.products) expect([p.title, p.handle, p.price, p.image, p.url]).toEqual([null, null, null, null, null]);
  });

  it('every product and variant arrives with price, image and stock, as product webhooks would write them', async () => {
    const progress: number[] = [];
    const counts = await backfillShop({
      db: db(), keys: be.deps.keys, shop, adminBaseUrl: sim.baseUrlTemplate, what: 'products', pollIntervalMs: 50, batchSize: 7,
      onProgress: (e) => { if (e.phase === 'recorded' && e.what === 'products') progress.push(e.counts.products); },
    });
    const nVariants = variantCount(store);
    expect(counts.orders).toBeNull();
    expect(counts.products).toMatchObject({
      objects: store.products.length + nVariants, products: store.products.length, variants: nVariants,
      applied: store.products.length, duplicate: 0, stale: 0, inventory: { applied: nVariants, unchanged: 0, stale: 0 },
    });
    expect(progress).toEqual([7, 14, 21, 28, 35, 40]); // one report per committed chunk of 7
    expect(db().prepare('SELECT status, objects FROM bulk_operations WHERE shop = ? AND operation_id = ?').get(shop, counts.products!.operationId))
      .toEqual({ status: 'COMPLETED', objects: store.products.length + nVariants });
    // None of it came by webhook.
    expect(count(`SELECT count(*) FROM events WHERE shop = ? AND topic LIKE 'products/%'`, shop)).toBe(0);
    expect(count(`SELECT count(*) FROM events WHERE shop = ? AND topic = 'bulk/products'`, shop)).toBe(store.products.length);

    for (const p of store.products) {
      // Field by field what normalizeProduct makes of the same product's products/create body.
      const w = normalizeProduct(productPayload(p, store));
      expect(db().prepare('SELECT title, handle, product_type, vendor, status, tags, created_at, updated_at, deleted_at FROM products WHERE shop = ? AND product_id = ?').get(shop, String(p.id)))
        .toEqual({ title: w.title, handle: w.handle, product_type: w.productType, vendor: w.vendor, status: w.status, tags: w.tags, created_at: w.createdAt, updated_at: w.updatedAt, deleted_at: null });
      expect([p.status, p.handle, p.title]).toEqual([w.status, w.handle, w.title]);
      const variants = db().prepare('SELECT variant_id, title, sku, price, inventory_item_id, image FROM variants WHERE shop = ? AND product_id = ? ORDER BY variant_id').all(shop, String(p.id));
      expect(variants).toEqual([...p.variants].sort((a, b) => a.id - b.id).map((v) => ({
        variant_id: String(v.id), title: v.title, sku: v.sku, price: Number(v.price), inventory_item_id: String(v.inventoryItemId), image: p.image,
      })));
      for (const v of p.variants) {
        expect(db().prepare('SELECT location_id, available FROM inventory WHERE shop = ? AND inventory_item_id = ?').all(shop, String(v.inventoryItemId)))
          .toEqual([{ location_id: ALL_LOCATIONS, available: v.inventoryQuantity }]);
      }
    }
    expect(store.products.some((p) => p.image !== null)).toBe(true);
  });

  it('the storefront now shows those products: title, handle, price, image, only active and in stock', async () => {
    const r = await recs();
    expect(r.products.length).toBeGreaterThan(3);
    for (const s of r.products) {
      const p = store.products.find((x) => String(x.id) === s.id)!;
      expect(p.status).toBe('ACTIVE');
      const v = p.variants.find((x) => String(x.id) === s.variant_id)!;
      expect(v.inventoryQuantity).toBeGreaterThan(0);
      expect(s).toEqual({
        id: String(p.id), variant_id: String(v.id), handle: p.handle, title: p.title,
        price: { amount: Number(v.price).toFixed(2), currency: store.currency }, image: p.image, url: `/products/${p.handle}`,
      });
    }
    // Popular products that are sold out, drafts or archived are no longer shown.
    const hidden = store.products.filter((p) => p.status !== 'ACTIVE' || p.variants.every((v) => v.inventoryQuantity <= 0)).map((p) => String(p.id));
    expect(r.products.filter((p) => hidden.includes(p.id))).toEqual([]);
  });

  it('a re-run (products, then orders) writes nothing', async () => {
    const before = catalogDump();
    const events = dataEvents();
    const counts = await backfillShop({ db: db(), keys: be.deps.keys, shop, adminBaseUrl: sim.baseUrlTemplate, pollIntervalMs: 50 });
    expect(counts.products).toMatchObject({ products: store.products.length, applied: 0, duplicate: store.products.length, stale: 0, inventory: { applied: 0, unchanged: variantCount(store), stale: 0 } });
    expect(counts.orders).toMatchObject({ orders: store.orders.length, applied: 0, duplicate: store.orders.length });
    expect(catalogDump()).toEqual(before);
    expect(dataEvents()).toBe(events);
    // Products first, then orders: two operations, one after the other.
    const ops = db().prepare('SELECT operation_id FROM bulk_operations WHERE shop = ? ORDER BY started_at, operation_id').pluck().all(shop) as string[];
    expect(ops.slice(-2)).toEqual([counts.products!.operationId, counts.orders!.operationId]);
  });

  it('a newer webhook is not overwritten by an older bulk row; newer Shopify data is applied', async () => {
    // Three products the storefront shows now, and one more.
    const served = (await recs()).products.map((p) => store.products.find((x) => String(x.id) === p.id)!);
    expect(served.length).toBeGreaterThanOrEqual(3);
    const [byWebhook, renamed, levelByWebhook] = served as [SimProduct, SimProduct, SimProduct];
    const restocked = store.products.find((p) => !served.includes(p))!;
    // 1. Shopify's export will hold a change of this product (older title, new updatedAt), but
    // a products/update webhook already brought a later one.
    const newer: SimProduct = { ...byWebhook, title: 'Renamed by webhook', updatedAt: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, '.000Z') };
    await webhook('products/update', productPayload(newer, store));
    byWebhook.title = 'An older title at Shopify';
    byWebhook.updatedAt = new Date(Date.now() - 2000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    // 2. A stock level from after the export starts, and one from before it.
    const tracked = levelByWebhook.variants[0]!;
    await webhook('inventory_levels/update', inventoryLevelPayload({ inventoryItemId: tracked.inventoryItemId, locationId: store.locationId!, available: tracked.inventoryQuantity + 5, updatedAt: new Date(Date.now() + 3600_000).toISOString() }));
    const late = restocked.variants[0]!;
    await webhook('inventory_levels/update', inventoryLevelPayload({ inventoryItemId: late.inventoryItemId, locationId: store.locationId!, available: 1, updatedAt: '2026-01-01T00:00:00Z' }));
    expect(db().prepare('SELECT outcome FROM events WHERE shop = ? AND topic = ? ORDER BY id DESC LIMIT 1').pluck().get(shop, 'inventory_levels/update')).toBe('stale');
    // 3. At Shopify meanwhile: a restock and a rename.
    late.inventoryQuantity = 77;
    renamed.title = 'Renamed at Shopify';
    renamed.updatedAt = new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

    const counts = (await backfillShop({ db: db(), keys: be.deps.keys, shop, adminBaseUrl: sim.baseUrlTemplate, what: 'products', pollIntervalMs: 50 })).products!;
    expect(counts).toMatchObject({ applied: 1, stale: 1, duplicate: store.products.length - 2, inventory: { applied: 1, stale: 1, unchanged: variantCount(store) - 2 } });
    // The product row the webhook wrote is untouched (its variants too).
    expect(db().prepare('SELECT updated_at FROM products WHERE shop = ? AND product_id = ?').pluck().get(shop, String(byWebhook.id))).toBe(newer.updatedAt);
    const title = db().prepare('SELECT title FROM products WHERE shop = ? AND product_id = ?').pluck();
    expect(title.get(shop, String(byWebhook.id))).toBe('Renamed by webhook');
    expect(title.get(shop, String(renamed.id))).toBe('Renamed at Shopify');
    const levels = db().prepare('SELECT location_id, available FROM inventory WHERE shop = ? AND inventory_item_id = ?');
    expect(levels.all(shop, String(tracked.inventoryItemId))).toEqual([{ location_id: String(store.locationId), available: tracked.inventoryQuantity + 5 }]);
    expect(levels.all(shop, String(late.inventoryItemId))).toEqual([{ location_id: ALL_LOCATIONS, available: 77 }]);
    // The stale rows are in the log, marked stale, as for webhooks.
    expect(db().prepare(`SELECT outcome FROM events WHERE shop = ? AND source_id = ?`).pluck().get(shop, `bulk:gid://shopify/Product/${byWebhook.id}:${byWebhook.updatedAt}`)).toBe('stale');
    // The storefront agrees (same products: popularity did not change).
    const titles = new Map((await recs()).products.map((p) => [p.id, p.title]));
    expect(titles.get(String(byWebhook.id))).toBe('Renamed by webhook');
    expect(titles.get(String(renamed.id))).toBe('Renamed at Shopify');
    expect([...titles.values()]).not.toContain('An older title at Shopify');
  });

  it('a malformed line fails with its line number; only whole chunks were written; a re-run completes', async () => {
    const s = other.shop;
    const token = loadOfflineToken(db(), be.deps.keys, s)!;
    const client = createAdminClient({ shop: s, accessToken: token, baseUrl: sim.baseUrlTemplate, backoffBaseMs: 5 });
    // Corrupt the downloaded JSONL at line 40: a variant line cut short (grouped layout: each
    // product line is followed by its variants).
    const corrupting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const lines = (await res.text()).split('\n');
      expect(lines[39]).toContain('__parentId');
      lines[39] = lines[39]!.slice(0, 30);
      return new Response(lines.join('\n'), { status: 200 });
    };
    // A window of one product so products flow out (and chunks commit) before the bad line.
    const err = await backfillProducts({ db: db(), keys: be.deps.keys, shop: s, client, fetch: corrupting, pollIntervalMs: 20, batchSize: 4, maxPending: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(BulkJsonlError);
    expect(err.lineNumber).toBe(40);
    expect(err.message).toMatch(/^bulk JSONL line 40: malformed JSON/);
    const committed = count('SELECT count(*) FROM products WHERE shop = ?', s);
    expect(committed % 4).toBe(0); // whole chunks only
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(other.products.length);
    expect(count(`SELECT count(*) FROM events WHERE shop = ? AND topic = 'bulk/products'`, s)).toBe(committed);
    // Every product written is whole: all its variants and their stock.
    for (const id of db().prepare('SELECT product_id FROM products WHERE shop = ?').pluck().all(s) as string[]) {
      const p = other.products.find((x) => String(x.id) === id)!;
      expect(count('SELECT count(*) FROM variants WHERE shop = ? AND product_id = ?', s, id)).toBe(p.variants.length);
      expect(count('SELECT count(*) FROM inventory i JOIN variants v ON v.shop = i.shop AND v.inventory_item_id = i.inventory_item_id WHERE v.shop = ? AND v.product_id = ?', s, id)).toBe(p.variants.length);
    }
    expect(db().prepare('SELECT status, error FROM bulk_operations WHERE shop = ?').get(s)).toMatchObject({ status: 'FAILED', error: expect.stringContaining('line 40') });

    const rerun = await backfillProducts({ db: db(), keys: be.deps.keys, shop: s, client, pollIntervalMs: 20, batchSize: 4 });
    expect(rerun).toMatchObject({ products: other.products.length, duplicate: committed, applied: other.products.length - committed });
    expect(count('SELECT count(*) FROM products WHERE shop = ?', s)).toBe(other.products.length);
    expect(count('SELECT count(*) FROM variants WHERE shop = ?', s)).toBe(variantCount(other));
  });

  it('`shopml backfill --what products` from the command line, beside the running server', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...testEnv(be.dir), DATABASE_PATH: join(be.dir, 'shopml.db'), SHOPIFY_ADMIN_BASE_URL: sim.baseUrlTemplate };
    // Asynchronously: the simulator answering the command runs in this process.
    const run = (args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(root, 'bin/shopml.js'), 'backfill', ...args], { cwd: root, env, timeout: 60_000 });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    const bad = await run(['--shop', shop, '--what', 'customers']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--what must be one of products, orders, all/);
    const r = await run(['--shop', shop, '--what', 'products', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { products: { products: number; duplicate: number; applied: number }; orders: null };
    expect(out.orders).toBeNull();
    expect(out.products).toMatchObject({ products: store.products.length, duplicate: store.products.length, applied: 0 });
  });
});
