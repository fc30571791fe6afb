// EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): the item-item
// weight matrix minimising ‖X − XB‖² + λ‖B‖² subject to diag(B) = 0 has the closed form
//   P = (XᵀX + λI)⁻¹,   B_ij = −P_ij / P_jj (i ≠ j),   B_jj = 0,
// and a customer's scores are x_u B. X is the binary customer × product matrix. Products bought
// by fewer than `minSupport` customers are left out of the inverse (their scores stay 0, below
// every scored product; they can still be recommended by the popularity fallback): it keeps the
// O(m³) inverse small and those columns carry almost no signal.
import type { Tf } from '../../ml/tensor-backend.ts';
import { spdInverse } from './linalg.ts';

export interface EaseModel {
  lambda: number;
  /** Product indexes (into the full catalog) kept in the model, ascending. */
  kept: Int32Array;
  /** Full-catalog index → position in `kept`, or −1. */
  pos: Int32Array;
  /** m×m weights, row-major, B[i·m + j] = weight of kept[i] for predicting kept[j]. */
  b: Float32Array;
}

/** Kept products: diagonal of the co-count matrix (= distinct buyers) ≥ minSupport. */
export function keptProducts(g: Float32Array, n: number, minSupport: number): Int32Array {
  const kept: number[] = [];
  for (let i = 0; i < n; i++) if (g[i * n + i]! >= minSupport) kept.push(i);
  return Int32Array.from(kept);
}

/** The Gram sub-matrix over `kept`, plus λ on the diagonal. */
export function regularisedGram(g: Float32Array, n: number, kept: Int32Array, lambda: number): Float32Array {
  const m = kept.length;
  const a = new Float32Array(m * m);
  for (let x = 0; x < m; x++) {
    const row = kept[x]! * n;
    for (let y = 0; y < m; y++) a[x * m + y] = g[row + kept[y]!]!;
    a[x * m + x]! += lambda;
  }
  return a;
}

/** B from P = (G + λI)⁻¹, in place over P. */
export function easeFromInverse(p: Float32Array, m: number): Float32Array {
  const d = new Float64Array(m);
  for (let j = 0; j < m; j++) d[j] = p[j * m + j]!;
  for (let i = 0; i < m; i++) {
    const row = i * m;
    for (let j = 0; j < m; j++) p[row + j] = i === j ? 0 : -p[row + j]! / d[j]!;
  }
  return p;
}

export function fitEase(tf: Tf, g: Float32Array, n: number, lambda: number, minSupport: number): EaseModel {
  const kept = keptProducts(g, n, minSupport);
  const m = kept.length;
  const pos = new Int32Array(n).fill(-1);
  kept.forEach((p, x) => { pos[p] = x; });
  const b = m === 0 ? new Float32Array(0) : easeFromInverse(spdInverse(tf, regularisedGram(g, n, kept, lambda), m), m);
  return { lambda, kept, pos, b };
}

/** Adds Σ_i w_i · B[i, ·] over the given products (full-catalog indexes) into `out` (full catalog). */
export function easeScores(model: EaseModel, items: ArrayLike<number>, out: Float64Array, weights?: ArrayLike<number>): Float64Array {
  const { kept, pos, b } = model;
  const m = kept.length;
  const acc = new Float64Array(m);
  let any = false;
  for (let x = 0; x < items.length; x++) {
    const i = pos[items[x]!]!;
    if (i < 0) continue;
    any = true;
    const w = weights ? weights[x]! : 1;
    const row = i * m;
    for (let j = 0; j < m; j++) acc[j]! += w * b[row + j]!;
  }
  if (any) for (let j = 0; j < m; j++) out[kept[j]!]! += acc[j]!;
  return out;
}

/** Plain and weighted EASE scores in one pass: out1 += Σ_i B[i, ·], out2 += Σ_i w_i · B[i, ·]. */
export function easeScores2(model: EaseModel, items: ArrayLike<number>, weights: ArrayLike<number>, out1: Float64Array, out2: Float64Array): void {
  const { kept, pos, b } = model;
  const m = kept.length;
  const a1 = new Float64Array(m), a2 = new Float64Array(m);
  let any = false;
  for (let x = 0; x < items.length; x++) {
    const i = pos[items[x]!]!;
    if (i < 0) continue;
    any = true;
    const w = weights[x]!;
    const row = i * m;
    for (let j = 0; j < m; j++) { const v = b[row + j]!; a1[j]! += v; a2[j]! += w * v; }
  }
  if (any) for (let j = 0; j < m; j++) { out1[kept[j]!]! += a1[j]!; out2[kept[j]!]! += a2[j]!; }
}
