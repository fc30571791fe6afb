// Every recommender trains and predicts on a small simulated store; training is deterministic;
// the evaluation's choices depend on the training data only.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CleanData } from '../../backend/src/features/clean.ts';
import { splitAt } from '../../backend/src/features/from-file.ts';
import { tensorBackend, type TensorBackend } from '../../backend/src/ml/tensor-backend.ts';
import {
  artifactDigest, decodeRecommendArtifact, encodeRecommendArtifact, evaluateRecommend, MODEL_NAMES, personalList, relatedProducts,
  trainRecommend, type RecommendArtifact,
} from '../../backend/src/models/recommend/index.ts';
import { generateStore } from '../../simulator/store.ts';
import type { SimStore } from '../../simulator/types.ts';
import { simCleanData } from '../helpers/sim-data.ts';

const DAY = 86_400_000;


let backend: TensorBackend;
let store: SimStore;
let data: CleanData;
let asOf: number;
beforeAll(async () => {
  backend = await tensorBackend();
  store = generateStore({ seed: 'recommend-tests', customers: 300, days: 240 });
  data = simCleanData(store);
  asOf = data.sales[data.sales.length - 1]!.time;
});

const ctx = (seed = 7) => ({ seed, backend, asOf });

describe('recommend models on a simulated store', () => {
  it('every model trains and gives valid personal lists', async () => {
    const products = new Set(data.sales.map((s) => s.productId));
    for (const model of MODEL_NAMES) {
      const r = await trainRecommend(data, { model, listLength: 15 }, ctx());
      expect(r.artifact.model).toBe(model);
      expect(r.perCustomer!.size).toBe(new Set(data.sales.filter((s) => s.customerId).map((s) => s.customerId)).size);
      for (const [, list] of r.perCustomer!) {
        expect(list.length).toBe(15);
        expect(new Set(list).size).toBe(list.length);
        for (const p of list) expect(products.has(p)).toBe(true);
      }
      expect(r.metrics['recall@20']).toBeGreaterThanOrEqual(0);
      expect(r.metrics['ndcg@10']).toBeLessThanOrEqual(1);
    }
  });

  it('new-products task never lists what the customer already bought', async () => {
    const r = await trainRecommend(data, { model: 'ranker', task: 'new', listLength: 10, validate: false }, ctx());
    const owned = new Map<string, Set<string>>();
    for (const s of data.sales) if (s.customerId) { let o = owned.get(s.customerId); if (!o) owned.set(s.customerId, (o = new Set())); o.add(s.productId); }
    for (const [c, list] of r.perCustomer!) for (const p of list) expect(owned.get(c)!.has(p)).toBe(false);
  });

  it('falls back to ease_repurchase when the last window has no purchases to learn the ranker from', async () => {
    const r = await trainRecommend(data, { model: 'ranker', validate: false }, { seed: 1, backend, asOf: asOf + 100 * DAY });
    expect(r.artifact.model).toBe('ease_repurchase');
    expect(String(r.params.fallback)).toMatch(/ranker not trainable/);
    expect(r.perCustomer!.size).toBeGreaterThan(0);
  });

  it('the ranker beats popularity on the validation slice', async () => {
    const pop = await trainRecommend(data, { model: 'popularity' }, ctx());
    const rk = await trainRecommend(data, { model: 'ranker' }, ctx());
    expect(rk.metrics['recall@20']!).toBeGreaterThan(pop.metrics['recall@20']!);
  });

  it('same data + seed + backend → identical artifact bytes and lists; another seed → other weights', async () => {
    const hashLists = (m: Map<string, string[]>) => createHash('sha256').update(JSON.stringify([...m])).digest('hex');
    const a = await trainRecommend(data, { model: 'ranker', validate: false }, ctx(11));
    const b = await trainRecommend(data, { model: 'ranker', validate: false }, ctx(11));
    expect(artifactDigest(a.artifact)).toBe(artifactDigest(b.artifact));
    expect(hashLists(a.perCustomer!)).toBe(hashLists(b.perCustomer!));
    const c = await trainRecommend(data, { model: 'ranker', validate: false }, ctx(12));
    expect(artifactDigest(c.artifact)).not.toBe(artifactDigest(a.artifact));
    // The encoding round-trips.
    const back = decodeRecommendArtifact(encodeRecommendArtifact(a.artifact));
    expect(artifactDigest(back)).toBe(artifactDigest(a.artifact));
    expect(back.ranker!.members[0]!.values[0]).toBeInstanceOf(Float32Array);
  });
});

describe('serving helpers', () => {
  let artifact: RecommendArtifact;
  let lists: Map<string, string[]>;
  beforeAll(async () => {
    const r = await trainRecommend(data, { model: 'ease_repurchase', validate: false }, ctx());
    artifact = r.artifact;
    lists = r.perCustomer!;
  });

  it('relatedProducts: never the input products, honours exclude and isAvailable, fills to k', () => {
    const [p0, p1] = artifact.products;
    const one = relatedProducts(artifact, [p0!], 8);
    expect(one).toHaveLength(8);
    expect(one).not.toContain(p0);
    const blocked = one[0]!;
    const filtered = relatedProducts(artifact, [p0!], 8, [one[1]!], (id) => id !== blocked);
    expect(filtered).not.toContain(blocked);
    expect(filtered).not.toContain(one[1]);
    expect(filtered).toHaveLength(8);
    const cart = relatedProducts(artifact, [p0!, p1!], 5);
    expect(cart).not.toContain(p0);
    expect(cart).not.toContain(p1);
    // Unknown products only: best sellers.
    expect(relatedProducts(artifact, ['no-such-product'], 3)).toEqual(personalList(artifact, null, 3));
  });

  it('relatedProducts ranks planted complements high', () => {
    // The simulator plants complement pairs (bought together more often than chance).
    const pairs = (store.complements ?? []).map(([a, b]) => [String(a), String(b)] as const)
      .filter(([a, b]) => artifact.products.includes(a) && artifact.products.includes(b));
    expect(pairs.length).toBeGreaterThan(0);
    const hits = pairs.filter(([a, b]) => relatedProducts(artifact, [a], 10).includes(b)).length;
    expect(hits / pairs.length).toBeGreaterThan(0.5);
  });

  it('personalList: stored list filtered by availability and padded with best sellers', () => {
    const [customer, list] = [...lists][0]!;
    const unavailable = new Set(list.slice(0, 3));
    const out = personalList(lists, customer, 10, { isAvailable: (id) => !unavailable.has(id), fallback: artifact });
    expect(out).toHaveLength(10);
    expect(out.slice(0, 5)).toEqual(list.slice(3, 8));
    for (const p of unavailable) expect(out).not.toContain(p);
    // A list given directly, and an unknown customer.
    expect(personalList(list, customer, 4)).toEqual(list.slice(0, 4));
    expect(personalList(lists, 'stranger', 5, { fallback: artifact })).toEqual(personalList(artifact, 'stranger', 5));
    expect(personalList(lists, 'stranger', 5)).toEqual([]);
  });
});

describe('evaluateRecommend', () => {
  it('scores every model on both tasks; chosen does not move when only the test data changes', async () => {
    const split = asOf - 60 * DAY;
    const { train, test } = splitAt(data, split);
    const ectx = { seed: 3, backend, asOf: split, split, testEnd: asOf };
    const r1 = await evaluateRecommend(train, test, ectx);
    for (const task of [r1.models, r1.new_items_only.models]) {
      for (const name of MODEL_NAMES) {
        const m = task[name]!;
        expect(Object.keys(m).sort()).toEqual(['coverage', 'hr@10', 'ndcg@10', 'recall@20']);
        for (const v of Object.values(m)) { expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThanOrEqual(1); }
      }
    }
    expect(MODEL_NAMES).toContain(r1.chosen);
    expect(MODEL_NAMES).toContain(r1.new_items_only.chosen);
    // In the new-products task repurchase can only fall back to best sellers.
    expect(r1.new_items_only.models.repurchase).toEqual(r1.new_items_only.models.popularity);

    // Another test period: keep only half the customers and drop the rest.
    const someTest: CleanData = { ...test, sales: test.sales.filter((s) => s.customerId !== null && Number(s.customerId) % 2 === 0) };
    const r2 = await evaluateRecommend(train, someTest, ectx);
    expect(r2.chosen).toBe(r1.chosen);
    expect(r2.new_items_only.chosen).toBe(r1.new_items_only.chosen);
    expect(r2.settings).toEqual(r1.settings);
    expect(r2.validation).toEqual(r1.validation);
    expect(r2.models).not.toEqual(r1.models);

    // A test period from a different store entirely: still the same choices.
    const other = simCleanData(generateStore({ seed: 'other-store', customers: 200, days: 240 }));
    const r3 = await evaluateRecommend(train, { ...test, sales: other.sales.filter((s) => s.time >= split) }, ectx);
    expect(r3.chosen).toBe(r1.chosen);
    expect(r3.settings).toEqual(r1.settings);
  });
});
