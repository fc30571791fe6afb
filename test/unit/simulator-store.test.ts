import { beforeAll, describe, expect, it } from 'vitest';
import { CATEGORIES } from '../../simulator/catalog-data.ts';
import { generateOrders } from '../../simulator/orders.ts';
import { generateStore } from '../../simulator/store.ts';
import type { SimStore } from '../../simulator/types.ts';

const worldOf = new Map(CATEGORIES.map((c) => [c.productType, c.world]));

function ordersPerCustomer(store: SimStore): number[] {
  const per = new Map<number, number>();
  for (const o of store.orders) if (o.customerId !== null) per.set(o.customerId, (per.get(o.customerId) ?? 0) + 1);
  return [...per.values()].sort((a, b) => b - a);
}

describe('generateStore: determinism and speed', () => {
  it('same seed → identical store; different seed → different store', () => {
    const a = JSON.stringify(generateStore({ seed: 7 }));
    expect(JSON.stringify(generateStore({ seed: 7 }))).toBe(a);
    expect(JSON.stringify(generateStore({ seed: 8 }))).not.toBe(a);
  });

  it('does not depend on the wall clock', () => {
    const s = generateStore({ seed: 1, days: 30 });
    expect(s.asOf).toBe('2026-11-01T00:00:00Z');
    for (const o of s.orders) expect(o.createdAt < '2026-11-01T00:00:00Z' && o.createdAt >= '2026-10-02T00:00:00Z').toBe(true);
  });

  it('400 customers × 365 days in well under a second', () => {
    generateStore({ seed: 'warm-up', customers: 50, days: 30 });
    const t0 = performance.now();
    const s = generateStore({ seed: 'timing' });
    const ms = performance.now() - t0;
    expect(s.customers).toHaveLength(400);
    expect(s.products).toHaveLength(120);
    expect(ms).toBeLessThan(1000);
  });
});

describe('generateStore: shape and realism', () => {
  let store: SimStore;
  beforeAll(() => {
    store = generateStore({ seed: 'shape' });
  });

  it('catalog: types, 1–3 variants, price strings, stock with low and sold-out items, unique handles', () => {
    const types = new Set(store.products.map((p) => p.productType));
    expect(types.size).toBeGreaterThanOrEqual(10);
    const handles = new Set(store.products.map((p) => p.handle));
    expect(handles.size).toBe(store.products.length);
    const variants = store.products.flatMap((p) => p.variants);
    for (const p of store.products) {
      expect(p.variants.length).toBeGreaterThanOrEqual(1);
      expect(p.variants.length).toBeLessThanOrEqual(3);
      expect(p.createdAt <= p.updatedAt).toBe(true);
    }
    for (const v of variants) expect(v.price).toMatch(/^\d+\.\d{2}$/);
    expect(variants.filter((v) => v.inventoryQuantity === 0).length).toBeGreaterThan(0);
    expect(variants.filter((v) => v.inventoryQuantity > 0 && v.inventoryQuantity <= 5).length).toBeGreaterThan(0);
    expect(store.products.filter((p) => p.status !== 'ACTIVE').length).toBeGreaterThan(0);
    expect(store.products.filter((p) => p.image?.startsWith('https://cdn.example.com/')).length).toBeGreaterThan(100);
    // Per-type price levels differ (hoodies cost more than pens).
    const median = (t: string) => {
      const xs = store.products.filter((p) => p.productType === t).map((p) => Number(p.variants[0]!.price)).sort((a, b) => a - b);
      return xs[Math.floor(xs.length / 2)]!;
    };
    expect(median('Hoodies')).toBeGreaterThan(2 * median('Pens'));
  });

  it('ids look like Shopify ids: large, < 2^53, increasing with time; order numbers sequential from #1001', () => {
    for (const o of store.orders) expect(Number.isSafeInteger(o.id) && o.id > 1e12).toBe(true);
    for (let i = 1; i < store.orders.length; i++) {
      const [prev, cur] = [store.orders[i - 1]!, store.orders[i]!];
      expect(cur.id).toBeGreaterThan(prev.id);
      expect(cur.createdAt >= prev.createdAt).toBe(true);
      expect(cur.orderNumber).toBe(prev.orderNumber + 1);
      expect(cur.name).toBe(`#${cur.orderNumber}`);
    }
    expect(store.orders[0]!.orderNumber).toBe(1001);
    const lineIds = store.orders.flatMap((o) => o.lines.map((l) => l.id));
    expect(new Set(lineIds).size).toBe(lineIds.length);
  });

  it('orders reference real products, variants and customers; guests have an email', () => {
    const variants = new Map(store.products.flatMap((p) => p.variants.map((v) => [v.id, p] as const)));
    const customers = new Set(store.customers.map((c) => c.id));
    for (const o of store.orders) {
      if (o.customerId === null) expect(o.email).toMatch(/@example\.(com|net|org)$/);
      else expect(customers.has(o.customerId)).toBe(true);
      expect(o.lines.length).toBeGreaterThan(0);
      for (const l of o.lines) {
        if (l.productId === null) {
          expect(l.variantId).toBeNull();
          continue;
        }
        expect(variants.get(l.variantId!)?.id).toBe(l.productId);
        expect(l.quantity).toBeGreaterThan(0);
      }
    }
  });

  it('has guests, cancellations, refunds, pending and custom items in plausible shares', () => {
    const n = store.orders.length;
    const share = (f: (o: SimStore['orders'][number]) => boolean) => store.orders.filter(f).length / n;
    expect(n).toBeGreaterThan(1000);
    expect(share((o) => o.customerId === null)).toBeGreaterThan(0.08);
    expect(share((o) => o.customerId === null)).toBeLessThan(0.3);
    expect(share((o) => o.cancelledAt !== null)).toBeGreaterThan(0.01);
    expect(share((o) => o.cancelledAt !== null)).toBeLessThan(0.06);
    expect(share((o) => o.financialStatus === 'refunded' || o.financialStatus === 'partially_refunded')).toBeGreaterThan(0.02);
    expect(share((o) => o.financialStatus === 'partially_refunded')).toBeGreaterThan(0);
    expect(share((o) => o.lines.some((l) => l.productId === null))).toBeGreaterThan(0.005);
    for (const o of store.orders) {
      if (o.cancelledAt) expect(o.cancelledAt >= o.createdAt && o.cancelledAt < store.asOf!).toBe(true);
      expect(o.updatedAt >= o.createdAt).toBe(true);
      for (const r of o.refunds ?? []) expect(r.createdAt <= o.updatedAt).toBe(true);
    }
    // Guests who come back with the same email (guest matching by email hash has work to do).
    const guestEmails = store.orders.filter((o) => o.customerId === null).map((o) => o.email);
    expect(new Set(guestEmails).size).toBeLessThan(guestEmails.length);
  });

  it('customers: unique emails, fake reserved-range contact data, new ones arriving over the year', () => {
    expect(new Set(store.customers.map((c) => c.email)).size).toBe(store.customers.length);
    for (const c of store.customers) {
      expect(c.email).toMatch(/^[a-z0-9.]+@example\.com$/);
      expect(c.phone).toMatch(/^\+\d+55501\d\d$/);
      expect(c.note.length).toBeGreaterThan(0);
      expect(c.address.address1.length).toBeGreaterThan(0);
    }
    const start = Date.parse(store.asOf!) - 365 * 86_400_000;
    const arrivals = store.customers.filter((c) => Date.parse(c.createdAt) >= start);
    expect(arrivals.length / store.customers.length).toBeGreaterThan(0.5);
    const firstHalf = arrivals.filter((c) => Date.parse(c.createdAt) < start + 182 * 86_400_000).length;
    expect(arrivals.length - firstHalf).toBeGreaterThan(firstHalf); // the business grows
  });
});

describe('generateStore: the statistical structure models rely on', () => {
  let store: SimStore;
  beforeAll(() => {
    store = generateStore({ seed: 'stats', customers: 1500 });
  });

  it('purchase frequency is heavy-tailed: many one-time buyers, a few very loyal ones', () => {
    const counts = ordersPerCustomer(store);
    const total = counts.reduce((a, b) => a + b, 0);
    const top10 = counts.slice(0, Math.ceil(counts.length / 10)).reduce((a, b) => a + b, 0);
    expect(top10 / total).toBeGreaterThan(0.38);
    expect(counts.filter((c) => c === 1).length / counts.length).toBeGreaterThan(0.3);
    expect(counts[0]!).toBeGreaterThanOrEqual(10 * counts[Math.floor(counts.length / 2)]!);
  });

  it('churned customers stop buying at their churn date', () => {
    const churned = store.customers.filter((c) => c.churnedAt && c.churnedAt < store.asOf!);
    expect(churned.length).toBeGreaterThan(50);
    const byId = new Map(churned.map((c) => [c.id, c.churnedAt!]));
    for (const o of store.orders) {
      const at = o.customerId !== null ? byId.get(o.customerId) : undefined;
      if (at) expect(o.createdAt < at).toBe(true);
    }
  });

  it('weekends are busier than weekdays (in shop-local time)', () => {
    const dow = new Array<number>(7).fill(0);
    for (const o of store.orders) dow[new Date(Date.parse(o.createdAt) + store.utcOffsetMinutes! * 60_000).getUTCDay()]!++;
    const weekend = (dow[0]! + dow[6]!) / 2;
    const weekday = (dow[1]! + dow[2]! + dow[3]! + dow[4]! + dow[5]!) / 5;
    expect(weekend / weekday).toBeGreaterThan(1.12);
  });

  it('sales grow over the year and peak before the holidays', () => {
    const month = (prefix: string) => store.orders.filter((o) => o.createdAt.startsWith(prefix)).length;
    expect(month('2026-10')).toBeGreaterThan(month('2025-11') * 1.3);
    expect(month('2025-12')).toBeGreaterThan(month('2026-01') * 1.2);
  });

  it('planted complements co-occur far above chance; baskets stay within a "world"', () => {
    const baskets = store.orders.map((o) => new Set(o.lines.flatMap((l) => (l.productId === null ? [] : [l.productId]))));
    const n = baskets.length;
    const support = new Map<number, number>();
    for (const b of baskets) for (const p of b) support.set(p, (support.get(p) ?? 0) + 1);
    // Co-occurrence counts in one pass over the baskets.
    const pairCounts = new Map<string, number>();
    const key = (a: number, b: number) => (a < b ? `${a}:${b}` : `${b}:${a}`);
    for (const b of baskets) {
      const items = [...b];
      for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
        const k = key(items[i]!, items[j]!);
        pairCounts.set(k, (pairCounts.get(k) ?? 0) + 1);
      }
    }
    const together = (a: number, b: number) => pairCounts.get(key(a, b)) ?? 0;
    const lift = (pairs: Array<[number, number]>) => {
      let observed = 0;
      let expected = 0;
      for (const [a, b] of pairs) {
        observed += together(a, b);
        expected += ((support.get(a) ?? 0) * (support.get(b) ?? 0)) / n;
      }
      return observed / expected;
    };
    const frequent = [...support.keys()].filter((p) => support.get(p)! >= 5);
    const typeOf = new Map(store.products.map((p) => [p.id, p.productType]));
    const complements = store.complements!.filter(([a, b]) => support.get(a)! >= 5 && support.get(b)! >= 5);
    expect(complements.length).toBeGreaterThan(20);
    const crossWorld: Array<[number, number]> = [];
    for (let i = 0; i < frequent.length; i++) {
      for (let j = i + 1; j < frequent.length; j++) {
        const [a, b] = [frequent[i]!, frequent[j]!];
        if (worldOf.get(typeOf.get(a)!) !== worldOf.get(typeOf.get(b)!)) crossWorld.push([a, b]);
      }
    }
    expect(lift(complements)).toBeGreaterThan(4);
    expect(lift(crossWorld)).toBeLessThan(0.6);
  });

  it('popularity is skewed: the top tenth of products sells a large share of units', () => {
    const units = new Map<number, number>();
    for (const o of store.orders) for (const l of o.lines) if (l.productId !== null) units.set(l.productId, (units.get(l.productId) ?? 0) + l.quantity);
    const sorted = [...units.values()].sort((a, b) => b - a);
    const total = sorted.reduce((a, b) => a + b, 0);
    expect(sorted.slice(0, 12).reduce((a, b) => a + b, 0) / total).toBeGreaterThan(0.28);
  });

  it('customers keep to their preferred product types', () => {
    const typeOf = new Map(store.products.map((p) => [p.id, p.productType]));
    // Share of purchased units whose type the buyer prefers, with each customer's own
    // preferences and, as a baseline, with the preferences of the next customer in the list.
    const shareInPreferred = (shift: number) => {
      const prefs = new Map(store.customers.map((c, i) => [c.id, new Set(store.customers[(i + shift) % store.customers.length]!.preferredTypes)]));
      let inPref = 0;
      let all = 0;
      for (const o of store.orders) {
        const pref = o.customerId !== null ? prefs.get(o.customerId) : undefined;
        if (!pref) continue;
        for (const l of o.lines) {
          if (l.productId === null) continue;
          all++;
          if (pref.has(typeOf.get(l.productId)!)) inPref++;
        }
      }
      return inPref / all;
    };
    expect(shareInPreferred(0)).toBeGreaterThan(0.5);
    expect(shareInPreferred(0)).toBeGreaterThan(2.5 * shareInPreferred(1));
  });
});

describe('personalDataCanary', () => {
  it('is embedded in every personal field of customers and order buyers', () => {
    const canary = 'CANARY-9f3b';
    const s = generateStore({ seed: 'canary', customers: 60, days: 90, personalDataCanary: canary });
    for (const c of s.customers) {
      for (const value of [c.firstName, c.lastName, c.email, c.phone, c.note, c.address.address1, c.address.address2, c.address.company, c.address.city, c.address.zip]) {
        expect(value).toContain(canary);
      }
    }
    for (const o of s.orders) {
      expect(o.email).toContain(canary);
      const b = o.buyer!;
      for (const value of [b.firstName, b.lastName, b.phone, b.address.address1, b.address.address2, b.address.company, b.address.city, b.address.zip]) expect(value).toContain(canary);
      if (o.note) expect(o.note).toContain(canary);
      // Cart attributes, the browser's user agent and line item properties (engraving text) too.
      expect(o.noteAttributes?.[0]?.value).toContain(canary);
      expect(o.clientDetails?.userAgent).toContain(canary);
      for (const l of o.lines) expect(l.properties?.[0]?.value).toContain(canary);
      for (const r of o.refunds ?? []) if (r.note && r.note !== 'Order cancelled') expect(r.note).toContain(canary);
    }
    expect(s.orders.some((o) => o.note)).toBe(true);
    // And it never leaks into non-personal data.
    expect(JSON.stringify(s.products)).not.toContain(canary);
    // Without a canary those fields stay as Shopify sends them for most buyers: absent.
    const plain = generateStore({ seed: 'canary', customers: 60, days: 90 });
    expect(plain.orders.some((o) => o.noteAttributes || o.clientDetails || o.lines.some((l) => l.properties) || o.buyer?.address.address2)).toBe(false);
  });
});

describe('generateOrders: live orders after the history', () => {
  const store = generateStore({ seed: 'live', days: 120 });

  it('continues ids, numbers and time after the history without touching the store', () => {
    const before = JSON.stringify(store);
    const batch = generateOrders(store, { seed: 1, from: store.asOf!, to: '2026-11-15' });
    expect(JSON.stringify(store)).toBe(before);
    expect(batch.orders.length).toBeGreaterThan(10);
    const last = store.orders[store.orders.length - 1]!;
    expect(batch.orders[0]!.orderNumber).toBe(last.orderNumber + 1);
    expect(batch.orders[0]!.id).toBeGreaterThan(last.id);
    for (const o of batch.orders) {
      expect(o.createdAt >= store.asOf! && o.createdAt < '2026-11-15T00:00:00Z').toBe(true);
      expect(o.cancelledAt).toBeNull();
    }
    // New sign-ups place their first order in the same batch.
    const known = new Set([...store.customers, ...batch.customers].map((c) => c.id));
    for (const o of batch.orders) if (o.customerId !== null) expect(known.has(o.customerId)).toBe(true);
    for (const c of batch.customers) expect(batch.orders.some((o) => o.customerId === c.id)).toBe(true);
    // New people never reuse an email the store already has.
    const existing = new Set([...store.customers.map((c) => c.email), ...store.orders.map((o) => o.email)]);
    for (const c of batch.customers) expect(existing.has(c.email)).toBe(false);
    const newGuests = batch.orders.filter((o) => o.customerId === null && !existing.has(o.email));
    expect(newGuests.length).toBeGreaterThan(0);
    expect(JSON.stringify(generateOrders(store, { seed: 1, from: store.asOf!, to: '2026-11-15' }))).toBe(JSON.stringify(batch));
  });

  it('hits a requested volume and respects stock', () => {
    const batch = generateOrders(store, { seed: 2, from: '2026-11-01', to: '2026-11-08', ordersPerDay: 150 });
    expect(batch.orders.length / 7).toBeGreaterThan(120);
    expect(batch.orders.length / 7).toBeLessThan(180);
    const stock = new Map(store.products.flatMap((p) => p.variants.map((v) => [v.id, v.inventoryQuantity] as const)));
    const sold = new Map<number, number>();
    for (const o of batch.orders) for (const l of o.lines) if (l.variantId !== null) sold.set(l.variantId, (sold.get(l.variantId) ?? 0) + l.quantity);
    for (const [variantId, units] of sold) expect(units).toBeLessThanOrEqual(stock.get(variantId)!);
    expect([...sold.keys()].some((v) => stock.get(v) === 0)).toBe(false);
  });
});
