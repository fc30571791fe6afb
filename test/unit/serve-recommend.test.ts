// The in-process lookup on a hand-built shop state: arms and versions, pins and exclusions,
// stock, the products in the request, cold start, fallback; signed rec ids; token buckets; the
// artifact cache's budget and failure memory.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createKeys } from '../../backend/src/keys.ts';
import { artifactBytes, sha256, storeArtifact } from '../../backend/src/ml/artifact.ts';
import { RECOMMEND_ARTIFACT_FORMAT, type RecommendArtifact } from '../../backend/src/models/recommend/index.ts';
import { ArtifactCache } from '../../backend/src/serve/artifacts.ts';
import type { Catalog, ServedProduct } from '../../backend/src/serve/catalog.ts';
import type { Controls } from '../../backend/src/serve/controls.ts';
import { createRecIds } from '../../backend/src/serve/rec-id.ts';
import { recommend, type ShopState } from '../../backend/src/serve/recommend.ts';
import type { Arm, Rollout } from '../../backend/src/serve/resolver.ts';
import { TokenBuckets } from '../../backend/src/track/rate-limit.ts';

const SHOP = 'unit-shop.myshopify.com';
const keys = createKeys('serve-unit-test-secret-0123456789abcdef');
const recIds = createRecIds(keys);
const V1 = 'a'.repeat(64);
const V2 = 'b'.repeat(64);

// Products 1..20; related: 1 → 2, 3, 4, 5; popular (model): 10, 11, 12, …
function artifact(): RecommendArtifact {
  const products = Array.from({ length: 20 }, (_, i) => String(i + 1));
  const k = 4;
  const index = new Int32Array(20 * k).fill(-1);
  const score = new Float32Array(20 * k);
  [1, 2, 3, 4].forEach((j, r) => { index[r] = j; score[r] = 1 - r / 10; });
  const popular = Int32Array.from([9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
  return {
    format: RECOMMEND_ARTIFACT_FORMAT, model: 'ease', task: 'all', asOf: 0, backend: 'cpu', seed: 1, products, popular,
    related: { k, index, score }, settings: {} as RecommendArtifact['settings'], ranker: null,
  };
}

function catalog(outOfStock: string[] = []): Catalog {
  const gone = new Set(outOfStock);
  const product = (id: string): ServedProduct => ({ id, variant_id: `v${id}`, handle: `p-${id}`, title: `P${id}`, price: { amount: '1.00', currency: 'USD' }, image: null, url: `/products/p-${id}` });
  return { isServable: (id: string) => !gone.has(id), product } as unknown as Catalog;
}

function state(o: { arms?: (u: string) => Arm; challenger?: string | null; controls?: Partial<Controls>; outOfStock?: string[]; personal?: Record<string, string[]>; orders?: number; broken?: string[] } = {}): ShopState {
  const art = artifact();
  const rollout: Rollout = { experiment: 7, champion: V1, challenger: o.challenger === undefined ? V2 : o.challenger, variantOf: o.arms ?? (() => 'champion') };
  const controls: Controls = { generation: 1, excluded: new Set(), pinned: [], minHistoryOrders: 1, attributionDays: 7, ...o.controls };
  return {
    shop: SHOP, catalog: catalog(o.outOfStock), controls, rollout, recIds,
    artifact: (v) => {
      if (o.broken?.includes(v)) throw new Error(`artifact ${v.slice(0, 6)} unavailable: hash mismatch`);
      return art;
    },
    popular: () => ['20', '19', '18', '17', '16', '15', '14', '13'],
    personal: (_v, c) => o.personal?.[c] ?? null,
    orderCount: () => o.orders ?? 0,
    now: () => Date.UTC(2026, 10, 1),
  };
}

const ids = (r: { products: ServedProduct[] }) => r.products.map((p) => p.id);

describe('recommend (in-process lookup)', () => {
  it('serves related products for a product page, never the product itself, with the arm and version', () => {
    const r = recommend(state(), { productIds: ['1'], customerId: null, anonymousId: 'anon-1', limit: 4 });
    expect(ids(r)).toEqual(['2', '3', '4', '5']);
    expect(r).toMatchObject({ variant: 'champion', experiment: 7, model_version: V1, source: 'related', cacheable: true });
    expect(recIds.parse(SHOP, r.rec_id)).toMatchObject({ variant: 'champion', version: V1, experiment: 7 });
    expect(r.products[0]).toEqual({ id: '2', variant_id: 'v2', handle: 'p-2', title: 'P2', price: { amount: '1.00', currency: 'USD' }, image: null, url: '/products/p-2' });
  });

  it('gives the challenger its version and the holdout popularity only', () => {
    const s = state({ arms: (u) => (u === 'c' ? 'challenger' : u === 'h' ? 'holdout' : 'champion') });
    expect(recommend(s, { productIds: ['1'], customerId: null, anonymousId: 'c', limit: 3 })).toMatchObject({ variant: 'challenger', model_version: V2 });
    const h = recommend(s, { productIds: ['1'], customerId: null, anonymousId: 'h', limit: 3 });
    expect(h).toMatchObject({ variant: 'holdout', model_version: 'popularity', source: 'popular' });
    expect(ids(h)).toEqual(['20', '19', '18']);
    // No challenger version: nobody is served as one.
    expect(recommend(state({ arms: () => 'challenger', challenger: null }), { productIds: [], customerId: null, anonymousId: 'c' }).variant).toBe('champion');
  });

  it('puts pins first, never serves excluded or out-of-stock products', () => {
    const s = state({ controls: { pinned: ['15', '3', '9'], excluded: new Set(['2', '10']) }, outOfStock: ['4', '9'] });
    expect(ids(recommend(s, { productIds: ['1'], customerId: null, anonymousId: null, limit: 5 }))).toEqual(['15', '3', '5', '11', '12']);
    // The product on the page is not served even when pinned.
    const p = state({ controls: { pinned: ['1'] } });
    expect(ids(recommend(p, { productIds: ['1'], customerId: null, anonymousId: null, limit: 2 }))).toEqual(['2', '3']);
  });

  it('uses a personal list only with enough history (cold start → model best sellers)', () => {
    const personal = { '42': ['7', '8', '9'] };
    const warm = recommend(state({ personal }), { productIds: [], customerId: '42', anonymousId: null, limit: 4 });
    expect(warm).toMatchObject({ source: 'personal', cacheable: false });
    expect(ids(warm)).toEqual(['7', '8', '9', '10']);
    const cold = recommend(state({ personal, controls: { minHistoryOrders: 3 }, orders: 2 }), { productIds: [], customerId: '42', anonymousId: null, limit: 4 });
    expect(cold.source).toBe('popular');
    expect(ids(cold)).toEqual(['10', '11', '12', '13']);
    const enough = recommend(state({ personal, controls: { minHistoryOrders: 3 }, orders: 3 }), { productIds: [], customerId: '42', anonymousId: null, limit: 4 });
    expect(enough.source).toBe('personal');
  });

  it('falls back to popularity when the version cannot be loaded, keeping the arm', () => {
    const r = recommend(state({ broken: [V1] }), { productIds: ['1'], customerId: null, anonymousId: 'u', limit: 3 });
    expect(r).toMatchObject({ variant: 'champion', model_version: 'popularity', cacheable: false });
    expect(r.fallback).toMatch(/hash mismatch/);
    expect(ids(r)).toEqual(['20', '19', '18']);
  });

  it('clamps the limit to 1..24 (default 8)', () => {
    const s = state();
    expect(recommend(s, { productIds: [], customerId: null, anonymousId: null }).products).toHaveLength(8);
    expect(recommend(s, { productIds: [], customerId: null, anonymousId: null, limit: 500 }).products.length).toBeLessThanOrEqual(24);
    expect(recommend(s, { productIds: [], customerId: null, anonymousId: null, limit: -3 }).products).toHaveLength(8);
  });
});

describe('rec ids', () => {
  it('round-trip, and any change or another shop breaks the signature', () => {
    const id = recIds.issue(SHOP, 'challenger', V2, 12, 1_700_000_000_000);
    expect(id.length).toBeLessThanOrEqual(100);
    expect(recIds.parse(SHOP, id)).toEqual({ issuedAt: 1_700_000_000_000, variant: 'challenger', version: V2, experiment: 12 });
    expect(recIds.parse('other-shop.myshopify.com', id)).toBeNull();
    const parts = id.split('.');
    parts[2] = `c${parts[2]!.slice(1)}`; // challenger → champion
    expect(recIds.parse(SHOP, parts.join('.'))).toBeNull();
    expect(recIds.parse(SHOP, 'r1.x.y.z.w.v')).toBeNull();
    expect(createRecIds(createKeys('a-different-secret-0123456789abcdef')).parse(SHOP, id)).toBeNull();
    // The same secret in another process (the webhook writer thread) reads it.
    expect(createRecIds(createKeys('serve-unit-test-secret-0123456789abcdef')).parse(SHOP, id)).not.toBeNull();
    const pop = recIds.issue(SHOP, 'holdout', null, null, 5);
    expect(recIds.parse(SHOP, pop)).toEqual({ issuedAt: 5, variant: 'holdout', version: null, experiment: null });
  });
});

describe('token buckets', () => {
  it('allow a burst, refill over time, and keep keys apart', () => {
    let now = 0;
    const b = new TokenBuckets({ burst: 3, perSecond: 1, now: () => now });
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a')]).toEqual([true, true, true, false]);
    expect(b.take('b')).toBe(true);
    now += 1000;
    expect([b.take('a'), b.take('a')]).toEqual([true, false]);
    const small = new TokenBuckets({ burst: 1, perSecond: 1, maxKeys: 2, now: () => now });
    small.take('x'); small.take('y'); small.take('z');
    expect(small.size).toBe(2);
  });
});

describe('artifact cache', () => {
  it('loads by version, evicts beyond its budget, remembers failures for a while', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shopml-artifacts-'));
    try {
      const a = artifact();
      const v1 = storeArtifact(dir, artifactBytes({ kind: 'recommend', backend: 'cpu', artifact: a }));
      const v2 = storeArtifact(dir, artifactBytes({ kind: 'recommend', backend: 'cpu', artifact: { ...a, seed: 2 } }));
      let now = 0;
      const cache = new ArtifactCache({ dir, maxBytes: 1, retryMs: 1000, now: () => now });
      expect(cache.get(v1).products).toHaveLength(20);
      expect(cache.get(v2).seed).toBe(2);
      expect([cache.has(v1), cache.has(v2), cache.size]).toEqual([false, true, 1]); // budget: the newest stays
      expect(cache.loads).toBe(2);

      const bad = sha256(Buffer.from('x'));
      writeFileSync(join(dir, `${bad}.json.gz`), gzipSync(Buffer.from('not the bytes')));
      expect(() => cache.get(bad)).toThrow(/hash mismatch/);
      expect(() => cache.get(bad)).toThrow(/hash mismatch/);
      expect(cache.loads).toBe(3); // the second failure came from memory
      now += 1001;
      expect(() => cache.get(bad)).toThrow();
      expect(cache.loads).toBe(4);
      expect(() => cache.get('f'.repeat(64))).toThrow(/unavailable/);
      const other = storeArtifact(dir, artifactBytes({ kind: 'churn', artifact: {} }));
      expect(() => cache.get(other)).toThrow(/not a recommend artifact/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('preload: reads a version in the background, once however often asked; a failure is remembered as get() remembers it, and a later preload tries afresh', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shopml-artifacts-'));
    try {
      const a = artifact();
      const v1 = storeArtifact(dir, artifactBytes({ kind: 'recommend', backend: 'cpu', artifact: a }));
      const cache = new ArtifactCache({ dir, retryMs: 60_000 });
      const [p, q] = [cache.preload(v1), cache.preload(v1)];
      expect(q).toBe(p); // one read for both
      expect(cache.has(v1)).toBe(false); // not before it settled: nothing was read synchronously
      await p;
      expect(cache.has(v1)).toBe(true);
      expect(cache.get(v1).products).toEqual(a.products);
      expect(cache.loads).toBe(1);
      await cache.preload(v1); // in memory: nothing to do
      expect(cache.loads).toBe(1);

      const bad = sha256(Buffer.from('y'));
      writeFileSync(join(dir, `${bad}.json.gz`), gzipSync(Buffer.from('not the bytes')));
      await expect(cache.preload(bad)).resolves.toBeUndefined(); // never rejects
      expect(() => cache.get(bad)).toThrow(/unavailable: .*hash mismatch/);
      expect(cache.loads).toBe(2); // get() answered from the failure's memory
      const other = storeArtifact(dir, artifactBytes({ kind: 'churn', artifact: {} }));
      await cache.preload(other);
      expect(() => cache.get(other)).toThrow(/not a recommend artifact/);
      // The file mended: a preload forgets the failure and reads it again.
      const good = artifactBytes({ kind: 'recommend', backend: 'cpu', artifact: { ...a, seed: 9 } });
      const v9 = sha256(good);
      writeFileSync(join(dir, `${v9}.json.gz`), gzipSync(Buffer.from('truncated')));
      await cache.preload(v9);
      expect(() => cache.get(v9)).toThrow(/hash mismatch/);
      writeFileSync(join(dir, `${v9}.json.gz`), gzipSync(good));
      await cache.preload(v9);
      expect(cache.get(v9).seed).toBe(9);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
