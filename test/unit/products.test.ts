import { describe, expect, it } from 'vitest';
import type { SaleLine } from '../../backend/src/features/clean.ts';
import { calendarGrid, isoWeekday, mondayOnOrBefore, productFeatures } from '../../backend/src/features/products.ts';

const T = (iso: string): number => Date.parse(iso);
let n = 0;
function sale(productId: string, iso: string, quantity: number, price: number): SaleLine {
  return { orderId: `o${++n}`, customerId: 'c1', productId, title: `title ${productId}`, time: T(iso), quantity, price, country: null };
}

// 2024-01-01 is a Monday.
const sales: SaleLine[] = [
  sale('p2', '2024-01-02T09:00:00Z', 10, 1),
  sale('p1', '2024-01-03T10:00:00Z', 2, 5), // Wednesday, week of Jan 1
  sale('p1', '2024-01-07T23:30:00Z', 1, 5), // Sunday 23:30 UTC: still the week of Jan 1
  sale('p1', '2024-01-08T00:00:00Z', 3, 4), // Monday 00:00: the next week
  // nothing in the week of Jan 15
  sale('p1', '2024-01-27T12:00:00Z', 1, 6), // Saturday, week of Jan 22
  sale('p1', '2024-01-29T00:00:00Z', 50, 6), // at the watermark: ignored
];
const asOf = T('2024-01-29T00:00:00Z');

describe('calendar helpers', () => {
  it('Monday-based UTC weeks', () => {
    expect(mondayOnOrBefore(T('2024-01-07T23:59:59Z'))).toBe(T('2024-01-01T00:00:00Z'));
    expect(mondayOnOrBefore(T('2024-01-08T00:00:00Z'))).toBe(T('2024-01-08T00:00:00Z'));
    expect(mondayOnOrBefore(T('2011-07-01T00:00:00Z'))).toBe(T('2011-06-27T00:00:00Z'));
    expect(mondayOnOrBefore(T('1970-01-01T00:00:00Z'))).toBe(T('1969-12-29T00:00:00Z'));
    expect(isoWeekday(T('2024-01-01T12:00:00Z'))).toBe(0);
    expect(isoWeekday(T('2024-01-06T12:00:00Z'))).toBe(5); // Saturday
    expect(isoWeekday(T('2024-01-07T12:00:00Z'))).toBe(6);
  });

  it('grids: a mid-week watermark leaves a partial last week', () => {
    const g = calendarGrid(T('2024-01-03T10:00:00Z'), T('2024-01-10T12:00:00Z'));
    expect(g.dayStart).toBe(T('2024-01-03T00:00:00Z'));
    expect(g.days).toBe(8); // Jan 3 … Jan 10
    expect(g.completeDays).toBe(7);
    expect(g.weekStart).toBe(T('2024-01-01T00:00:00Z'));
    expect(g.weeks).toBe(2);
    expect(g.completeWeeks).toBe(1);
  });
});

describe('productFeatures', () => {
  const stock = new Map<string, number | null>([['p1', 7], ['p2', null]]);
  const f = productFeatures(sales, { asOf, stock });
  const p1 = f.products.find((p) => p.productId === 'p1')!;
  const p2 = f.products.find((p) => p.productId === 'p2')!;

  it('shares one daily and one Monday-based weekly grid, products sorted', () => {
    expect(f.products.map((p) => p.productId)).toEqual(['p1', 'p2']);
    expect(f.weekStart).toBe(T('2024-01-01T00:00:00Z'));
    expect(f.weeks).toBe(4);
    expect(f.completeWeeks).toBe(4);
    expect(f.dayStart).toBe(T('2024-01-02T00:00:00Z'));
    expect(f.days).toBe(27); // Jan 2 … Jan 28
  });

  it('weekly units and revenue with explicit zeros (the empty week is a 0)', () => {
    expect(Array.from(p1.weeklyUnits)).toEqual([3, 3, 0, 1]);
    expect(Array.from(p1.weeklyRevenue)).toEqual([15, 12, 0, 6]);
    expect(Array.from(p1.weeklyLines)).toEqual([2, 1, 0, 1]);
    expect(Array.from(p2.weeklyUnits)).toEqual([10, 0, 0, 0]);
    expect(p1.sellingWeeks).toBe(3);
    expect(p1.firstWeek).toBe(0);
  });

  it('daily series: every calendar day present, zeros included', () => {
    expect(p1.dailyUnits.length).toBe(27);
    const d = (iso: string): number => p1.dailyUnits[(T(iso) - f.dayStart) / 86_400_000]!;
    expect(d('2024-01-03T00:00:00Z')).toBe(2);
    expect(d('2024-01-07T00:00:00Z')).toBe(1);
    expect(d('2024-01-08T00:00:00Z')).toBe(3);
    expect(d('2024-01-13T00:00:00Z')).toBe(0);
    expect(d('2024-01-27T00:00:00Z')).toBe(1);
    expect(p1.sellingDays).toBe(4);
    expect(p1.dailyUnits.reduce((a, b) => a + b, 0)).toBe(7); // the sale at the watermark is ignored
  });

  it('price, velocity, stock', () => {
    expect(p1.units).toBe(7);
    expect(p1.revenue).toBe(33);
    expect(p1.orders).toBe(4);
    expect(p1.price.last).toBe(6);
    expect(p1.price.mean).toBeCloseTo(33 / 7, 12);
    expect(p1.price.min).toBe(4);
    expect(p1.price.max).toBe(6);
    expect(p1.velocity.perDay7).toBeCloseTo(1 / 7, 12);
    expect(p1.velocity.perDay28).toBeCloseTo(7 / 28, 12);
    expect(p1.velocity.perWeek13).toBeCloseTo(7 / 4, 12);
    expect(p1.stock).toBe(7);
    expect(p1.daysOfCover).toBeCloseTo(28, 12);
    expect(p2.stock).toBeNull();
    expect(p2.daysOfCover).toBeNull();
    expect(productFeatures(sales, { asOf }).products[0]!.stock).toBeNull(); // no map: unknown
  });

  it('a store-wide gap (Saturdays, a shutdown) is zeros in every series', () => {
    const gap = [sale('a', '2010-12-22T10:00:00Z', 1, 1), sale('a', '2011-01-04T10:00:00Z', 2, 1)];
    const g = productFeatures(gap, { asOf: T('2011-01-10T00:00:00Z') });
    expect(g.weekStart).toBe(T('2010-12-20T00:00:00Z'));
    expect(Array.from(g.products[0]!.weeklyUnits)).toEqual([1, 0, 2]);
    expect(g.products[0]!.dailyUnits.length).toBe(19);
  });
});
