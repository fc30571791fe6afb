// shopml's ranker: a small TensorFlow.js MLP that re-ranks, for each customer, a candidate set
// drawn from the baselines (EASE, item-kNN, the customer's own purchases, recent best sellers)
// using features no single baseline combines: EASE and kNN scores (plain and time-decayed),
// repurchase counts, how long ago the customer last bought the product against their usual gap
// between orders, product popularity, trend and age, product repeat rate, customer frequency
// and recency.
//
// Training: features as of a cutoff T, labels = the products each customer bought in [T, T+w).
// The loss is listwise (softmax cross-entropy over one customer's candidates, the relevant ones
// sharing the target mass), which optimises the order within a customer's list, the thing the
// ranking metrics score. Initial weights come from a seeded PRNG, batches of customers are
// shuffled by it too, so training is deterministic on a given tensor backend.
import type { Tf } from '../../ml/tensor-backend.ts';
import { easeScores2, type EaseModel } from './ease.ts';
import { knnScores, type Neighbours } from './knn.ts';
import { createPrng } from '../../ml/prng.ts';
import { DAY_MS, type CutoffState } from './state.ts';

export const RANKER_FEATURES = [
  'ease', 'ease_decay', 'knn_decay', 'log_rank_ease', 'log_rank_knn',
  'bought', 'log_count', 'count_share', 'log_days_since_bought', 'recent_share', 'log_units', 'log_gap_ratio',
  'log_orders_since_bought', 'last3_share', 'bought_x_cust_repeat', 'log_count_x_cust_repeat', 'ease_decay_x_cust_novelty',
  'item_log_customers', 'item_log_orders_30d', 'item_log_orders_90d', 'item_trend', 'item_log_age', 'item_log_since_last_sale', 'item_repeat_rate',
  'cust_log_orders', 'cust_log_days_since_order', 'cust_log_products', 'cust_log_tenure', 'cust_novelty',
] as const;
export const F = RANKER_FEATURES.length;

export type RecommendTask = 'all' | 'new';

export interface RankerConfig {
  /** EASE λ for the score features. */
  lambda: number;
  minSupport: number;
  knnK: number;
  /** Time decay (days) of a past purchase's weight in the decayed scores. */
  decayDays: number;
  /** Candidates: top by decayed EASE, top by decayed kNN, own products (by count), recent best sellers. */
  candEase: number;
  candKnn: number;
  candOwn: number;
  candPopular: number;
  hidden: number[];
  epochs: number;
  batchCustomers: number;
  learningRate: number;
  l2: number;
  loss: 'listwise' | 'pointwise';
}

/** Settings picked on validation windows of the reference data (see docs/models/recommend.md). */
export const DEFAULT_RANKER_CONFIG: RankerConfig = {
  lambda: 250, minSupport: 5, knnK: 10, decayDays: 120,
  candEase: 100, candKnn: 30, candOwn: 100, candPopular: 20,
  hidden: [32, 16], epochs: 10, batchCustomers: 64, learningRate: 0.005, l2: 1e-5, loss: 'listwise',
};

export interface CandidateRows {
  /** Candidate product indexes of each customer, concatenated. */
  items: Int32Array;
  /** offsets[k]..offsets[k+1] are customer k's rows. */
  offsets: Int32Array;
  customers: Int32Array;
  /** rows × F features, row-major. */
  x: Float32Array;
}

interface Scratch { ease: Float64Array; easeDecay: Float64Array; knn: Float64Array; own: Int32Array }

/** Adds to `out` the k products with the highest positive scores (ties: earlier in `order`). */
function topIndexes(scores: Float64Array, order: Int32Array, k: number, skip: (p: number) => boolean, out: Set<number>): void {
  const best = new Int32Array(k);
  const bestS = new Float64Array(k);
  let len = 0;
  for (let r = 0; r < order.length; r++) {
    const p = order[r]!;
    const v = scores[p]!;
    if (!(v > 0) || (len === k && v <= bestS[k - 1]!) || skip(p)) continue;
    let pos = len === k ? k - 1 : len;
    while (pos > 0 && bestS[pos - 1]! < v) { best[pos] = best[pos - 1]!; bestS[pos] = bestS[pos - 1]!; pos--; }
    best[pos] = p; bestS[pos] = v;
    if (len < k) len++;
  }
  for (let i = 0; i < len; i++) out.add(best[i]!);
}

/** Candidates and their features for the given customers, as of the state's cutoff. */
export function candidateRows(s: CutoffState, cfg: RankerConfig, customers: ArrayLike<number>, task: RecommendTask, ease: EaseModel, knn: Neighbours): CandidateRows {
  const n = s.n;
  const asOf = s.asOf;
  const st = s.items;
  const popular = s.popularity(30);
  const scratch: Scratch = { ease: new Float64Array(n), easeDecay: new Float64Array(n), knn: new Float64Array(n), own: new Int32Array(n).fill(-1) };
  const itemsOut: number[] = [];
  const offsets: number[] = [0];
  const chunks: Float32Array[] = [];
  for (let ci = 0; ci < customers.length; ci++) {
    const c = customers[ci]!;
    const h = s.b.histories[c]!;
    scratch.ease.fill(0); scratch.easeDecay.fill(0); scratch.knn.fill(0);
    const decay = Array.from(h.last, (t) => Math.exp(-(asOf - t) / DAY_MS / cfg.decayDays));
    easeScores2(ease, h.items, decay, scratch.ease, scratch.easeDecay);
    knnScores(knn, h.items, scratch.knn, decay);
    for (let k = 0; k < h.items.length; k++) scratch.own[h.items[k]!] = k;
    const skip = task === 'new' ? (p: number) => scratch.own[p]! >= 0 : () => false;
    const cand = new Set<number>();
    topIndexes(scratch.easeDecay, s.order, cfg.candEase, skip, cand);
    topIndexes(scratch.knn, s.order, cfg.candKnn, skip, cand);
    if (task === 'all') {
      const own = Array.from(h.items.keys()).sort((a, b) => h.counts[b]! - h.counts[a]! || h.last[b]! - h.last[a]! || h.items[a]! - h.items[b]!);
      for (let i = 0; i < Math.min(cfg.candOwn, own.length); i++) cand.add(h.items[own[i]!]!);
    }
    let added = 0;
    for (let r = 0; r < popular.length && added < cfg.candPopular; r++) { const p = popular[r]!; if (!skip(p)) { if (!cand.has(p)) cand.add(p); added++; } }
    const list = [...cand].sort((a, b) => a - b);

    // Ranks within the candidate set.
    const rankOf = (sc: Float64Array): Map<number, number> => {
      const sorted = [...list].sort((a, b) => sc[b]! - sc[a]! || a - b);
      return new Map(sorted.map((p, r) => [p, r]));
    };
    const rEase = rankOf(scratch.easeDecay), rKnn = rankOf(scratch.knn);

    // Customer-level values.
    const ords = s.customerOrders[c]!;
    const recentFrom = asOf - 90 * DAY_MS;
    const recentOrders: number[] = [];
    for (let k = ords.length - 1; k >= 0 && s.b.orders[ords[k]!]!.time >= recentFrom; k--) recentOrders.push(ords[k]!);
    const recentCount = new Map<number, number>();
    for (const oi of recentOrders) for (const p of s.b.orders[oi]!.items) recentCount.set(p, (recentCount.get(p) ?? 0) + 1);
    // Orders placed since the customer last bought each product; share of the last 3 orders.
    const ordersSince = new Map<number, number>();
    const last3 = new Map<number, number>();
    for (let k = ords.length - 1, back = 0; k >= 0; k--, back++) {
      for (const p of s.b.orders[ords[k]!]!.items) {
        if (!ordersSince.has(p)) ordersSince.set(p, back);
        if (back < 3) last3.set(p, (last3.get(p) ?? 0) + 1);
      }
    }
    const n3 = Math.min(3, ords.length);
    // Novelty: share of the products in the customer's orders after the first that were new to them.
    let seenNew = 0, seenAll = 0;
    {
      const seen = new Set<number>();
      ords.forEach((oi, k) => {
        for (const p of s.b.orders[oi]!.items) {
          if (k > 0) { seenAll++; if (!seen.has(p)) seenNew++; }
          seen.add(p);
        }
      });
    }
    const novelty = (seenNew + 1) / (seenAll + 2);
    const tenureDays = Math.max(1, (asOf - h.firstTime) / DAY_MS);
    const meanGap = h.orders > 1 ? (h.lastTime - h.firstTime) / DAY_MS / (h.orders - 1) : tenureDays;
    const cOrders = Math.log1p(h.orders), cSince = Math.log1p((asOf - h.lastTime) / DAY_MS), cProducts = Math.log1p(h.items.length), cTenure = Math.log1p(tenureDays);

    const x = new Float32Array(list.length * F);
    list.forEach((p, r) => {
      const o = r * F;
      const k = scratch.own[p]!;
      const bought = k >= 0;
      const since = bought ? (asOf - h.last[k]!) / DAY_MS : 0;
      x[o] = scratch.ease[p]!;
      x[o + 1] = scratch.easeDecay[p]!;
      x[o + 2] = scratch.knn[p]!;
      x[o + 3] = Math.log1p(rEase.get(p)!);
      x[o + 4] = Math.log1p(rKnn.get(p)!);
      x[o + 5] = bought ? 1 : 0;
      x[o + 6] = bought ? Math.log1p(h.counts[k]!) : 0;
      x[o + 7] = bought ? h.counts[k]! / h.orders : 0;
      x[o + 8] = bought ? Math.log1p(since) : Math.log1p(400);
      x[o + 9] = recentOrders.length ? (recentCount.get(p) ?? 0) / recentOrders.length : 0;
      x[o + 10] = bought ? Math.log1p(h.units[k]!) : 0;
      x[o + 11] = bought ? Math.log1p(since / Math.max(1, meanGap)) : 0;
      x[o + 12] = Math.log1p(ordersSince.get(p) ?? h.orders);
      x[o + 13] = n3 ? (last3.get(p) ?? 0) / n3 : 0;
      x[o + 14] = (bought ? 1 : 0) * (1 - novelty);
      x[o + 15] = x[o + 6]! * (1 - novelty);
      x[o + 16] = scratch.easeDecay[p]! * novelty;
      x[o + 17] = st.logCustomers[p]!;
      x[o + 18] = st.log30[p]!;
      x[o + 19] = st.log90[p]!;
      x[o + 20] = st.trend[p]!;
      x[o + 21] = st.logAge[p]!;
      x[o + 22] = st.logSinceLast[p]!;
      x[o + 23] = st.repeatRate[p]!;
      x[o + 24] = cOrders;
      x[o + 25] = cSince;
      x[o + 26] = cProducts;
      x[o + 27] = cTenure;
      x[o + 28] = novelty;
    });
    for (const p of h.items) scratch.own[p] = -1;
    chunks.push(x);
    for (const p of list) itemsOut.push(p);
    offsets.push(itemsOut.length);
  }
  const x = new Float32Array(itemsOut.length * F);
  let at = 0;
  for (const ch of chunks) { x.set(ch, at); at += ch.length; }
  return { items: Int32Array.from(itemsOut), offsets: Int32Array.from(offsets), customers: Int32Array.from(customers), x };
}

type T2 = ReturnType<Tf['tensor2d']>;
const denseCache = new WeakMap<Tf, (x: T2, w: T2) => T2>();
/**
 * x·w whose gradient transposes explicitly: the wasm backend's matMul with a transpose flag is
 * 10-50x slower than a transpose followed by a plain matMul.
 */
function dense(tf: Tf): (x: T2, w: T2) => T2 {
  let f = denseCache.get(tf);
  if (!f) {
    f = tf.customGrad(((x: T2, w: T2, save: (t: T2[]) => void) => {
      save([x, w]);
      return {
        value: tf.matMul(x, w),
        gradFunc: (dy: T2, saved: T2[]) => [tf.matMul(dy, tf.transpose(saved[1]!)), tf.matMul(tf.transpose(saved[0]!), dy)],
      };
    }) as never) as unknown as (x: T2, w: T2) => T2;
    denseCache.set(tf, f);
  }
  return f;
}

export interface RankerWeights {
  features: string[];
  mean: Float32Array;
  std: Float32Array;
  /** Layer shapes: [F, h1], [h1], [h1, h2], [h2], …, [h_last, 1], [1]. */
  shapes: number[][];
  values: Float32Array[];
}

/** Per-row scores of a fitted ranker (tensor backend forward pass, in chunks). */
export function rankerScores(tf: Tf, w: RankerWeights, x: Float32Array): Float32Array {
  const rows = x.length / F;
  const out = new Float32Array(rows);
  const chunk = 65536;
  const vars = w.values.map((v, i) => tf.tensor(v, w.shapes[i]!));
  const mean = tf.tensor1d(w.mean), std = tf.tensor1d(w.std);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const r1 = Math.min(rows, r0 + chunk);
    const s = tf.tidy(() => {
      let h = tf.div(tf.sub(tf.tensor2d(x.subarray(r0 * F, r1 * F), [r1 - r0, F]), mean), std) as ReturnType<Tf['tensor2d']>;
      for (let l = 0; l < vars.length; l += 2) {
        h = tf.add(tf.matMul(h, vars[l] as ReturnType<Tf['tensor2d']>), vars[l + 1]!) as ReturnType<Tf['tensor2d']>;
        if (l + 2 < vars.length) h = tf.relu(h);
      }
      return h.dataSync() as Float32Array;
    });
    out.set(s, r0);
  }
  for (const v of vars) v.dispose();
  mean.dispose(); std.dispose();
  return out;
}

/** Fits the ranker on candidate rows with labels (relevant products per customer). */
export async function trainRanker(tf: Tf, cfg: RankerConfig, rows: CandidateRows, labels: (c: number) => ReadonlySet<number> | undefined, seed: number): Promise<RankerWeights> {
  // Keep the customers with at least one relevant candidate.
  const groups: number[] = [];
  const y = new Float32Array(rows.items.length);
  for (let g = 0; g < rows.customers.length; g++) {
    const rel = labels(rows.customers[g]!);
    if (!rel) continue;
    let pos = 0;
    for (let r = rows.offsets[g]!; r < rows.offsets[g + 1]!; r++) if (rel.has(rows.items[r]!)) { y[r] = 1; pos++; }
    if (pos > 0) groups.push(g);
  }
  if (groups.length === 0) throw new Error('ranker: no customer has a relevant candidate');

  // Standardisation over the training rows.
  const mean = new Float64Array(F), sq = new Float64Array(F);
  let count = 0;
  for (const g of groups) for (let r = rows.offsets[g]!; r < rows.offsets[g + 1]!; r++) {
    count++;
    for (let f = 0; f < F; f++) { const v = rows.x[r * F + f]!; mean[f]! += v; sq[f]! += v * v; }
  }
  const m32 = new Float32Array(F), s32 = new Float32Array(F);
  for (let f = 0; f < F; f++) {
    const mu = mean[f]! / count;
    m32[f] = mu;
    s32[f] = Math.sqrt(Math.max(sq[f]! / count - mu * mu, 0)) || 1;
  }

  // Seeded Glorot-uniform initial weights.
  const prng = createPrng(`ranker:${seed}`);
  const sizes = [F, ...cfg.hidden, 1];
  const shapes: number[][] = [];
  const init: Float32Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const a = sizes[l]!, b = sizes[l + 1]!;
    const lim = Math.sqrt(6 / (a + b));
    shapes.push([a, b], [b]);
    init.push(Float32Array.from({ length: a * b }, () => (prng.next() * 2 - 1) * lim), new Float32Array(b));
  }
  const vars = init.map((v, i) => { const t = tf.tensor(v, shapes[i]!); const w = tf.variable(t); t.dispose(); return w; });
  const meanT = tf.tensor1d(m32), stdT = tf.tensor1d(s32);
  const optimizer = tf.train.adam(cfg.learningRate);
  const mm = dense(tf);

  // Batches of customers padded to the longest candidate list in the batch: each epoch shuffles
  // the customers, cuts the shuffled order into pools of 8 batches, sorts each pool by list
  // length and cuts it into batches (little padding), then shuffles the batch order.
  const len = (g: number): number => rows.offsets[g + 1]! - rows.offsets[g]!;
  const order = Int32Array.from(groups);
  const bsz = cfg.batchCustomers;
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    prng.shuffle(order);
    const batches: Int32Array[] = [];
    for (let p0 = 0; p0 < order.length; p0 += 8 * bsz) {
      const pool = Array.from(order.subarray(p0, Math.min(order.length, p0 + 8 * bsz))).sort((a, b) => len(a) - len(b) || a - b);
      for (let b0 = 0; b0 < pool.length; b0 += bsz) batches.push(Int32Array.from(pool.slice(b0, b0 + bsz)));
    }
    prng.shuffle(batches);
    for (const batch of batches) {
      const B = batch.length;
      let maxC = 0;
      for (const g of batch) maxC = Math.max(maxC, len(g));
      const xb = new Float32Array(B * maxC * F);
      const yb = new Float32Array(B * maxC);
      const mask = new Float32Array(B * maxC);
      batch.forEach((g, i) => {
        const r0 = rows.offsets[g]!, r1 = rows.offsets[g + 1]!;
        xb.set(rows.x.subarray(r0 * F, r1 * F), i * maxC * F);
        let pos = 0;
        for (let r = r0; r < r1; r++) pos += y[r]!;
        for (let r = r0; r < r1; r++) {
          mask[i * maxC + r - r0] = 1;
          yb[i * maxC + r - r0] = cfg.loss === 'listwise' ? y[r]! / pos : y[r]!;
        }
      });
      const loss = optimizer.minimize(() => tf.tidy(() => {
        let h = tf.div(tf.sub(tf.tensor2d(xb, [B * maxC, F]), meanT), stdT) as ReturnType<Tf['tensor2d']>;
        for (let l = 0; l < vars.length; l += 2) {
          h = tf.add(mm(h, vars[l] as unknown as ReturnType<Tf['tensor2d']>), vars[l + 1]!) as ReturnType<Tf['tensor2d']>;
          if (l + 2 < vars.length) h = tf.relu(h);
        }
        const scores = tf.reshape(h, [B, maxC]);
        const m = tf.tensor2d(mask, [B, maxC]);
        const yt = tf.tensor2d(yb, [B, maxC]);
        let data;
        if (cfg.loss === 'listwise') {
          const masked = tf.add(scores, tf.mul(tf.sub(1, m), -1e9));
          data = tf.div(tf.neg(tf.sum(tf.mul(yt, tf.logSoftmax(masked, 1)))), B);
        } else {
          const ce = tf.losses.sigmoidCrossEntropy(yt, scores, m, undefined, tf.Reduction.SUM);
          data = tf.div(ce, tf.sum(m));
        }
        let reg = tf.scalar(0);
        for (let l = 0; l < vars.length; l += 2) reg = tf.add(reg, tf.sum(tf.square(vars[l]!)));
        return tf.add(data, tf.mul(reg, cfg.l2)) as ReturnType<Tf['scalar']>;
      }), true, vars);
      loss?.dispose();
    }
  }
  const values = vars.map((v) => Float32Array.from(v.dataSync() as Float32Array));
  for (const v of vars) v.dispose();
  meanT.dispose(); stdT.dispose();
  optimizer.dispose();
  return { features: [...RANKER_FEATURES], mean: m32, std: s32, shapes, values };
}
