// The simulated shoppers' pure parts: the funnel (the challenger's true lift and nothing else
// depends on the arm), position-biased clicks, the order they place (the rec_id property on the
// recommended line only, a valid REST body), and order ids that never meet the webhook stream's.
// The whole stream against the real backend runs in the demo test (test/integration/cli.test.ts).
import { describe, expect, it } from 'vitest';
import { generateStore } from '../../simulator/store.ts';
import { createRng } from '../../simulator/random.ts';
import { createIdAllocator } from '../../simulator/ids.ts';
import { createPeopleFactory } from '../../simulator/people.ts';
import { webhookPlan } from '../../simulator/webhook-events.ts';
import { createShopperStream, DEFAULT_FUNNEL, funnel, orderWithProperty, pickPosition, REC_PROPERTY, shopperIds, shopperOrder, type Arm, type VisitPlan } from '../../simulator/shoppers.ts';

describe('funnel', () => {
  const draws = (n: number, seed: string): VisitPlan['u'][] => {
    const rng = createRng(seed);
    return Array.from({ length: n }, () => [rng.next(), rng.next(), rng.next(), rng.next()] as VisitPlan['u']);
  };

  it('only the challenger differs: its click rate is the base rate × (1 + lift), measured over 200,000 visits', () => {
    const u = draws(200_000, 'funnel');
    const rates = { ...DEFAULT_FUNNEL, challengerLift: 0.25 };
    const clickRate = (arm: Arm) => u.filter((x) => funnel(arm, x, rates).click).length / u.length;
    const buyRate = (arm: Arm) => u.filter((x) => funnel(arm, x, rates).buy).length / u.length;
    expect(clickRate('champion')).toBeCloseTo(0.3, 2);
    expect(clickRate('holdout')).toBe(clickRate('champion'));
    expect(clickRate('fallback')).toBe(clickRate('champion'));
    expect(clickRate('challenger') / clickRate('champion')).toBeCloseTo(1.25, 1);
    // The same draws decide: every champion buyer would also have bought as a challenger.
    for (const x of u.slice(0, 5000)) if (funnel('champion', x, rates).buy) expect(funnel('challenger', x, rates).buy).toBe(true);
    expect(buyRate('champion')).toBeCloseTo(0.3 * 0.6 * 0.55, 2);
    expect(buyRate('challenger') / buyRate('champion')).toBeCloseTo(1.25, 1);
  });

  it('a lift that would push the click rate past 1 is capped', () => {
    expect(funnel('challenger', [0.999, 0, 0, 0], { clickRate: 0.6, addToCartRate: 1, checkoutRate: 1, challengerLift: 2 })).toEqual({ click: true, cart: true, buy: true });
  });

  it('rejects rates outside 0..1 (and a lift outside 0..10) with the option named', () => {
    const store = generateStore({ seed: 1, products: 10, customers: 5, days: 30 });
    const base = { backendUrl: 'http://127.0.0.1:1', webhookUrl: 'http://127.0.0.1:1/webhooks', secret: 's', store, seed: 1 };
    expect(() => createShopperStream({ ...base, clickRate: 1.5 })).toThrow(/clickRate must be a number from 0 to 1/);
    expect(() => createShopperStream({ ...base, consentRate: -0.1 })).toThrow(/consentRate/);
    expect(() => createShopperStream({ ...base, challengerLift: 11 })).toThrow(/challengerLift must be a number from 0 to 10/);
  });
});

describe('pickPosition', () => {
  it('stays in range and favours the top of the list (1/(rank+1))', () => {
    const rng = createRng('positions');
    const counts = new Array(8).fill(0) as number[];
    for (let i = 0; i < 100_000; i++) counts[pickPosition(8, rng.next())]!++;
    for (let i = 1; i < 8; i++) expect(counts[i]!).toBeLessThan(counts[i - 1]!);
    const h = [1, 2, 3, 4, 5, 6, 7, 8].reduce((a, k) => a + 1 / k, 0);
    expect(counts[0]! / 100_000).toBeCloseTo(1 / h, 2);
    expect(pickPosition(0, 0.5)).toBe(-1);
    expect(pickPosition(3, 0.999999)).toBe(2);
  });
});

describe('the order a shopper places', () => {
  const store = generateStore({ seed: 5, products: 30, customers: 40, days: 60 });
  const product = store.products.find((p) => p.status === 'ACTIVE' && p.variants.some((v) => v.inventoryQuantity > 0))!;
  const variant = product.variants.find((v) => v.inventoryQuantity > 0)!;
  const other = store.products.find((p) => p !== product && p.status === 'ACTIVE')!;

  it('carries the rec_id property on the recommended line only, as the block adds it', () => {
    const rng = createRng('order');
    const order = shopperOrder({
      store, ids: createIdAllocator(rng.fork('ids'), store), people: createPeopleFactory(undefined), rng, customer: store.customers[0]!, atMs: Date.parse('2026-11-26T10:00:00Z'),
      lines: [{ product, variant, quantity: 2 }, { product: other, variant: other.variants[0]!, quantity: 1 }],
    });
    const body = orderWithProperty(order, store, order.lines[0]!.id, 'r1.test') as { line_items: { id: number; product_id: number; quantity: number; properties: { name: string; value: string }[] }[]; customer: { id: number } | null; created_at: string };
    expect(body.line_items).toHaveLength(2);
    expect(body.line_items[0]).toMatchObject({ product_id: product.id, quantity: 2, properties: [{ name: REC_PROPERTY, value: 'r1.test' }] });
    expect(body.line_items[1]!.properties).toEqual([]);
    expect(body.customer?.id).toBe(store.customers[0]!.id);
    expect(Date.parse(body.created_at)).toBe(Date.parse('2026-11-26T10:00:00Z'));
    // Without consent (no rec_id) no line carries it.
    const plain = orderWithProperty(order, store, null, null) as { line_items: { properties: unknown[] }[] };
    expect(plain.line_items.every((l) => l.properties.length === 0)).toBe(true);
  });

  it('a guest checks out with an email and no customer', () => {
    const rng = createRng('guest');
    const order = shopperOrder({ store, ids: createIdAllocator(rng, store), people: createPeopleFactory(undefined), rng, customer: null, atMs: Date.now(), lines: [{ product, variant, quantity: 1 }] });
    expect(order.customerId).toBeNull();
    expect(order.email).toMatch(/@/);
  });

  it("the shoppers' order and line ids never meet the webhook stream's on the same store", () => {
    const s = generateStore({ seed: 9, products: 20, customers: 30, days: 60 });
    // Taken when the shopper stream is created, as in the demo (the stream has not run yet).
    const ids = shopperIds(createRng(9).fork('ids'), s);
    const mine = { orders: new Set<number>(), lines: new Set<number>(), numbers: new Set<number>() };
    for (let i = 0; i < 1000; i++) {
      mine.orders.add(ids.next('order'));
      mine.lines.add(ids.next('lineItem'));
      mine.numbers.add(ids.nextOrderNumber());
    }
    const plan = webhookPlan(s, { seed: 9 });
    const theirs = { orders: new Set<number>(), lines: new Set<number>(), numbers: new Set<number>() };
    for (let i = 0; i < 3000; i++) {
      const e = plan.next().value!;
      if (e.topic !== 'orders/create') continue;
      const p = e.payload as { id: number; order_number: number; line_items: { id: number }[] };
      theirs.orders.add(p.id);
      theirs.numbers.add(p.order_number);
      for (const l of p.line_items) theirs.lines.add(l.id);
    }
    expect(theirs.orders.size).toBeGreaterThan(1000);
    for (const k of ['orders', 'lines', 'numbers'] as const) {
      expect([...mine[k]].filter((x) => theirs[k].has(x)), k).toEqual([]);
      expect(Math.min(...mine[k]), k).toBeGreaterThan(Math.max(...theirs[k]));
    }
    for (const x of mine.orders) expect(Number.isSafeInteger(x)).toBe(true);
  });
});
