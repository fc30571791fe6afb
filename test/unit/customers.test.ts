import { describe, expect, it } from 'vitest';
import type { CleanData, ReturnLine, SaleLine } from '../../backend/src/features/clean.ts';
import { customerActivity, customerFeatures, customerHistories, DAY_MS, FEATURE_NAMES } from '../../backend/src/features/customers.ts';

const T0 = Date.UTC(2024, 0, 1);
const day = (d: number, hours = 0) => T0 + d * DAY_MS + hours * 3600_000;
const sale = (orderId: string, customerId: string | null, productId: string, time: number, quantity: number, price: number): SaleLine =>
  ({ orderId, customerId, productId, title: null, time, quantity, price, country: null });
const ret = (orderId: string, customerId: string | null, productId: string, time: number, quantity: number, price: number): ReturnLine =>
  ({ orderId, customerId, productId, time, quantity, price });

// Customer A, as of day 60: orders on days 0 (30.00), 10 (5.00), 30 (40.00); day 100 is after asOf.
const data: Pick<CleanData, 'sales' | 'returns'> = {
  sales: [
    sale('o1', 'A', 'p1', day(0), 2, 5), sale('o1', 'A', 'p2', day(0), 1, 20),
    sale('g1', null, 'p1', day(1), 9, 5), // a guest: never a customer row
    sale('o2', 'A', 'p1', day(10), 1, 5),
    sale('o3', 'A', 'p3', day(30), 3, 10), sale('o3', 'A', 'p1', day(30) + 60_000, 2, 5), // second timestamp a minute later
    sale('c1', 'C', 'p2', day(50, 1), 1, 20), sale('c2', 'C', 'p2', day(50, 5), 1, 20), // two orders, one day
    sale('b1', 'B', 'p1', day(80), 1, 5), // B's first order is after asOf
    sale('o4', 'A', 'p3', day(100), 1, 10),
  ],
  returns: [ret('C1', 'A', 'p2', day(12), 1, 20), ret('C2', 'A', 'p1', day(70), 1, 5), ret('Cg', null, 'p1', day(2), 1, 5)],
};

describe('customerFeatures', () => {
  const f = customerFeatures(data, day(60));
  const row = (id: string) => Object.fromEntries(FEATURE_NAMES.map((k) => [k, f[k][f.ids.indexOf(id)]!]));

  it('has one row per customer with an order before asOf; guests and later customers are left out', () => {
    expect(f.ids).toEqual(['A', 'C']);
    expect(f.asOf).toBe(day(60));
  });

  it('computes RFM and the rest by hand for customer A', () => {
    const a = row('A');
    expect(a.recencyDays).toBeCloseTo(30, 9); // the order time is the invoice's first timestamp
    expect(a.frequency).toBe(3);
    expect(a.monetary).toBeCloseTo(75, 9);
    expect(a.avgOrderValue).toBeCloseTo(25, 9);
    expect(a.repeatRate).toBeCloseTo(1 / 3, 9); // p1 bought in 3 orders; p2, p3 once
    expect(a.tenureDays).toBeCloseTo(60, 9);
    expect(a.meanGapDays).toBeCloseTo(15, 9); // gaps 10 and 20
    expect(a.sdGapDays).toBeCloseTo(5, 9);
    expect(a.distinctProducts).toBe(3);
    expect(a.returnRate).toBeCloseTo(20 / 75, 9); // the day-70 return is after asOf
    expect(a.returnOrderRate).toBeCloseTo(1 / 3, 9);
    expect(a.purchaseDays).toBe(3);
    expect(a.orders30d).toBe(1); // day 30 is exactly 30 days back: included
    expect(a.orders90d).toBe(3);
    expect(a.spend90d).toBeCloseTo(75, 9);
  });

  it('counts two orders on one day as two orders but one purchase day', () => {
    const c = row('C');
    expect(c.frequency).toBe(2);
    expect(c.purchaseDays).toBe(1);
    expect(c.meanGapDays).toBeCloseTo(4 / 24, 9);
    expect(c.repeatRate).toBe(1);
  });

  it('leaves gap statistics undefined (NaN) for a one-order customer', () => {
    const g = customerFeatures(data, day(5));
    expect(g.ids).toEqual(['A']);
    expect(g.frequency[0]).toBe(1);
    expect(Number.isNaN(g.meanGapDays[0]!)).toBe(true);
    expect(g.repeatRate[0]).toBe(0);
  });

  it('is a pure function of the data and asOf (no wall clock), from sales or from prebuilt histories', () => {
    const h = customerHistories(data);
    expect(customerFeatures(h, day(60))).toEqual(customerFeatures(data, day(60)));
    expect(customerFeatures(data, day(60))).toEqual(f);
  });

  it('customerActivity counts orders and spend in [from, to)', () => {
    const act = customerActivity(data, ['A', 'B', 'C', 'nobody'], day(60), day(120));
    expect(Array.from(act.orders)).toEqual([1, 1, 0, 0]);
    expect(Array.from(act.spend)).toEqual([10, 5, 0, 0]);
    const edge = customerActivity(data, ['A'], day(30), day(100));
    expect(edge.orders[0]).toBe(1); // day 30 included (its first timestamp), day 100 excluded
  });
});
