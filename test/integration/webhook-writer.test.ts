// The webhook writer thread (backend/src/ingest/webhook-writer.ts): deliveries are applied in
// a worker thread on its own SQLite connection, grouped into transactions, each answered after
// its COMMIT. These tests hold it to the group writer's rules (one failing delivery rolls back
// alone, an unwritable store rejects the batch), and check what a second writer connection in
// the process must not break: main-thread writers and the thread share the write lock without
// deadlock or starvation, shutdown drains, a crashed thread costs 503s and nothing else.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { openDb } from '../../backend/src/store/db.ts';
import { StoreUnavailableError } from '../../backend/src/store/writer.ts';
import { startWebhookWriter, webhookWriterOf, type WebhookWriter } from '../../backend/src/ingest/webhook-writer.ts';
import type { WebhookDelivery } from '../../backend/src/ingest/webhooks.ts';
import { webhookHeaders } from '../../simulator/sign.ts';
import { SHOP, startTestBackend, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';
import { useTempDb } from '../helpers/temp-db.ts';

const order = JSON.parse(readFileSync(new URL('../fixtures/orders-create.json', import.meta.url), 'utf8')) as Record<string, any>;
const SECRET_KEY = 'k'.repeat(48);

function delivery(body: unknown, over: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return {
    shop: SHOP, topic: 'orders/create', webhookId: randomUUID(), triggeredAt: null,
    receivedAt: new Date().toISOString(), rawBody: JSON.stringify(body), ...over,
  };
}
const orderWithId = (id: number) => ({ ...order, id });

describe('webhook writer thread', () => {
  const t = useTempDb('shopml-ww-');
  let writer: WebhookWriter | null = null;
  afterEach(async () => {
    await writer?.stop();
    writer = null;
  });
  const start = (busyTimeoutMs = 2000) => (writer = startWebhookWriter({ path: t.path, secretKey: SECRET_KEY, busyTimeoutMs }));
  const count = (sql: string, ...args: unknown[]) => t.db.prepare(sql).pluck().get(...args) as number;

  it('applies deliveries in few transactions, each answered after its commit', async () => {
    const w = start();
    await w.ready;
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => w.write(delivery(orderWithId(7_100_000 + i)))));
    expect(results.every((r) => r.outcome === 'applied')).toBe(true);
    // Answered means committed: the main thread's own connection sees every row already.
    expect(count(`SELECT count(*) FROM orders WHERE order_id BETWEEN '7100000' AND '7100059'`)).toBe(60);
    const s = await w.threadStats();
    expect(s.writes).toBe(60);
    expect(s.batches).toBeLessThan(60);
  });

  it('rolls back one failing delivery alone; the rest of its batch commits', async () => {
    const w = start();
    // Two lines with one id break the order_lines primary key halfway through the order.
    const broken = { ...orderWithId(7_200_001), line_items: [order.line_items[0], order.line_items[0]] };
    const settled = await Promise.allSettled([
      w.write(delivery(orderWithId(7_200_000))),
      w.write(delivery(broken)),
      w.write(delivery(orderWithId(7_200_002))),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const err = (settled[1] as PromiseRejectedResult).reason as Error;
    expect(err).not.toBeInstanceOf(StoreUnavailableError);
    expect(err.message).toMatch(/UNIQUE constraint failed: order_lines/);
    expect((await w.threadStats()).isolatedRetries).toBe(1);
    expect(count(`SELECT count(*) FROM orders WHERE order_id IN ('7200000', '7200002')`)).toBe(2);
    expect(count(`SELECT count(*) FROM orders WHERE order_id = '7200001'`)).toBe(0);
    expect(count(`SELECT count(*) FROM events WHERE order_id = '7200001'`)).toBe(0);
  });

  it('rejects the batch with StoreUnavailableError while another connection holds the lock, then recovers', async () => {
    const w = start(50);
    await w.ready;
    const locker = openDb(t.path);
    locker.exec('BEGIN EXCLUSIVE');
    const d = delivery(orderWithId(7_300_000));
    try {
      await expect(w.write(d)).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    expect(count(`SELECT count(*) FROM orders WHERE order_id = '7300000'`)).toBe(0);
    expect((await w.write(d)).outcome).toBe('applied');
  });

  it('drains on stop: every delivery handed over is committed and answered', async () => {
    const w = start();
    const pending = Array.from({ length: 100 }, (_, i) => w.write(delivery(orderWithId(7_400_000 + i))));
    await w.stop();
    const results = await Promise.all(pending);
    expect(results.every((r) => r.outcome === 'applied')).toBe(true);
    expect(count(`SELECT count(*) FROM orders WHERE order_id BETWEEN '7400000' AND '7400099'`)).toBe(100);
    await expect(w.write(delivery(orderWithId(7_400_100)))).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('a thread that cannot open the database fails ready and answers 503', async () => {
    const w = startWebhookWriter({ path: join(t.dir, 'shopml.db', 'not-a-folder', 'x.db'), secretKey: SECRET_KEY, busyTimeoutMs: 50 });
    await expect(w.ready).rejects.toThrow();
    await expect(w.write(delivery(orderWithId(7_450_000)))).rejects.toBeInstanceOf(StoreUnavailableError);
    await w.stop();
  });

  it('a thread that dies answers 503 for what it held, leaves nothing half-written, and is replaced', async () => {
    const w = start();
    await w.ready;
    const ds = Array.from({ length: 40 }, (_, i) => delivery(orderWithId(7_500_000 + i)));
    const pending = ds.map((d) => w.write(d));
    await new Promise((r) => setTimeout(r, 5)); // let some of them commit
    await w.terminate();
    const settled = await Promise.allSettled(pending);
    for (const s of settled) if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(StoreUnavailableError);
    // Every delivery is all there or not there at all: an order row exactly when its event row.
    for (const d of ds) {
      const id = String(JSON.parse(d.rawBody).id);
      const e = count(`SELECT count(*) FROM events WHERE source_id = ?`, d.webhookId);
      expect(count(`SELECT count(*) FROM orders WHERE order_id = ?`, id)).toBe(e);
      expect(count(`SELECT count(*) FROM order_lines WHERE order_id = ?`, id)).toBe(e * order.line_items.length);
    }
    // Shopify redelivers what got 503; the replacement thread dedupes what had committed.
    const again = await Promise.all(ds.map((d) => w.write(d)));
    settled.forEach((s, i) => expect(again[i]!.outcome).toBe(s.status === 'fulfilled' ? 'duplicate' : 'applied'));
    expect(w.stats.restarts).toBe(1);
    expect(count(`SELECT count(*) FROM orders WHERE order_id BETWEEN '7500000' AND '7500039'`)).toBe(40);
  });
});

describe('webhook writer thread beside the main connection', () => {
  let be: TestBackend;
  beforeAll(async () => { be = await startTestBackend(); });
  afterAll(async () => { await be.stop(); });

  async function deliver(topic: string, body: unknown, webhookId = randomUUID()) {
    const rawBody = JSON.stringify(body);
    const res = await fetch(`${be.url}/webhooks`, { method: 'POST', headers: webhookHeaders({ secret: TEST_SECRET, shop: SHOP, topic, rawBody, webhookId }), body: rawBody });
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  }

  it('runs webhooks in the thread', () => {
    expect(webhookWriterOf(be.deps)).toBeDefined();
  });

  it('shares the write lock with main-thread writers: no deadlock, no starvation, no 503', async () => {
    be.deps.db.exec('CREATE TABLE IF NOT EXISTS test_main_writes (k INTEGER PRIMARY KEY, at TEXT)');
    let next = 0;
    const webhooks = Promise.all(Array.from({ length: 16 }, async () => {
      const statuses: number[] = [];
      while (next < 400) statuses.push((await deliver('orders/create', orderWithId(8_000_000 + next++))).status);
      return statuses;
    }));
    // Meanwhile the main thread writes through its own group writer, as Flow and the app proxy do.
    const latencies: number[] = [];
    const mainWrites = (async () => {
      for (let i = 0; i < 150; i++) {
        const t0 = performance.now();
        await be.deps.writer.write((db) => db.prepare('INSERT INTO test_main_writes (k, at) VALUES (?, ?)').run(i, new Date().toISOString()));
        latencies.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const [statuses] = await Promise.all([webhooks, mainWrites]);
    expect(statuses.flat().filter((s) => s !== 200)).toEqual([]);
    expect(be.deps.db.prepare('SELECT count(*) FROM test_main_writes').pluck().get()).toBe(150);
    expect(be.deps.db.prepare(`SELECT count(*) FROM orders WHERE order_id BETWEEN '8000000' AND '8000399'`).pluck().get()).toBe(400);
    // Never near the busy timeout, past which a writer gives up (SQLITE_BUSY): the main thread
    // waits at most for the thread's transaction in progress.
    expect(Math.max(...latencies)).toBeLessThan(be.config.busyTimeoutMs / 2);
  });

  it('makes webhooks wait (not fail) while a main-thread transaction holds the lock', async () => {
    be.deps.db.exec('BEGIN IMMEDIATE');
    const t0 = performance.now();
    const pending = deliver('orders/create', orderWithId(8_100_000));
    setTimeout(() => be.deps.db.exec('COMMIT'), 300);
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ outcome: 'applied' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('still wakes a waiting bulk export on bulk_operations/finish', async () => {
    const calls: [string, string][] = [];
    const before = be.deps.onBulkFinished;
    be.deps.onBulkFinished = (shop, id) => calls.push([shop, id]);
    try {
      const r = await deliver('bulk_operations/finish', { admin_graphql_api_id: 'gid://shopify/BulkOperation/42', status: 'completed', completed_at: '2026-07-01T00:00:00Z' });
      expect(r.status).toBe(200);
      expect(calls).toEqual([[SHOP, 'gid://shopify/BulkOperation/42']]);
    } finally {
      be.deps.onBulkFinished = before;
    }
  });
});

describe('shutdown with deliveries in flight', () => {
  it('finishes what it accepted: every 200 is stored, nothing else is answered', async () => {
    const be = await startTestBackend();
    const ids = Array.from({ length: 60 }, () => randomUUID());
    const inFlight = ids.map((id, i) => {
      const rawBody = JSON.stringify(orderWithId(8_200_000 + i));
      return fetch(`${be.url}/webhooks`, { method: 'POST', headers: webhookHeaders({ secret: TEST_SECRET, shop: SHOP, topic: 'orders/create', rawBody, webhookId: id }), body: rawBody })
        .then((r) => r.status, () => 0); // 0: the connection was closed before a request was read
    });
    // Shut down as soon as the first answer is out: the others are on their way, queued for the
    // thread, or inside its transaction.
    await Promise.race(inFlight);
    const db = openDb(be.config.databasePath);
    try {
      const closing = be.stop();
      const statuses = await Promise.all(inFlight);
      await closing; // and it does close: no connection left open by a late answer
      expect(statuses.filter((s) => ![200, 503, 0].includes(s))).toEqual([]);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
      ids.forEach((id, i) => {
        const stored = db.prepare('SELECT count(*) FROM events WHERE source_id = ?').pluck().get(id);
        if (statuses[i] === 200) expect(stored).toBe(1);
        if (statuses[i] === 503) expect(stored).toBe(0);
      });
    } finally {
      db.close(); // the folder is gone; this handle still reads the database
    }
  });
});
