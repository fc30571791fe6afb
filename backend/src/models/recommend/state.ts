// Everything the recommenders derive from the sales before one cutoff ("as of"), built once and
// shared: baskets, the popularity order, co-purchase counts, item-kNN neighbour lists and EASE
// models (cached per k and per λ), per-product and per-customer statistics for the ranker.
import type { SaleLine } from '../../features/clean.ts';
import { buildBaskets, type Baskets } from '../../features/baskets.ts';
import type { Tf } from '../../ml/tensor-backend.ts';
import { fitEase, type EaseModel } from './ease.ts';
import { knnFromCounts, type Neighbours } from './knn.ts';
import { coCounts, popularityOrder } from './scoring.ts';

export const DAY_MS = 86_400_000;

export interface ItemStats {
  /** log1p(distinct customers). */
  logCustomers: Float32Array;
  /** log1p(orders in the last 30 / 90 days before the cutoff). */
  log30: Float32Array;
  log90: Float32Array;
  /** log((orders in last 30 d + 1) / (orders in the 60 d before that / 2 + 1)). */
  trend: Float32Array;
  /** log1p(days since first / last sale). */
  logAge: Float32Array;
  logSinceLast: Float32Array;
  /** Share of the product's buyers who bought it in ≥ 2 orders (smoothed). */
  repeatRate: Float32Array;
  /** Orders in the last 30 days (raw), for the recent-popularity candidates. */
  orders30: Int32Array;
}

export interface CutoffState {
  tf: Tf;
  asOf: number;
  b: Baskets;
  n: number;
  /** Products by popularity (distinct customers), most popular first: the tie-break order. */
  order: Int32Array;
  /** Customer-level co-purchase counts (n×n); large, dropped by `release()`. */
  g: Float32Array | null;
  items: ItemStats;
  /** Per customer: indexes into b.orders of their orders, oldest first. */
  customerOrders: Int32Array[];
  knn(k: number): Neighbours;
  ease(lambda: number, minSupport: number): EaseModel;
  /** Products ordered by popularity over the last `days` before the cutoff (null: all time). */
  popularity(days: number | null): Int32Array;
  /** Frees the co-count matrix and cached models not in `keep`. */
  release(keep?: { knn?: number[]; ease?: string[] }): void;
}

export function buildItemStats(b: Baskets, asOf: number): ItemStats {
  const n = b.products.length;
  const o30 = new Int32Array(n), o90 = new Int32Array(n);
  for (const o of b.orders) {
    const age = asOf - o.time;
    if (age > 90 * DAY_MS) continue;
    for (const p of o.items) { o90[p]!++; if (age <= 30 * DAY_MS) o30[p]!++; }
  }
  const repeaters = new Int32Array(n);
  for (const h of b.histories) h.items.forEach((p, k) => { if (h.counts[k]! >= 2) repeaters[p]!++; });
  const s: ItemStats = {
    logCustomers: new Float32Array(n), log30: new Float32Array(n), log90: new Float32Array(n), trend: new Float32Array(n),
    logAge: new Float32Array(n), logSinceLast: new Float32Array(n), repeatRate: new Float32Array(n), orders30: o30,
  };
  for (let p = 0; p < n; p++) {
    s.logCustomers[p] = Math.log1p(b.popularity.customers[p]!);
    s.log30[p] = Math.log1p(o30[p]!);
    s.log90[p] = Math.log1p(o90[p]!);
    s.trend[p] = Math.log((o30[p]! + 1) / ((o90[p]! - o30[p]!) / 2 + 1));
    s.logAge[p] = Math.log1p(Math.max(0, asOf - b.popularity.firstSold[p]!) / DAY_MS);
    s.logSinceLast[p] = Math.log1p(Math.max(0, asOf - b.popularity.lastSold[p]!) / DAY_MS);
    s.repeatRate[p] = (repeaters[p]! + 0.5) / (b.popularity.customers[p]! + 2);
  }
  return s;
}

export function cutoffState(tf: Tf, sales: readonly SaleLine[], asOf: number): CutoffState {
  const b = buildBaskets(sales, { until: asOf });
  const n = b.products.length;
  const customerOrders: number[][] = b.customers.map(() => []);
  b.orders.forEach((o, i) => { if (o.customer >= 0) customerOrders[o.customer]!.push(i); });
  const knnCache = new Map<number, Neighbours>();
  const easeCache = new Map<string, EaseModel>();
  const popCache = new Map<string, Int32Array>();
  const order = popularityOrder(b);
  const state: CutoffState = {
    tf, asOf, b, n, order,
    g: coCounts(b),
    items: buildItemStats(b, asOf),
    customerOrders: customerOrders.map((a) => Int32Array.from(a)),
    knn(k) {
      let m = knnCache.get(k);
      if (!m) {
        if (!state.g) throw new Error('co-counts released');
        knnCache.set(k, (m = knnFromCounts(state.g, n, k)));
      }
      return m;
    },
    ease(lambda, minSupport) {
      const key = `${lambda}/${minSupport}`;
      let m = easeCache.get(key);
      if (!m) {
        if (!state.g) throw new Error('co-counts released');
        easeCache.set(key, (m = fitEase(tf, state.g, n, lambda, minSupport)));
      }
      return m;
    },
    popularity(days) {
      const key = String(days);
      let o = popCache.get(key);
      if (!o) popCache.set(key, (o = days === null ? order : popularityOrder(b, asOf - days * DAY_MS)));
      return o;
    },
    release(keep = {}) {
      state.g = null;
      for (const k of [...knnCache.keys()]) if (!keep.knn?.includes(k)) knnCache.delete(k);
      for (const k of [...easeCache.keys()]) if (!keep.ease?.includes(k)) easeCache.delete(k);
    },
  };
  return state;
}
