// Shared pieces of the recommenders: the popularity order every list falls back on (and breaks
// ties with), top-k selection over a dense score vector, and the customer-level co-purchase
// counts (G = XᵀX over the binary customer × product matrix) that item-kNN and EASE start from.
import type { Baskets } from '../../features/baskets.ts';

/**
 * Product indexes by popularity, most popular first: distinct customers, then orders, then
 * index (stable). Every ranking breaks ties in this order. With `from`, popularity counts only
 * orders since then (ties by all-time popularity).
 */
export function popularityOrder(b: Baskets, from = -Infinity): Int32Array {
  const n = b.products.length;
  let cust: ArrayLike<number> = b.popularity.customers;
  let ord: ArrayLike<number> = b.popularity.orders;
  if (from > -Infinity) {
    // Popularity over a recent window only.
    const c = new Int32Array(n), o = new Int32Array(n);
    const seen = new Set<number>();
    for (const od of b.orders) {
      if (od.time < from) continue;
      for (const p of od.items) {
        o[p]!++;
        if (od.customer >= 0) {
          const key = od.customer * n + p;
          if (!seen.has(key)) { seen.add(key); c[p]!++; }
        }
      }
    }
    cust = c; ord = o;
  }
  const idx = Array.from({ length: n }, (_, i) => i);
  const allCust = b.popularity.customers, allOrd = b.popularity.orders;
  idx.sort((a, z) => cust[z]! - cust[a]! || ord[z]! - ord[a]! || allCust[z]! - allCust[a]! || allOrd[z]! - allOrd[a]! || a - z);
  return Int32Array.from(idx);
}

/**
 * The k highest-scoring products, ties broken by `order` (earlier wins). Products for which
 * `skip` returns true are left out. Scores of NaN count as −∞.
 */
export function topK(scores: ArrayLike<number>, order: Int32Array, k: number, skip?: (p: number) => boolean): Int32Array {
  const best = new Int32Array(k);
  const bestScore = new Float64Array(k);
  let len = 0;
  for (let r = 0; r < order.length; r++) {
    const p = order[r]!;
    let s = scores[p]!;
    if (s !== s) s = -Infinity;
    if (len === k && s <= bestScore[k - 1]!) continue;
    if (skip && skip(p)) continue;
    // Insert after every entry with a score ≥ s (those came earlier in `order` or score higher).
    let pos = len === k ? k - 1 : len;
    while (pos > 0 && bestScore[pos - 1]! < s) {
      best[pos] = best[pos - 1]!;
      bestScore[pos] = bestScore[pos - 1]!;
      pos--;
    }
    best[pos] = p;
    bestScore[pos] = s;
    if (len < k) len++;
  }
  return best.slice(0, len);
}

/** Customer-level co-purchase counts over all products, n×n row-major (diagonal = buyers). */
export function coCounts(b: Baskets): Float32Array {
  const n = b.products.length;
  const g = new Float32Array(n * n);
  for (const h of b.histories) {
    const it = h.items;
    for (let x = 0; x < it.length; x++) {
      const row = it[x]! * n;
      for (let y = 0; y < it.length; y++) g[row + it[y]!]! += 1;
    }
  }
  return g;
}

/** Order-level co-occurrence counts (n×n, diagonal = orders containing the product), guest orders included. */
export function orderCoCounts(b: Baskets): Float32Array {
  const n = b.products.length;
  const g = new Float32Array(n * n);
  for (const o of b.orders) {
    const it = o.items;
    for (let x = 0; x < it.length; x++) {
      const row = it[x]! * n;
      for (let y = 0; y < it.length; y++) g[row + it[y]!]! += 1;
    }
  }
  return g;
}
