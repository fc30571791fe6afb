// The products bulk JSONL → NormalizedProduct + stock, and the inventory rules that let a bulk
// total (all locations) and per-location webhook levels share the inventory table.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BulkJsonlError } from '../../backend/src/shopify/bulk-jsonl.ts';
import { BulkProductAssembler } from '../../backend/src/shopify/bulk-products.ts';
import { normalizeProduct } from '../../backend/src/ingest/normalize-rest.ts';
import { ALL_LOCATIONS, recordEvent } from '../../backend/src/ingest/record.ts';
import { rebuildProjections } from '../../backend/src/ingest/rebuild.ts';
import type { NormalizedEvent } from '../../backend/src/ingest/types.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { type Db, openDb } from '../../backend/src/store/db.ts';
import { productPayload } from '../../simulator/rest-payloads.ts';
import type { SimProduct } from '../../simulator/types.ts';

const product = (id: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: `gid://shopify/Product/${id}`,
    title: 'Camp Cup',
    handle: 'camp-cup',
    status: 'ACTIVE',
    productType: 'Mugs',
    vendor: 'Kiln Street',
    tags: ['mugs', 'new'],
    createdAt: '2026-01-01T10:00:00+01:00',
    updatedAt: '2026-03-02T10:00:00Z',
    featuredMedia: { alt: 'A blue cup', preview: { image: { url: 'https://cdn.example/p.jpg', altText: 'A blue cup' } }, image: { url: 'https://cdn.example/full.jpg', altText: 'A blue cup' } },
    ...extra,
  });
const variant = (id: number, parent: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: `gid://shopify/ProductVariant/${id}`,
    title: 'Blue',
    price: '16.99',
    sku: 'MUG-1',
    inventoryQuantity: 7,
    inventoryItem: { id: `gid://shopify/InventoryItem/${id + 1000}`, tracked: true },
    __parentId: `gid://shopify/Product/${parent}`,
    ...extra,
  });

describe('BulkProductAssembler', () => {
  it('reassembles a product with its variants: the webhook shape, plus the stock of tracked variants', () => {
    const a = new BulkProductAssembler();
    a.push(product(1), 1);
    a.push(variant(11, 1), 2);
    a.push(variant(12, 1, { inventoryItem: { id: 'gid://shopify/InventoryItem/1012', tracked: false }, inventoryQuantity: 0, sku: null }), 3);
    a.push(variant(13, 1, { price: '0.50', inventoryQuantity: -2 }), 4);
    const [p] = a.finish();
    expect(p!.gid).toBe('gid://shopify/Product/1');
    expect(p!.rawUpdatedAt).toBe('2026-03-02T10:00:00Z');
    expect(p!.payloadSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(p!.product).toEqual({
      id: '1',
      title: 'Camp Cup',
      handle: 'camp-cup',
      productType: 'Mugs',
      vendor: 'Kiln Street',
      status: 'ACTIVE',
      tags: 'mugs, new',
      createdAt: '2026-01-01T09:00:00.000Z',
      updatedAt: '2026-03-02T10:00:00.000Z',
      image: 'https://cdn.example/full.jpg', // a MediaImage's own image before its preview
      imageAlt: 'A blue cup',
      variants: [
        { id: '11', title: 'Blue', sku: 'MUG-1', price: 16.99, inventoryItemId: '1011' },
        { id: '12', title: 'Blue', sku: null, price: 16.99, inventoryItemId: '1012' },
        { id: '13', title: 'Blue', sku: 'MUG-1', price: 0.5, inventoryItemId: '1013' },
      ],
    });
    // Untracked: no stock row (serving treats it as always purchasable). Oversold stays negative.
    expect(p!.stock).toEqual([{ inventoryItemId: '1011', available: 7 }, { inventoryItemId: '1013', available: -2 }]);
    expect([a.objects, a.variants]).toEqual([4, 3]);
  });

  it('media without an image of its own (a video) gives its preview; no media gives no image', () => {
    const a = new BulkProductAssembler();
    a.push(product(1, { featuredMedia: { alt: '', preview: { image: { url: 'https://cdn.example/poster.jpg', altText: 'Poster' } } } }), 1);
    a.push(product(2, { featuredMedia: null }), 2);
    const [video, none] = a.finish();
    expect([video!.product.image, video!.product.imageAlt]).toEqual(['https://cdn.example/poster.jpg', 'Poster']);
    expect([none!.product.image, none!.product.imageAlt, none!.product.variants]).toEqual([null, null, []]);
  });

  it('agrees with what the same product as a products/create webhook becomes', () => {
    const sim: SimProduct = {
      id: 7001, title: 'Fig Candle', handle: 'fig-candle', productType: 'Candles', vendor: 'Emberly', tags: ['candles', 'fragrance'],
      status: 'DRAFT', createdAt: '2025-01-29T12:41:11Z', updatedAt: '2025-05-19T03:14:22Z', image: 'https://cdn.example/fig.jpg',
      variants: [{ id: 8001, title: 'Small', sku: 'CAN-1', price: '12.00', inventoryItemId: 9001, inventoryQuantity: 3 }],
    };
    const a = new BulkProductAssembler();
    a.push(product(7001, {
      title: sim.title, handle: sim.handle, status: sim.status, productType: sim.productType, vendor: sim.vendor, tags: sim.tags,
      createdAt: sim.createdAt, updatedAt: sim.updatedAt, featuredMedia: { alt: sim.title, image: { url: sim.image, altText: sim.title } },
    }), 1);
    a.push(variant(8001, 7001, { title: 'Small', sku: 'CAN-1', price: '12.00', inventoryItem: { id: 'gid://shopify/InventoryItem/9001', tracked: true } }), 2);
    expect(a.finish()[0]!.product).toEqual(normalizeProduct(productPayload(sim)));
  });

  it('accepts variants after the next product within the window, and names the line of a late one', () => {
    const a = new BulkProductAssembler(1);
    const out = [...a.push(product(1), 1), ...a.push(variant(11, 1), 2), ...a.push(product(2), 3)];
    expect(out.map((p) => p.product.id)).toEqual(['1']);
    expect(() => a.push(variant(12, 1), 4)).toThrow(/line 4: child of gid:\/\/shopify\/Product\/1,.*newer products.*raise maxPending/);
  });

  it('bad input fails with its line number: JSON, price, a root that is not a product, a missing updatedAt', () => {
    const a = new BulkProductAssembler();
    a.push(product(1), 1);
    let err: unknown;
    try {
      a.push('{"id": "gid://shopify/ProductVariant/1", ', 2);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BulkJsonlError);
    expect((err as BulkJsonlError).lineNumber).toBe(2);
    expect(() => a.push(variant(11, 1, { price: 'twelve' }), 3)).toThrow(/line 3: variant gid:\/\/shopify\/ProductVariant\/11 price is not a number/);
    expect(() => a.push(JSON.stringify({ id: 'gid://shopify/Order/1' }), 4)).toThrow(/line 4: unexpected root object/);
    expect(() => a.push(product(1), 5)).toThrow(/line 5: product gid:\/\/shopify\/Product\/1 appears twice/);
    const b = new BulkProductAssembler();
    b.push(product(3, { updatedAt: null }), 9);
    expect(() => b.finish()).toThrow(/line 9: updatedAt is not a timestamp/);
  });
});

describe('inventory: a bulk total and per-location levels', () => {
  const keys = createKeys('test-secret-key-0123456789abcdef0123');
  const shop = 'inv.myshopify.com';
  let dir: string;
  let db: Db;
  let n = 0;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shopml-inv-'));
    db = openDb(join(dir, 'shopml.db'));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const level = (locationId: string, available: number, updatedAt: string) =>
    db.transaction(() => recordEvent(db, keys, {
      shop, topic: locationId === ALL_LOCATIONS ? 'bulk/inventory' : 'inventory_levels/update', source: locationId === ALL_LOCATIONS ? 'bulk' : 'webhook',
      sourceId: `e${++n}`, receivedAt: updatedAt, payloadSha256: 'x',
      event: { type: 'inventory', level: { inventoryItemId: '42', locationId, available, updatedAt } } satisfies NormalizedEvent,
    }))();
  const rows = () => db.prepare('SELECT location_id, available FROM inventory WHERE shop = ? AND inventory_item_id = ? ORDER BY location_id').all(shop, '42');

  it('a total replaces older per-location levels; a newer level replaces the total; never both', () => {
    expect(level('1', 5, '2026-01-01T00:00:00.000Z')).toBe('applied');
    expect(level('2', 4, '2026-01-02T00:00:00.000Z')).toBe('applied');
    expect(level(ALL_LOCATIONS, 12, '2026-01-03T00:00:00.000Z')).toBe('applied');
    expect(rows()).toEqual([{ location_id: ALL_LOCATIONS, available: 12 }]);
    // An older level (a late webhook) does not touch the newer total.
    expect(level('1', 0, '2026-01-02T12:00:00.000Z')).toBe('stale');
    expect(rows()).toEqual([{ location_id: ALL_LOCATIONS, available: 12 }]);
    // A newer level does.
    expect(level('1', 3, '2026-01-04T00:00:00.000Z')).toBe('applied');
    expect(rows()).toEqual([{ location_id: '1', available: 3 }]);
    // A total older than any stored level is stale.
    expect(level(ALL_LOCATIONS, 99, '2026-01-03T12:00:00.000Z')).toBe('stale');
    expect(rows()).toEqual([{ location_id: '1', available: 3 }]);
  });

  it('rebuilding from the event log gives the same rows', () => {
    level('1', 5, '2026-01-01T00:00:00.000Z');
    level(ALL_LOCATIONS, 12, '2026-01-03T00:00:00.000Z');
    level('1', 0, '2026-01-02T12:00:00.000Z');
    level('2', 3, '2026-01-04T00:00:00.000Z');
    const before = rows();
    rebuildProjections(db, shop);
    expect(rows()).toEqual(before);
    expect(before).toEqual([{ location_id: '2', available: 3 }]);
  });

  it('a deleted product is not brought back by a version from before its deletion', () => {
    const p = (updatedAt: string) => ({
      id: '5', title: 'Old', handle: 'old', productType: null, vendor: null, status: 'ACTIVE', tags: null,
      createdAt: null, updatedAt, image: null, variants: [],
    });
    const rec = (event: NormalizedEvent) => db.transaction(() => recordEvent(db, keys, { shop, topic: 'bulk/products', source: 'bulk', sourceId: `p${++n}`, receivedAt: '2026-02-01T00:00:00.000Z', payloadSha256: 'x', event }))();
    expect(rec({ type: 'product', product: p('2026-01-01T00:00:00.000Z') })).toBe('applied');
    expect(rec({ type: 'product_deleted', productId: '5', deletedAt: '2026-01-10T00:00:00.000Z' })).toBe('applied');
    expect(rec({ type: 'product', product: p('2026-01-01T00:00:00.000Z') })).toBe('stale');
    expect(db.prepare('SELECT deleted_at FROM products WHERE product_id = ?').pluck().get('5')).toBe('2026-01-10T00:00:00.000Z');
  });
});
