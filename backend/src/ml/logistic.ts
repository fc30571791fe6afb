// L2-regularised logistic regression fitted by Newton's method (IRLS) in plain JS — exact and
// deterministic for the few-feature baselines and Platt scaling. Features are standardised
// inside (means and sds kept in the model); the intercept is not penalised.
import { sigmoid } from './stats.ts';

export interface LogisticModel {
  means: number[];
  sds: number[];
  /** weights[0] is the intercept, then one weight per standardised feature. */
  weights: number[];
}

/** rows: n × d (row-major), labels 0/1, optional sample weights. */
export function fitLogistic(rows: ArrayLike<number>[], labels: ArrayLike<number>, opts: { l2?: number; iterations?: number; weights?: ArrayLike<number> } = {}): LogisticModel {
  const n = rows.length, d = n > 0 ? rows[0]!.length : 0, l2 = opts.l2 ?? 1e-3;
  const means = new Array<number>(d).fill(0), sds = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) means[j]! += r[j]! / n;
  for (const r of rows) for (let j = 0; j < d; j++) sds[j]! += (r[j]! - means[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) sds[j] = Math.sqrt(sds[j]!) || 1;
  const k = d + 1;
  const z = (r: ArrayLike<number>, j: number): number => (j === 0 ? 1 : (r[j - 1]! - means[j - 1]!) / sds[j - 1]!);
  const w = new Array<number>(k).fill(0);
  let wsum = 0, ysum = 0;
  for (let i = 0; i < n; i++) { const sw = opts.weights ? opts.weights[i]! : 1; wsum += sw; ysum += sw * labels[i]!; }
  const base = Math.min(1 - 1e-6, Math.max(1e-6, ysum / Math.max(wsum, 1e-12)));
  w[0] = Math.log(base / (1 - base));
  const zi = new Float64Array(k);
  for (let it = 0; it < (opts.iterations ?? 50); it++) {
    const g = new Float64Array(k), H = Array.from({ length: k }, () => new Float64Array(k));
    for (let i = 0; i < n; i++) {
      const r = rows[i]!, sw = opts.weights ? opts.weights[i]! : 1;
      let s = 0;
      for (let j = 0; j < k; j++) { zi[j] = z(r, j); s += w[j]! * zi[j]!; }
      const p = sigmoid(s), e = sw * (p - labels[i]!), h = sw * Math.max(p * (1 - p), 1e-12);
      for (let a = 0; a < k; a++) {
        g[a]! += e * zi[a]!;
        for (let b = 0; b <= a; b++) H[a]![b]! += h * zi[a]! * zi[b]!;
      }
    }
    for (let a = 1; a < k; a++) { g[a]! += l2 * wsum * w[a]!; H[a]![a]! += l2 * wsum; }
    for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) H[a]![b] = H[b]![a]!;
    H[0]![0]! += 1e-9;
    const step = solve(H, g);
    let maxStep = 0;
    for (let j = 0; j < k; j++) { w[j]! -= step[j]!; maxStep = Math.max(maxStep, Math.abs(step[j]!)); }
    if (maxStep < 1e-10) break;
  }
  return { means, sds, weights: w };
}

export function logisticScore(m: LogisticModel, row: ArrayLike<number>): number {
  let s = m.weights[0]!;
  for (let j = 0; j < m.means.length; j++) s += m.weights[j + 1]! * ((row[j]! - m.means[j]!) / m.sds[j]!);
  return s;
}

export function predictLogistic(m: LogisticModel, row: ArrayLike<number>): number {
  return sigmoid(logisticScore(m, row));
}

/** Solves A x = b (A symmetric positive definite) by Gaussian elimination with partial pivoting. */
export function solve(A: ArrayLike<number>[], b: ArrayLike<number>): Float64Array {
  const n = b.length;
  const M = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n + 1 }, (_, j) => (j < n ? A[i]![j]! : b[i]!)));
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[piv]![c]!)) piv = r;
    if (piv !== c) { const t = M[c]!; M[c] = M[piv]!; M[piv] = t; }
    const d = M[c]![c]! || 1e-12;
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / d;
      if (f === 0) continue;
      for (let j = c; j <= n; j++) M[r]![j]! -= f * M[c]![j]!;
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let j = r + 1; j < n; j++) s -= M[r]![j]! * x[j]!;
    x[r] = s / (M[r]![r]! || 1e-12);
  }
  return x;
}
