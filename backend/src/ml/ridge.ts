// Ridge (L2) linear regression by the normal equations on standardised inputs — exact,
// deterministic, for the few-feature spend regression. The intercept is not penalised.
import { solve } from './logistic.ts';

export interface RidgeModel {
  means: number[];
  sds: number[];
  /** weights[0] is the intercept. */
  weights: number[];
  /** Mean squared residual on the training rows. */
  residualVariance: number;
}

export function fitRidge(rows: ArrayLike<number>[], target: ArrayLike<number>, l2 = 1e-3): RidgeModel {
  const n = rows.length, d = n > 0 ? rows[0]!.length : 0, k = d + 1;
  const means = new Array<number>(d).fill(0), sds = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) means[j]! += r[j]! / n;
  for (const r of rows) for (let j = 0; j < d; j++) sds[j]! += (r[j]! - means[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) sds[j] = Math.sqrt(sds[j]!) || 1;
  const A = Array.from({ length: k }, () => new Float64Array(k)), b = new Float64Array(k), z = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    z[0] = 1;
    for (let j = 0; j < d; j++) z[j + 1] = (rows[i]![j]! - means[j]!) / sds[j]!;
    for (let a = 0; a < k; a++) {
      b[a]! += z[a]! * target[i]!;
      for (let c = 0; c < k; c++) A[a]![c]! += z[a]! * z[c]!;
    }
  }
  for (let a = 1; a < k; a++) A[a]![a]! += l2 * Math.max(n, 1);
  A[0]![0]! += 1e-12;
  const w = Array.from(solve(A, b));
  const model: RidgeModel = { means, sds, weights: w, residualVariance: 0 };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (predictRidge(model, rows[i]!) - target[i]!) ** 2;
  model.residualVariance = n > 0 ? ss / n : 0;
  return model;
}

export function predictRidge(m: RidgeModel, row: ArrayLike<number>): number {
  let s = m.weights[0]!;
  for (let j = 0; j < m.means.length; j++) s += m.weights[j + 1]! * ((row[j]! - m.means[j]!) / m.sds[j]!);
  return s;
}
