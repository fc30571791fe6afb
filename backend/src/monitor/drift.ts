// Column and dataset drift: which test runs on a column, and why (Evidently's default rules), the
// histograms to plot reference against current, and the share of drifted columns.
//
// Rules (method 'evidently', the default), on the non-missing values:
//   reference ≤ smallSampleMax (1,000) rows:
//     numeric with > 5 distinct values (reference ∪ current)  → two-sample KS, drift if p < α
//     categorical, or numeric with ≤ 5 distinct values        → chi-squared (3+ values) or
//                                                               two-proportion z (2 values), p < α
//   larger reference:
//     numeric with > 5 distinct values                        → Wasserstein / std(reference), drift if > 0.1
//     categorical, or numeric with ≤ 5 distinct values        → Jensen–Shannon distance, drift if > 0.1
// Method 'pvalue' uses the small-sample tests at every size (a calibrated α at any n, but at large
// n it flags differences too small to matter — which is why Evidently switches to distances).
// PSI is computed on every column and reported; it never decides.
// Dataset drift: drifted / judged columns ≥ datasetShare (0.5). A column with fewer than minRows
// non-missing values in either sample is reported but not judged.
import {
  binCounts, chiSquareHomogeneity, jensenShannonDistance, ksPValue, mergeWalk, normalizedWasserstein, populationStd, psi,
  quantileEdges, sortedFinite, twoProportionZ, type KsResult,
} from './drift-tests.ts';

export type DriftMethod = 'evidently' | 'pvalue';
export type DriftTest = 'ks' | 'chisquare' | 'z' | 'wasserstein' | 'jensenshannon';

export interface DriftSettings {
  /** Significance of the p-value tests (KS, chi-squared, z). */
  alpha: number;
  /** Normalized Wasserstein distance above which a large numeric sample has drifted. */
  wassersteinThreshold: number;
  /** Jensen–Shannon distance (base 2) above which a large categorical sample has drifted. */
  jensenShannonThreshold: number;
  /** Reference sizes up to this use p-value tests (Evidently: 1,000). */
  smallSampleMax: number;
  /** Numeric columns with at most this many distinct values are tested as categorical (Evidently: 5). */
  maxDistinctForCategorical: number;
  /** Share of judged columns that must drift for dataset drift. */
  datasetShare: number;
  method: DriftMethod;
  /** Histogram bins (reference quantiles). */
  bins: number;
  /** Fewer non-missing rows than this in either sample: the column is not judged. */
  minRows: number;
  /** PSI level labelled "high" in reports (informational only). */
  psiHigh: number;
}

export const DEFAULT_DRIFT_SETTINGS: Readonly<DriftSettings> = Object.freeze({
  alpha: 0.05,
  wassersteinThreshold: 0.1,
  jensenShannonThreshold: 0.1,
  smallSampleMax: 1000,
  maxDistinctForCategorical: 5,
  datasetShare: 0.5,
  method: 'evidently',
  bins: 20,
  minRows: 20,
  psiHigh: 0.2,
});

export type ColumnInput =
  | { name: string; type: 'numeric'; reference: ArrayLike<number>; current: ArrayLike<number> }
  | { name: string; type: 'categorical'; reference: readonly (string | null | undefined)[]; current: readonly (string | null | undefined)[] };

export interface SampleSummary {
  rows: number;
  missing: number;
  /** Numeric samples only. */
  mean?: number;
  std?: number;
  min?: number;
  p25?: number;
  median?: number;
  p75?: number;
  max?: number;
}

export type Histogram =
  /** Numeric: inner edges e₁ < … < e_k; k + 1 bins (−∞, e₁), [e₁, e₂), …, [e_k, +∞). Counts, not shares. */
  | { kind: 'bins'; edges: number[]; reference: number[]; current: number[] }
  /** Categorical (or a numeric column with few values): one bar per value. */
  | { kind: 'categories'; categories: string[]; reference: number[]; current: number[] };

export interface ColumnDrift {
  column: string;
  type: 'numeric' | 'categorical';
  /** How the column was tested: numeric, categorical (3+ values) or binary (2 values). */
  treatedAs: 'numeric' | 'categorical' | 'binary';
  /** The test that decided (null: not judged). */
  test: DriftTest | null;
  /** The test's statistic: D, χ², z, normalized W1 or the JS distance. */
  statistic: number;
  /** What is compared with the threshold: the p-value (KS, χ², z) or the distance itself. */
  score: number;
  scoreKind: 'p_value' | 'distance';
  /** p-value tests: drift when score < threshold; distances: drift when score > threshold. */
  threshold: number;
  drifted: boolean;
  judged: boolean;
  /** Which test ran and why, in words. */
  reason: string;
  /** Population stability index over the histogram's bins (reported only). */
  psi: number;
  /** Figures of the other statistics computed on the way (never decide). */
  also: {
    ks?: KsResult; wassersteinNorm?: number; jensenShannon?: number; chiSquare?: { statistic: number; df: number; pValue: number }; distinct?: number;
    /** PSI expected with no drift at all, from sampling noise alone: (bins − 1)(1/n_ref + 1/n_cur). */
    psiNoise?: number;
  };
  reference: SampleSummary;
  current: SampleSummary;
  histogram: Histogram;
}

export interface DatasetDrift {
  columns: ColumnDrift[];
  judged: number;
  drifted: number;
  /** drifted / judged (0 when nothing was judged). */
  share: number;
  threshold: number;
  datasetDrift: boolean;
}

/** E[PSI] under no drift ≈ E[χ²-divergence] = (bins − 1)(1/n₁ + 1/n₂) (multinomial counts, small shifts). */
const psiNoise = (bins: number, n1: number, n2: number): number => (bins - 1) * (1 / n1 + 1 / n2);

const fmt = (x: number): string => (Number.isFinite(x) ? (Math.abs(x) >= 0.001 || x === 0 ? String(Number(x.toPrecision(3))) : x.toExponential(2)) : String(x));
const fmtInt = (n: number): string => n.toLocaleString('en-US');

function quantileOf(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * p, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function numericSummary(sorted: Float64Array, missing: number): SampleSummary {
  const n = sorted.length;
  if (n === 0) return { rows: 0, missing };
  let s = 0;
  for (let i = 0; i < n; i++) s += sorted[i]!;
  return {
    rows: n, missing, mean: s / n, std: populationStd(sorted), min: sorted[0]!, p25: quantileOf(sorted, 0.25),
    median: quantileOf(sorted, 0.5), p75: quantileOf(sorted, 0.75), max: sorted[n - 1]!,
  };
}

/** Tests of a categorical table (counts per category, same order in both samples). */
function categoricalDecision(
  categories: string[], ref: number[], cur: number[], nRef: number, s: DriftSettings, origin: string,
): Pick<ColumnDrift, 'treatedAs' | 'test' | 'statistic' | 'score' | 'scoreKind' | 'threshold' | 'drifted' | 'reason' | 'also'> {
  const k = categories.length;
  const small = s.method === 'pvalue' || nRef <= s.smallSampleMax;
  const js = jensenShannonDistance(ref, cur);
  const sizeWhy = s.method === 'pvalue' ? 'method pvalue' : `reference has ${fmtInt(nRef)} rows (${small ? '≤' : '>'} ${fmtInt(s.smallSampleMax)})`;
  if (!small) {
    return {
      treatedAs: k <= 2 ? 'binary' : 'categorical', test: 'jensenshannon', statistic: js, score: js, scoreKind: 'distance',
      threshold: s.jensenShannonThreshold, drifted: js > s.jensenShannonThreshold, also: { jensenShannon: js, chiSquare: chiSquareHomogeneity(ref, cur) },
      reason: `${sizeWhy}, ${origin}: Jensen–Shannon distance (base 2), drift if > ${s.jensenShannonThreshold}`,
    };
  }
  if (k <= 2) {
    const r = twoProportionZ(ref[0] ?? 0, ref.reduce((a, b) => a + b, 0), cur[0] ?? 0, cur.reduce((a, b) => a + b, 0));
    return {
      treatedAs: 'binary', test: 'z', statistic: r.statistic, score: r.pValue, scoreKind: 'p_value', threshold: s.alpha, drifted: r.pValue < s.alpha,
      also: { jensenShannon: js },
      reason: `${sizeWhy}, ${origin} with ${k} value${k === 1 ? '' : 's'}: two-proportion z test of the share of "${categories[0] ?? ''}", drift if p < ${s.alpha}`,
    };
  }
  const c = chiSquareHomogeneity(ref, cur);
  return {
    treatedAs: 'categorical', test: 'chisquare', statistic: c.statistic, score: c.pValue, scoreKind: 'p_value', threshold: s.alpha, drifted: c.pValue < s.alpha,
    also: { jensenShannon: js, chiSquare: c },
    reason: `${sizeWhy}, ${origin} with ${k} values: chi-squared test of homogeneity (df ${c.df}), drift if p < ${s.alpha}`,
  };
}

/** Too few rows: the test's figures are kept for information, but the column neither drifts nor counts. */
const skip = (why: string, reason: string) => ({ judged: false, drifted: false, reason: `${why} (would be: ${reason})` });
const notJudged = (reason: string) => ({ test: null, statistic: NaN, score: NaN, scoreKind: 'p_value' as const, threshold: NaN, drifted: false, judged: false, reason });

function numericColumn(name: string, reference: ArrayLike<number>, current: ArrayLike<number>, s: DriftSettings): ColumnDrift {
  const R = sortedFinite(reference), C = sortedFinite(current);
  const a = R.sorted, b = C.sorted;
  const refSummary = numericSummary(a, R.missing), curSummary = numericSummary(b, C.missing);
  const base = { column: name, type: 'numeric' as const, reference: refSummary, current: curSummary };
  if (a.length === 0 || b.length === 0) {
    return { ...base, treatedAs: 'numeric', ...notJudged(`no non-missing values in the ${a.length === 0 ? 'reference' : 'current'} sample`), psi: NaN, also: {}, histogram: { kind: 'bins', edges: [], reference: [], current: [] } };
  }
  const walk = mergeWalk(a, b, s.maxDistinctForCategorical);
  const ks = ksPValue(walk.dScaled, a.length, b.length);
  const wNorm = normalizedWasserstein(walk.wasserstein, refSummary.std!);
  const judged = a.length >= s.minRows && b.length >= s.minRows;
  const tooFew = `fewer than ${s.minRows} non-missing values (reference ${fmtInt(a.length)}, current ${fmtInt(b.length)}): not judged`;

  if (walk.values !== null) {
    // Few distinct values: a categorical column in disguise (counts come from the walk).
    const categories = walk.values.map((v) => String(v));
    const ref = walk.refCounts!, cur = walk.curCounts!;
    const d = categoricalDecision(categories, ref, cur, a.length, s, `numeric with ${walk.distinct} distinct value${walk.distinct === 1 ? '' : 's'} (≤ ${s.maxDistinctForCategorical})`);
    return {
      ...base, ...d, ...(judged ? { judged: true } : skip(tooFew, d.reason)),
      psi: psi(ref, cur), also: { ...d.also, ks, wassersteinNorm: wNorm, distinct: walk.distinct, psiNoise: psiNoise(categories.length, a.length, b.length) },
      histogram: { kind: 'categories', categories, reference: ref, current: cur },
    };
  }
  const edges = quantileEdges(a, s.bins);
  const hr = binCounts(a, edges), hc = binCounts(b, edges);
  const small = s.method === 'pvalue' || a.length <= s.smallSampleMax;
  const sizeWhy = s.method === 'pvalue' ? 'method pvalue' : `reference has ${fmtInt(a.length)} rows (${small ? '≤' : '>'} ${fmtInt(s.smallSampleMax)})`;
  const distinctWhy = `numeric with ${fmtInt(walk.distinct)} distinct values`;
  const decision = small
    ? {
      test: 'ks' as const, statistic: ks.statistic, score: ks.pValue, scoreKind: 'p_value' as const, threshold: s.alpha, drifted: ks.pValue < s.alpha,
      reason: `${sizeWhy}, ${distinctWhy}: two-sample Kolmogorov–Smirnov (${ks.method} p-value), drift if p < ${s.alpha}`,
    }
    : {
      test: 'wasserstein' as const, statistic: wNorm, score: wNorm, scoreKind: 'distance' as const, threshold: s.wassersteinThreshold, drifted: wNorm > s.wassersteinThreshold,
      reason: `${sizeWhy}, ${distinctWhy}: Wasserstein distance / reference std (${fmt(refSummary.std!)}), drift if > ${s.wassersteinThreshold}`,
    };
  return {
    ...base, treatedAs: 'numeric', ...decision, ...(judged ? { judged: true } : skip(tooFew, decision.reason)),
    psi: psi(hr, hc), also: { ks, wassersteinNorm: wNorm, distinct: walk.distinct, psiNoise: psiNoise(hr.length, a.length, b.length) },
    histogram: { kind: 'bins', edges, reference: hr, current: hc },
  };
}

function categoricalColumn(name: string, reference: readonly (string | null | undefined)[], current: readonly (string | null | undefined)[], s: DriftSettings): ColumnDrift {
  const count = (xs: readonly (string | null | undefined)[]) => {
    const m = new Map<string, number>();
    let missing = 0;
    for (const x of xs) {
      if (x === null || x === undefined || x === '') { missing++; continue; }
      m.set(x, (m.get(x) ?? 0) + 1);
    }
    return { m, missing, rows: xs.length - missing };
  };
  const R = count(reference), C = count(current);
  // Most frequent in the reference first (then in the current), ties by name: a stable plot order.
  const categories = [...new Set([...R.m.keys(), ...C.m.keys()])]
    .sort((x, y) => (R.m.get(y) ?? 0) - (R.m.get(x) ?? 0) || (C.m.get(y) ?? 0) - (C.m.get(x) ?? 0) || (x < y ? -1 : x > y ? 1 : 0));
  const ref = categories.map((c) => R.m.get(c) ?? 0), cur = categories.map((c) => C.m.get(c) ?? 0);
  const base = {
    column: name, type: 'categorical' as const, reference: { rows: R.rows, missing: R.missing }, current: { rows: C.rows, missing: C.missing },
    histogram: { kind: 'categories' as const, categories, reference: ref, current: cur },
  };
  if (R.rows === 0 || C.rows === 0) {
    return { ...base, treatedAs: 'categorical', ...notJudged(`no non-missing values in the ${R.rows === 0 ? 'reference' : 'current'} sample`), psi: NaN, also: {} };
  }
  const d = categoricalDecision(categories, ref, cur, R.rows, s, 'categorical');
  const judged = R.rows >= s.minRows && C.rows >= s.minRows;
  return {
    ...base, ...d,
    ...(judged ? { judged: true } : skip(`fewer than ${s.minRows} non-missing values (reference ${fmtInt(R.rows)}, current ${fmtInt(C.rows)}): not judged`, d.reason)),
    psi: psi(ref, cur), also: { ...d.also, distinct: categories.length, psiNoise: psiNoise(categories.length, R.rows, C.rows) },
  };
}

/** Drift of one column, reference vs current. */
export function driftColumn(col: ColumnInput, settings: Partial<DriftSettings> = {}): ColumnDrift {
  const s = { ...DEFAULT_DRIFT_SETTINGS, ...settings };
  return col.type === 'numeric' ? numericColumn(col.name, col.reference, col.current, s) : categoricalColumn(col.name, col.reference, col.current, s);
}

/** Summarises column results into dataset drift (share of judged columns that drifted ≥ datasetShare). */
export function summarizeDrift(columns: ColumnDrift[], settings: Partial<DriftSettings> = {}): DatasetDrift {
  const s = { ...DEFAULT_DRIFT_SETTINGS, ...settings };
  const judged = columns.filter((c) => c.judged).length;
  const drifted = columns.filter((c) => c.judged && c.drifted).length;
  const share = judged > 0 ? drifted / judged : 0;
  return { columns, judged, drifted, share, threshold: s.datasetShare, datasetDrift: judged > 0 && share >= s.datasetShare };
}

/** Drift of every column and of the dataset. */
export function driftDataset(columns: readonly ColumnInput[], settings: Partial<DriftSettings> = {}): DatasetDrift {
  const s = { ...DEFAULT_DRIFT_SETTINGS, ...settings };
  return summarizeDrift(columns.map((c) => driftColumn(c, s)), s);
}
