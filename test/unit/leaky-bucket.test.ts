import { describe, expect, it } from 'vitest';
import { getOperationAST, getVariableValues, parse } from 'graphql';
import { LeakyBucket } from '../../simulator/leaky-bucket.ts';
import { queryCost } from '../../simulator/query-cost.ts';
import { adminSchema } from '../../backend/src/shopify/schema.ts';
import { ORDERS_PAGE, TAGS_ADD, BULK_POLL } from '../../backend/src/shopify/documents.ts';

function clock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('LeakyBucket', () => {
  it('starts full and charges admitted costs', () => {
    const c = clock();
    const b = new LeakyBucket({ size: 1000, restoreRate: 50, now: c.now });
    expect(b.status()).toEqual({ maximumAvailable: 1000, currentlyAvailable: 1000, restoreRate: 50 });
    expect(b.tryTake(600)).toBe(true);
    expect(b.available()).toBe(400);
  });

  it('refuses what does not fit without charging, then restores at restoreRate per second', () => {
    const c = clock();
    const b = new LeakyBucket({ size: 100, restoreRate: 10, now: c.now });
    expect(b.tryTake(100)).toBe(true);
    expect(b.tryTake(1)).toBe(false);
    expect(b.available()).toBe(0);
    c.advance(2500); // 25 points
    expect(b.available()).toBeCloseTo(25, 9);
    expect(b.msUntil(30)).toBeCloseTo(500, 6); // 5 missing points at 10/s
    expect(b.tryTake(30)).toBe(false);
    c.advance(500);
    expect(b.tryTake(30)).toBe(true);
    expect(b.available()).toBeCloseTo(0, 9);
  });

  it('never overfills and reports integers', () => {
    const c = clock();
    const b = new LeakyBucket({ size: 50, restoreRate: 7, now: c.now });
    b.tryTake(10);
    c.advance(3_600_000);
    expect(b.available()).toBe(50);
    b.tryTake(0.5);
    expect(b.status().currentlyAvailable).toBe(49);
  });

  it('refunds unused points up to the size', () => {
    const c = clock();
    const b = new LeakyBucket({ size: 100, restoreRate: 1, now: c.now });
    b.tryTake(80);
    b.refund(30);
    expect(b.available()).toBe(50);
    b.refund(1000);
    expect(b.available()).toBe(100);
  });

  it('a cost above the size can never be admitted', () => {
    const b = new LeakyBucket({ size: 100, restoreRate: 1000, now: () => 0 });
    expect(b.msUntil(101)).toBe(Infinity);
    expect(b.tryTake(101)).toBe(false);
  });

  it('changing the restore rate settles earlier refill at the old rate', () => {
    const c = clock();
    const b = new LeakyBucket({ size: 1000, restoreRate: 10, now: c.now });
    b.tryTake(1000);
    c.advance(1000); // +10 at the old rate
    b.setRestoreRate(100);
    c.advance(1000); // +100 at the new rate
    expect(b.available()).toBeCloseTo(110, 9);
  });
});

describe('queryCost', () => {
  const cost = (source: string, variables: Record<string, unknown> = {}) => {
    const doc = parse(source);
    const op = getOperationAST(doc)!;
    const v = getVariableValues(adminSchema(), op.variableDefinitions ?? [], variables);
    if (v.errors) throw v.errors[0];
    return queryCost(adminSchema(), doc, op, v.coerced);
  };

  it('scalars are free, objects cost 1', () => {
    expect(cost('{ currentAppInstallation { id } }')).toBe(1);
    expect(cost('{ order(id: "gid://shopify/Order/1") { id name totalPriceSet { shopMoney { amount } } } }')).toBe(3);
  });

  it('connections cost 2 + first × node cost, and nested connections multiply', () => {
    expect(cost('{ orders(first: 10) { nodes { id } } }')).toBe(2 + 10 * 1);
    expect(cost('{ orders(first: 10) { edges { node { id customer { id } } } pageInfo { hasNextPage } } }')).toBe(2 + 10 * 2);
    expect(cost('{ orders(first: 5) { nodes { lineItems(first: 4) { nodes { id } } } } }')).toBe(2 + 5 * (1 + 2 + 4 * 1));
  });

  it('reads sizes from variables and their defaults', () => {
    // order: 1 + totalPriceSet 2 + customer 1 + lineItems (2 + n × (1 + product 1 + variant 1 + price 2))
    const perOrder = (n: number) => 1 + 2 + 1 + 2 + n * 5;
    expect(cost(ORDERS_PAGE, { first: 3, lineItemsFirst: 10 })).toBe(2 + 3 * perOrder(10));
    expect(cost(ORDERS_PAGE, { first: 1 })).toBe(2 + perOrder(100)); // default 100
  });

  it('mutations cost 10 whatever they select; polls cost 1', () => {
    expect(cost(TAGS_ADD, { id: 'gid://shopify/Customer/1', tags: ['x'] })).toBe(10);
    expect(cost(BULK_POLL, { id: 'gid://shopify/BulkOperation/1' })).toBe(1);
  });
});
