// trainForecast: weekly and daily demand forecasts per product with prediction intervals, the
// method chosen by backtests, and the inventory figures (reorder point, safety stock, stock-out
// date, suggested order) — all as of the snapshot's watermark (ctx.asOf).
//
// Calendar: the forecast origin is the Monday (UTC) on or before asOf; models learn from the
// complete weeks before it. Weekly forecasts cover the weeks origin … origin + H − 1; week 0 is
// the current week, whole: the units already sold on its days before asOf's day plus the model's
// forecast for the share of the week still to come. The daily forecast starts on asOf's UTC day
// and splits each week's forecast over its days by the product's day-of-week profile (shrunk
// towards the store's: no Saturday trading → no Saturday demand).
import type { CleanData } from '../../features/clean.ts';
import { DAY_MS, isoWeekday, mondayOnOrBefore, productFeatures, utcDayStart, WEEK_MS } from '../../features/products.ts';
import type { TrainContext, TrainResult } from '../types.ts';
import { runEngine, type EngineOptions, type EngineResult, type StrategyName } from './engine.ts';
import type { GlobalModelConfig } from './global-model.ts';
import { inventoryFigures, serviceZ } from './inventory.ts';
import { observedSoFar, weekdayShares } from './weekdays.ts';

export interface ForecastParams {
  /** Supplier lead time in days for every product (default 14). */
  leadTimeDays?: number;
  /** Per-product lead time overrides (productId → days). */
  leadTimes?: ReadonlyMap<string, number>;
  /** Cycle service level for the safety stock (default 0.95). */
  serviceLevel?: number;
  /** Available units per product from the store (missing or null: unknown). */
  stock?: ReadonlyMap<string, number | null>;
  /** Weeks forecast (default 13). */
  horizonWeeks?: number;
  /** Review period of the order-up-to policy in days (default 7). */
  reviewDays?: number;
  /** Central coverage of the prediction intervals (default 0.9). */
  intervalLevel?: number;
  /** Days of daily forecast stored per product (default: max(28, longest lead time + review), within the horizon). */
  dailyDays?: number;
  /** Engine knobs (backtest origins, the global model's configuration). */
  engine?: Partial<Omit<EngineOptions, 'tf' | 'seed' | 'horizon' | 'intervalLevel' | 'onProgress'>> & { global?: Partial<GlobalModelConfig> };
}

export interface Band { mean: number[]; lo: number[]; hi: number[] }

export interface ProductForecast {
  productId: string;
  title: string | null;
  /** The method this product's forecast comes from ('ensemble', 'ses', …). */
  method: string;
  /** What per-product backtest selection would pick (null: too little history). */
  backtestPick: string | null;
  /** Weeks from `weekStart`. */
  weekly: Band;
  /** Days from `dayStart`. */
  daily: Band;
  /** Units per day over the last 28 days, and the recent average price. */
  velocityPerDay: number;
  price: number | null;
  stock: number | null;
  /** Standard deviation of the weekly forecast error used for the safety stock. */
  sigmaWeekly: number;
  leadTimeDays: number;
  demandOverLeadTime: number;
  safetyStock: number;
  reorderPoint: number;
  orderUpTo: number;
  suggestedOrderQty: number | null;
  /** UTC date (YYYY-MM-DD) of the predicted stock-out; null: stock unknown or not within the horizon. */
  stockoutDate: string | null;
}

export interface ForecastArtifact {
  kind: 'forecast';
  version: 1;
  asOf: string;
  /** Monday 00:00 UTC of weekly index 0 (the forecast origin). */
  weekStart: string;
  /** UTC day of daily index 0 (asOf's day). */
  dayStart: string;
  horizonWeeks: number;
  dailyDays: number;
  intervalLevel: number;
  serviceLevel: number;
  z: number;
  leadTimeDays: number;
  reviewDays: number;
  /** The deployed strategy, chosen on the backtests inside the training period. */
  chosen: string;
  maWindow: number;
  backtestOrigins: string[];
  validation: Record<string, { mase: number; rmsse: number; products: number }>;
  /** Quantiles of backtest errors scaled by each product's in-sample naive MAE: per horizon week, and per weekday (Monday first) for days. */
  intervalQuantiles: { weekly: { lo: number[]; hi: number[] }; daily: { lo: number[]; hi: number[] } };
  /** The store's share of weekly units per weekday (Monday first), last 13 weeks. */
  dayOfWeekShare: number[];
  global: {
    features: readonly string[];
    config: GlobalModelConfig;
    samples: number;
    nets: { inputs: number; outputs: number; kernel: number[]; bias: number[] }[][];
  } | null;
  products: ProductForecast[];
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export async function trainForecast(data: CleanData, params: ForecastParams, ctx: TrainContext): Promise<TrainResult<ForecastArtifact>> {
  const t0 = performance.now();
  const leadTimeDays = params.leadTimeDays ?? 14;
  const serviceLevel = params.serviceLevel ?? 0.95;
  const H = params.horizonWeeks ?? 13;
  const reviewDays = params.reviewDays ?? 7;
  const intervalLevel = params.intervalLevel ?? 0.9;
  const z = serviceZ(serviceLevel);
  if (!(H >= 1 && Number.isInteger(H))) throw new RangeError(`horizonWeeks must be a positive integer, got ${H}`);

  const f = productFeatures(data.sales, { asOf: ctx.asOf, stock: params.stock });
  const originMs = mondayOnOrBefore(ctx.asOf);
  const origin = Math.round((originMs - f.weekStart) / WEEK_MS);
  const series = f.products.map((p) => ({ y: p.weeklyUnits.subarray(0, origin), lines: p.weeklyLines.subarray(0, origin), first: p.firstWeek }));
  const tFeatures = performance.now() - t0;
  const r: EngineResult = await runEngine(series, origin, {
    ...params.engine, tf: ctx.backend.tf, seed: ctx.seed, horizon: H, intervalLevel,
    onProgress: ctx.onProgress ? (x, m) => ctx.onProgress!(0.95 * x, m) : undefined,
  } as EngineOptions);

  // ---- daily split and daily interval quantiles -------------------------------------------------
  const shares = weekdayShares(f, originMs);
  const dayStartMs = utcDayStart(ctx.asOf);
  const horizonEnd = originMs + H * WEEK_MS;
  const totalDays = Math.max(1, Math.round((horizonEnd - dayStartMs) / DAY_MS));
  let maxLead = leadTimeDays;
  for (const v of params.leadTimes?.values() ?? []) if (v > maxLead) maxLead = v;
  const dailyDays = Math.min(totalDays, params.dailyDays ?? Math.max(28, Math.ceil(maxLead + reviewDays)));
  // Daily residuals of the deployed strategy at the backtest origins, scaled like the weekly ones, per weekday.
  const dailyRes: number[][] = Array.from({ length: 7 }, () => []);
  r.backtestOrigins.forEach((o, oi) => {
    f.products.forEach((p, pi) => {
      const sc = r.scaleMae[pi]!;
      const fc = r.backtestDeployed[oi]![pi]!;
      if (!(sc > 0) || !fc.length || o - p.firstWeek < 2) return;
      for (let k = 0; k < fc.length; k++) {
        for (let dow = 0; dow < 7; dow++) {
          const di = Math.round((f.weekStart + (o + k) * WEEK_MS + dow * DAY_MS - f.dayStart) / DAY_MS);
          if (di < 0 || di >= f.days) continue;
          dailyRes[dow]!.push((p.dailyUnits[di]! - fc[k]! * shares.product[pi]![dow]!) / sc);
        }
      }
    });
  });
  const a = (1 - intervalLevel) / 2;
  const q = (arr: number[], p: number): number => {
    if (!arr.length) return 0;
    const pos = (arr.length - 1) * p;
    const lo = Math.floor(pos);
    return arr[lo]! + (arr[Math.ceil(pos)]! - arr[lo]!) * (pos - lo);
  };
  const dailyQ = { lo: [] as number[], hi: [] as number[] };
  for (const arr of dailyRes) {
    arr.sort((x, y) => x - y);
    dailyQ.lo.push(q(arr, a));
    dailyQ.hi.push(q(arr, 1 - a));
  }

  // ---- per product: bands and inventory figures -------------------------------------------------
  const deployed = r.forecasts.get(r.chosen)!;
  // The current week's days before asOf are known: week 0 = units sold so far + the forecast for the rest of it.
  const seen = observedSoFar(f, originMs, ctx.asOf, shares.product);
  const products: ProductForecast[] = f.products.map((p, pi) => {
    const wk = deployed[pi]!;
    const sc = r.scaleMae[pi]!;
    const s = Number.isFinite(sc) ? sc : 0;
    const w0 = (k: number, v: number): number => (k === 0 ? seen.units[pi]! + v * (1 - seen.share[pi]!) : v);
    const weekly: Band = {
      mean: wk.map((v, k) => r3(w0(k, v))),
      lo: wk.map((v, k) => r3(w0(k, Math.max(0, v + s * r.intervalQuantiles.lo[k]!)))),
      hi: wk.map((v, k) => r3(w0(k, Math.max(0, v + s * r.intervalQuantiles.hi[k]!)))),
    };
    const dailyMean: number[] = [];
    for (let d = 0; d < totalDays; d++) {
      const ms = dayStartMs + d * DAY_MS;
      const k = Math.floor((ms - originMs) / WEEK_MS);
      dailyMean.push((wk[k] ?? 0) * shares.product[pi]![isoWeekday(ms)]!);
    }
    const daily: Band = { mean: [], lo: [], hi: [] };
    for (let d = 0; d < dailyDays; d++) {
      const dow = isoWeekday(dayStartMs + d * DAY_MS);
      const v = dailyMean[d]!;
      daily.mean.push(r3(v));
      daily.lo.push(r3(Math.max(0, v + s * dailyQ.lo[dow]!)));
      daily.hi.push(r3(Math.max(0, v + s * dailyQ.hi[dow]!)));
    }
    const own = r.backtestRmse[pi];
    let sigmaWeekly = own ?? (s > 0 && Number.isFinite(r.pooledScaledRmse) ? r.pooledScaledRmse * s : Math.sqrt(Math.max(0, wk[0] ?? 0)));
    if (!Number.isFinite(sigmaWeekly)) sigmaWeekly = 0;
    const lead = params.leadTimes?.get(p.productId) ?? leadTimeDays;
    const inv = inventoryFigures({ daily: dailyMean, sigmaWeekly, stock: p.stock, leadTimeDays: lead, reviewDays, serviceLevel });
    return {
      productId: p.productId, title: p.title, method: r.deployedMethod[pi]!, backtestPick: r.perProductMethod[pi] ?? null,
      weekly, daily, velocityPerDay: r3(p.velocity.perDay28), price: p.price.recent === null ? null : r3(p.price.recent),
      stock: p.stock, sigmaWeekly: r3(sigmaWeekly), leadTimeDays: lead,
      demandOverLeadTime: r3(inv.demandOverLeadTime), safetyStock: r3(inv.safetyStock), reorderPoint: r3(inv.reorderPoint),
      orderUpTo: r3(inv.orderUpTo), suggestedOrderQty: inv.suggestedOrderQty,
      stockoutDate: inv.stockoutDay === null ? null : isoDay(dayStartMs + inv.stockoutDay * DAY_MS),
    };
  });

  const validation: ForecastArtifact['validation'] = {};
  for (const [k, v] of Object.entries(r.validation)) if (v) validation[k] = { mase: r3(v.mase), rmsse: r3(v.rmsse), products: v.products };
  const g = r.global;
  const artifact: ForecastArtifact = {
    kind: 'forecast', version: 1,
    asOf: new Date(ctx.asOf).toISOString(), weekStart: new Date(originMs).toISOString(), dayStart: isoDay(dayStartMs),
    horizonWeeks: H, dailyDays, intervalLevel, serviceLevel, z: r3(z), leadTimeDays, reviewDays,
    chosen: r.chosen, maWindow: r.maWindow,
    backtestOrigins: r.backtestOrigins.map((o) => new Date(f.weekStart + o * WEEK_MS).toISOString()),
    validation,
    intervalQuantiles: {
      weekly: { lo: r.intervalQuantiles.lo.map(r3), hi: r.intervalQuantiles.hi.map(r3) },
      daily: { lo: dailyQ.lo.map(r3), hi: dailyQ.hi.map(r3) },
    },
    dayOfWeekShare: shares.store.map(r3),
    global: g && g.samples > 0 ? {
      features: g.features, config: g.config, samples: g.samples,
      nets: g.nets.map((net) => net.map((l) => ({ inputs: l.inputs, outputs: l.outputs, kernel: Array.from(l.kernel), bias: Array.from(l.bias) }))),
    } : null,
    products,
  };
  const metrics: Record<string, number> = {
    products: products.length,
    validation_products: r.validation[r.chosen]?.products ?? 0,
    validation_mase: r.validation[r.chosen]?.mase ?? NaN,
    validation_rmsse: r.validation[r.chosen]?.rmsse ?? NaN,
    global_samples: g?.samples ?? 0,
    features_ms: Math.round(tFeatures),
    ...Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [`${k}_ms`, v])),
    train_ms: Math.round(performance.now() - t0),
  };
  for (const [k, v] of Object.entries(r.validation)) if (v) metrics[`validation_rmsse_${k as StrategyName}`] = v.rmsse;
  ctx.onProgress?.(1, 'forecast trained');
  return {
    artifact, metrics,
    params: { leadTimeDays, serviceLevel, horizonWeeks: H, reviewDays, intervalLevel, dailyDays, leadTimeOverrides: params.leadTimes?.size ?? 0, stockKnown: products.filter((p) => p.stock !== null).length, engine: params.engine ?? {} },
  };
}
