// Bulk export end to end: simulator → bulk operation → JSONL → NormalizedOrder → SQLite.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backfillOrders } from '../../backend/src/ingest/backfill.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { createAdminClient } from '../../backend/src/shopify/admin-client.ts';
import { BulkJsonlError } from '../../backend/src/shopify/bulk-jsonl.ts';
import {
  BulkOperationFailedError,
  BulkOperationInProgressError,
  type BulkProgress,
  bulkWaiters,
  runBulkOrderExport,
  startBulkQuery,
} from '../../backend/src/shopify/bulk-export.ts';
import { BULK_ORDERS_QUERY } from '../../backend/src/shopify/documents.ts';
import { type Db, openDb } from '../../backend/src/store/db.ts';
import { type AdminSimulator, type AdminSimulatorOptions, startAdminSimulator } from '../../simulator/admin-server.ts';
import { orderMoney } from '../../simulator/order-totals.ts';
import type { SimStore } from '../../simulator/types.ts';
import { fixtureStore } from '../fixtures/admin-sim-store.ts';

const TOKEN = 'shpat_bulk_test';
const SECRET = 'app-secret';
const keys = createKeys('test-secret-key');
let dir: string;
let db: Db;
let sim: AdminSimulator | undefined;
let receiver: FastifyInstance | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shopml-bulk-'));
  db = openDb(join(dir, 'shopml.db'));
});

afterEach(async () => {
  await sim?.close();
  await receiver?.close();
  sim = undefined;
  receiver = undefined;
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function setup(store: SimStore, simOpts: Partial<AdminSimulatorOptions> = {}) {
  sim = await startAdminSimulator({ store, apiKey: 'key', apiSecret: SECRET, accessTokens: { [store.shop]: TOKEN }, bulkDelayMs: 30, ...simOpts });
  const client = createAdminClient({ shop: store.shop, accessToken: TOKEN, baseUrl: sim.baseUrlTemplate, backoffBaseMs: 5 });
  return { sim, client };
}

const tableDump = () => ({
  orders: db.prepare('SELECT * FROM orders ORDER BY order_id').all(),
  lines: db.prepare('SELECT * FROM order_lines ORDER BY order_id, line_id').all(),
  customers: db.prepare('SELECT * FROM customers ORDER BY customer_id').all(),
});

describe('backfillOrders', () => {
  it('imports every order and line of the store, and a re-run changes nothing', async () => {
    const store = fixtureStore({ orders: 40, customers: 6 });
    const { client, sim } = await setup(store);
    const progress: string[] = [];
    const counts = await backfillOrders({ db, keys, shop: store.shop, client, pollIntervalMs: 20, batchSize: 7, onProgress: (p) => progress.push(p.phase) });

    const storeLines = store.orders.reduce((s, o) => s + o.lines.length, 0);
    expect(counts).toMatchObject({ objects: 40 + storeLines, orders: 40, lines: storeLines, applied: 40, duplicate: 0, stale: 0, suppressed: 0 });
    expect(counts.operationId).toMatch(/^gid:\/\/shopify\/BulkOperation\/\d+$/);
    expect(progress).toContain('recorded');

    expect(db.prepare('SELECT COUNT(*) FROM orders').pluck().get()).toBe(40);
    expect(db.prepare('SELECT COUNT(*) FROM order_lines').pluck().get()).toBe(storeLines);
    expect(db.prepare("SELECT COUNT(*) FROM events WHERE source = 'bulk' AND source_id LIKE 'bulk:gid://shopify/Order/%'").pluck().get()).toBe(40);

    // Field by field for every order: ids, money, statuses, line kinds.
    for (const o of store.orders) {
      const row = db.prepare('SELECT * FROM orders WHERE shop = ? AND order_id = ?').get(store.shop, String(o.id)) as Record<string, unknown>;
      expect(row).toMatchObject({
        name: o.name,
        customer_id: o.customerId === null ? null : String(o.customerId),
        email_hash: null,
        created_at: new Date(o.createdAt).toISOString(),
        cancelled_at: o.cancelledAt ? new Date(o.cancelledAt).toISOString() : null,
        currency: 'GBP',
        financial_status: o.financialStatus,
        test: 0,
      });
      expect(row.total_price).toBeCloseTo(orderMoney(o).totalCents / 100, 6);
      const lines = db.prepare('SELECT * FROM order_lines WHERE shop = ? AND order_id = ? ORDER BY line_id').all(store.shop, String(o.id)) as Record<string, unknown>[];
      expect(lines.map((l) => [l.line_id, l.product_id, l.quantity, l.price, l.line_kind])).toEqual(
        o.lines.map((l) => [String(l.id), l.productId === null ? null : String(l.productId), l.quantity, Number(l.price), l.productId === null ? 'non_product' : 'product']),
      );
    }
    const op = db.prepare('SELECT * FROM bulk_operations WHERE shop = ?').get(store.shop) as Record<string, unknown>;
    expect(op).toMatchObject({ operation_id: counts.operationId, status: 'COMPLETED', objects: counts.objects, error: null });
    expect(op.finished_at).toBeTruthy();

    // Nothing personal reached the database, although the store has emails, names and phones.
    const everything = JSON.stringify([tableDump(), db.prepare('SELECT payload FROM events').all()]);
    for (const c of store.customers) {
      expect(everything).not.toContain(c.email);
      expect(everything).not.toContain(c.lastName);
    }

    const before = tableDump();
    const again = await backfillOrders({ db, keys, shop: store.shop, client, pollIntervalMs: 20, batchSize: 7 });
    expect(again).toMatchObject({ orders: 40, applied: 0, duplicate: 40, stale: 0, suppressed: 0 });
    expect(tableDump()).toEqual(before);
    expect(db.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(40);
    expect(db.prepare('SELECT COUNT(*) FROM bulk_operations').pluck().get()).toBe(2);
    // Polling, not protected data or anything else, is all it sent.
    expect(new Set(sim.calls.map((c) => c.operationName))).toEqual(new Set(['BulkRun', 'BulkPoll']));
  });

  it('an order changed since the last export is applied again; redacted customers stay suppressed', async () => {
    const store = fixtureStore({ orders: 10, customers: 3 });
    const { client } = await setup(store);
    await backfillOrders({ db, keys, shop: store.shop, client, pollIntervalMs: 20 });

    // Two orders change at Shopify: one of a normal customer, one of a customer redacted since.
    const redacted = store.customers[1]!.id;
    const changed = store.orders.find((o) => o.customerId === store.customers[0]!.id)!;
    const changedRedacted = store.orders.find((o) => o.customerId === redacted)!;
    for (const o of [changed, changedRedacted]) {
      o.updatedAt = '2026-04-01T00:00:00Z';
      o.financialStatus = 'refunded';
    }
    db.prepare('INSERT INTO tombstones (shop, subject_hash, created_at) VALUES (?, ?, ?)').run(store.shop, keys.subjectHash(store.shop, 'customer', String(redacted)), new Date().toISOString());

    const counts = await backfillOrders({ db, keys, shop: store.shop, client, pollIntervalMs: 20 });
    expect(counts).toMatchObject({ orders: 10, applied: 1, suppressed: 1, duplicate: 8, stale: 0 });
    const status = db.prepare('SELECT financial_status FROM orders WHERE order_id = ?').pluck();
    expect(status.get(String(changed.id))).toBe('refunded');
    expect(status.get(String(changedRedacted.id))).not.toBe('refunded');
  });

  it('completes on the bulk_operations/finish webhook without waiting for a poll', async () => {
    const store = fixtureStore({ orders: 15 });
    // A minimal webhook route: verify the HMAC over the raw body, then notify the waiters.
    receiver = Fastify();
    const received: { headers: Record<string, unknown>; body: Record<string, unknown> }[] = [];
    receiver.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    receiver.post('/webhooks', (req, reply) => {
      const raw = req.body as string;
      const expected = createHmac('sha256', SECRET).update(raw, 'utf8').digest();
      const given = Buffer.from(String(req.headers['x-shopify-hmac-sha256']), 'base64');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return reply.code(401).send();
      const body = JSON.parse(raw) as { admin_graphql_api_id: string };
      received.push({ headers: req.headers, body });
      bulkWaiters.notifyBulkFinished(String(req.headers['x-shopify-shop-domain']), body.admin_graphql_api_id);
      return reply.code(200).send();
    });
    const url = `${await receiver.listen({ port: 0, host: '127.0.0.1' })}/webhooks`;
    const { client, sim } = await setup(store, { webhookTarget: { url }, bulkDelayMs: 100 });

    const progress: BulkProgress[] = [];
    const t0 = Date.now();
    const counts = await backfillOrders({ db, keys, shop: store.shop, client, pollIntervalMs: 60_000, onProgress: (p) => 'status' in p && progress.push(p) });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(counts.orders).toBe(15);
    expect(progress.at(-1)).toMatchObject({ phase: 'polled', status: 'COMPLETED', via: 'webhook' });
    expect(sim.calls.filter((c) => c.operationName === 'BulkPoll')).toHaveLength(2); // once at start, once after the webhook

    expect(received).toHaveLength(1);
    expect(received[0]!.body).toEqual({
      admin_graphql_api_id: counts.operationId,
      completed_at: expect.any(String),
      created_at: expect.any(String),
      error_code: null,
      status: 'completed',
      type: 'query',
    });
    expect(received[0]!.headers).toMatchObject({
      'x-shopify-topic': 'bulk_operations/finish',
      'x-shopify-shop-domain': store.shop,
      'x-shopify-api-version': '2026-07',
      'x-shopify-webhook-id': expect.any(String),
      'x-shopify-triggered-at': expect.any(String),
    });
    expect(sim.webhookDeliveries.map((d) => d.status)).toEqual([200]);
    expect(bulkWaiters.size()).toBe(0);
  });

  it('reassembles ungrouped output where line items come after the next order', async () => {
    const store = fixtureStore({ orders: 25 });
    const { client } = await setup(store, { bulkLayout: 'deferred' });
    const counts = await backfillOrders({ db, keys, shop: store.shop, client, pollIntervalMs: 20, batchSize: 4, maxPendingOrders: 2 });
    expect(counts.orders).toBe(25);
    expect(counts.lines).toBe(store.orders.reduce((s, o) => s + o.lines.length, 0));
    expect(db.prepare('SELECT COUNT(*) FROM order_lines').pluck().get()).toBe(counts.lines);
    // The layout really is ungrouped: with no window for late children the reader refuses it.
    const strict = runBulkOrderExport({ client, pollIntervalMs: 20, maxPendingOrders: 1 });
    const err = await (async () => {
      for await (const batch of strict) expect(batch.length).toBeGreaterThan(0);
    })().catch((e) => e);
    expect(err).toBeInstanceOf(BulkJsonlError);
    expect(err.message).toMatch(/raise maxPending/);
  });

  it('a malformed line aborts with its line number; committed chunks stay and a re-run completes', async () => {
    const store = fixtureStore({ orders: 20 });
    const { client } = await setup(store);
    // Corrupt the downloaded file at line 30 (the result URL is fetched with this fetch).
    const corrupting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const lines = (await res.text()).split('\n');
      lines[29] = '{"id": "gid://shopify/LineItem/1", "quantity": ';
      return new Response(lines.join('\n'), { status: 200 });
    };
    // A small window so orders flow out (and chunks commit) before the bad line is reached.
    const err = await backfillOrders({ db, keys, shop: store.shop, client, fetch: corrupting, pollIntervalMs: 20, batchSize: 3, maxPendingOrders: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(BulkJsonlError);
    expect(err.lineNumber).toBe(30);
    expect(err.message).toContain('line 30');
    const committed = db.prepare('SELECT COUNT(*) FROM orders').pluck().get() as number;
    expect(committed % 3).toBe(0); // whole chunks only
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(20);
    expect(db.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(committed);
    expect(db.prepare('SELECT status, error FROM bulk_operations').get()).toMatchObject({ status: 'FAILED', error: expect.stringContaining('line 30') });

    const rerun = await backfillOrders({ db, keys, shop: store.shop, client, pollIntervalMs: 20, batchSize: 3 });
    expect(rerun).toMatchObject({ orders: 20, duplicate: committed, applied: 20 - committed });
    expect(db.prepare('SELECT COUNT(*) FROM orders').pluck().get()).toBe(20);
  });

  it('a store without orders exports zero objects (no result URL)', async () => {
    const store = fixtureStore({ orders: 0 });
    const { client } = await setup(store);
    const counts = await backfillOrders({ db, keys, shop: store.shop, client, pollIntervalMs: 20 });
    expect(counts).toMatchObject({ objects: 0, orders: 0, lines: 0, applied: 0 });
    expect(db.prepare('SELECT status, objects FROM bulk_operations').get()).toEqual({ status: 'COMPLETED', objects: 0 });
  });

  it('a failed bulk operation is a typed error and is recorded as failed', async () => {
    const store = fixtureStore({ orders: 3 });
    const { client, sim } = await setup(store);
    sim.failNextBulk('ACCESS_DENIED');
    const err = await backfillOrders({ db, keys, shop: store.shop, client, pollIntervalMs: 20 }).catch((e) => e);
    expect(err).toBeInstanceOf(BulkOperationFailedError);
    expect(err.operation).toMatchObject({ status: 'FAILED', errorCode: 'ACCESS_DENIED' });
    expect(db.prepare('SELECT status FROM bulk_operations').pluck().get()).toBe('FAILED');
    expect(db.prepare('SELECT COUNT(*) FROM orders').pluck().get()).toBe(0);
  });
});

describe('runBulkOrderExport', () => {
  it('reports OPERATION_IN_PROGRESS clearly', async () => {
    const store = fixtureStore({ orders: 3 });
    const { client, sim } = await setup(store, { bulkDelayMs: 2_000 });
    await startBulkQuery(client, BULK_ORDERS_QUERY);
    const err = await runBulkOrderExport({ client, pollIntervalMs: 20 }).next().catch((e) => e);
    expect(err).toBeInstanceOf(BulkOperationInProgressError);
    expect(err.message).toMatch(/already running/);
    expect(err.userErrors[0].code).toBe('OPERATION_IN_PROGRESS');
    await sim.idle();
  });

  it('yields batches of the requested size and a summary', async () => {
    const store = fixtureStore({ orders: 11 });
    const { client } = await setup(store);
    const gen = runBulkOrderExport({ client, pollIntervalMs: 20, batchSize: 4 });
    const sizes: number[] = [];
    let step = await gen.next();
    while (!step.done) {
      sizes.push(step.value.length);
      step = await gen.next();
    }
    expect(sizes).toEqual([4, 4, 3]);
    expect(step.value).toMatchObject({ orders: 11, operation: { status: 'COMPLETED', rootObjectCount: '11' } });
  });
});
