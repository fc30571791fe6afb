// Probability calibration fitted on held-out predictions: Platt scaling (a logistic regression
// on the logit of the raw score: two parameters, smooth, cannot overfit much) and isotonic
// regression (pool-adjacent-violators: monotone step function, needs more data). Both map a raw
// probability to a calibrated one and are plain data (JSON) once fitted.
import { fitLogistic } from './logistic.ts';
import { logit, sigmoid } from './stats.ts';

export interface PlattCalibrator { method: 'platt'; a: number; b: number }
export interface IsotonicCalibrator { method: 'isotonic'; x: number[]; y: number[] }
export interface IdentityCalibrator { method: 'none' }
export type Calibrator = PlattCalibrator | IsotonicCalibrator | IdentityCalibrator;

/** p_cal = sigmoid(a · logit(p) + b), fitted by maximum likelihood (tiny ridge for separable data). */
export function fitPlatt(p: ArrayLike<number>, labels: ArrayLike<number | boolean>): PlattCalibrator {
  const rows = Array.from({ length: p.length }, (_, i) => [logit(p[i]!)]);
  const y = Array.from({ length: p.length }, (_, i) => (labels[i] ? 1 : 0));
  const m = fitLogistic(rows, y, { l2: 1e-6 });
  // Undo the internal standardisation: sigmoid(w0 + w1 (z − μ)/σ) = sigmoid(a z + b).
  const a = m.weights[1]! / m.sds[0]!;
  const b = m.weights[0]! - a * m.means[0]!;
  return { method: 'platt', a, b };
}

/** Pool-adjacent-violators on (p, y) sorted by p; knots at block means, linear between them. */
export function fitIsotonic(p: ArrayLike<number>, labels: ArrayLike<number | boolean>, minBlock = 1): IsotonicCalibrator {
  return fitIsotonicValues(p, Array.from({ length: p.length }, (_, i) => (labels[i] ? 1 : 0)), minBlock);
}

/**
 * Isotonic (non-decreasing) least-squares fit of any target on a score. `minBlock` pools every
 * block of fewer points into a neighbour (still monotone): no knot then stands for a single
 * customer, and the map is less jumpy.
 */
export function fitIsotonicValues(p: ArrayLike<number>, target: ArrayLike<number>, minBlock = 1): IsotonicCalibrator {
  const order = Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[a]! - p[b]!);
  const blocks: { sx: number; sy: number; n: number }[] = [];
  for (const i of order) {
    blocks.push({ sx: p[i]!, sy: target[i]!, n: 1 });
    while (blocks.length > 1) {
      const last = blocks[blocks.length - 1]!, prev = blocks[blocks.length - 2]!;
      if (prev.sy / prev.n < last.sy / last.n) break;
      prev.sx += last.sx; prev.sy += last.sy; prev.n += last.n;
      blocks.pop();
    }
  }
  if (minBlock > 1) {
    for (let b = 0; b < blocks.length && blocks.length > 1;) {
      if (blocks[b]!.n >= minBlock) { b++; continue; }
      const into = b + 1 < blocks.length ? b + 1 : b - 1; // the next block, or the previous for the last
      const t = blocks[into]!, s = blocks[b]!;
      t.sx += s.sx; t.sy += s.sy; t.n += s.n;
      blocks.splice(b, 1);
      if (into < b) b--;
    }
  }
  return { method: 'isotonic', x: blocks.map((b) => b.sx / b.n), y: blocks.map((b) => b.sy / b.n) };
}

export function calibrate(c: Calibrator, p: number): number {
  if (c.method === 'none') return p;
  if (c.method === 'platt') return sigmoid(c.a * logit(p) + c.b);
  const { x, y } = c;
  if (x.length === 0) return p;
  if (p <= x[0]!) return y[0]!;
  if (p >= x[x.length - 1]!) return y[y.length - 1]!;
  let lo = 0, hi = x.length - 1;
  while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (x[mid]! <= p) lo = mid; else hi = mid; }
  const span = x[hi]! - x[lo]!;
  return span > 0 ? y[lo]! + ((p - x[lo]!) / span) * (y[hi]! - y[lo]!) : y[hi]!;
}

export function calibrateAll(c: Calibrator, p: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: p.length }, (_, i) => calibrate(c, p[i]!));
}

