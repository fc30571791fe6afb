// Offline evaluation of the demand forecast, exactly as the issue states it:
//  * Monday-based calendar weeks (UTC); the origin is the Monday on or before the split;
//  * the horizon runs from the origin through the week holding the last test day (ctx.testEnd;
//    an exclusive end — the midnight after the last day, later than every test sale — is read as
//    the day before it);
//  * scored products: at least `minSellingWeeks` (20) weeks with units > 0 before the origin;
//  * MASE and RMSSE per product, scaled by the in-sample one-step naive forecast's MAE resp. MSE
//    on that product's weekly training series (from its first selling week to the origin), then
//    averaged over products (mean);
//  * every method / strategy is fitted on the weeks before the origin only — the engine is handed
//    series built from the TRAINING sales as of the origin, so it cannot read a test week — and
//    the per-product selection, the moving-average window and `chosen` come from backtests inside
//    that history. The test sales are only ever used as the actuals being scored.
// The actual units of a horizon week are all sales in that week (the origin week holds training
// days before the split too; they belong to the week being forecast, not to the history).
import type { CleanData } from '../../features/clean.ts';
import { mondayOnOrBefore, productFeatures, WEEK_MS } from '../../features/products.ts';
import type { EvalContext } from '../types.ts';
import { runEngine, STRATEGIES, type EngineOptions, type StrategyName } from './engine.ts';
import { observedSoFar, weekdayShares } from './weekdays.ts';
import { mase, mean, naiveScale, rmsse } from './metrics.ts';

export interface ForecastEvaluation {
  models: Record<string, { mase: number; rmsse: number }>;
  chosen: string;
}

export interface ForecastEvalDetails extends ForecastEvaluation {
  products: number;
  horizonWeeks: number;
  origin: string;
  validation: Record<string, { mase: number; rmsse: number; products: number }>;
  /** Share of actual weeks inside the deployed strategy's prediction interval. */
  intervalCoverage: number;
  intervalLevel: number;
  maWindow: number;
  methodCounts: Record<string, number>;
  /**
   * NOT part of `models`: the chosen strategy with its first week "nowcast" — the units of the
   * origin week's training days (Monday … the day before the split) added to the forecast for
   * the rest of that week, as trainForecast does for a mid-week watermark. It uses information
   * the reference protocol's history (complete weeks before the origin) leaves out, so it is
   * reported apart and never counted toward the goal.
   */
  nowcast: { strategy: string; mase: number; rmsse: number; observedDays: number };
  timings: Record<string, number>;
}

export async function evaluateForecast(train: CleanData, test: CleanData, ctx: EvalContext, opts: Partial<Omit<EngineOptions, 'tf' | 'seed' | 'horizon'>> = {}): Promise<ForecastEvaluation> {
  const d = await evaluateForecastDetailed(train, test, ctx, opts);
  return { models: d.models, chosen: d.chosen };
}

export async function evaluateForecastDetailed(train: CleanData, test: CleanData, ctx: EvalContext, opts: Partial<Omit<EngineOptions, 'tf' | 'seed' | 'horizon'>> = {}): Promise<ForecastEvalDetails> {
  const t0 = performance.now();
  const originMs = mondayOnOrBefore(ctx.split);
  // ctx.testEnd is the last test day; a caller passing the exclusive end instead (midnight after
  // the last day, later than every test sale) gets the same weeks: step back into the last day.
  let lastDay = ctx.testEnd;
  if (lastDay % 86_400_000 === 0 && test.sales.every((s) => s.time < lastDay)) lastDay -= 1;
  const endMs = mondayOnOrBefore(lastDay) + WEEK_MS;
  const H = Math.round((endMs - originMs) / WEEK_MS);
  // History: training sales before the origin only. Actuals: all sales up to the horizon's end.
  const hist = productFeatures(train.sales.filter((s) => s.time < originMs), { asOf: originMs });
  const act = productFeatures([...train.sales, ...test.sales], { asOf: endMs, start: hist.dayStart });
  const origin = Math.round((originMs - hist.weekStart) / WEEK_MS);
  const actIdx = new Map(act.products.map((p, i) => [p.productId, i]));
  const actOffset = Math.round((originMs - act.weekStart) / WEEK_MS);
  const series = hist.products.map((p) => ({ y: p.weeklyUnits.subarray(0, origin), lines: p.weeklyLines.subarray(0, origin), first: p.firstWeek }));
  const minSell = opts.minSellingWeeks ?? 20;
  const r = await runEngine(series, origin, { ...opts, tf: ctx.backend.tf, seed: ctx.seed, horizon: H, minSellingWeeks: minSell, onProgress: ctx.onProgress } as EngineOptions);

  const scores = new Map<StrategyName, { m: number[]; r: number[] }>(STRATEGIES.map((s) => [s, { m: [], r: [] }]));
  // The nowcast variant (reported apart, see ForecastEvalDetails.nowcast).
  const upToSplit = productFeatures(train.sales, { asOf: ctx.split, start: hist.dayStart });
  const upIdx = new Map(upToSplit.products.map((p, i) => [p.productId, i]));
  const seen = observedSoFar(upToSplit, originMs, ctx.split, weekdayShares(upToSplit, originMs).product);
  const now = { m: [] as number[], r: [] as number[] };
  let inside = 0;
  let total = 0;
  let products = 0;
  hist.products.forEach((p, i) => {
    const y = series[i]!.y.subarray(p.firstWeek, origin);
    if (p.sellingWeeks < minSell) return;
    const sc = naiveScale(y);
    if (!(sc.mae > 0 && sc.mse > 0)) return;
    const ai = actIdx.get(p.productId);
    const actual = new Array<number>(H).fill(0);
    if (ai !== undefined) for (let k = 0; k < H; k++) actual[k] = act.products[ai]!.weeklyUnits[actOffset + k] ?? 0;
    products++;
    for (const s of STRATEGIES) {
      const f = r.forecasts.get(s)?.[i];
      if (!f) continue;
      scores.get(s)!.m.push(mase(actual, f, y));
      scores.get(s)!.r.push(rmsse(actual, f, y));
    }
    const f = r.forecasts.get(r.chosen)![i]!;
    const ui = upIdx.get(p.productId)!;
    const fNow = f.slice();
    fNow[0] = seen.units[ui]! + f[0]! * (1 - seen.share[ui]!);
    now.m.push(mase(actual, fNow, y));
    now.r.push(rmsse(actual, fNow, y));
    const scale = r.scaleMae[i]!;
    for (let k = 0; k < H; k++) {
      const lo = Math.max(0, f[k]! + scale * r.intervalQuantiles.lo[k]!);
      const hi = Math.max(0, f[k]! + scale * r.intervalQuantiles.hi[k]!);
      if (actual[k]! >= lo && actual[k]! <= hi) inside++;
      total++;
    }
  });
  const models: Record<string, { mase: number; rmsse: number }> = {};
  for (const [s, v] of scores) if (v.m.length) models[s] = { mase: mean(v.m), rmsse: mean(v.r) };
  const methodCounts: Record<string, number> = {};
  for (const m of r.perProductMethod) methodCounts[m ?? 'none'] = (methodCounts[m ?? 'none'] ?? 0) + 1;
  const validation: ForecastEvalDetails['validation'] = {};
  for (const [k, v] of Object.entries(r.validation)) validation[k] = v!;
  return {
    models, chosen: r.chosen, products, horizonWeeks: H, origin: new Date(originMs).toISOString(), validation,
    intervalCoverage: total ? inside / total : NaN, intervalLevel: opts.intervalLevel ?? 0.9, maWindow: r.maWindow, methodCounts,
    nowcast: { strategy: r.chosen, mase: mean(now.m), rmsse: mean(now.r), observedDays: Math.max(0, Math.min(7, Math.floor((ctx.split - originMs) / 86_400_000))) },
    timings: { ...r.timings, total: Math.round(performance.now() - t0) },
  };
}
