// The forecasting engine shared by training and evaluation: given every product's weekly history
// up to a forecast origin (and nothing after it), it
//   1. backtests every candidate method from several rolling origins INSIDE that history,
//   2. picks the deployment strategy (one method for all products, per-product selection, or a
//      combination) by those backtests, and the moving-average window likewise,
//   3. forecasts the next H weeks from the origin with every candidate,
//   4. turns the chosen strategy's backtest residuals into prediction intervals and error sizes.
// evaluateForecast scores step 3 against the test weeks; trainForecast ships the chosen strategy.
import type { Tf } from '../../ml/tensor-backend.ts';
import { DEFAULT_GLOBAL_CONFIG, predictGlobal, trainGlobalModel, type GlobalModel, type GlobalModelConfig, type SeriesRef } from './global-model.ts';
import { localForecast, type LocalMethod } from './methods.ts';
import { naiveScale } from './metrics.ts';

export type MethodName = LocalMethod | 'global_nn';
export const CANDIDATES: readonly MethodName[] = ['naive', 'moving_average', 'ses', 'holt', 'croston', 'tsb', 'global_nn'];
/** Strategies beyond "one method for every product". */
export type StrategyName = MethodName | 'per_product_backtest' | 'ensemble';
export const STRATEGIES: readonly StrategyName[] = [...CANDIDATES, 'per_product_backtest', 'ensemble'];
/** The ensemble: the plain mean of the global model and the smoothing methods (fixed membership, no fitted weights). */
export const ENSEMBLE_MEMBERS: readonly MethodName[] = ['global_nn', 'ses', 'tsb', 'moving_average'];
export const MA_WINDOWS: readonly number[] = [4, 8, 13, 26];

export interface EngineSeries extends SeriesRef {
  /** Weekly units on the shared grid; only indices < origin are ever read. */
  y: ArrayLike<number>;
  lines: ArrayLike<number>;
  first: number;
}

export interface EngineOptions {
  tf: Tf;
  seed: number;
  horizon: number;
  /** Backtest origins: origin − step·k for k = 1 … count (those leaving ≥ minBacktestHistory weeks). */
  backtestCount: number;
  backtestStep: number;
  minBacktestHistory: number;
  /** Products scored in the validation (strategy choice): ≥ this many selling weeks before the origin. */
  minSellingWeeks: number;
  /** per_product_backtest leaves the default only for a method at least this much better (relative backtest RMSSE). */
  switchMargin: number;
  intervalLevel: number;
  /** Members of the 'ensemble' strategy (plain mean). */
  ensembleMembers: readonly MethodName[];
  global: Partial<GlobalModelConfig>;
  onProgress?: (fraction: number, message?: string) => void;
}

export const DEFAULT_ENGINE_OPTIONS: Omit<EngineOptions, 'tf' | 'seed' | 'horizon'> = {
  backtestCount: 4, backtestStep: 3, minBacktestHistory: 8, minSellingWeeks: 20, switchMargin: 0.25, intervalLevel: 0.9, ensembleMembers: ENSEMBLE_MEMBERS, global: {},
};

export interface ValidationScore { mase: number; rmsse: number; products: number }

export interface EngineResult {
  origin: number;
  horizon: number;
  backtestOrigins: number[];
  maWindow: number;
  /** Strategy deployed (chosen on the backtests). */
  chosen: StrategyName;
  /** Backtest scores of every strategy (mean over scored products and origins). */
  validation: Partial<Record<StrategyName, ValidationScore>>;
  /** Per product: the method per_product_backtest picks (null: no backtest). */
  perProductMethod: (MethodName | 'ensemble' | null)[];
  /** Forecasts from the origin: strategy → per product → H weeks. */
  forecasts: Map<StrategyName, number[][]>;
  /** Per product, the deployed strategy's method label ('ensemble', 'ses', …). */
  deployedMethod: string[];
  /** Scaled-error quantiles of the deployed strategy per horizon step: [lo, hi] (scale: in-sample naive MAE). */
  intervalQuantiles: { lo: number[]; hi: number[] };
  /** Per product: RMS of the deployed strategy's backtest errors (units/week; null: too few). */
  backtestRmse: (number | null)[];
  /** The deployed strategy's backtest forecasts: [backtest origin][product] → weeks from that origin (to the forecast origin). */
  backtestDeployed: number[][][];
  /** Pooled RMS of scaled backtest errors (fallback for products without their own). */
  pooledScaledRmse: number;
  /** Per product naive MAE scale at the origin (NaN when undefined). */
  scaleMae: number[];
  global: GlobalModel | null;
  timings: Record<string, number>;
}

interface BacktestCell { mase: number; rmsse: number; errors: number[] }

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length ? s / xs.length : NaN;
}

function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function history(s: EngineSeries, origin: number): ArrayLike<number> {
  const y = s.y as Float64Array | number[];
  return y.slice(s.first, origin);
}

function sellingWeeks(s: EngineSeries, origin: number): number {
  let n = 0;
  for (let i = s.first; i < origin; i++) if (s.y[i]! > 0) n++;
  return n;
}

function combine(members: number[][][], h: number): number[][] {
  return members[0]!.map((_, p) => {
    const out: number[] = [];
    for (let k = 0; k < h; k++) {
      let s = 0;
      for (const m of members) s += m[p]![k]!;
      out.push(s / members.length);
    }
    return out;
  });
}

/** Local forecasts for every product from `origin`: method → product → h weeks (MA: every window). */
function localForecasts(series: readonly EngineSeries[], origin: number, h: number): { byMethod: Map<LocalMethod, number[][]>; ma: Map<number, number[][]> } {
  const methods: LocalMethod[] = ['naive', 'ses', 'holt', 'croston', 'tsb'];
  const byMethod = new Map<LocalMethod, number[][]>(methods.map((m) => [m, []]));
  const ma = new Map<number, number[][]>(MA_WINDOWS.map((w) => [w, []]));
  for (const s of series) {
    const y = origin > s.first ? history(s, origin) : [];
    for (const m of methods) byMethod.get(m)!.push(localForecast(m, y, h, { maWindow: 0 }));
    for (const w of MA_WINDOWS) ma.get(w)!.push(localForecast('moving_average', y, h, { maWindow: w }));
  }
  return { byMethod, ma };
}

export async function runEngine(series: readonly EngineSeries[], origin: number, options: EngineOptions): Promise<EngineResult> {
  const opts = { ...DEFAULT_ENGINE_OPTIONS, ...options };
  const H = opts.horizon;
  const timings: Record<string, number> = {};
  let t0 = performance.now();
  const lap = (name: string): void => { const t = performance.now(); timings[name] = Math.round(t - t0); t0 = t; };
  const progress = opts.onProgress ?? (() => {});
  const gcfg: GlobalModelConfig = { ...DEFAULT_GLOBAL_CONFIG, ...opts.global, horizon: H };
  const nP = series.length;

  // ---- backtest origins and the products they score ---------------------------------------------
  const backtestOrigins: number[] = [];
  for (let k = opts.backtestCount; k >= 1; k--) {
    const o = origin - opts.backtestStep * k;
    if (o >= opts.minBacktestHistory) backtestOrigins.push(o);
  }
  const minSell = opts.minSellingWeeks;
  // A young store may have no product with minSell selling weeks yet: then every product with ≥ 2 is scored.
  let scored = series.map((s) => sellingWeeks(s, origin) >= minSell);
  if (!scored.some(Boolean)) scored = series.map((s) => sellingWeeks(s, origin) >= 2);

  // ---- backtests: every candidate from every origin ---------------------------------------------
  // cell[method][origin][product] — the global model is trained once, on the weeks before the
  // first backtest origin, and forecasts from each later origin with the lags known there.
  const bt = new Map<string, (BacktestCell | null)[][]>();
  let btGlobal: GlobalModel | null = null;
  if (backtestOrigins.length) {
    btGlobal = await trainGlobalModel(opts.tf, series, backtestOrigins[0]!, gcfg, opts.seed, (f) => progress(0.4 * f, 'backtest global model'));
    if (btGlobal.samples < 200) btGlobal = null;
  }
  lap('backtest_global_train');
  const btForecasts: Map<string, number[][]>[] = [];
  for (const o of backtestOrigins) {
    const hLen = Math.min(H, origin - o);
    const { byMethod, ma } = localForecasts(series, o, hLen);
    const fc = new Map<string, number[][]>();
    for (const [m, f] of byMethod) fc.set(m, f);
    for (const [w, f] of ma) fc.set(`moving_average_${w}`, f);
    if (btGlobal) fc.set('global_nn', predictGlobal(btGlobal, series, o).map((r) => r.slice(0, hLen)));
    btForecasts.push(fc);
  }
  lap('backtest_local');
  const cellsFor = (fc: number[][], oi: number): (BacktestCell | null)[] => {
    const o = backtestOrigins[oi]!;
    const hLen = Math.min(H, origin - o);
    return series.map((s, p) => {
      if (o - s.first < 2) return null;
      const sc = naiveScale(history(s, o));
      if (!(sc.mse > 0)) return null;
      const errors: number[] = [];
      let ae = 0;
      let se = 0;
      for (let k = 0; k < hLen; k++) {
        const e = s.y[o + k]! - fc[p]![k]!;
        errors.push(e);
        ae += Math.abs(e);
        se += e * e;
      }
      return { mase: ae / hLen / sc.mae, rmsse: Math.sqrt(se / hLen / sc.mse), errors };
    });
  };
  const keys = new Set<string>();
  btForecasts.forEach((fc, oi) => {
    for (const [k, f] of fc) {
      keys.add(k);
      let arr = bt.get(k);
      if (!arr) bt.set(k, (arr = []));
      arr[oi] = cellsFor(f, oi);
    }
  });
  const validationOf = (cells: (BacktestCell | null)[][] | undefined): ValidationScore => {
    const m: number[] = [];
    const r: number[] = [];
    const prods = new Set<number>();
    cells?.forEach((row) => row.forEach((c, p) => { if (c && scored[p]) { m.push(c.mase); r.push(c.rmsse); prods.add(p); } }));
    return { mase: mean(m), rmsse: mean(r), products: prods.size };
  };
  // The moving-average window: the best one on the backtests.
  let maWindow = 13;
  {
    let best = Infinity;
    for (const w of MA_WINDOWS) {
      const v = validationOf(bt.get(`moving_average_${w}`)).rmsse;
      if (v < best) { best = v; maWindow = w; }
    }
    if (bt.has(`moving_average_${maWindow}`)) {
      bt.set('moving_average', bt.get(`moving_average_${maWindow}`)!);
      btForecasts.forEach((fc) => fc.set('moving_average', fc.get(`moving_average_${maWindow}`)!));
    }
  }
  const available = CANDIDATES.filter((m) => bt.has(m));
  // Ensemble backtest cells.
  const members = opts.ensembleMembers.filter((m) => available.includes(m));
  if (members.length >= 2) {
    btForecasts.forEach((fc, oi) => fc.set('ensemble', combine(members.map((m) => fc.get(m)!), Math.min(H, origin - backtestOrigins[oi]!))));
    bt.set('ensemble', btForecasts.map((fc, oi) => cellsFor(fc.get('ensemble')!, oi)));
  }
  // Per-product selection: a product leaves the default (the best single method or the
  // ensemble on the backtests) for the method with the lowest mean backtest RMSSE over its
  // origins only when that is lower by more than `switchMargin` — selection on a handful of
  // noisy weeks overfits otherwise. Its own validation is leave-one-origin-out (select on the
  // other origins, score on this one), so it is not flattered by the data it selected on.
  const validation: Partial<Record<StrategyName, ValidationScore>> = {};
  for (const m of available) validation[m] = validationOf(bt.get(m));
  if (bt.has('ensemble')) validation.ensemble = validationOf(bt.get('ensemble'));
  let bestSingle: MethodName = 'ses';
  for (const m of available) if ((validation[m]?.rmsse ?? Infinity) < (validation[bestSingle]?.rmsse ?? Infinity)) bestSingle = m;
  const pool: (MethodName | 'ensemble')[] = [...available, ...(bt.has('ensemble') ? ['ensemble' as const] : [])];
  let fallback: MethodName | 'ensemble' = bestSingle;
  if ((validation.ensemble?.rmsse ?? Infinity) < (validation[bestSingle]?.rmsse ?? Infinity)) fallback = 'ensemble';
  const pickFor = (p: number, skip: number): MethodName | 'ensemble' => {
    const avg = (m: string): number => {
      let s = 0;
      let n = 0;
      bt.get(m)!.forEach((row, oi) => { if (oi !== skip && row[p]) { s += row[p]!.rmsse; n++; } });
      return n ? s / n : Infinity;
    };
    const base = avg(fallback);
    if (!Number.isFinite(base)) return fallback;
    let best: MethodName | 'ensemble' = fallback;
    let bestV = base * (1 - opts.switchMargin);
    for (const m of pool) {
      const v = avg(m);
      if (v < bestV) { bestV = v; best = m; }
    }
    return best;
  };
  if (backtestOrigins.length >= 2 && available.length) {
    const ppCells: (BacktestCell | null)[][] = backtestOrigins.map((_, oi) =>
      series.map((_, p) => bt.get(pickFor(p, oi))![oi]![p] ?? null));
    bt.set('per_product_backtest', ppCells);
    validation.per_product_backtest = validationOf(ppCells);
  }
  const perProductMethod = series.map((_, p) => (backtestOrigins.length && available.length ? pickFor(p, -1) : null));
  let chosen: StrategyName = bestSingle;
  for (const k of STRATEGIES) if ((validation[k]?.rmsse ?? Infinity) < (validation[chosen]?.rmsse ?? Infinity)) chosen = k;
  if (!backtestOrigins.length) chosen = 'ses';
  lap('backtest_score');
  progress(0.45, 'global model');

  // ---- forecasts from the origin ----------------------------------------------------------------
  const global = await trainGlobalModel(opts.tf, series, origin, gcfg, opts.seed, (f) => progress(0.45 + 0.5 * f, 'global model'));
  lap('global_train');
  const { byMethod, ma } = localForecasts(series, origin, H);
  const forecasts = new Map<StrategyName, number[][]>();
  for (const [m, f] of byMethod) forecasts.set(m, f);
  forecasts.set('moving_average', ma.get(maWindow)!);
  forecasts.set('global_nn', global.samples > 0 ? predictGlobal(global, series, origin) : forecasts.get('ses')!);
  forecasts.set('ensemble', combine(opts.ensembleMembers.map((m) => forecasts.get(m)!), H));
  forecasts.set('per_product_backtest', series.map((_, p) => forecasts.get(perProductMethod[p] ?? fallback)![p]!));
  lap('forecast');

  // ---- what is deployed, and its error distribution ---------------------------------------------
  const deployedMethod = series.map((_, p) => (chosen === 'per_product_backtest' ? perProductMethod[p] ?? fallback : chosen));
  const deployedCells: (BacktestCell | null)[][] = backtestOrigins.map((_, oi) =>
    series.map((_, p) => bt.get(deployedMethod[p]!)?.[oi]?.[p] ?? null));
  const scaleMae = series.map((s) => (origin - s.first >= 2 ? naiveScale(history(s, origin)).mae : NaN));
  const byStep: number[][] = Array.from({ length: H }, () => []);
  const backtestRmse: (number | null)[] = [];
  let pooledSq = 0;
  let pooledN = 0;
  for (let p = 0; p < nP; p++) {
    let sq = 0;
    let n = 0;
    deployedCells.forEach((row, oi) => {
      const c = row[p];
      if (!c) return;
      const sc = naiveScale(history(series[p]!, backtestOrigins[oi]!)).mae;
      c.errors.forEach((e, k) => {
        sq += e * e;
        n++;
        if (sc > 0) { byStep[k]!.push(e / sc); pooledSq += (e / sc) ** 2; pooledN++; }
      });
    });
    backtestRmse.push(n >= 6 ? Math.sqrt(sq / n) : null);
  }
  const a = (1 - opts.intervalLevel) / 2;
  const lo: number[] = [];
  const hi: number[] = [];
  // Step k pools the residuals of steps k−1 … k+1 (the longest steps come from one origin only);
  // steps beyond the backtests' reach reuse the last step that had ≥ 20 residuals.
  let last = { lo: 0, hi: 0 };
  for (let k = 0; k < H; k++) {
    const arr = [...(byStep[k - 1] ?? []), ...byStep[k]!, ...(byStep[k + 1] ?? [])];
    if (byStep[k]!.length >= 20) {
      arr.sort((x, y) => x - y);
      last = { lo: quantile(arr, a), hi: quantile(arr, 1 - a) };
    }
    lo.push(last.lo);
    hi.push(last.hi);
  }
  lap('intervals');
  progress(1, 'forecast done');
  return {
    origin, horizon: H, backtestOrigins, maWindow, chosen, validation, perProductMethod, forecasts, deployedMethod,
    intervalQuantiles: { lo, hi }, backtestRmse,
    backtestDeployed: btForecasts.map((fc) => series.map((_, p) => fc.get(deployedMethod[p]!)?.[p] ?? [])), pooledScaledRmse: pooledN ? Math.sqrt(pooledSq / pooledN) : NaN, scaleMae, global, timings,
  };
}
