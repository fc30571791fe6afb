// The app's webhook subscriptions (shopify.app.toml) name, in `include_fields`, every field shopml
// reads — Shopify sends nothing else, so a field missing there is a field shopml silently never
// gets in production while the simulator's whole payloads hide it. Checked here on a simulated
// store's payloads: each normalizes the same from what Shopify delivers as from the whole payload,
// the attribution property survives, and no personal field is delivered.
import { describe, expect, it } from 'vitest';
import { isDeepStrictEqual } from 'node:util';
import { readFileSync } from 'node:fs';
import { generateStore } from '../../simulator/store.ts';
import { orderPayload, productPayload, refundPayload } from '../../simulator/rest-payloads.ts';
import { orderWithProperty } from '../../simulator/shoppers.ts';
import { appIncludeFields, deliveredPayload, readSubscriptions, shapePayload } from '../../simulator/webhook-subscriptions.ts';
import { DATA_TOPICS, normalizeWebhook } from '../../backend/src/ingest/normalize-rest.ts';
import { COMPLIANCE_TOPICS, LIFECYCLE_TOPICS } from '../../backend/src/ingest/webhooks.ts';
import { recProperties } from '../../backend/src/track/conversions.ts';
import { createKeys } from '../../backend/src/keys.ts';

const store = generateStore({ seed: 11, customers: 150, products: 40, days: 60 });
const keys = createKeys('k'.repeat(48));
const normalize = (topic: string, p: unknown) => normalizeWebhook(topic, p, store.shop, keys, '2026-07-01T00:00:00Z');

const samples: [string, unknown[]][] = [
  ['orders/create', store.orders.map((o) => orderPayload(o, store))],
  ['orders/updated', store.orders.slice(0, 50).map((o) => orderPayload(o, store))],
  ['refunds/create', store.orders.flatMap((o) => (o.refunds ?? []).map((r) => refundPayload(r, o, store)))],
  ['products/update', store.products.map((p) => productPayload(p, store))],
];

/** Payloads (of `topic`) that normalize differently when delivered with `fields`. */
function differing(topic: string, payloads: unknown[], fields: readonly string[] | null): number {
  return payloads.filter((p) => !isDeepStrictEqual(normalize(topic, p), normalize(topic, shapePayload(p, fields)))).length;
}

describe('webhook subscriptions (shopify.app.toml)', () => {
  it('every topic shopml handles is subscribed, to /webhooks', () => {
    const subs = readSubscriptions(readFileSync(new URL('../../shopify.app.toml', import.meta.url), 'utf8'));
    const subscribed = new Map(subs.flatMap((s) => s.topics.map((t) => [t, s.uri] as const)));
    for (const t of [...DATA_TOPICS, ...COMPLIANCE_TOPICS, ...LIFECYCLE_TOPICS]) expect(subscribed.get(t), t).toBe('/webhooks');
  });

  it('include_fields keep top-level and nested fields, of every element of an array', () => {
    const p = { id: 1, name: 'x', customer: { id: 2, first_name: 'Jo' }, billing_address: null, line_items: [{ id: 3, title: 't', properties: [{ name: 'a', value: 'b' }] }, { id: 4 }] };
    expect(shapePayload(p, ['id', 'customer.id', 'billing_address.country_code', 'shipping_address.country_code', 'line_items.id', 'line_items.properties']))
      .toEqual({ id: 1, customer: { id: 2 }, billing_address: null, line_items: [{ id: 3, properties: [{ name: 'a', value: 'b' }] }, { id: 4 }] });
    expect(shapePayload(p, null)).toBe(p);
  });

  it('each order, refund and product normalizes the same from what Shopify delivers as from the whole payload', () => {
    const sizes: Record<string, [number, number]> = {};
    for (const [topic, payloads] of samples) {
      expect(payloads.length, topic).toBeGreaterThan(5);
      const fields = appIncludeFields().get(topic);
      expect(fields, `${topic} has include_fields`).toBeTruthy();
      expect(differing(topic, payloads, fields!), topic).toBe(0);
      const bytes = (f: (p: unknown) => unknown) => payloads.reduce((s: number, p) => s + JSON.stringify(f(p)).length, 0) / payloads.length;
      sizes[topic] = [Math.round(bytes((p) => p)), Math.round(bytes((p) => deliveredPayload(topic, p)))];
    }
    console.log(`bytes per payload, whole → delivered: ${JSON.stringify(sizes)}`);
  });

  it('the check finds a field the subscription leaves out (addresses: the order country)', () => {
    const fields = appIncludeFields().get('orders/create')!.filter((f) => !f.endsWith('_address.country_code'));
    expect(differing('orders/create', samples[0]![1], fields)).toBeGreaterThan(0);
  });

  it('the attribution property survives; no personal field is delivered', () => {
    const order = store.orders.find((o) => o.customerId !== null)!;
    const whole = orderWithProperty(order, store, order.lines[0]!.id, 'rec-123');
    const delivered = deliveredPayload('orders/create', whole) as Record<string, unknown>;
    expect(recProperties(delivered)).toEqual(recProperties(whole));
    expect(recProperties(delivered).size).toBe(1);
    const text = JSON.stringify(delivered);
    for (const key of ['first_name', 'last_name', 'phone', 'address1', 'address2', 'zip', 'city', 'note', 'browser_ip', 'client_details', 'contact_email', 'default_address']) {
      expect(text, key).not.toContain(`"${key}"`);
    }
    expect((delivered.customer as Record<string, unknown>)).toEqual({ id: order.customerId, email: expect.any(String) });
  });
});
