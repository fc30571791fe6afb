// Conversion attribution inside the orders/create transaction (applyWebhook on a real SQLite
// file): the line-item property and the attribution window, click before impression, the
// per-shop window setting, test and duplicate orders, the ConversionSink (grouped per unit and
// arm; a failing sink keeps the order and the attribution), and customer redaction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { applyWebhook } from '../../backend/src/ingest/webhooks.ts';
import { redactCustomer } from '../../backend/src/ingest/compliance.ts';
import { createRecIds } from '../../backend/src/serve/rec-id.ts';
import { setServeSettings } from '../../backend/src/serve/controls.ts';
import { storeEvents } from '../../backend/src/track/events.ts';
import { attributionSummary, recProperties, useConversionSink, type Conversion } from '../../backend/src/track/conversions.ts';

const SHOP = 'track-shop.myshopify.com';
const keys = createKeys('track-test-secret-0123456789abcdefgh');
const recIds = createRecIds(keys);
const V = 'c'.repeat(64);
const DAY = 86_400_000;
const T0 = Date.parse('2026-10-20T12:00:00Z');
let dir: string;
let db: Db;
const seen: Conversion[] = [];
let seq = 0;

function order(o: { id: number; customer?: number | null; at: number; lines: { product: number; price: string; qty?: number; rec?: string }[]; test?: boolean }) {
  return {
    id: o.id, name: `#${o.id}`, email: 'someone@example.com', created_at: new Date(o.at).toISOString(), updated_at: new Date(o.at).toISOString(),
    currency: 'EUR', total_price: '0.00', financial_status: 'paid', test: o.test ?? false,
    customer: o.customer ? { id: o.customer, email: 'someone@example.com' } : null,
    line_items: o.lines.map((l, i) => ({
      id: o.id * 100 + i, product_id: l.product, variant_id: l.product * 10, sku: null, title: `P${l.product}`, quantity: l.qty ?? 1, price: l.price,
      properties: l.rec ? [{ name: '_shopml_rec', value: l.rec }] : [],
    })),
  };
}

function deliver(topic: string, payload: unknown, at = T0) {
  const raw = JSON.stringify(payload);
  return db.transaction(() => applyWebhook(db, keys, { shop: SHOP, topic, webhookId: `wh-${++seq}`, triggeredAt: null, receivedAt: new Date(at).toISOString(), rawBody: raw }))();
}

function event(unit: { customer?: string; anon?: string }, e: { id: string; type: 'impression' | 'click'; rec: string; product?: string; products?: string[]; at: number }) {
  db.transaction(() => storeEvents(db, recIds, SHOP, unit.customer ?? null, {
    consent: true, anonymous_id: unit.anon,
    events: [{ id: e.id, type: e.type, rec_id: e.rec, product_id: e.product, product_ids: e.products, occurred_at: new Date(e.at).toISOString() }],
  }, e.at + 1000))();
}

const conversions = (orderId: number) => db.prepare('SELECT product_id, unit, customer_id, variant, model_version, experiment_id, method, revenue FROM rec_conversions WHERE order_id = ? ORDER BY line_id').all(String(orderId));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shopml-track-'));
  db = openDb(join(dir, 'db.sqlite'));
  useConversionSink(db, { record: (_db, c) => { seen.push(c); } });
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('conversion attribution', () => {
  it('reads the line-item property from Shopify order JSON', () => {
    expect(recProperties(order({ id: 1, at: T0, lines: [{ product: 5, price: '1.00', rec: 'r1.x' }, { product: 6, price: '1.00' }] }))).toEqual(new Map([['100', 'r1.x']]));
    expect(recProperties({ line_items: 'nope' })).toEqual(new Map());
  });

  it('attributes by property (any shopper) and by window (logged-in), click before impression', () => {
    const recA = recIds.issue(SHOP, 'challenger', V, 4, T0 - DAY);
    const recB = recIds.issue(SHOP, 'champion', null, 4, T0 - 2 * DAY);
    // Customer 77 saw product 11 in list B, then clicked 11 in list A; was shown 12 only in B.
    event({ customer: '77' }, { id: 'e-imp-b-0001', type: 'impression', rec: recB, products: ['11', '12'], at: T0 - 2 * DAY });
    event({ customer: '77' }, { id: 'e-clk-a-0001', type: 'click', rec: recA, product: '11', at: T0 - DAY });
    event({ customer: '77' }, { id: 'e-imp-b-0002', type: 'impression', rec: recB, products: ['11'], at: T0 - DAY / 2 });
    expect(deliver('orders/create', order({ id: 500, customer: 77, at: T0, lines: [{ product: 11, price: '10.00', qty: 2 }, { product: 12, price: '3.50' }, { product: 13, price: '9.00' }] }))).toEqual({ outcome: 'applied' });
    expect(conversions(500)).toEqual([
      { product_id: '11', unit: '77', customer_id: '77', variant: 'challenger', model_version: V, experiment_id: 4, method: 'window', revenue: 20 },
      { product_id: '12', unit: '77', customer_id: '77', variant: 'champion', model_version: null, experiment_id: 4, method: 'window', revenue: 3.5 },
    ]);
    // The sink got one conversion per (unit, arm, version).
    expect(seen.filter((c) => c.orderId === '500').map((c) => [c.unit, c.variant, c.revenue, c.lines, c.experiment]).sort()).toEqual([['77', 'challenger', 20, 1, 4], ['77', 'champion', 3.5, 1, 4]]);

    // A guest: the property names the list; the unit comes from the list's impression.
    const recG = recIds.issue(SHOP, 'holdout', null, 4, T0 - 3 * DAY);
    event({ anon: 'anon-g' }, { id: 'e-imp-g-0001', type: 'impression', rec: recG, products: ['21'], at: T0 - 3 * DAY });
    deliver('orders/create', order({ id: 501, at: T0, lines: [{ product: 21, price: '5.00', rec: recG }, { product: 22, price: '1.00' }] }));
    expect(conversions(501)).toEqual([{ product_id: '21', unit: 'anon-g', customer_id: null, variant: 'holdout', model_version: null, experiment_id: 4, method: 'property', revenue: 5 }]);
    expect(attributionSummary(db, SHOP)).toEqual([
      { variant: 'challenger', currency: 'EUR', orders: 1, lines: 1, revenue: 20 },
      { variant: 'champion', currency: 'EUR', orders: 1, lines: 1, revenue: 3.5 },
      { variant: 'holdout', currency: 'EUR', orders: 1, lines: 1, revenue: 5 },
    ]);
  });

  it('honours the attribution window (default 7 days, per shop), and skips test and duplicate orders', () => {
    const rec = recIds.issue(SHOP, 'champion', V, null, T0 - 8 * DAY);
    event({ customer: '88' }, { id: 'e-old-0001', type: 'click', rec, product: '31', at: T0 - 8 * DAY });
    deliver('orders/create', order({ id: 600, customer: 88, at: T0, lines: [{ product: 31, price: '4.00' }] }));
    deliver('orders/create', order({ id: 601, at: T0, lines: [{ product: 31, price: '4.00', rec }] }));
    expect([...conversions(600), ...conversions(601)]).toEqual([]);
    db.transaction(() => setServeSettings(db, SHOP, { attributionDays: 10 }, new Date(T0).toISOString()))();
    deliver('orders/create', order({ id: 602, customer: 88, at: T0, lines: [{ product: 31, price: '4.00' }] }));
    expect(conversions(602)).toHaveLength(1);
    deliver('orders/create', order({ id: 603, customer: 88, at: T0, lines: [{ product: 31, price: '4.00' }], test: true }));
    expect(conversions(603)).toEqual([]);
    // orders/updated never attributes (only orders/create does), and a replay is a duplicate.
    deliver('orders/updated', order({ id: 604, customer: 88, at: T0, lines: [{ product: 31, price: '4.00' }] }));
    expect(conversions(604)).toEqual([]);
    db.transaction(() => setServeSettings(db, SHOP, { attributionDays: 7 }, new Date(T0).toISOString()))();
  });

  it('keeps the order and our attribution when the sink fails; a forged property attributes nothing', () => {
    useConversionSink(db, { record: () => { throw new Error('rollout table locked'); } });
    try {
      const rec = recIds.issue(SHOP, 'challenger', V, 9, T0 - DAY);
      expect(deliver('orders/create', order({ id: 700, at: T0, lines: [{ product: 41, price: '2.00', rec }] }))).toEqual({ outcome: 'applied' });
      expect(conversions(700)).toHaveLength(1);
      const forged = createRecIds(createKeys('someone-elses-secret-0123456789abcd')).issue(SHOP, 'challenger', V, 9, T0 - DAY);
      deliver('orders/create', order({ id: 701, at: T0, lines: [{ product: 41, price: '2.00', rec: forged }] }));
      expect(conversions(701)).toEqual([]);
      expect(db.prepare('SELECT count(*) FROM orders WHERE order_id IN (?, ?)').pluck().get('700', '701')).toBe(2);
    } finally {
      useConversionSink(db, { record: (_db, c) => { seen.push(c); } });
    }
  });

  it('customers/redact removes the customer’s events and attributed lines', () => {
    expect(db.prepare(`SELECT count(*) FROM storefront_events WHERE customer_id = '77'`).pluck().get()).toBeGreaterThan(0);
    redactCustomer(db, keys, SHOP, { customerId: '77', email: null, ordersToRedact: [] }, new Date().toISOString());
    expect(db.prepare(`SELECT count(*) FROM storefront_events WHERE customer_id = '77' OR unit = '77'`).pluck().get()).toBe(0);
    expect(db.prepare(`SELECT count(*) FROM rec_conversions WHERE customer_id = '77' OR unit = '77'`).pluck().get()).toBe(0);
  });
});
