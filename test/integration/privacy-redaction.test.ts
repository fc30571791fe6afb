// The privacy fixes found by test/reliability/privacy.test.ts, each pinned on its own over HTTP
// against the real server: quarantined bodies keep no personal text (not even inside a parser's
// error message); customers/redact also removes quarantined bodies naming the customer; and after
// it, nothing about them is stored again — refunds of their orders, unsubscribed customer topics,
// Flow actions naming them, their storefront events as a logged-in shopper.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appProxyQuery, flowActionRequest, webhookHeaders } from '../../simulator/sign.ts';
import { storeOfflineToken } from '../../backend/src/shopify/auth.ts';
import { SHOP, startTestBackend, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';

const orderFixture = JSON.parse(readFileSync(new URL('../fixtures/orders-create.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const CUSTOMER = 7000000000077;
const ORDER = 6000000000077;
const NAME = 'Wilhelmina-Privacy';

let be: TestBackend;
beforeAll(async () => {
  be = await startTestBackend();
  storeOfflineToken(be.deps.db, be.deps.keys, SHOP, 'shpat_test', 'read_orders', new Date().toISOString());
});
afterAll(async () => { await be.stop(); });

async function deliver(topic: string, body: unknown) {
  const rawBody = typeof body === 'string' ? body : JSON.stringify(body);
  const headers = webhookHeaders({ secret: TEST_SECRET, shop: SHOP, topic, rawBody, webhookId: randomUUID() });
  const res = await fetch(`${be.url}/webhooks`, { method: 'POST', headers, body: rawBody });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
}

async function flow(handle: string, properties: Record<string, unknown>) {
  const r = flowActionRequest({ secret: TEST_SECRET, shop: SHOP, shopId: 1, handle, actionDefinitionId: handle, properties });
  const res = await fetch(`${be.url}/flow/actions/${handle}`, { method: 'POST', headers: r.headers, body: r.body });
  return res.status;
}

const all = (table: string) => JSON.stringify(be.deps.db.prepare(`SELECT * FROM ${table}`).all());
const count = (sql: string, ...args: unknown[]) => be.deps.db.prepare(sql).pluck().get(...args) as number;
const order = {
  ...orderFixture, id: ORDER, email: 'wilhelmina@example.com',
  customer: { ...(orderFixture.customer as object), id: CUSTOMER, email: 'wilhelmina@example.com', first_name: NAME },
  shipping_address: { first_name: NAME, address1: '12 Privacy Lane', country_code: 'US' },
};

describe('quarantine keeps no personal text', () => {
  it('a body that is not JSON keeps its shape only; the parser message loses the quoted input', async () => {
    const raw = JSON.stringify({ ...order, id: ORDER + 1, customer: { ...order.customer, id: CUSTOMER + 1 } });
    for (const broken of [raw.slice(0, raw.indexOf('12 Privacy') + 5), raw.replace(`"first_name":"${NAME}"`, `"first_name":${NAME}`), `email=wilhelmina%40example.com&name=${NAME}`]) {
      expect((await deliver('orders/create', broken)).body).toMatchObject({ outcome: 'quarantined' });
    }
    const rows = be.deps.db.prepare('SELECT reason, payload FROM quarantine').all() as { reason: string; payload: string }[];
    expect(rows).toHaveLength(3);
    expect(JSON.stringify(rows)).not.toMatch(/Wilhelmina|wilhelmina|Privacy Lane/);
    expect(rows[0]!.payload).toContain('"shipping_address":{"first_name":"…","address1":"…'); // the shape survives
    expect(rows[1]!.reason).toBe('body is not valid JSON: Unexpected token');
    expect(rows[2]!.payload).toBe('…');
  });
});

describe('after customers/redact nothing about the customer is stored again', () => {
  it('removes quarantined bodies naming them, then suppresses refunds, customer topics, Flow jobs and logged-in events', async () => {
    expect((await deliver('orders/create', order)).body).toMatchObject({ outcome: 'applied' });
    expect((await deliver('customers/create', { id: CUSTOMER, email: 'wilhelmina@example.com', first_name: NAME })).body).toMatchObject({ outcome: 'quarantined' });
    expect((await deliver('orders/updated', { ...order, updated_at: '2026-07-02T00:00:00Z', line_items: 'broken' })).body).toMatchObject({ outcome: 'quarantined' });
    const mentioning = () => count(`SELECT count(*) FROM quarantine WHERE instr(payload, ?) > 0 OR instr(payload, ?) > 0`, String(CUSTOMER), String(ORDER));
    expect(mentioning()).toBe(2);

    const r = await deliver('customers/redact', { shop_id: 1, shop_domain: SHOP, customer: { id: CUSTOMER, email: 'wilhelmina@example.com', phone: null }, orders_to_redact: [ORDER] });
    expect(r.status).toBe(200);
    expect(mentioning()).toBe(0);

    // A refund of their order, customer topics, Flow actions, a logged-in storefront visit.
    const refund = { id: 8000000000077, order_id: ORDER, created_at: '2026-07-03T00:00:00Z', refund_line_items: [{ line_item_id: 13456789012345, quantity: 1 }] };
    expect((await deliver('refunds/create', refund)).body).toMatchObject({ outcome: 'suppressed' });
    expect((await deliver('customers/update', { id: CUSTOMER, first_name: NAME })).body).toMatchObject({ outcome: 'quarantined' });
    expect(await flow('tag-customer-ml-segment', { customer_id: String(CUSTOMER) })).toBe(200);
    expect(await flow('send-order-to-shopml', { order_id: String(ORDER) })).toBe(200);
    const q = appProxyQuery({ secret: TEST_SECRET, shop: SHOP, loggedInCustomerId: String(CUSTOMER) });
    const ev = await fetch(`${be.url}/proxy/events?${q}`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ consent: true, anonymous_id: 'anon-after-redact', events: [{ id: `e-${randomUUID()}`, type: 'click', product_id: '632910392' }] }),
    });
    expect(ev.status).toBe(204);
    await be.deps.writer.drain();

    for (const table of ['refunds', 'events', 'jobs', 'quarantine', 'storefront_events', 'orders', 'customers']) {
      const dump = all(table);
      expect(dump, table).not.toContain(String(CUSTOMER));
      expect(dump, table).not.toContain(String(ORDER));
    }
    // The visit still counts, as an anonymous shopper's.
    expect(count(`SELECT count(*) FROM storefront_events WHERE unit = 'anon-after-redact' AND customer_id IS NULL`)).toBe(1);
    expect(count(`SELECT count(*) FROM quarantine WHERE payload LIKE '%withheld%'`)).toBe(1);
  });
});

describe('a customer with many orders', () => {
  it('is redacted in one go (the document sweep chunks its ids)', async () => {
    const orders = Array.from({ length: 1200 }, (_, i) => String(6100000000000 + i));
    const r = await deliver('customers/redact', { shop_id: 1, shop_domain: SHOP, customer: { id: 7000000000099, email: null, phone: null }, orders_to_redact: orders });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ outcome: 'applied' });
  });
});

