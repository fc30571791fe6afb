// Evaluation maths shared by the customer models: ranking (AUC), probability quality (Brier,
// log loss), rank correlation (Spearman with tie-averaged ranks), error (MAE). Pure functions on
// plain arrays; undefined results (one class only, a constant series) are NaN, never a guess.

export type Numbers = ArrayLike<number>;

export function mean(x: Numbers): number {
  if (x.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}

/** Population standard deviation (divides by n). */
export function std(x: Numbers): number {
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i]! - m) ** 2;
  return Math.sqrt(s / x.length);
}

/** Least-squares slope of y on x (NaN with fewer than two distinct x). */
export function linearSlope(x: Numbers, y: Numbers): number {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : NaN;
}

/** 1-based ranks, ties get the average of the ranks they span (fractional ranking). */
export function averageRanks(x: Numbers): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]!]! === x[order[i]!]!) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = r;
    i = j + 1;
  }
  return ranks;
}

/**
 * Area under the ROC curve = P(score of a random positive > score of a random negative), ties
 * counting one half (Mann–Whitney U with average ranks). Labels are 0/1 (or booleans).
 */
export function auc(scores: Numbers, labels: ArrayLike<number | boolean>): number {
  const ranks = averageRanks(scores);
  let nPos = 0, sumPos = 0;
  for (let i = 0; i < ranks.length; i++) if (labels[i]) { nPos++; sumPos += ranks[i]!; }
  const nNeg = ranks.length - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (sumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Mean squared error of probabilities against 0/1 outcomes. */
export function brier(p: Numbers, labels: ArrayLike<number | boolean>): number {
  if (p.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i]! - (labels[i] ? 1 : 0)) ** 2;
  return s / p.length;
}

/** Mean negative log-likelihood (natural log); probabilities clipped to [eps, 1 − eps]. */
export function logLoss(p: Numbers, labels: ArrayLike<number | boolean>, eps = 1e-15): number {
  if (p.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(1 - eps, Math.max(eps, p[i]!));
    s -= labels[i] ? Math.log(q) : Math.log(1 - q);
  }
  return s / p.length;
}

export function pearson(x: Numbers, y: Numbers): number {
  const n = x.length;
  if (n !== y.length || n < 2) return NaN;
  const mx = mean(x), my = mean(y);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx, dy = y[i]! - my;
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** Spearman's rho: Pearson correlation of the average ranks (the tie-correct form). */
export function spearman(x: Numbers, y: Numbers): number {
  return pearson(averageRanks(x), averageRanks(y));
}

export function mae(pred: Numbers, actual: Numbers): number {
  if (pred.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += Math.abs(pred[i]! - actual[i]!);
  return s / pred.length;
}

/** Numerically safe logistic and logit. */
export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

export function logit(p: number, eps = 1e-6): number {
  const q = Math.min(1 - eps, Math.max(eps, p));
  return Math.log(q / (1 - q));
}

/** Rounds to `digits` significant decimals: for reported figures, not for maths. */
export function round(x: number, digits = 4): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
