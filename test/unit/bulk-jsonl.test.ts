import { describe, expect, it } from 'vitest';
import { BulkJsonlError, BulkOrderAssembler, readJsonlLines } from '../../backend/src/shopify/bulk-jsonl.ts';

const order = (id: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: `gid://shopify/Order/${id}`,
    name: `#${id}`,
    createdAt: '2026-03-01T10:00:00+01:00',
    updatedAt: '2026-03-02T10:00:00Z',
    cancelledAt: null,
    displayFinancialStatus: 'PARTIALLY_REFUNDED',
    currencyCode: 'EUR',
    test: false,
    totalPriceSet: { shopMoney: { amount: '12.50', currencyCode: 'EUR' } },
    customer: { id: 'gid://shopify/Customer/77' },
    ...extra,
  });
const line = (id: number, parent: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: `gid://shopify/LineItem/${id}`,
    quantity: 2,
    sku: 'S',
    title: 'T',
    product: { id: 'gid://shopify/Product/9' },
    variant: { id: 'gid://shopify/ProductVariant/10' },
    originalUnitPriceSet: { shopMoney: { amount: '6.25' } },
    __parentId: `gid://shopify/Order/${parent}`,
    ...extra,
  });

async function* chunks(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function collect(text: string, size = 7) {
  const out: { line: string; lineNumber: number }[] = [];
  for await (const l of readJsonlLines(chunks(text, size))) out.push(l);
  return out;
}

describe('readJsonlLines', () => {
  it('splits lines across arbitrary chunk boundaries, including multi-byte characters', async () => {
    const text = '{"a":"é€😀"}\n\n{"b":2}\r\n{"c":3}';
    for (const size of [1, 2, 3, 5, 64]) {
      const lines = await collect(text, size);
      expect(lines).toEqual([
        { line: '{"a":"é€😀"}', lineNumber: 1 },
        { line: '{"b":2}', lineNumber: 3 },
        { line: '{"c":3}', lineNumber: 4 },
      ]);
    }
  });
});

describe('BulkOrderAssembler', () => {
  it('reassembles an order with its line items and normalizes it', () => {
    const a = new BulkOrderAssembler();
    expect(a.push(order(1), 1)).toEqual([]);
    a.push(line(11, 1), 2);
    a.push(line(12, 1, { product: null, variant: null, sku: '', title: 'Custom' }), 3);
    a.push(line(13, 1, { isGiftCard: true }), 4);
    const [o] = a.finish();
    expect(o!.gid).toBe('gid://shopify/Order/1');
    expect(o!.payloadSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(o!.order).toEqual({
      id: '1',
      name: '#1',
      kind: 'order',
      customerId: '77',
      emailHash: null,
      createdAt: '2026-03-01T09:00:00.000Z',
      updatedAt: '2026-03-02T10:00:00.000Z',
      cancelledAt: null,
      currency: 'EUR',
      totalPrice: 12.5,
      financialStatus: 'partially_refunded',
      sourceName: null,
      country: null,
      test: false,
      lines: [
        { id: '11', productId: '9', variantId: '10', sku: 'S', title: 'T', quantity: 2, price: 6.25, lineKind: 'product' },
        { id: '12', productId: null, variantId: null, sku: null, title: 'Custom', quantity: 2, price: 6.25, lineKind: 'non_product' },
        { id: '13', productId: '9', variantId: '10', sku: 'S', title: 'T', quantity: 2, price: 6.25, lineKind: 'non_product' },
      ],
    });
    expect([a.objects, a.lineItems]).toEqual([4, 3]);
  });

  it('guest orders have a null customer; orders without lines are kept', () => {
    const a = new BulkOrderAssembler();
    a.push(order(2, { customer: null, cancelledAt: '2026-03-03T00:00:00Z' }), 1);
    const [o] = a.finish();
    expect(o!.order.customerId).toBeNull();
    expect(o!.order.cancelledAt).toBe('2026-03-03T00:00:00.000Z');
    expect(o!.order.lines).toEqual([]);
  });

  it('accepts children that do not directly follow their parent, within the window', () => {
    const a = new BulkOrderAssembler(2);
    const emitted = [
      ...a.push(order(1), 1),
      ...a.push(order(2), 2),
      ...a.push(line(11, 1), 3),
      ...a.push(line(21, 2), 4),
      ...a.push(order(3), 5), // window of 2 full: order 1 is emitted now
      ...a.push(line(22, 2), 6),
      ...a.push(line(31, 3), 7),
      ...a.finish(),
    ];
    expect(emitted.map((o) => [o.order.id, o.order.lines.map((l) => l.id)])).toEqual([
      ['1', ['11']],
      ['2', ['21', '22']],
      ['3', ['31']],
    ]);
  });

  it('a child arriving after its order was emitted is an error, not a lost line', () => {
    const a = new BulkOrderAssembler(1);
    a.push(order(1), 1);
    a.push(order(2), 2); // emits order 1
    expect(() => a.push(line(11, 1), 3)).toThrow(/line 3: child of gid:\/\/shopify\/Order\/1.*raise maxPending/);
  });

  it('malformed JSON names its line number', () => {
    const a = new BulkOrderAssembler();
    a.push(order(1), 1);
    let err: unknown;
    try {
      a.push('{"id": "gid://shopify/LineItem/1", ', 2);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BulkJsonlError);
    expect((err as BulkJsonlError).lineNumber).toBe(2);
  });

  it('bad money or timestamps fail with the order’s line number', () => {
    const a = new BulkOrderAssembler();
    a.push(order(1, { totalPriceSet: { shopMoney: { amount: 'abc' } } }), 5);
    expect(() => a.finish()).toThrow(/line 5: totalPriceSet is not a number/);
    const b = new BulkOrderAssembler();
    b.push(order(1, { createdAt: 'yesterday' }), 9);
    expect(() => b.finish()).toThrow(/line 9: createdAt is not a timestamp/);
  });

  it('rejects an unexpected root object and a duplicate order', () => {
    const a = new BulkOrderAssembler();
    expect(() => a.push(JSON.stringify({ id: 'gid://shopify/Product/1' }), 1)).toThrow(/unexpected root object/);
    a.push(order(1), 2);
    expect(() => a.push(order(1), 3)).toThrow(/appears twice/);
  });
});
