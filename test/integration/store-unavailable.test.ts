// When the database cannot write, webhooks get 503 with Retry-After (Shopify retries) and
// nothing is half-written; once the lock is gone the redelivery is stored.
import { afterAll, beforeAll, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { webhookHeaders } from '../../simulator/sign.ts';
import { SHOP, startTestBackend, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';

const order = JSON.parse(readFileSync(new URL('../fixtures/orders-create.json', import.meta.url), 'utf8'));
let be: TestBackend;
beforeAll(async () => { be = await startTestBackend({ SQLITE_BUSY_TIMEOUT_MS: '50' }); });
afterAll(async () => { await be.stop(); });

it('answers 503 + Retry-After while another process holds the write lock, then recovers', async () => {
  const rawBody = JSON.stringify(order);
  const headers = webhookHeaders({ secret: TEST_SECRET, shop: SHOP, topic: 'orders/create', rawBody, webhookId: 'delivery-1' });
  const locker = new Database(be.config.databasePath);
  locker.exec('BEGIN EXCLUSIVE');
  try {
    const res = await fetch(`${be.url}/webhooks`, { method: 'POST', headers, body: rawBody });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  } finally {
    locker.exec('ROLLBACK');
    locker.close();
  }
  expect(be.deps.db.prepare('SELECT count(*) FROM orders').pluck().get()).toBe(0);
  const retry = await fetch(`${be.url}/webhooks`, { method: 'POST', headers, body: rawBody });
  expect(retry.status).toBe(200);
  expect(be.deps.db.prepare('SELECT count(*) FROM orders').pluck().get()).toBe(1);
  const metrics = await (await fetch(`${be.url}/metrics`)).text();
  expect(metrics).toMatch(/shopml_webhooks_total\{topic="orders\/create",outcome="unavailable"\} 1/);
});
