// The pure parts of writing back to Shopify: which tags to remove and add, how metafields are
// packed into calls, which forecast products make a "Stock out predicted" trigger.
import { describe, expect, it } from 'vitest';
import { appliedTags, DEFAULT_TAG_PREFIX, normalizePrefix, planTags, recordTags, tagWithPrefix, TagPrefixError } from '../../backend/src/flow/tags.ts';
import { openDb } from '../../backend/src/store/db.ts';
import { customerMetafieldInputs, METAFIELDS_PER_CALL, packCalls } from '../../backend/src/flow/metafields.ts';
import { stockOutsFromForecast, segmentChangedPayload, TriggerPayloadError, validateTriggerPayload } from '../../backend/src/flow/triggers.ts';
import { settleInPool } from '../../backend/src/flow/pool.ts';

const m = (o: Record<string, string>) => new Map(Object.entries(o));

describe('tag plans', () => {
  it('first tagging adds the segment tag only', () => {
    expect(planTags(new Map(), m({ 'shopml:': 'shopml:loyal' }))).toEqual({ remove: [], add: ['shopml:loyal'], next: m({ 'shopml:': 'shopml:loyal' }), changes: m({ 'shopml:': 'shopml:loyal' }) });
  });

  it('a changed segment removes exactly the tag shopml applied and adds the new one', () => {
    const p = planTags(m({ 'shopml:': 'shopml:loyal', 'vip-': 'vip-loyal' }), m({ 'shopml:': 'shopml:at-risk' }));
    expect(p.remove).toEqual(['shopml:loyal']);
    expect(p.add).toEqual(['shopml:at-risk']);
    expect(p.next).toEqual(m({ 'shopml:': 'shopml:at-risk', 'vip-': 'vip-loyal' })); // other prefixes untouched
    expect(p.changes).toEqual(m({ 'shopml:': 'shopml:at-risk' })); // …and not recorded again (recordTags writes only changes)
  });

  it('no change is a no-op; case differences are the same tag (Shopify tags are case-insensitive)', () => {
    expect(planTags(m({ 'shopml:': 'shopml:loyal' }), m({ 'shopml:': 'shopml:loyal' }))).toMatchObject({ remove: [], add: [] });
    expect(planTags(m({ 'shopml:': 'Shopml:Loyal' }), m({ 'shopml:': 'shopml:loyal' }))).toMatchObject({ remove: [], add: [] });
  });

  it('two plans made from the same snapshot (the re-tag pass and a Flow action with another prefix, at once) both stay recorded', () => {
    const db = openDb(':memory:');
    recordTags(db, 'a.myshopify.com', '1', m({ 'shopml:': 'shopml:loyal' }), '2026-01-01T00:00:00Z');
    const snapshot = appliedTags(db, 'a.myshopify.com', ['1']).get('1')!;
    const retag = planTags(snapshot, m({ 'shopml:': 'shopml:at-risk' }));
    const action = planTags(snapshot, m({ 'vip-': 'vip-at-risk' }));
    recordTags(db, 'a.myshopify.com', '1', action.changes, '2026-01-01T00:00:01Z');
    recordTags(db, 'a.myshopify.com', '1', retag.changes, '2026-01-01T00:00:02Z'); // committed last, planned before the action's record
    expect(appliedTags(db, 'a.myshopify.com', ['1']).get('1')).toEqual(m({ 'shopml:': 'shopml:at-risk', 'vip-': 'vip-at-risk' }));
    recordTags(db, 'a.myshopify.com', '1', planTags(m({ 'shopml:': 'shopml:at-risk' }), new Map([['shopml:', null]])).changes, '2026-01-01T00:00:03Z');
    expect(appliedTags(db, 'a.myshopify.com', ['1']).get('1')).toEqual(m({ 'vip-': 'vip-at-risk' }));
    db.close();
  });

  it('no segment any more removes the tag', () => {
    expect(planTags(m({ 'shopml:': 'shopml:loyal' }), new Map([['shopml:', null]]))).toEqual({ remove: ['shopml:loyal'], add: [], next: new Map(), changes: new Map([['shopml:', null]]) });
  });

  it('two prefixes that yield the same tag never remove the one still wanted', () => {
    const p = planTags(m({ a: 'x-loyal', b: 'x-lost' }), m({ b: 'x-loyal' }));
    expect(p.remove).toEqual(['x-lost']);
    expect(p.add).toEqual([]);
  });

  it('prefixes: default, custom, refused', () => {
    expect(normalizePrefix(undefined)).toBe(DEFAULT_TAG_PREFIX);
    expect(normalizePrefix('  ')).toBe(DEFAULT_TAG_PREFIX);
    expect(tagWithPrefix('shopml:champions', 'vip-')).toBe('vip-champions');
    expect(tagWithPrefix('shopml:champions', DEFAULT_TAG_PREFIX)).toBe('shopml:champions');
    expect(() => normalizePrefix('a,b')).toThrow(TagPrefixError);
    expect(() => normalizePrefix('x'.repeat(41))).toThrow(TagPrefixError);
  });
});

describe('metafield calls', () => {
  const score = (id: string, segment: string | null, churnRisk: number | null, predictedValue: number | null) => ({ customerId: id, segment, segmentTag: null, churnRisk, predictedValue });

  it('one customer: up to three metafields, nulls left out, values as Shopify strings', () => {
    const { inputs } = customerMetafieldInputs(score('5', 'Loyal', 0.12345, 80));
    expect(inputs).toEqual([
      { ownerId: 'gid://shopify/Customer/5', namespace: 'shopml', key: 'segment', type: 'single_line_text_field', value: 'Loyal' },
      { ownerId: 'gid://shopify/Customer/5', namespace: 'shopml', key: 'churn_risk', type: 'number_decimal', value: '0.1235' },
      { ownerId: 'gid://shopify/Customer/5', namespace: 'shopml', key: 'predicted_value', type: 'number_decimal', value: '80.00' },
    ]);
    expect(customerMetafieldInputs(score('5', null, 0.2, null)).inputs.map((i) => i.key)).toEqual(['churn_risk']);
    expect(customerMetafieldInputs(score('5', 'Loyal', 0.2, 1)).digest).not.toBe(customerMetafieldInputs(score('5', 'Loyal', 0.21, 1)).digest);
  });

  it('packs whole customers into calls of at most 25 metafields', () => {
    const items = Array.from({ length: 20 }, (_, i) => ({ id: i, inputs: new Array(i % 4 === 0 ? 1 : 3).fill(0) }));
    const calls = packCalls(items);
    for (const c of calls) expect(c.reduce((a, x) => a + x.inputs.length, 0)).toBeLessThanOrEqual(METAFIELDS_PER_CALL);
    expect(calls.flat().map((x) => x.id)).toEqual(items.map((x) => x.id));
    // Greedy: a call is closed only when the next customer would not fit in it.
    for (let i = 0; i + 1 < calls.length; i++) {
      expect(calls[i]!.reduce((a, x) => a + x.inputs.length, 0) + calls[i + 1]![0]!.inputs.length).toBeGreaterThan(METAFIELDS_PER_CALL);
    }
    expect(() => packCalls([{ inputs: new Array(26).fill(0) }])).toThrow(/at most 25/);
  });
});

describe('stock-out triggers from a forecast', () => {
  const product = (productId: string, stockoutDate: string | null, o: Partial<{ stock: number | null; leadTimeDays: number; suggestedOrderQty: number | null; orderUpTo: number }> = {}) =>
    ({ productId, stockoutDate, stock: 5, leadTimeDays: 14, suggestedOrderQty: 20, orderUpTo: 25, ...o }) as never;

  it('products selling out within lead time + review period, with the order quantity', () => {
    const out = stockOutsFromForecast({
      dayStart: '2026-07-01', reviewDays: 7,
      products: [
        product('101', '2026-07-04'),
        product('102', '2026-07-22'), // day 21 = 14 + 7: still inside
        product('103', '2026-07-23'), // day 22: later than an order placed now matters
        product('104', null),
        product('105', '2026-07-02', { stock: null }),
        product('85123A', '2026-07-02'), // an imported stock code: not a Shopify product
        product('106', '2026-07-02', { suggestedOrderQty: null, orderUpTo: 9.2, stock: 3 }),
      ],
    });
    expect(out).toEqual([
      { productId: '101', daysUntilStockOut: 3, suggestedOrderQuantity: 20, stockoutDate: '2026-07-04' },
      { productId: '102', daysUntilStockOut: 21, suggestedOrderQuantity: 20, stockoutDate: '2026-07-22' },
      { productId: '106', daysUntilStockOut: 1, suggestedOrderQuantity: 7, stockoutDate: '2026-07-02' },
    ]);
  });

  it('payload builders refuse what is not a Shopify id, and validation refuses a wrong payload', () => {
    expect(() => segmentChangedPayload({ customerId: 'abc', segment: 'A', previousSegment: 'B' })).toThrow(TriggerPayloadError);
    expect(() => validateTriggerPayload('churn-risk-rose', { customer_id: 5, 'Churn score': '0.9' })).toThrow(/Churn score/);
    expect(() => validateTriggerPayload('no-such-trigger', {})).toThrow(/no such trigger/);
  });
});

describe('settleInPool', () => {
  it('keeps at most N in flight and stops starting new work after a failure', async () => {
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    const results = await settleInPool([1, 2, 3, 4, 5, 6, 7, 8], 3, async (i) => {
      started.push(i);
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      if (i === 2) throw new Error('boom');
      return i * 10;
    });
    expect(peak).toBe(3);
    expect(started.length).toBeLessThan(8);
    expect(results.filter((r) => !r.ok)).toHaveLength(1);
    expect(results.filter((r) => r.ok).length).toBe(started.length - 1);
  });
});
