// The hand-written order validator (fastOrder) must never change what ingestion does: whenever
// it accepts a body, the zod schema accepts it too and normalizes it to exactly the same
// order; whenever the schema rejects one, normalizeOrder throws the schema's own message.
// Checked on every order of a simulated store, on the fixture, and on mutations of each field
// the schema looks at (wrong types, nulls, missing, edge numbers, bad timestamps).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fastOrder, normalizeOrder, ValidationError } from '../../backend/src/ingest/normalize-rest.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { generateStore } from '../../simulator/store.ts';
import { orderPayload } from '../../simulator/rest-payloads.ts';

const keys = createKeys('k'.repeat(48));
const SHOP = 'fast-order.myshopify.com';
const fixture = JSON.parse(readFileSync(new URL('../fixtures/orders-create.json', import.meta.url), 'utf8')) as Record<string, any>;
const store = generateStore({ seed: 'fast-order', customers: 120, products: 40, days: 90 });

type Outcome = { ok: true; value: unknown } | { ok: false; message: string };
function run(f: () => unknown): Outcome {
  try {
    return { ok: true, value: f() };
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return { ok: false, message: err.message };
  }
}

/** Both paths on one payload; returns whether the fast path accepted it. */
function same(payload: unknown): boolean {
  const copy = structuredClone(payload);
  const withFast = run(() => normalizeOrder(payload, SHOP, keys));
  const schemaOnly = run(() => normalizeOrder(copy, SHOP, keys, { schemaOnly: true }));
  expect(withFast).toEqual(schemaOnly);
  // Object.is on every leaf: toEqual alone would let -0 and 0 or a number and its string pass.
  expect(JSON.stringify(withFast)).toBe(JSON.stringify(schemaOnly));
  const accepted = fastOrder(payload) !== undefined;
  if (accepted) expect(schemaOnly.ok).toBe(true);
  return accepted;
}

const VALUES: unknown[] = [
  undefined, null, true, false, 0, -0, 1, -1, 1.5, 2 ** 53, 2 ** 53 - 1, 1e21, '', ' ', '0', '12', '-12', '12.50', '12.', '.5', '1e3', 'abc',
  '2026-07-01T12:00:00-04:00', '2026-07-01', 'not a date', '+275760-09-13T00:00:00.000Z', [], [1], {}, { id: 1 }, { country_code: 'CA' }, { country_code: 7 },
];
const ORDER_FIELDS = ['id', 'name', 'email', 'created_at', 'updated_at', 'cancelled_at', 'currency', 'total_price', 'financial_status', 'source_name', 'test', 'customer', 'billing_address', 'shipping_address', 'line_items', 'refunds'];
const LINE_FIELDS = ['id', 'product_id', 'variant_id', 'sku', 'title', 'quantity', 'price', 'gift_card'];

function withField(obj: Record<string, any>, key: string, v: unknown): Record<string, any> {
  const c = structuredClone(obj);
  if (v === undefined) delete c[key];
  else c[key] = v;
  return c;
}

describe('fastOrder ≡ the order schema', () => {
  it('accepts every simulated order and the fixture, normalized exactly as zod does', () => {
    const payloads = [fixture, ...store.orders.map((o) => orderPayload(o, store))];
    const accepted = payloads.filter((p) => same(JSON.parse(JSON.stringify(p)))).length;
    // Real-shaped bodies all take the fast path (otherwise it saves nothing).
    expect(accepted).toBe(payloads.length);
  });

  it('agrees on every mutation of every order, line, customer, address and refund field', () => {
    let accepted = 0;
    let rejected = 0;
    const count = (ok: boolean) => (ok ? accepted++ : rejected++);
    const withRefund: Record<string, any> = { ...fixture, refunds: [{ id: 1, order_id: fixture.id, created_at: '2026-07-02T00:00:00Z', refund_line_items: [{ id: 1, line_item_id: fixture.line_items[0].id, quantity: 1 }] }] };
    for (const v of VALUES) {
      for (const f of ORDER_FIELDS) count(same(withField(withRefund, f, v)));
      for (const f of LINE_FIELDS) count(same({ ...withRefund, line_items: [withField(withRefund.line_items[0], f, v), ...withRefund.line_items.slice(1)] }));
      for (const f of ['id', 'email']) count(same({ ...withRefund, customer: withField(withRefund.customer, f, v) }));
      for (const a of ['billing_address', 'shipping_address']) count(same({ ...withRefund, [a]: withField(withRefund[a], 'country_code', v) }));
      for (const f of ['id', 'order_id', 'created_at', 'refund_line_items']) count(same({ ...withRefund, refunds: [withField(withRefund.refunds[0], f, v)] }));
      for (const f of ['line_item_id', 'quantity']) {
        count(same({ ...withRefund, refunds: [{ ...withRefund.refunds[0], refund_line_items: [withField(withRefund.refunds[0].refund_line_items[0], f, v)] }] }));
      }
      count(same({ ...withRefund, line_items: [v] }));
      count(same({ ...withRefund, refunds: [v] }));
      count(same(v));
    }
    // Both kinds occurred: the comparison covered acceptance and the schema's own rejections.
    expect(accepted).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });

  it('keeps the schema message and path for an invalid line (what the quarantine row records)', () => {
    const bad = { ...fixture, line_items: [{ ...fixture.line_items[0], quantity: 'lots' }] };
    expect(fastOrder(bad)).toBeUndefined();
    expect(() => normalizeOrder(bad, SHOP, keys)).toThrow(/^invalid order: line_items\.0\.quantity: /);
  });
});
