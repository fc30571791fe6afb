import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateStore } from '../../simulator/store.ts';
import type { SimStore } from '../../simulator/types.ts';
import { webhookPlan, type PlannedWebhook } from '../../simulator/webhook-events.ts';
import { createWebhookStream, sendWebhook } from '../../simulator/webhook-sender.ts';

const secret = 'whsec_test';
const shop = 'demo-shop.myshopify.com';

interface Received {
  path: string;
  raw: Buffer;
  headers: IncomingHttpHeaders;
  at: number;
}

/** A receiver whose answer per request is scripted by the test. */
let respond: (r: Received, n: number) => { status: number; delayMs?: number; location?: string } = () => ({ status: 200 });
const received: Received[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { path: req.url ?? '', raw: Buffer.concat(chunks), headers: req.headers, at: performance.now() };
      received.push(r);
      const answer = respond(r, received.length);
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(answer.status, answer.location ? { location: answer.location } : {}).end();
      }, answer.delayMs ?? 0);
    });
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  received.length = 0;
  respond = () => ({ status: 200 });
});

const hmacOf = (raw: Buffer) => createHmac('sha256', secret).update(raw).digest('base64');
const fast = { baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 1000 };

describe('sendWebhook', () => {
  it('posts the exact bytes it signed, with every Shopify header', async () => {
    const payload = { id: 6050000000001, note: 'Müller ☕', total_price: '19.99' };
    const result = await sendWebhook({ url: `${base}/webhooks`, secret, shop, topic: 'orders/create', payload, payloadFields: 'all', webhookId: 'wh-1', eventId: 'ev-1', triggeredAt: '2026-11-01T00:00:00Z', retry: fast });
    expect(result.ok).toBe(true);
    expect(result.attempts).toHaveLength(1);
    const r = received[0]!;
    expect(r.raw.toString('utf8')).toBe(result.rawBody);
    expect(JSON.parse(r.raw.toString('utf8'))).toEqual(payload);
    expect(r.headers['x-shopify-hmac-sha256']).toBe(hmacOf(r.raw));
    expect(r.headers).toMatchObject({
      'content-type': 'application/json',
      'x-shopify-topic': 'orders/create',
      'x-shopify-shop-domain': shop,
      'x-shopify-api-version': '2026-07',
      'x-shopify-webhook-id': 'wh-1',
      'x-shopify-event-id': 'ev-1',
      'x-shopify-triggered-at': '2026-11-01T00:00:00Z',
    });
    // By default only what the app's subscription includes, as Shopify sends it: no note.
    const subscribed = await sendWebhook({ url: `${base}/webhooks`, secret, shop, topic: 'orders/create', payload, retry: fast });
    expect(JSON.parse(received[1]!.raw.toString('utf8'))).toEqual({ id: 6050000000001, total_price: '19.99' });
    expect(received[1]!.headers['x-shopify-hmac-sha256']).toBe(hmacOf(received[1]!.raw));
    expect(subscribed.rawBody).toBe(received[1]!.raw.toString('utf8'));
  });

  it('sends a string payload byte for byte', async () => {
    const raw = '{"id": 1,  "spaced":true}';
    await sendWebhook({ url: base, secret, shop, topic: 'orders/create', payload: raw, retry: fast });
    expect(received[0]!.raw.toString()).toBe(raw);
    expect(received[0]!.headers['x-shopify-hmac-sha256']).toBe(hmacOf(Buffer.from(raw)));
  });

  it('retries non-2xx with backoff, same webhook id and bytes', async () => {
    respond = (_r, n) => ({ status: n <= 2 ? 503 : 200 });
    const result = await sendWebhook({ url: base, secret, shop, topic: 'orders/create', payload: { id: 1 }, retry: { ...fast, baseDelayMs: 30, maxDelayMs: 1000 } });
    expect(result.ok).toBe(true);
    expect(result.attempts.map((a) => a.status)).toEqual([503, 503, 200]);
    expect(new Set(received.map((r) => r.headers['x-shopify-webhook-id'])).size).toBe(1);
    expect(new Set(received.map((r) => r.raw.toString())).size).toBe(1);
    // Exponential backoff: 30 ms, then 60 ms.
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(25);
    expect(received[2]!.at - received[1]!.at).toBeGreaterThanOrEqual(55);
  });

  it('treats a slow answer as a timeout and a redirect as a failure', async () => {
    respond = (_r, n) => (n === 1 ? { status: 200, delayMs: 300 } : n === 2 ? { status: 302, location: '/elsewhere' } : { status: 200 });
    const result = await sendWebhook({ url: base, secret, shop, topic: 'orders/create', payload: { id: 2 }, retry: { ...fast, timeoutMs: 100 } });
    expect(result.attempts.map((a) => a.error ?? a.status)).toEqual(['timeout', 302, 200]);
    expect(result.ok).toBe(true);
  });

  it('gives up after maxRetries', async () => {
    respond = () => ({ status: 500 });
    const result = await sendWebhook({ url: base, secret, shop, topic: 'orders/create', payload: { id: 3 }, retry: { ...fast, maxRetries: 3 } });
    expect(result.ok).toBe(false);
    expect(result.attempts).toHaveLength(4);
  });

  it('reports a network error without throwing', async () => {
    const result = await sendWebhook({ url: 'http://127.0.0.1:9/', secret, shop, topic: 'orders/create', payload: {}, retry: { ...fast, maxRetries: 1 } });
    expect(result.ok).toBe(false);
    expect(result.attempts.every((a) => a.status === null && a.error)).toBe(true);
  });
});

describe('webhookPlan', () => {
  const take = (store: SimStore, n: number, opts: Parameters<typeof webhookPlan>[1]) => {
    const out: PlannedWebhook[] = [];
    for (const e of webhookPlan(store, opts)) {
      out.push(e);
      if (out.length >= n) break;
    }
    return out;
  };

  it('is deterministic for a store and seed', () => {
    const a = take(generateStore({ seed: 'plan', days: 60 }), 300, { seed: 1 });
    const b = take(generateStore({ seed: 'plan', days: 60 }), 300, { seed: 1 });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = take(generateStore({ seed: 'plan', days: 60 }), 300, { seed: 2 });
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
  });

  it('mixes topics, continues after the history, and writes into the store', () => {
    const store = generateStore({ seed: 'plan', days: 60 });
    const before = store.orders.length;
    const events = take(store, 600, { seed: 3, staleShare: 0.4, redeliveryRate: 0.1 });
    const topics = new Set(events.map((e) => e.topic));
    expect([...topics].sort()).toEqual(['inventory_levels/update', 'orders/cancelled', 'orders/create', 'orders/updated', 'refunds/create']);
    const creates = events.filter((e) => e.topic === 'orders/create');
    expect(creates.length / events.length).toBeGreaterThan(0.4);
    expect(store.orders.length).toBe(before + creates.length);
    for (const e of creates) expect(Date.parse(e.payload.created_at as string)).toBeGreaterThanOrEqual(Date.parse(store.asOf!));
    expect(new Set(events.map((e) => e.webhookId)).size).toBe(events.length);
    expect(events.filter((e) => e.redeliver).length).toBeGreaterThan(20);
    // Every order a webhook names is in the store (the Admin API simulator serves the same data).
    const ids = new Set(store.orders.map((o) => o.id));
    for (const e of events) if (e.topic.startsWith('orders/')) expect(ids.has(e.payload.id as number)).toBe(true);
  });

  it('keeps the store\'s stock in step with announced sales, restocks and returns', () => {
    const store = generateStore({ seed: 'plan', days: 60 });
    const variants = new Map(store.products.flatMap((p) => p.variants.map((v) => [v.inventoryItemId, v] as const)));
    let inventoryEvents = 0;
    for (const e of webhookPlan(store, { seed: 5, ordersPerDay: 300 })) {
      if (e.topic === 'inventory_levels/update') {
        inventoryEvents++;
        // At the moment it is planned, the webhook tells the store's current level.
        expect(e.payload.available).toBe(variants.get(e.payload.inventory_item_id as number)!.inventoryQuantity);
      }
      if (e.seq >= 1500) break;
    }
    expect(inventoryEvents).toBeGreaterThan(50);
    for (const v of variants.values()) expect(v.inventoryQuantity).toBeGreaterThanOrEqual(0);
  });

  it('a second plan on the same store continues after the first one\'s orders', () => {
    const store = generateStore({ seed: 'plan', days: 60 });
    const first = take(store, 100, { seed: 6 });
    const lastFirst = Math.max(...first.filter((e) => e.topic === 'orders/create').map((e) => Date.parse(e.payload.created_at as string)));
    const second = take(store, 100, { seed: 7 }).filter((e) => e.topic === 'orders/create');
    for (const e of second) expect(Date.parse(e.payload.created_at as string)).toBeGreaterThan(lastFirst);
    const numbers = store.orders.map((o) => o.orderNumber);
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it('stale orders/updated carry an older updated_at than one already planned for that order', () => {
    const events = take(generateStore({ seed: 'plan', days: 60 }), 800, { seed: 4, staleShare: 0.5 });
    const newest = new Map<number, number>();
    let stale = 0;
    for (const e of events) {
      if (!e.topic.startsWith('orders/')) continue;
      const id = e.payload.id as number;
      const updated = Date.parse(e.payload.updated_at as string);
      if (e.stale) {
        stale++;
        expect(updated).toBeLessThan(newest.get(id)!);
      } else {
        expect(updated).toBeGreaterThanOrEqual(newest.get(id) ?? 0);
        newest.set(id, updated);
      }
    }
    expect(stale).toBeGreaterThan(10);
  });
});

describe('createWebhookStream', () => {
  it('delivers signed webhooks with redeliveries under the same webhook id, and counts them', async () => {
    const store = generateStore({ seed: 'stream', days: 60 });
    const stream = createWebhookStream({ url: `${base}/webhooks`, secret, store, seed: 1, ratePerSecond: Infinity, concurrency: 4, maxEvents: 80, redeliveryRate: 0.25, redeliveryDelayMs: 1, retry: fast });
    const stats = await stream.start();
    expect(stats.sent).toBe(80);
    expect(stats.delivered).toBe(80);
    expect(stats.redelivered).toBeGreaterThan(5);
    expect(received).toHaveLength(80 + stats.redelivered);
    expect(stats.attempts).toBe(received.length);
    expect(stats.byStatus['200']).toBe(received.length);
    for (const r of received) {
      expect(r.headers['x-shopify-hmac-sha256']).toBe(hmacOf(r.raw));
      expect(r.headers['x-shopify-shop-domain']).toBe(store.shop);
    }
    const perId = new Map<string, Buffer[]>();
    for (const r of received) perId.set(r.headers['x-shopify-webhook-id'] as string, [...(perId.get(r.headers['x-shopify-webhook-id'] as string) ?? []), r.raw]);
    expect(perId.size).toBe(80);
    const dups = [...perId.values()].filter((v) => v.length === 2);
    expect(dups).toHaveLength(stats.redelivered);
    for (const [a, b] of dups) expect(a!.equals(b!)).toBe(true);
    expect(Object.values(stats.byTopic).reduce((a, b) => a + b, 0)).toBe(80);
    expect(stream.running).toBe(false);
  });

  it('retries failed deliveries', async () => {
    const seen = new Set<string>();
    // Each webhook fails on its first attempt.
    respond = (r) => {
      const id = r.headers['x-shopify-webhook-id'] as string;
      if (seen.has(id)) return { status: 200 };
      seen.add(id);
      return { status: 500 };
    };
    const store = generateStore({ seed: 'stream', days: 60 });
    const stats = await createWebhookStream({ url: base, secret, store, seed: 2, ratePerSecond: Infinity, maxEvents: 20, redeliveryRate: 0, retry: fast }).start();
    expect(stats.delivered).toBe(20);
    expect(stats.retries).toBe(20);
    expect(stats.byStatus).toEqual({ 500: 20, 200: 20 });
  });

  it('paces deliveries at ratePerSecond', async () => {
    const store = generateStore({ seed: 'stream', days: 60 });
    const t0 = performance.now();
    await createWebhookStream({ url: base, secret, store, seed: 3, ratePerSecond: 50, maxEvents: 21, redeliveryRate: 0, retry: fast }).start();
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(390); // 20 intervals of 20 ms
    expect(elapsed).toBeLessThan(2000);
    const span = received[received.length - 1]!.at - received[0]!.at;
    expect(span).toBeGreaterThanOrEqual(370);
  });

  it('a throwing onDelivery stops the stream and fails start()', async () => {
    const store = generateStore({ seed: 'stream', days: 60 });
    const stream = createWebhookStream({
      url: base, secret, store, seed: 5, ratePerSecond: Infinity, maxEvents: 50, retry: fast,
      onDelivery: (e) => {
        if (e.seq === 3) throw new Error('observer failed');
      },
    });
    await expect(stream.start()).rejects.toThrow('observer failed');
    expect(stream.stats.sent).toBeLessThan(50);
  });

  it('stop() ends an open-ended stream and nothing is sent afterwards', async () => {
    const store = generateStore({ seed: 'stream', days: 60 });
    const stream = createWebhookStream({ url: base, secret, store, seed: 4, ratePerSecond: 200, redeliveryRate: 0.2, retry: fast });
    const done = stream.start();
    expect(stream.running).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    const stats = await stream.stop();
    expect(await done).toBe(stats);
    expect(stream.running).toBe(false);
    expect(stats.sent).toBeGreaterThan(5);
    const count = received.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(received.length).toBe(count);
  });
});
