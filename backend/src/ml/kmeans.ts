// k-means for customer segments: k-means++ seeding from the seeded PRNG (or given initial
// centroids, for a retrain that should keep its clusters), Lloyd iterations in TensorFlow.js
// (distances as one matrix product, centroid sums by segment), and the silhouette coefficient
// (exact, in plain JS, on a sample). Points are row-major Float64Arrays of n × d.
import type { Tensor1D } from '@tensorflow/tfjs';
import type { Tf } from './tensor-backend.ts';
import type { Prng } from './prng.ts';

export interface KMeansResult {
  k: number;
  /** k × d, row-major. */
  centroids: number[][];
  labels: Int32Array;
  /** Sum of squared distances to the assigned centroid. */
  inertia: number;
  iterations: number;
}

export function sqDist(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) { const t = a[ao + j]! - b[bo + j]!; s += t * t; }
  return s;
}

/** k-means++ (Arthur & Vassilvitskii 2007): each next centre drawn with probability ∝ D². */
export function kmeansPlusPlus(X: Float64Array, n: number, d: number, k: number, rng: Prng): number[][] {
  const centres: number[][] = [];
  const first = rng.below(n);
  centres.push(Array.from(X.subarray(first * d, first * d + d)));
  const best = new Float64Array(n).fill(Infinity);
  while (centres.length < k) {
    const c = centres[centres.length - 1]!;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const dd = sqDist(X, i * d, c, 0, d);
      if (dd < best[i]!) best[i] = dd;
      total += best[i]!;
    }
    let pick = n - 1;
    if (total > 0) {
      let r = rng.next() * total;
      for (let i = 0; i < n; i++) { r -= best[i]!; if (r < 0) { pick = i; break; } }
    } else pick = rng.below(n);
    centres.push(Array.from(X.subarray(pick * d, pick * d + d)));
  }
  return centres;
}

/** Nearest centroid of every point (plain JS, float64: what scoring uses). */
export function assign(X: ArrayLike<number>, n: number, d: number, centroids: number[][]): Int32Array {
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let bi = 0, bd = Infinity;
    for (let c = 0; c < centroids.length; c++) {
      const dd = sqDist(X, i * d, centroids[c]!, 0, d);
      if (dd < bd) { bd = dd; bi = c; }
    }
    labels[i] = bi;
  }
  return labels;
}

/** Lloyd's algorithm from the given initial centroids. An emptied cluster takes the point farthest from its centroid. */
export function lloyd(tf: Tf, X: Float64Array, n: number, d: number, init: number[][], opts: { maxIterations?: number } = {}): KMeansResult {
  const k = init.length;
  const maxIt = opts.maxIterations ?? 100;
  let centroids = init.map((c) => c.slice());
  let labels: Int32Array = new Int32Array(n).fill(-1);
  let iterations = 0;
  const xs = tf.tensor2d(Float32Array.from(X), [n, d]);
  const xsq = tf.sum(tf.square(xs), 1, true);
  try {
    for (; iterations < maxIt; iterations++) {
      const [lab, sums, counts, far] = tf.tidy(() => {
        const c = tf.tensor2d(centroids.flat(), [k, d]);
        const dist = tf.add(tf.sub(xsq, tf.mul(2, tf.matMul(xs, c, false, true))), tf.transpose(tf.sum(tf.square(c), 1, true)));
        const l = tf.argMin(dist, 1) as Tensor1D;
        const minD = tf.min(dist, 1);
        // Centroid sums as onehotᵀ · X (the wasm backend has no UnsortedSegmentSum kernel).
        const onehot = tf.oneHot(l, k).toFloat();
        return [l.dataSync(), tf.matMul(onehot, xs, true, false).dataSync(), tf.sum(onehot, 0).dataSync(), minD.dataSync()];
      });
      const next = Int32Array.from(lab);
      const changed = next.some((v, i) => v !== labels[i]);
      labels = next;
      const fresh: number[][] = [];
      const taken = new Set<number>();
      for (let c = 0; c < k; c++) {
        const cnt = counts[c]!;
        if (cnt > 0) fresh.push(Array.from({ length: d }, (_, j) => sums[c * d + j]! / cnt));
        else {
          let fi = 0, fd = -1;
          for (let i = 0; i < n; i++) if (!taken.has(i) && far[i]! > fd) { fd = far[i]!; fi = i; }
          taken.add(fi);
          fresh.push(Array.from(X.subarray(fi * d, fi * d + d)));
          labels[fi] = c;
        }
      }
      centroids = fresh;
      if (!changed && iterations > 0) break;
    }
  } finally {
    xs.dispose();
    xsq.dispose();
  }
  // Final assignment and inertia in float64.
  labels = assign(X, n, d, centroids);
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += sqDist(X, i * d, centroids[labels[i]!]!, 0, d);
  return { k, centroids, labels, inertia, iterations };
}

/** Best of `restarts` k-means++ runs (lowest inertia). */
export function kmeans(tf: Tf, X: Float64Array, n: number, d: number, k: number, rng: Prng, restarts = 3): KMeansResult {
  let best: KMeansResult | null = null;
  for (let r = 0; r < restarts; r++) {
    const res = lloyd(tf, X, n, d, kmeansPlusPlus(X, n, d, k, rng.fork(`kmeans++ ${k} ${r}`)));
    if (!best || res.inertia < best.inertia - 1e-9) best = res;
  }
  return best!;
}

/**
 * Mean silhouette over the points in `sample` (indices; default all): for each, a = mean
 * distance to the other members of its cluster, b = the smallest mean distance to another
 * cluster, s = (b − a) / max(a, b); a point alone in its cluster scores 0 (Rousseeuw 1987).
 * Distances are Euclidean and computed against the sampled points only.
 */
export function silhouette(X: ArrayLike<number>, d: number, labels: ArrayLike<number>, sample?: ArrayLike<number>): number {
  const idx = sample ? Array.from(sample) : Array.from({ length: labels.length }, (_, i) => i);
  const k = Math.max(...idx.map((i) => labels[i]!)) + 1;
  const size = new Float64Array(k);
  for (const i of idx) size[labels[i]!]!++;
  if (size.filter((s) => s > 0).length < 2) return NaN;
  let total = 0;
  const sums = new Float64Array(k);
  for (const i of idx) {
    sums.fill(0);
    for (const j of idx) if (j !== i) sums[labels[j]!]! += Math.sqrt(sqDist(X, i * d, X, j * d, d));
    const own = labels[i]!;
    if (size[own]! <= 1) continue; // s = 0
    const a = sums[own]! / (size[own]! - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && size[c]! > 0) b = Math.min(b, sums[c]! / size[c]!);
    const m = Math.max(a, b);
    total += m > 0 ? (b - a) / m : 0;
  }
  return total / idx.length;
}
