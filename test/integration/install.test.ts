// Install through token exchange against the simulated Shopify, the encrypted token at rest,
// the first backfill (catalog, then orders: two bulk exports) with it, and uninstall.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAdminSimulator, type AdminSimulator } from '../../simulator/admin-server.ts';
import { generateStore } from '../../simulator/store.ts';
import { sessionToken, webhookHeaders } from '../../simulator/sign.ts';
import { loadOfflineToken } from '../../backend/src/shopify/auth.ts';
import { backfillShop } from '../../backend/src/ingest/backfill-shop.ts';
import { startTestBackend, TEST_API_KEY, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';

const store = generateStore({ seed: 3, customers: 60, products: 25, days: 90 });
const shop = store.shop;
let sim: AdminSimulator;
let be: TestBackend;

beforeAll(async () => {
  // The backend's port is needed before the simulator starts (it posts bulk_operations/finish
  // there), and the simulator's URL before the backend starts: reserve the port first.
  const { createServer } = await import('node:net');
  const port = await new Promise<number>((r) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)); }); });
  sim = await startAdminSimulator({ store, apiKey: TEST_API_KEY, apiSecret: TEST_SECRET, bulkDelayMs: 20, webhookTarget: { url: `http://127.0.0.1:${port}/webhooks` } });
  be = await startTestBackend({ SHOPIFY_ADMIN_BASE_URL: sim.baseUrlTemplate, PORT: String(port) });
});
afterAll(async () => {
  await be.stop();
  await sim.close();
});

it('a forged session token installs nothing', async () => {
  const forged = sessionToken({ apiKey: TEST_API_KEY, secret: 'someone-elses-secret-000', shop });
  const res = await fetch(`${be.url}/api/v1/session`, { method: 'POST', headers: { Authorization: `Bearer ${forged}` } });
  expect(res.status).toBe(401);
  expect(loadOfflineToken(be.deps.db, be.deps.keys, shop)).toBeNull();
});

it('exchanges the first session token for an offline token, stored encrypted, usable for the catalog and order backfill', async () => {
  const res = await fetch(`${be.url}/api/v1/session`, { method: 'POST', headers: { Authorization: `Bearer ${sessionToken({ apiKey: TEST_API_KEY, secret: TEST_SECRET, shop })}` } });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ shop, installed: true });
  const token = loadOfflineToken(be.deps.db, be.deps.keys, shop);
  expect(token).toBeTruthy();
  const stored = be.deps.db.prepare('SELECT access_token_enc FROM shops WHERE shop = ?').pluck().get(shop) as string;
  expect(stored).not.toContain(token!);
  expect(stored).toMatch(/^v1\./);

  // The install queued the backfill in the same transaction; the server's job runner runs it.
  // The export polls once a minute: finishing in seconds means the signed
  // bulk_operations/finish webhook, received by POST /webhooks, woke it.
  const t0 = Date.now();
  const job = () => be.deps.db.prepare(`SELECT status, result FROM jobs WHERE shop = ? AND type = 'backfill'`).get(shop) as { status: string; result: string | null } | undefined;
  expect(job()?.status).toMatch(/pending|running/);
  while (job()?.status !== 'done' && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 100));
  expect(job()?.status).toBe('done');
  const counts = JSON.parse(job()!.result!) as { products?: { products: number }; orders?: { orders: number } };
  expect(be.deps.db.prepare(`SELECT count(*) FROM events WHERE shop = ? AND topic = 'bulk_operations/finish'`).pluck().get(shop)).toBe(2);
  expect(be.deps.db.prepare(`SELECT status FROM bulk_operations WHERE shop = ?`).pluck().all(shop)).toEqual(['COMPLETED', 'COMPLETED']);
  expect(counts.products!.products).toBe(store.products.length);
  expect(be.deps.db.prepare('SELECT count(*) FROM products WHERE shop = ?').pluck().get(shop)).toBe(store.products.length);
  expect(counts.orders!.orders).toBe(store.orders.length);
  expect(be.deps.db.prepare('SELECT count(*) FROM orders WHERE shop = ?').pluck().get(shop)).toBe(store.orders.length);
  // The simulator saw the stored token on its Admin API.
  expect(sim.calls.filter((c) => c.shop === shop && c.outcome === 'ok').length).toBeGreaterThan(0);
});

it('app/uninstalled deletes the token', async () => {
  const body = JSON.stringify({ id: 1, domain: shop });
  const res = await fetch(`${be.url}/webhooks`, { method: 'POST', headers: webhookHeaders({ secret: TEST_SECRET, shop, topic: 'app/uninstalled', rawBody: body, webhookId: 'uninstall-1' }), body });
  expect(res.status).toBe(200);
  expect(loadOfflineToken(be.deps.db, be.deps.keys, shop)).toBeNull();
  await expect(backfillShop({ db: be.deps.db, keys: be.deps.keys, shop, adminBaseUrl: sim.baseUrlTemplate })).rejects.toThrow(/no offline access token/);
});
