import { describe, expect, it } from 'vitest';
import { buildBaskets, ordersInWindow, productsByCustomer } from '../../backend/src/features/baskets.ts';
import { cleanOrders, ORDER_LEVEL_PRODUCT, type SaleLine } from '../../backend/src/features/clean.ts';
import type { NormalizedOrder } from '../../backend/src/ingest/types.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const DAY = 86_400_000;
const line = (orderId: string, customerId: string | null, productId: string, day: number, quantity = 1): SaleLine => ({
  orderId, customerId, productId, title: `T-${productId}`, time: T0 + day * DAY, quantity, price: 2, country: null,
});

describe('baskets', () => {
  const sales = [
    line('o1', 'alice', 'A', 0, 2), line('o1', 'alice', 'B', 0), line('o1', 'alice', 'A', 0, 1), // A scanned twice
    line('o2', 'bob', 'B', 1), line('o2', 'bob', 'C', 1, 5),
    line('o3', null, 'A', 2), line('o3', null, 'C', 2), // guest
    line('o4', 'alice', 'A', 5, 3), line('o4', 'alice', 'C', 5),
  ];
  const b = buildBaskets(sales);

  it('indexes products and customers by sorted id', () => {
    expect(b.products).toEqual(['A', 'B', 'C']);
    expect(b.customers).toEqual(['alice', 'bob']);
  });

  it('one basket per order with distinct products, guests kept', () => {
    expect(b.orders.map((o) => [o.id, o.customer, Array.from(o.items)])).toEqual([
      ['o1', 0, [0, 1]], ['o2', 1, [1, 2]], ['o3', -1, [0, 2]], ['o4', 0, [0, 2]],
    ]);
  });

  it('customer histories: orders per product, units, last time', () => {
    const alice = b.histories[0]!;
    expect(Array.from(alice.items)).toEqual([0, 1, 2]);
    expect(Array.from(alice.counts)).toEqual([2, 1, 1]); // A in o1 and o4
    expect(Array.from(alice.units)).toEqual([6, 1, 1]); // 2 + 1 + 3
    expect(Array.from(alice.last)).toEqual([T0 + 5 * DAY, T0, T0 + 5 * DAY]);
    expect(alice.orders).toBe(2);
    expect(b.histories[1]!.orders).toBe(1);
  });

  it('popularity: orders (guests included) and distinct customers', () => {
    expect(Array.from(b.popularity.orders)).toEqual([3, 2, 3]);
    expect(Array.from(b.popularity.customers)).toEqual([1, 2, 2]);
    expect(Array.from(ordersInWindow(b, T0 + DAY, T0 + 3 * DAY))).toEqual([1, 1, 2]);
  });

  it('cuts at `until`', () => {
    const early = buildBaskets(sales, { until: T0 + 2 * DAY });
    expect(early.orders.map((o) => o.id)).toEqual(['o1', 'o2']);
  });

  it('products by customer (for a test period)', () => {
    expect(productsByCustomer(sales)).toEqual(new Map([['alice', new Set(['A', 'B', 'C'])], ['bob', new Set(['B', 'C'])]]));
  });

  it('non-products never reach the baskets: cleaning drops them', () => {
    const order: NormalizedOrder = {
      id: '1', name: '#1', kind: 'order', customerId: 'c1', emailHash: null, createdAt: '2026-01-01T10:00:00Z', updatedAt: '2026-01-01T10:00:00Z',
      cancelledAt: null, currency: 'GBP', totalPrice: null, financialStatus: null, sourceName: null, country: null, test: false,
      lines: [
        { id: 'l1', productId: 'MUG', variantId: null, sku: null, title: 'Mug', quantity: 2, price: 3, lineKind: 'product' },
        { id: 'l2', productId: 'POST', variantId: null, sku: null, title: 'Postage', quantity: 1, price: 18, lineKind: 'non_product' },
      ],
    };
    // An order naming no product (a custom item) is kept by cleaning as an order-level line for
    // the customer models: it must not become a product either.
    const custom: NormalizedOrder = { ...order, id: '2', lines: [{ ...order.lines[0]!, id: 'l3', productId: null, title: 'Engraving' }] };
    const clean = cleanOrders([order, custom]);
    expect(clean.sales.map((s) => s.productId)).toContain(ORDER_LEVEL_PRODUCT);
    const bb = buildBaskets(clean);
    expect(bb.products).toEqual(['MUG']);
    expect(bb.orders.map((o) => o.id)).toEqual(['1']);
  });
});
