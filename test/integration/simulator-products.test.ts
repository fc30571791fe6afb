// The Admin API simulator's product catalog: `products` pages like Shopify's connections (cursor,
// sort, search filter), and the products bulk query writes Shopify's JSONL layout (a product line,
// then its variants' lines with `__parentId`), from the simulated store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BULK_PRODUCTS_QUERY, BULK_RUN } from '../../backend/src/shopify/documents.ts';
import { type AdminSimulator, startAdminSimulator } from '../../simulator/admin-server.ts';
import { generateStore } from '../../simulator/store.ts';

const store = generateStore({ seed: 8, products: 12, customers: 5, days: 10 });
const TOKEN = 'shpat_products';
let sim: AdminSimulator;
let deferred: AdminSimulator;

beforeAll(async () => {
  sim = await startAdminSimulator({ store, apiKey: 'k', apiSecret: 's', accessTokens: { [store.shop]: TOKEN }, bulkDelayMs: 5 });
  deferred = await startAdminSimulator({ store, apiKey: 'k', apiSecret: 's', accessTokens: { [store.shop]: TOKEN }, bulkDelayMs: 5, bulkLayout: 'deferred' });
});
afterAll(async () => {
  await sim?.close();
  await deferred?.close();
});

async function gql(s: AdminSimulator, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${s.url}/shops/${store.shop}/admin/api/2026-07/graphql.json`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': TOKEN },
    body: JSON.stringify({ query, variables }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { data?: any; errors?: any };
}

async function bulkLines(s: AdminSimulator): Promise<Record<string, any>[]> {
  const run = await gql(s, BULK_RUN, { query: BULK_PRODUCTS_QUERY });
  expect(run.data.bulkOperationRunQuery.userErrors).toEqual([]);
  const id = run.data.bulkOperationRunQuery.bulkOperation.id;
  await s.idle();
  const op = (await gql(s, 'query P($id: ID!) { bulkOperation(id: $id) { status objectCount rootObjectCount url } }', { id })).data.bulkOperation;
  expect(op).toMatchObject({ status: 'COMPLETED', rootObjectCount: String(store.products.length) });
  const text = await (await fetch(op.url)).text();
  const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  expect(String(lines.length)).toBe(op.objectCount);
  return lines;
}

const byId = [...store.products].sort((a, b) => a.id - b.id);

describe('simulator: products', () => {
  it('pages by cursor in id order (Shopify default), with variants, media and stock', async () => {
    const q = `query P($after: String) { products(first: 5, after: $after) { pageInfo { hasNextPage endCursor }
      nodes { id title handle status featuredMedia { alt ... on MediaImage { image { url altText } } } variants(first: 10) { nodes { id price inventoryQuantity inventoryItem { id tracked } } } } } }`;
    const seen: any[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const r: { data?: any } = await gql(sim, q, { after });
      seen.push(...r.data.products.nodes);
      if (!r.data.products.pageInfo.hasNextPage) break;
      after = r.data.products.pageInfo.endCursor;
    }
    expect(seen.map((p) => p.id)).toEqual(byId.map((p) => `gid://shopify/Product/${p.id}`));
    const p = byId[0]!;
    expect(seen[0]).toEqual({
      id: `gid://shopify/Product/${p.id}`, title: p.title, handle: p.handle, status: p.status,
      featuredMedia: p.image ? { alt: p.title, image: { url: p.image, altText: p.title } } : null,
      variants: { nodes: p.variants.map((v) => ({ id: `gid://shopify/ProductVariant/${v.id}`, price: v.price, inventoryQuantity: v.inventoryQuantity, inventoryItem: { id: `gid://shopify/InventoryItem/${v.inventoryItemId}`, tracked: true } })) },
    });
  });

  it('filters with the search syntax and sorts by updated_at', async () => {
    const cut = [...store.products].map((p) => p.updatedAt).sort()[6]!;
    const r = await gql(sim, 'query P($q: String) { products(first: 50, query: $q, sortKey: UPDATED_AT, reverse: true) { nodes { id updatedAt status } } }', { q: `updated_at:>=${cut} -status:draft` });
    const expected = store.products.filter((p) => p.updatedAt >= cut && p.status !== 'DRAFT').sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || b.id - a.id);
    expect(r.data.products.nodes.map((n: { id: string }) => n.id)).toEqual(expected.map((p) => `gid://shopify/Product/${p.id}`));
    expect(expected.length).toBeGreaterThan(0);
  });

  it('the bulk export: every product line followed by its variant lines with __parentId', async () => {
    const lines = await bulkLines(sim);
    const expected = byId.flatMap((p) => [`gid://shopify/Product/${p.id}`, ...p.variants.map((v) => `gid://shopify/ProductVariant/${v.id}`)]);
    expect(lines.map((l) => l.id)).toEqual(expected);
    for (const l of lines) {
      if (l.id.includes('/Product/')) {
        expect(l.__parentId).toBeUndefined();
        expect(l.variants).toBeUndefined(); // the nested connection is not inlined
      } else {
        expect(l.__parentId).toMatch(/^gid:\/\/shopify\/Product\/\d+$/);
        expect(Object.keys(l).at(-1)).toBe('__parentId');
      }
    }
    const p = byId.find((x) => x.image)!;
    expect(lines.find((l) => l.id === `gid://shopify/Product/${p.id}`)).toEqual({
      id: `gid://shopify/Product/${p.id}`, title: p.title, handle: p.handle, status: p.status, productType: p.productType, vendor: p.vendor,
      tags: p.tags, createdAt: p.createdAt, updatedAt: p.updatedAt,
      featuredMedia: { alt: p.title, preview: { image: { url: p.image, altText: p.title } }, image: { url: p.image, altText: p.title } },
    });
  });

  it('ungrouped (deferred) layout: a product’s variants come after the next product', async () => {
    const lines = await bulkLines(deferred);
    const products = lines.filter((l) => l.__parentId === undefined).map((l) => l.id);
    expect(products).toEqual(byId.map((p) => `gid://shopify/Product/${p.id}`));
    const firstVariant = lines.findIndex((l) => l.__parentId === products[0]);
    expect(lines.findIndex((l) => l.id === products[1])).toBeLessThan(firstVariant);
  });
});
