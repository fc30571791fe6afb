// When the database cannot write, webhooks and Flow get 503 with Retry-After (Shopify and Flow
// retry) and nothing is half-written; once the lock is gone the redelivery is stored. While a
// write waits on the lock the event loop keeps serving. (The disk-full and lock scenarios under
// load, with figures: test/reliability/faults.test.ts.)
import { afterAll, beforeAll, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { flowActionRequest, flowLifecycleRequest, webhookHeaders } from '../../simulator/sign.ts';
import { storeOfflineToken } from '../../backend/src/shopify/auth.ts';
import { SHOP, startTestBackend, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';

const order = JSON.parse(readFileSync(new URL('../fixtures/orders-create.json', import.meta.url), 'utf8'));
let be: TestBackend;
beforeAll(async () => { be = await startTestBackend({ SQLITE_BUSY_TIMEOUT_MS: '1000' }); });
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

it('Flow actions and lifecycle callbacks get 503 + Retry-After under the lock, the event loop keeps serving, the re-sent run is stored once', async () => {
  storeOfflineToken(be.deps.db, be.deps.keys, SHOP, 'shpat_store_unavailable', 'write_customers', new Date().toISOString());
  const action = flowActionRequest({ secret: TEST_SECRET, shop: SHOP, shopId: 1, handle: 'tag-customer-ml-segment', actionRunId: 'locked-run-1', actionDefinitionId: 'Tag customer with ML segment', properties: { customer_id: '42' } });
  const lifecycle = flowLifecycleRequest({ secret: TEST_SECRET, shop: SHOP, shopId: 1, flowTriggerDefinitionId: 'churn-risk-rose', hasEnabledFlow: true });
  const post = (path: string, r: { body: string; headers: Record<string, string> }) => fetch(`${be.url}${path}`, { method: 'POST', headers: r.headers, body: r.body });
  const count = (sql: string) => be.deps.db.prepare(sql).pluck().get() as number;
  const locker = new Database(be.config.databasePath);
  locker.exec('BEGIN IMMEDIATE');
  try {
    // Many writes waiting on the lock at once: with SQLite's busy handler each would stall the
    // process for busy_timeout in turn; the group writer waits on a timer instead.
    const waiting = Array.from({ length: 20 }, () => post('/flow/actions/tag-customer-ml-segment', action));
    const t0 = performance.now();
    expect((await fetch(`${be.url}/healthz`)).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(300); // SQLite's busy handler: ≥ 1000 ms (busy_timeout)
    for (const res of [...(await Promise.all(waiting)), await post('/flow/lifecycle', lifecycle)]) {
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  } finally {
    locker.exec('ROLLBACK');
    locker.close();
  }
  expect(count(`SELECT count(*) FROM flow_action_runs WHERE action_run_id = 'locked-run-1'`)).toBe(0);
  expect(count(`SELECT count(*) FROM jobs WHERE dedupe_key = 'flow-action:locked-run-1'`)).toBe(0);
  expect(count('SELECT count(*) FROM flow_trigger_lifecycle')).toBe(0);
  // Flow sends the same action_run_id again.
  expect((await post('/flow/actions/tag-customer-ml-segment', action)).status).toBe(200);
  expect((await post('/flow/actions/tag-customer-ml-segment', action)).status).toBe(200);
  expect((await post('/flow/lifecycle', lifecycle)).status).toBe(200);
  expect(count(`SELECT count(*) FROM flow_action_runs WHERE action_run_id = 'locked-run-1'`)).toBe(1);
  expect(count(`SELECT count(*) FROM jobs WHERE dedupe_key = 'flow-action:locked-run-1'`)).toBe(1);
  expect(count('SELECT count(*) FROM flow_trigger_lifecycle')).toBe(1);
});
