// Drift statistics: pure functions on sorted typed arrays and on counts. No I/O, no allocation
// proportional to the data beyond what the caller passes in.
//
//   Two-sample Kolmogorov–Smirnov   D = sup |F_ref − F_cur|; p-value as scipy.stats.ks_2samp
//                                   (method 'auto'): exact when max(n1, n2) ≤ 10,000 — Hodges'
//                                   "inside" lattice-path count in Viehmann's numerically stable
//                                   form for n1 ≠ n2, the alternating binomial sum for n1 = n2 —
//                                   otherwise the Kolmogorov limit with Stephens' correction.
//   Normalized Wasserstein (W1)     ∫ |F_ref − F_cur| dx (scipy.stats.wasserstein_distance),
//                                   divided by the reference's population standard deviation
//                                   floored at 0.001 — Evidently's "wasserstein" stattest.
//   Chi-squared (homogeneity)       2 × k contingency table reference vs current, df = k − 1,
//                                   p-value from jstat's chi-squared cdf (see chiSquareHomogeneity
//                                   for why this is not Evidently's goodness-of-fit form).
//   Two-proportion z test           pooled standard error (rollout/stats.ts, one place).
//   Jensen–Shannon distance         √JSD with base-2 logarithms: in [0, 1].
//   PSI                             Σ (r − c) ln(r / c) over bins, zero shares replaced as Evidently
//                                   does; reported only.
//
// KS and Wasserstein come out of ONE merge walk over the two sorted arrays (O(n1 + n2)), which
// also counts the distinct values of the union and, while there are few, their counts.
import { createRequire } from 'node:module';
import { twoProportionZTest } from '../rollout/stats.ts';

const jStat = createRequire(import.meta.url)('jstat') as { chisquare: { cdf(x: number, dof: number): number } };

// ---------------------------------------------------------------- sorting

/**
 * The finite values of `x`, sorted ascending, in a new Float64Array (NaN and ±Infinity are
 * missing values and dropped). One copy and one `Float64Array.prototype.sort`.
 */
export function sortedFinite(x: ArrayLike<number>): { sorted: Float64Array; missing: number } {
  const a = x instanceof Float64Array ? x.slice() : Float64Array.from(x);
  a.sort(); // numeric; NaN last
  let lo = 0, hi = a.length;
  while (lo < hi && a[lo] === -Infinity) lo++;
  while (hi > lo && !(a[hi - 1]! < Infinity)) hi--; // NaN and +Infinity
  return { sorted: lo === 0 && hi === a.length ? a : a.subarray(lo, hi), missing: a.length - (hi - lo) };
}

// ---------------------------------------------------------------- the merge walk

export interface MergeWalk {
  /** max |i·n2 − j·n1| over the walk: D = dScaled / (n1·n2), exactly (integers below 2^53). */
  dScaled: number;
  /** KS statistic D. */
  ks: number;
  /** Wasserstein-1 distance between the two empirical distributions (not normalized). */
  wasserstein: number;
  /** Distinct values in the union of the two samples. */
  distinct: number;
  /** When distinct ≤ the cap given: the distinct values, ascending, with their counts per sample. */
  values: number[] | null;
  refCounts: number[] | null;
  curCounts: number[] | null;
}

/**
 * One pass over two ascending, NaN-free arrays: the KS statistic, the Wasserstein-1 distance,
 * the number of distinct values, and (up to `maxValues` distinct values) the value counts.
 */
export function mergeWalk(a: Float64Array, b: Float64Array, maxValues = 0): MergeWalk {
  const n1 = a.length, n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('mergeWalk needs two non-empty samples');
  // s = i·n2 − j·n1 = n1·n2·(F_a − F_b) on [prev, x): an exact integer, so D is exact and the
  // area is accumulated in those units and divided once at the end.
  let i = 0, j = 0, s = 0, dScaled = 0, area = 0, distinct = 0;
  let prev = a[0]! < b[0]! ? a[0]! : b[0]!;
  let track = maxValues > 0;
  const values: number[] = [], refCounts: number[] = [], curCounts: number[] = [];
  const step = (x: number, i0: number, j0: number): void => {
    distinct++;
    if (track) {
      if (distinct > maxValues) track = false;
      else { values.push(x); refCounts.push(i - i0); curCounts.push(j - j0); }
    }
  };
  while (i < n1 && j < n2) {
    const va = a[i]!, vb = b[j]!;
    const i0 = i, j0 = j;
    let x: number;
    if (va < vb) { x = va; i++; while (i < n1 && a[i] === x) i++; }
    else if (vb < va) { x = vb; j++; while (j < n2 && b[j] === x) j++; }
    else { x = va; i++; j++; while (i < n1 && a[i] === x) i++; while (j < n2 && b[j] === x) j++; }
    area += (s < 0 ? -s : s) * (x - prev);
    s = i * n2 - j * n1;
    const as = s < 0 ? -s : s;
    if (as > dScaled) dScaled = as;
    if (track) step(x, i0, j0); else distinct++;
    prev = x;
  }
  // One sample is exhausted: |F_a − F_b| only shrinks from here (D is already known).
  while (i < n1) {
    const x = a[i]!, i0 = i;
    i++;
    while (i < n1 && a[i] === x) i++;
    area += (s < 0 ? -s : s) * (x - prev);
    s = i * n2 - j * n1;
    if (track) step(x, i0, j); else distinct++;
    prev = x;
  }
  while (j < n2) {
    const x = b[j]!, j0 = j;
    j++;
    while (j < n2 && b[j] === x) j++;
    area += (s < 0 ? -s : s) * (x - prev);
    s = i * n2 - j * n1;
    if (track) step(x, i, j0); else distinct++;
    prev = x;
  }
  const keep = track || (maxValues > 0 && distinct <= maxValues);
  return {
    dScaled, ks: dScaled / n1 / n2, wasserstein: area / n1 / n2, distinct,
    values: keep ? values : null, refCounts: keep ? refCounts : null, curCounts: keep ? curCounts : null,
  };
}

/** scipy.stats.wasserstein_distance(u, v) for ascending, NaN-free samples. */
export function wassersteinSorted(a: Float64Array, b: Float64Array): number {
  return mergeWalk(a, b).wasserstein;
}

/** Population standard deviation (numpy's np.std, ddof = 0), two passes. */
export function populationStd(x: Float64Array): number {
  const n = x.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i]!;
  const m = s / n;
  let q = 0;
  for (let i = 0; i < n; i++) { const d = x[i]! - m; q += d * d; }
  return Math.sqrt(q / n);
}

/** Evidently's normalization: W1 / max(std(reference), 0.001). */
export function normalizedWasserstein(w1: number, referenceStd: number): number {
  return w1 / Math.max(referenceStd, 0.001);
}

// ---------------------------------------------------------------- Kolmogorov–Smirnov p-values

export interface KsResult {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymptotic';
}

/** Sample size up to which the p-value is exact (scipy's MAX_AUTO_N for method 'auto'). */
export const KS_EXACT_MAX_N = 10_000;
/** Work budget of the exact unequal-size p-value (steps of the inside method). */
export const KS_EXACT_MAX_STEPS = 20_000_000;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * P(D_{n,n} ≥ h/n) under H0, for two samples of the same size n: the alternating sum
 * 2 Σ_k (−1)^{k−1} C(2n, n − kh) / C(2n, n), evaluated in Horner form (scipy's
 * _compute_prob_outside_square) to avoid cancellation.
 */
export function ksProbOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/**
 * P(D_{m,n} ≥ h / lcm(m, n)) under H0 for samples of sizes m, n with g = gcd(m, n): the share of
 * monotone lattice paths from (0, 0) to (m, n) that leave the band |x/m − y/n| < h/lcm. Hodges'
 * inside method, with Viehmann's recursion on 1 − p (arXiv:2102.08037), as scipy computes it
 * (_compute_outer_prob_inside_method). O(m × band width).
 */
export function ksProbOutsideInside(m0: number, n0: number, g: number, h: number): number {
  let m = m0, n = n0;
  if (m < n) [m, n] = [n, m];
  const mg = m / g, ng = n / g;
  let minj = 0, maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(Math.max(lenA, 1)).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj, lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1]!;
}

/**
 * Kolmogorov's limiting distribution: Q(λ) = P(K > λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}; for
 * small λ the equivalent theta-function form 1 − (√(2π)/λ) Σ e^{−(2k−1)²π²/(8λ²)} converges faster.
 */
export function kolmogorovSf(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 1.18) {
    const w = -(Math.PI * Math.PI) / (8 * lambda * lambda);
    let s = 0;
    for (let k = 1; k <= 9; k += 2) s += Math.exp(k * k * w);
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / lambda) * s));
  }
  let s = 0;
  for (let k = 1; k <= 100; k++) {
    const t = Math.exp(-2 * k * k * lambda * lambda);
    s += k % 2 === 1 ? t : -t;
    if (t < 1e-17) break;
  }
  return Math.min(1, Math.max(0, 2 * s));
}

/**
 * Two-sided two-sample KS p-value from the walk's scaled statistic (dScaled = D·n1·n2). Exact as
 * scipy's ks_2samp(method='auto') when max(n1, n2) ≤ 10,000 and the lattice is small enough;
 * otherwise the Kolmogorov limit at λ = (√en + 0.12 + 0.11/√en)·D, en = n1·n2/(n1 + n2)
 * (Stephens 1970; scipy uses the one-sample exact law at round(en) there — the two agree to
 * about 1e-3 at en ≥ 100).
 */
export function ksPValue(dScaled: number, n1: number, n2: number): KsResult {
  const d = dScaled / n1 / n2;
  const g = gcd(n1, n2);
  const h = dScaled / g; // = round(D · lcm(n1, n2)), an integer
  if (h === 0) return { statistic: d, pValue: 1, method: 'exact' };
  // The inside method costs max(n1, n2) × band width; a band that wide means a large D, where both
  // laws give p ≈ 0 — the asymptotic one is used then rather than spend ~10⁸ steps.
  const band = Math.min(Math.min(n1, n2) + 1, 2 * Math.ceil(h / (Math.max(n1, n2) / g)) + 2);
  const affordable = n1 === n2 || Math.max(n1, n2) * band <= KS_EXACT_MAX_STEPS;
  if (Math.max(n1, n2) <= KS_EXACT_MAX_N && n1 / g < 2147483647 / (n2 / g) && affordable) {
    const p = n1 === n2 ? ksProbOutsideSquare(n1, h) : ksProbOutsideInside(n1, n2, g, h);
    // Round-off can leave p a few ulps outside [0, 1] (e.g. 1 + 2e-16 at D = 1/n): clamp those.
    if (p >= -1e-9 && p <= 1 + 1e-9) return { statistic: d, pValue: Math.min(1, Math.max(0, p)), method: 'exact' };
  }
  const en = (n1 * n2) / (n1 + n2);
  const s = Math.sqrt(en);
  return { statistic: d, pValue: kolmogorovSf((s + 0.12 + 0.11 / s) * d), method: 'asymptotic' };
}

/** Two-sample KS test on ascending, NaN-free samples. */
export function ksTwoSample(a: Float64Array, b: Float64Array): KsResult {
  return ksPValue(mergeWalk(a, b).dScaled, a.length, b.length);
}

// ---------------------------------------------------------------- categorical tests

export interface ChiSquareResult {
  statistic: number;
  df: number;
  pValue: number;
}

/**
 * Pearson's chi-squared test of homogeneity on the 2 × k table (reference counts, current counts)
 * — scipy.stats.chi2_contingency without Yates' correction (which scipy applies only at df = 1;
 * binary columns go to the z test instead). Categories empty in both samples are dropped.
 *
 * Evidently's "chisquare" is a goodness-of-fit test of the current counts against the reference
 * shares scaled to the current size, i.e. it treats the reference as the exact population. With
 * two samples of similar size that ignores half the variance and raises false alarms far above α
 * (test/unit/drift-calibration.test.ts measures it); the homogeneity test is the two-sample test.
 */
export function chiSquareHomogeneity(ref: ArrayLike<number>, cur: ArrayLike<number>): ChiSquareResult {
  if (ref.length !== cur.length) throw new RangeError('chi-squared: reference and current need the same categories');
  let n1 = 0, n2 = 0;
  for (let k = 0; k < ref.length; k++) { n1 += ref[k]!; n2 += cur[k]!; }
  const n = n1 + n2;
  let stat = 0, cats = 0;
  if (n1 > 0 && n2 > 0) {
    for (let k = 0; k < ref.length; k++) {
      const t = ref[k]! + cur[k]!;
      if (t === 0) continue;
      cats++;
      const e1 = (n1 * t) / n, e2 = (n2 * t) / n;
      stat += (ref[k]! - e1) ** 2 / e1 + (cur[k]! - e2) ** 2 / e2;
    }
  }
  const df = cats - 1;
  if (df < 1) return { statistic: 0, df: Math.max(df, 0), pValue: 1 };
  return { statistic: stat, df, pValue: Math.min(1, Math.max(0, 1 - jStat.chisquare.cdf(stat, df))) };
}

export interface ZTestResult {
  statistic: number;
  pValue: number;
  referenceRate: number;
  currentRate: number;
}

/**
 * Two-proportion z test (pooled standard error, two-sided) of the share of `successes` — for a
 * binary column, the share of one of its two values — in reference vs current. Evidently's "z".
 */
export function twoProportionZ(refSuccesses: number, refN: number, curSuccesses: number, curN: number): ZTestResult {
  if (refSuccesses + curSuccesses === 0 || refSuccesses + curSuccesses === refN + curN) {
    return { statistic: 0, pValue: 1, referenceRate: refN ? refSuccesses / refN : NaN, currentRate: curN ? curSuccesses / curN : NaN };
  }
  const t = twoProportionZTest(refSuccesses, refN, curSuccesses, curN);
  return { statistic: t.z, pValue: t.p, referenceRate: t.rateA, currentRate: t.rateB };
}

/** Jensen–Shannon distance √JSD(p ‖ q), base-2 logarithms (0 … 1). Inputs are counts or shares. */
export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) throw new RangeError('Jensen–Shannon: p and q need the same length');
  let sp = 0, sq = 0;
  for (let k = 0; k < p.length; k++) { sp += p[k]!; sq += q[k]!; }
  if (!(sp > 0 && sq > 0)) return NaN;
  let js = 0;
  for (let k = 0; k < p.length; k++) {
    const a = p[k]! / sp, b = q[k]! / sq, m = (a + b) / 2;
    if (a > 0) js += a * Math.log2(a / m);
    if (b > 0) js += b * Math.log2(b / m);
  }
  return Math.sqrt(Math.max(0, js / 2));
}

/**
 * Population stability index Σ (r − c) ln(r / c) over bins, from counts. Empty bins get Evidently's
 * fill (0.0001, or the smallest non-zero share / 10⁶ when that is ≤ 0.0001) so the log is finite.
 */
export function psi(refCounts: ArrayLike<number>, curCounts: ArrayLike<number>): number {
  const shares = (c: ArrayLike<number>): number[] => {
    let s = 0;
    for (let k = 0; k < c.length; k++) s += c[k]!;
    const out = Array.from({ length: c.length }, (_, k) => (s > 0 ? c[k]! / s : 0));
    const nz = out.filter((x) => x > 0);
    if (nz.length === 0) return out;
    const min = Math.min(...nz);
    const fill = min <= 0.0001 ? min / 1e6 : 0.0001;
    return out.map((x) => (x === 0 ? fill : x));
  };
  const r = shares(refCounts), c = shares(curCounts);
  let v = 0;
  for (let k = 0; k < r.length; k++) v += (r[k]! - c[k]!) * Math.log(r[k]! / c[k]!);
  return v;
}

// ---------------------------------------------------------------- histograms on sorted data

/** Index of the first element ≥ x in an ascending array. */
export function lowerBound(a: Float64Array, x: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/**
 * Inner bin edges at the reference's quantiles k/bins (k = 1 … bins − 1; values of the sample,
 * duplicates dropped). Bin 0 is (−∞, e₁), bin i is [eᵢ, eᵢ₊₁), the last [e_last, +∞): every
 * current value falls in a bin, and each bin holds about 1/bins of the reference.
 */
export function quantileEdges(ref: Float64Array, bins: number): number[] {
  const n = ref.length;
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const v = ref[Math.min(n - 1, Math.floor((k * n) / bins))]!;
    if (v > ref[0]! && (edges.length === 0 || v > edges[edges.length - 1]!)) edges.push(v);
  }
  return edges;
}

/** Counts per bin (edges from quantileEdges) of an ascending array: O(bins · log n). */
export function binCounts(sorted: Float64Array, edges: readonly number[]): number[] {
  const out: number[] = [];
  let prev = 0;
  for (const e of edges) {
    const at = lowerBound(sorted, e);
    out.push(at - prev);
    prev = at;
  }
  out.push(sorted.length - prev);
  return out;
}
