// Drift report over 1,000,000 rows × 10 columns (reference and current, 1,000,000 rows each),
// against sorting the same columns once with Float64Array.prototype.sort in the same run.
//
// The drift side is `driftDataset` — exactly what a monitor report runs per column: copy and sort
// both samples (the caller's arrays are never reordered), one merge walk (KS, Wasserstein,
// distinct values), the reference std, quantile bins and counts, PSI, Jensen–Shannon where the
// column is categorical, summaries. The baseline sorts every column of both samples once: the
// same 20 sorts. Timed both as sort only (copy made outside the timer: the stricter baseline)
// and as copy + sort. Runs alternate baseline and drift; medians.
import { createPrng } from '../backend/src/ml/prng.ts';
import { driftDataset, type ColumnInput } from '../backend/src/monitor/drift.ts';

export interface DriftBenchResult {
  rows: number;
  columns: number;
  runs: number;
  sortOnlyMs: number;
  copySortMs: number;
  driftMs: number;
  /** drift / sort only — the goal is ≤ 2. */
  ratio: number;
  ratioCopySort: number;
  tests: Record<string, number>;
  drifted: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Ten realistic columns: symmetric, skewed, heavy-tailed, counts, zero-inflated, missing values, few values, and three with drift. */
function makeColumns(rows: number): ColumnInput[] {
  const rng = createPrng('drift-bench');
  const col = (f: (current: boolean) => number, current: boolean) => { const a = new Float64Array(rows); for (let i = 0; i < rows; i++) a[i] = f(current); return a; };
  const specs: [string, (current: boolean) => number][] = [
    ['normal', () => rng.normal()],
    ['normal_shifted', (c) => rng.normal() + (c ? 0.2 : 0)],
    ['lognormal', () => Math.exp(rng.normal())],
    ['lognormal_scaled', (c) => Math.exp(rng.normal()) * (c ? 1.3 : 1)],
    ['exponential', () => -Math.log(1 - rng.next())],
    ['uniform', () => rng.next()],
    ['counts', () => Math.floor(Math.exp(1.5 * rng.normal()) * 3)],
    ['zero_inflated', () => (rng.next() < 0.6 ? 0 : rng.next())],
    ['with_missing', (c) => (rng.next() < 0.05 ? NaN : rng.normal() * (c ? 1.2 : 1))],
    ['few_values', () => rng.below(4)],
  ];
  return specs.map(([name, f]) => ({ name, type: 'numeric' as const, reference: col(f, false), current: col(f, true) }));
}

export async function benchDrift(rows = 1_000_000, runs = 5): Promise<DriftBenchResult> {
  const columns = makeColumns(rows);
  const arrays = columns.flatMap((c) => [c.reference as Float64Array, c.current as Float64Array]);
  const sortOnly: number[] = [], copySort: number[] = [], drift: number[] = [];
  let last = driftDataset(columns); // warm-up (JIT)
  for (let r = 0; r < runs; r++) {
    // Baseline A: sort only (copies made before the timer).
    const copies = arrays.map((a) => a.slice());
    let t0 = performance.now();
    for (const a of copies) a.sort();
    sortOnly.push(performance.now() - t0);
    copies.length = 0;
    // Baseline B: copy + sort.
    t0 = performance.now();
    for (const a of arrays) a.slice().sort();
    copySort.push(performance.now() - t0);
    // The drift report.
    t0 = performance.now();
    last = driftDataset(columns);
    drift.push(performance.now() - t0);
  }
  const tests: Record<string, number> = {};
  for (const c of last.columns) tests[c.test ?? 'none'] = (tests[c.test ?? 'none'] ?? 0) + 1;
  const s = median(sortOnly), cs = median(copySort), d = median(drift);
  return { rows, columns: columns.length, runs, sortOnlyMs: s, copySortMs: cs, driftMs: d, ratio: d / s, ratioCopySort: d / cs, tests, drifted: last.drifted };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const r = await benchDrift(Number(process.argv[2] ?? 1_000_000), Number(process.argv[3] ?? 5));
  console.log(JSON.stringify(r, null, 1));
}
