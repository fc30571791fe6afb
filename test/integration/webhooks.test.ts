// Webhooks end to end over HTTP: a real Fastify server on port 0, a real SQLite file, and
// deliveries signed by the simulator exactly as Shopify signs them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { webhookHeaders } from '../../simulator/sign.ts';
import { SHOP, startTestBackend, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';

const orderFixture = JSON.parse(readFileSync(new URL('../fixtures/orders-create.json', import.meta.url), 'utf8'));

let be: TestBackend;
beforeAll(async () => { be = await startTestBackend(); });
afterAll(async () => { await be.stop(); });

async function deliver(topic: string, body: unknown, opts: { webhookId?: string; secret?: string; shop?: string; raw?: string; headers?: Record<string, string | undefined> } = {}) {
  const rawBody = opts.raw ?? JSON.stringify(body);
  const headers: Record<string, string> = webhookHeaders({
    secret: opts.secret ?? TEST_SECRET, shop: opts.shop ?? SHOP, topic, rawBody, webhookId: opts.webhookId ?? randomUUID(),
  });
  for (const [k, v] of Object.entries(opts.headers ?? {})) {
    for (const h of Object.keys(headers)) if (h.toLowerCase() === k.toLowerCase()) delete headers[h];
    if (v !== undefined) headers[k] = v;
  }
  const res = await fetch(`${be.url}/webhooks`, { method: 'POST', headers, body: rawBody });
  return { status: res.status, body: await res.json().catch(() => null) as Record<string, unknown> | null, headers: res.headers };
}

const count = (sql: string, ...args: unknown[]) => be.deps.db.prepare(sql).pluck().get(...args) as number;

describe('webhooks', () => {
  it('ingests a signed orders/create: order, lines, customer, event — and no personal data', async () => {
    const r = await deliver('orders/create', orderFixture);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ outcome: 'applied' });
    const order = be.deps.db.prepare('SELECT * FROM orders WHERE shop = ? AND order_id = ?').get(SHOP, '5678901234567') as Record<string, unknown>;
    expect(order).toMatchObject({ customer_id: '7123456789012', total_price: 403, currency: 'USD', created_at: '2026-07-01T16:00:00.000Z' });
    expect(order.email_hash).toMatch(/^[\w-]{43}$/);
    const lines = be.deps.db.prepare('SELECT line_id, product_id, quantity, price, line_kind FROM order_lines WHERE shop = ? ORDER BY line_id').all(SHOP);
    expect(lines).toEqual([
      { line_id: '13456789012345', product_id: '632910392', quantity: 1, price: 199, line_kind: 'product' },
      { line_id: '13456789012346', product_id: '632910393', quantity: 2, price: 97, line_kind: 'product' },
      { line_id: '13456789012347', product_id: null, quantity: 1, price: 10, line_kind: 'non_product' },
    ]);
    expect(count('SELECT count(*) FROM customers WHERE shop = ?', SHOP)).toBe(1);
    // Every personal value in the payload carried "canary-7f3a"; none may be stored anywhere.
    const dump = JSON.stringify([
      be.deps.db.prepare('SELECT * FROM events').all(), be.deps.db.prepare('SELECT * FROM orders').all(),
      be.deps.db.prepare('SELECT * FROM customers').all(), be.deps.db.prepare('SELECT * FROM order_lines').all(),
    ]);
    expect(dump).not.toMatch(/canary|5550001234|Ottawa|203\.0\.113/i);
  });

  it('rejects forged and unsigned deliveries with 401 and writes nothing', async () => {
    const before = count('SELECT count(*) FROM events');
    const forged = await deliver('orders/create', { ...orderFixture, id: 1 }, { secret: 'not-the-secret-at-all' });
    expect(forged.status).toBe(401);
    const unsigned = await deliver('orders/create', { ...orderFixture, id: 2 }, { headers: { 'X-Shopify-Hmac-Sha256': undefined } });
    expect(unsigned.status).toBe(401);
    const noId = await deliver('orders/create', { ...orderFixture, id: 3 }, { headers: { 'X-Shopify-Webhook-Id': undefined } });
    expect(noId.status).toBe(401);
    const tampered = JSON.stringify({ ...orderFixture, id: 4 });
    const h = webhookHeaders({ secret: TEST_SECRET, shop: SHOP, topic: 'orders/create', rawBody: tampered, webhookId: randomUUID() });
    const res = await fetch(`${be.url}/webhooks`, { method: 'POST', headers: h, body: tampered.replace('"#9999"', '"#9998"') });
    expect(res.status).toBe(401);
    expect(count('SELECT count(*) FROM events')).toBe(before);
    expect(count('SELECT count(*) FROM quarantine')).toBe(0);
  });

  it('answers a redelivery 200 and changes nothing', async () => {
    const id = randomUUID();
    const body = { ...orderFixture, id: 5678901234999 };
    expect((await deliver('orders/create', body, { webhookId: id })).body).toMatchObject({ outcome: 'applied' });
    const events = count('SELECT count(*) FROM events');
    const again = await deliver('orders/create', body, { webhookId: id });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'duplicate' });
    expect(count('SELECT count(*) FROM events')).toBe(events);
  });

  it('never lets a stale orders/updated overwrite a newer state', async () => {
    const base = { ...orderFixture, id: 5678901235000 };
    await deliver('orders/updated', { ...base, updated_at: '2026-07-02T10:00:00Z', financial_status: 'refunded' });
    const stale = await deliver('orders/updated', { ...base, updated_at: '2026-07-01T10:00:00Z', financial_status: 'paid' });
    expect(stale.body).toMatchObject({ outcome: 'stale' });
    expect(be.deps.db.prepare('SELECT financial_status FROM orders WHERE order_id = ?').pluck().get('5678901235000')).toBe('refunded');
    // The stale delivery is still in the log (it happened), marked as such.
    expect(count(`SELECT count(*) FROM events WHERE order_id = '5678901235000' AND outcome = 'stale'`)).toBe(1);
  });

  it('quarantines an authentic but invalid payload with its reason, answers 200, writes no half record', async () => {
    const bad = { ...orderFixture, id: 5678901235001, line_items: [{ ...orderFixture.line_items[0], quantity: 'lots' }] };
    const r = await deliver('orders/create', bad);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ outcome: 'quarantined' });
    const q = be.deps.db.prepare(`SELECT reason, payload FROM quarantine WHERE shop = ? ORDER BY id DESC LIMIT 1`).get(SHOP) as { reason: string; payload: string };
    expect(q.reason).toMatch(/line_items\.0\.quantity/);
    expect(q.payload).not.toMatch(/canary/);
    expect(count(`SELECT count(*) FROM orders WHERE order_id = '5678901235001'`)).toBe(0);
    expect(count(`SELECT count(*) FROM order_lines WHERE order_id = '5678901235001'`)).toBe(0);
    const notJson = await deliver('orders/create', null, { raw: '{"id": 12, "line_items": [' });
    expect(notJson.body).toMatchObject({ outcome: 'quarantined' });
  });

  it('applies refunds, product and inventory topics', async () => {
    await deliver('refunds/create', { id: 900001, order_id: 5678901234567, created_at: '2026-07-03T00:00:00Z', refund_line_items: [{ id: 1, line_item_id: 13456789012346, quantity: 1 }] });
    expect(be.deps.db.prepare(`SELECT refunded_quantity FROM order_lines WHERE line_id = '13456789012346'`).pluck().get()).toBe(1);
    await deliver('products/create', { id: 632910392, title: 'IPod Nano - 8GB', handle: 'ipod-nano', product_type: 'Audio', vendor: 'Apple', status: 'active', tags: 'a, b', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-06-01T00:00:00Z', variants: [{ id: 808950810, title: 'Pink', sku: 'IPOD2008PINK', price: '199.00', inventory_item_id: 39072856 }], image: { src: 'https://cdn.example.com/ipod.png' } });
    await deliver('inventory_levels/update', { inventory_item_id: 39072856, location_id: 487838322, available: 7, updated_at: '2026-06-02T00:00:00Z' });
    expect(be.deps.db.prepare(`SELECT available FROM inventory WHERE inventory_item_id = '39072856'`).pluck().get()).toBe(7);
    await deliver('products/delete', { id: 632910392 });
    expect(be.deps.db.prepare(`SELECT deleted_at IS NOT NULL FROM products WHERE product_id = '632910392'`).pluck().get()).toBe(1);
  });

  it('counts webhooks by topic and outcome in /metrics', async () => {
    const text = await (await fetch(`${be.url}/metrics`)).text();
    expect(text).toMatch(/shopml_webhooks_total\{topic="orders\/create",outcome="accepted"\} \d+/);
    expect(text).toMatch(/shopml_webhooks_total\{topic="orders\/create",outcome="rejected"\} \d+/);
    expect(text).toMatch(/shopml_webhooks_total\{topic="orders\/create",outcome="quarantined"\} \d+/);
    expect(text).toMatch(/shopml_http_request_duration_seconds_bucket\{.*route="\/webhooks"/);
  });
});

describe('compliance topics', () => {
  it('customers/redact deletes every row about the customer, keeps a tombstone, and a redelivery cannot bring them back', async () => {
    const orderId = 6000000000001;
    const body = { ...orderFixture, id: orderId, customer: { ...orderFixture.customer, id: 7000000000001, email: 'gone@example.com' }, email: 'gone@example.com' };
    const firstDelivery = randomUUID();
    await deliver('orders/create', body, { webhookId: firstDelivery });
    await be.deps.db.prepare(`INSERT INTO storefront_events (shop, event_id, type, unit, customer_id, occurred_at) VALUES (?, 'e1', 'click', '7000000000001', '7000000000001', '2026-07-01')`).run(SHOP);
    expect(count(`SELECT count(*) FROM orders WHERE customer_id = '7000000000001'`)).toBe(1);

    const r = await deliver('customers/redact', { shop_id: 1, shop_domain: SHOP, customer: { id: 7000000000001, email: 'gone@example.com', phone: null }, orders_to_redact: [orderId] });
    expect(r.status).toBe(200);
    for (const t of ['orders', 'events', 'customers', 'storefront_events']) {
      expect(count(`SELECT count(*) FROM ${t} WHERE customer_id = '7000000000001'`)).toBe(0);
    }
    expect(count(`SELECT count(*) FROM order_lines WHERE order_id = '${orderId}'`)).toBe(0);
    expect(count(`SELECT count(*) FROM events WHERE order_id = '${orderId}'`)).toBe(0);
    expect(count('SELECT count(*) FROM tombstones WHERE shop = ?', SHOP)).toBeGreaterThanOrEqual(2);

    // Shopify retries the original orders/create (new delivery id, same order) — suppressed.
    const retried = await deliver('orders/create', body);
    expect(retried.body).toMatchObject({ outcome: 'suppressed' });
    // A guest order with the same email is recognised through the keyed email hash.
    const guest = await deliver('orders/create', { ...body, id: 6000000000002, customer: null });
    expect(guest.body).toMatchObject({ outcome: 'suppressed' });
    expect(count(`SELECT count(*) FROM orders WHERE order_id IN ('6000000000001', '6000000000002')`)).toBe(0);
  });

  it('customers/redact finds rows the orders table no longer links to the customer: an order moved to someone else, a guest order known by email only', async () => {
    // The event log has no customer or email index (migration 010): these rows are found by reading it.
    const moved = 6000000000011;
    const guest = 6000000000012;
    const customer = (id: number, email: string) => ({ ...orderFixture.customer, id, email });
    await deliver('orders/create', { ...orderFixture, id: moved, updated_at: '2026-07-01T10:00:00Z', customer: customer(7000000000011, 'first@example.com'), email: 'first@example.com' });
    await deliver('orders/updated', { ...orderFixture, id: moved, updated_at: '2026-07-02T10:00:00Z', customer: customer(7000000000012, 'second@example.com'), email: 'second@example.com' });
    await deliver('orders/create', { ...orderFixture, id: guest, customer: null, email: 'guest-only@example.com' });
    expect(count(`SELECT count(*) FROM events WHERE customer_id = '7000000000011'`)).toBe(1);
    expect(count(`SELECT customer_id FROM orders WHERE order_id = '${moved}'`)).toBe('7000000000012');

    expect((await deliver('customers/redact', { shop_id: 1, shop_domain: SHOP, customer: { id: 7000000000011, email: null, phone: null }, orders_to_redact: [] })).status).toBe(200);
    expect(count(`SELECT count(*) FROM events WHERE customer_id = '7000000000011'`)).toBe(0);
    // The order now belongs to the other customer: their event and the order stay.
    expect(count(`SELECT count(*) FROM events WHERE order_id = '${moved}'`)).toBe(1);
    expect(count(`SELECT count(*) FROM orders WHERE order_id = '${moved}'`)).toBe(1);

    expect(count(`SELECT count(*) FROM events WHERE order_id = '${guest}' AND email_hash IS NOT NULL`)).toBe(1);
    expect((await deliver('customers/redact', { shop_id: 1, shop_domain: SHOP, customer: { id: null, email: 'guest-only@example.com', phone: null }, orders_to_redact: [] })).status).toBe(200);
    for (const t of ['orders', 'order_lines', 'events']) expect(count(`SELECT count(*) FROM ${t} WHERE order_id = '${guest}'`), t).toBe(0);
  });

  it('customers/data_request produces what we hold, without personal data we never stored', async () => {
    const r = await deliver('customers/data_request', { shop_id: 1, shop_domain: SHOP, orders_requested: [5678901234567], customer: { id: 7123456789012, email: 'jon.canary-7f3a@example.com', phone: null }, data_request: { id: 9999 } });
    expect(r.status).toBe(200);
    const res = await fetch(`${be.url}/api/v1/data-requests/9999?shop=${SHOP}`, { headers: { Authorization: `Bearer ${be.config.adminToken}` } });
    expect(res.status).toBe(200);
    const data = (await res.json()) as { data: { customer_id: string; orders: { order_id: string; lines: unknown[] }[] } };
    expect(data.data.customer_id).toBe('7123456789012');
    expect(data.data.orders.map((o) => o.order_id)).toContain('5678901234567');
    expect(data.data.orders[0]!.lines.length).toBeGreaterThan(0);
  });

  it('app/uninstalled drops the access token; shop/redact deletes the shop', async () => {
    const other = 'other-shop.myshopify.com';
    await deliver('orders/create', { ...orderFixture, id: 1234 }, { shop: other });
    be.deps.db.prepare(`UPDATE shops SET access_token_enc = 'x' WHERE shop = ?`).run(other);
    await deliver('app/uninstalled', { id: 1, domain: other }, { shop: other });
    expect(be.deps.db.prepare('SELECT access_token_enc, uninstalled_at IS NOT NULL AS gone FROM shops WHERE shop = ?').get(other)).toEqual({ access_token_enc: null, gone: 1 });
    await deliver('shop/redact', { shop_id: 2, shop_domain: other }, { shop: other });
    for (const t of ['orders', 'order_lines', 'customers', 'shops']) expect(count(`SELECT count(*) FROM ${t} WHERE shop = ?`, other)).toBe(0);
    // Only the log line recording the redaction itself remains.
    expect(count(`SELECT count(*) FROM events WHERE shop = ? AND topic != 'shop/redact'`, other)).toBe(0);
    expect(count(`SELECT count(*) FROM orders WHERE shop = ?`, SHOP)).toBeGreaterThan(0);
  });
});

describe('event log', () => {
  it('rebuilds the projections from the log to exactly the same state', async () => {
    const { rebuildProjections, PROJECTION_TABLES } = await import('../../backend/src/ingest/rebuild.ts');
    const dump = () => Object.fromEntries(PROJECTION_TABLES.map((t) => [t, be.deps.db.prepare(`SELECT * FROM ${t} WHERE shop = ? ORDER BY 1, 2, 3`).all(SHOP)]));
    const before = dump();
    expect((before.orders as unknown[]).length).toBeGreaterThan(0);
    const r = rebuildProjections(be.deps.db, SHOP);
    expect(r.events).toBeGreaterThan(3);
    expect(dump()).toEqual(before);
  });
});
