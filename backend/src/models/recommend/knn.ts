// item_knn: cosine similarity between products over the binary customer × product matrix,
// sim(i, j) = G_ij / sqrt(G_ii · G_jj), each product keeping its k nearest neighbours. A
// customer's score for j is the sum of sim(i, j) over the products i they bought.

export interface Neighbours {
  k: number;
  /** n·k product indexes (row i: the neighbours of i, most similar first; −1 = none). */
  index: Int32Array;
  /** n·k similarities matching `index`. */
  sim: Float32Array;
}

/** Top-k neighbours per product from a co-count matrix (n×n, diagonal = buyers). */
export function knnFromCounts(g: Float32Array, n: number, k: number, shrink = 0): Neighbours {
  const index = new Int32Array(n * k).fill(-1);
  const sim = new Float32Array(n * k);
  const norm = new Float64Array(n);
  for (let i = 0; i < n; i++) norm[i] = Math.sqrt(g[i * n + i]!);
  const bestI = new Int32Array(k);
  const bestS = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    if (norm[i] === 0) continue;
    let len = 0;
    const row = i * n;
    for (let j = 0; j < n; j++) {
      const c = g[row + j]!;
      if (j === i || c === 0) continue;
      const s = c / (norm[i]! * norm[j]! + shrink);
      if (len === k && s <= bestS[k - 1]!) continue;
      let pos = len === k ? k - 1 : len;
      while (pos > 0 && bestS[pos - 1]! < s) { bestS[pos] = bestS[pos - 1]!; bestI[pos] = bestI[pos - 1]!; pos--; }
      bestS[pos] = s; bestI[pos] = j;
      if (len < k) len++;
    }
    for (let r = 0; r < len; r++) { index[i * k + r] = bestI[r]!; sim[i * k + r] = bestS[r]!; }
  }
  return { k, index, sim };
}

/** Adds Σ_i w_i · sim(i, ·) over the given products into `out`. */
export function knnScores(nb: Neighbours, items: ArrayLike<number>, out: Float64Array, weights?: ArrayLike<number>): Float64Array {
  const { k, index, sim } = nb;
  for (let x = 0; x < items.length; x++) {
    const base = items[x]! * k;
    const w = weights ? weights[x]! : 1;
    for (let r = 0; r < k; r++) {
      const j = index[base + r]!;
      if (j < 0) break;
      out[j]! += w * sim[base + r]!;
    }
  }
  return out;
}
