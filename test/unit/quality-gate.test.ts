import { describe, expect, it } from 'vitest';
import { cleanOrders, isOrderLevelOnly, ORDER_LEVEL_PRODUCT, productSales, type CleanData, type SaleLine } from '../../backend/src/features/clean.ts';
import { snapshotOf } from '../../backend/src/features/snapshot.ts';
import { formatQualityReport, psi, runQualityGate } from '../../backend/src/quality/gate.ts';
import type { NormalizedOrder } from '../../backend/src/ingest/types.ts';

const DAY = 86_400_000;
const start = Date.parse('2026-01-01T00:00:00Z');

function data(days = 60, perDay = 5): CleanData {
  const sales: SaleLine[] = [];
  for (let d = 0; d < days; d++) for (let k = 0; k < perDay; k++) {
    const orderId = `${d}-${k}`;
    for (let j = 0; j < 1 + ((d + k) % 3); j++) {
      sales.push({ orderId, customerId: k % 4 === 0 ? null : `c${(d * 7 + k) % 40}`, productId: `p${(d + j * 3 + k) % 25}`, title: null, time: start + d * DAY + k * 3600_000, quantity: 1 + (j % 2), price: 5 + ((d + j) % 7), country: null });
    }
  }
  return { sales, returns: [], stats: cleanOrders([]).stats };
}
const watermark = new Date(start + 60 * DAY).toISOString();

describe('quality gate', () => {
  it('passes clean data and compares with the previous snapshot', () => {
    const d = data();
    const first = runQualityGate(d, watermark, null);
    expect(first.ok).toBe(true);
    const second = runQualityGate(d, watermark, first.profile);
    expect(second.ok).toBe(true);
    expect(second.checks.map((c) => c.name)).toContain('distribution_shift:line_value');
  });

  it('blocks a corrupted snapshot and says why', () => {
    const good = runQualityGate(data(), watermark, null);
    const corrupted = data();
    corrupted.sales[10] = { ...corrupted.sales[10]!, price: Number.NaN };
    corrupted.sales[11] = { ...corrupted.sales[11]!, quantity: 1e9 };
    const r = runQualityGate(corrupted, watermark, good.profile);
    expect(r.ok).toBe(false);
    const bad = r.checks.find((c) => c.name === 'schema_and_ranges')!;
    expect(bad.ok).toBe(false);
    expect(bad.detail).toMatch(/^2 lines/);
    expect(formatQualityReport(r)).toMatch(/FAILED — training blocked[\s\S]*FAIL schema_and_ranges/);
  });

  it('blocks lost volume, stale data and a shifted distribution', () => {
    const before = runQualityGate(data(60), watermark, null).profile;
    const half = data(30);
    expect(runQualityGate(half, watermark, before).checks.find((c) => c.name === 'volume_change')!.ok).toBe(false);
    // The data stops 30 days before the watermark: fresh enough. 90 days later it is not.
    expect(runQualityGate(half, watermark, before).checks.find((c) => c.name === 'freshness')!.ok).toBe(true);
    const late = new Date(start + 120 * DAY).toISOString();
    const stale = runQualityGate(half, late, null).checks.find((c) => c.name === 'freshness')!;
    expect(stale.ok).toBe(false);
    expect(stale.value).toBeCloseTo(120 - 29 - 4 / 24, 6); // newest sale: day 29, 04:00
    const pricey = data();
    for (const s of pricey.sales) s.price *= 40;
    const shifted = runQualityGate(pricey, watermark, before);
    expect(shifted.checks.find((c) => c.name === 'distribution_shift:unit_price')!.ok).toBe(false);
  });

  it('PSI: zero for identical shares, known value for a simple shift', () => {
    expect(psi([0.5, 0.5], [0.5, 0.5])).toBe(0);
    // (0.7-0.5)ln(0.7/0.5) + (0.3-0.5)ln(0.3/0.5) = 0.2·0.33647 + 0.2·0.51083 = 0.169460
    expect(psi([0.5, 0.5], [0.7, 0.3])).toBeCloseTo(0.16946, 5);
  });
});

describe('dataset snapshot', () => {
  it('same data and watermark → same id; any change → another id', () => {
    const a = snapshotOf(data(), watermark);
    expect(snapshotOf(data(), watermark).id).toBe(a.id);
    expect(snapshotOf(data(), new Date(start + 61 * DAY).toISOString()).id).not.toBe(a.id);
    const d = data();
    d.sales[0] = { ...d.sales[0]!, quantity: d.sales[0]!.quantity + 1 };
    expect(snapshotOf(d, watermark).id).not.toBe(a.id);
    expect(a.id).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('cleaning step', () => {
  const order = (o: Partial<NormalizedOrder> & Pick<NormalizedOrder, 'id' | 'lines'>): NormalizedOrder => ({
    name: null, kind: 'order', customerId: 'c1', emailHash: null, createdAt: '2026-01-01T10:00:00.000Z', updatedAt: '2026-01-01T10:00:00.000Z',
    cancelledAt: null, currency: 'GBP', totalPrice: null, financialStatus: null, sourceName: null, country: null, test: false, ...o,
  });
  const line = (id: string, productId: string | null, quantity: number, price: number, lineKind: 'product' | 'non_product' | 'writeoff' = 'product') =>
    ({ id, productId, variantId: null, sku: productId, title: null, quantity, price, lineKind });

  it('applies every documented rule and counts what it dropped', () => {
    const r = cleanOrders([
      order({ id: '1', lines: [line('a', 'P1', 2, 3), line('b', 'POST', 1, 18, 'non_product'), line('c', 'P2', 1, 0)] }),
      order({ id: '2', lines: [line('a', 'P3', 80995, 2)] }),
      order({ id: 'C2', kind: 'cancellation', createdAt: '2026-01-01T10:05:00.000Z', lines: [line('a', 'P3', -80995, 2)] }), // entered and reversed
      order({ id: 'C3', kind: 'cancellation', createdAt: '2026-01-09T10:05:00.000Z', lines: [line('a', 'P1', -1, 3)] }), // a return
      order({ id: '4', test: true, lines: [line('a', 'P1', 1, 3)] }),
      order({ id: '5', cancelledAt: '2026-01-02T00:00:00.000Z', lines: [line('a', 'P1', 1, 3)] }),
      order({ id: 'A6', kind: 'adjustment', lines: [line('a', 'B', 1, -11062, 'non_product')] }),
      order({ id: '7', customerId: null, lines: [line('a', 'P9', -10, 0, 'writeoff')] }),
    ]);
    expect(r.sales.map((s) => [s.orderId, s.productId, s.quantity])).toEqual([['1', 'P1', 2]]);
    expect(r.returns.map((x) => [x.orderId, x.productId, x.quantity])).toEqual([['C3', 'P1', 1]]);
    expect(r.stats.dropped).toMatchObject({ test_orders: 1, cancelled_orders: 1, adjustment_orders: 1, non_product_lines: 1, writeoff_lines: 1, reversed_pairs: 1, nonpositive_price: 1 });
  });

  it('keeps order-level data (no product on any line) as one purchase line for the customer models only', () => {
    const r = cleanOrders([
      order({ id: '10', lines: [line('a', null, 1, 42, 'non_product')] }),
      order({ id: '11', lines: [line('a', 'P1', 1, 5), line('b', null, 1, 3, 'non_product')] }),
    ]);
    expect(r.sales.map((x) => [x.orderId, x.productId, x.price])).toEqual([['10', ORDER_LEVEL_PRODUCT, 42], ['11', 'P1', 5]]);
    expect(productSales(r).sales.map((x) => x.orderId)).toEqual(['11']);
    expect(isOrderLevelOnly(r)).toBe(false);
    expect(isOrderLevelOnly(cleanOrders([order({ id: '12', lines: [line('a', null, 2, 10, 'non_product')] })]))).toBe(true);
  });
});
