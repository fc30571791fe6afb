// Live accuracy: the models' predictions scored against what happened, once the labels exist.
//
//   churn     The stored predictions (customer_outputs) of the newest version that has been
//             champion and whose horizon has passed: P(order within horizonDays of its
//             watermark) for every customer it scored, against whether the customer did order in
//             [watermark, watermark + horizon). AUC and Brier score, beside the same figures on
//             the version's validation slice (model_versions.metrics_json).
//   forecast  The champion's weekly forecasts against the units sold, per product, for every
//             whole week after the forecast week (week 0 already contains the sales seen at
//             training) that has ended: RMSSE (scaled by the product's in-sample naive error, on
//             the products validation scores — at least minSellingWeeks selling weeks before the
//             origin), WAPE and bias (every forecast product), beside the validation RMSSE.
// Pure functions of the data passed in; monitor.ts reads the store.
import { auc, brier } from '../ml/stats.ts';
import { customerActivity, DAY_MS, type CustomerHistories } from '../features/customers.ts';
import { productFeatures, WEEK_MS } from '../features/products.ts';
import type { SaleLine } from '../features/clean.ts';
import type { ForecastArtifact } from '../models/forecast/train.ts';
import { naiveScale } from '../models/forecast/metrics.ts';
import { DEFAULT_ENGINE_OPTIONS } from '../models/forecast/engine.ts';

export interface AccuracySettings {
  /** Live AUC this far below validation AUC breaches (absolute). */
  aucDrop: number;
  /** Live Brier this far above validation Brier breaches (absolute). */
  brierRise: number;
  /**
   * Live RMSSE above validation × (1 + this) breaches (relative). Errors grow with the horizon and
   * validation averages 3–12-week horizons, so a forecast 12 weeks old is already ~40% worse on
   * steady demand (measured on the simulator): the default 0.5 leaves room for that.
   */
  forecastErrorRise: number;
  /** Fewest scored customers (with both outcomes present) for a churn verdict. */
  minLabelled: number;
  /** Fewest products with a finite scaled error for a forecast verdict. */
  minProducts: number;
}

export const DEFAULT_ACCURACY_SETTINGS: Readonly<AccuracySettings> = Object.freeze({ aucDrop: 0.05, brierRise: 0.05, forecastErrorRise: 0.5, minLabelled: 50, minProducts: 5 });

export type ChurnAccuracy =
  | { status: 'none'; detail: string }
  | { status: 'waiting'; detail: string; version: string; maturesAt: string }
  | {
    status: 'scored';
    version: string;
    /** The watermark the predictions were made at, and the end of their horizon. */
    predictedAt: string;
    maturedAt: string;
    horizonDays: number;
    customers: number;
    ordered: number;
    auc: number;
    brier: number;
    /** Predicted vs actual share ordering (calibration at a glance). */
    meanPredicted: number;
    observedRate: number;
    validation: { auc: number | null; brier: number | null };
    aucDrop: number | null;
    brierRise: number | null;
    breached: boolean;
    detail: string;
  };

export interface ChurnCandidate {
  version: string;
  watermark: string;
  horizonDays: number;
  metrics: Record<string, number | null>;
}

/**
 * Scores the newest matured candidate (candidates newest first). `predictions` returns that
 * version's stored P(order within the horizon) per customer.
 */
export function churnAccuracy(
  candidates: readonly ChurnCandidate[], nowMs: number, h: CustomerHistories,
  predictions: (version: string) => Map<string, number>, s: AccuracySettings = DEFAULT_ACCURACY_SETTINGS,
): ChurnAccuracy {
  if (candidates.length === 0) return { status: 'none', detail: 'no churn model has been champion yet' };
  const matured = candidates.find((c) => Date.parse(c.watermark) + c.horizonDays * DAY_MS <= nowMs);
  if (!matured) {
    const c = candidates[candidates.length - 1]!;
    const at = new Date(Date.parse(c.watermark) + c.horizonDays * DAY_MS).toISOString();
    return { status: 'waiting', version: c.version, maturesAt: at, detail: `the first predictions (${c.version.slice(0, 12)}, ${c.horizonDays}-day horizon from ${c.watermark}) can be scored from ${at}` };
  }
  const from = Date.parse(matured.watermark), to = from + matured.horizonDays * DAY_MS;
  const pred = predictions(matured.version);
  const ids = [...pred.keys()];
  const p = Float64Array.from(ids, (id) => pred.get(id)!);
  const { orders } = customerActivity(h, ids, from, to);
  const y = Uint8Array.from(orders, (o) => (o > 0 ? 1 : 0));
  let ordered = 0, sumP = 0;
  for (let i = 0; i < y.length; i++) { ordered += y[i]!; sumP += p[i]!; }
  const n = ids.length;
  const a = auc(p, y), b = brier(p, y);
  const vAuc = matured.metrics.validation_auc ?? null, vBrier = matured.metrics.validation_brier ?? null;
  const aucDrop = vAuc !== null && Number.isFinite(a) ? vAuc - a : null;
  const brierRise = vBrier !== null && Number.isFinite(b) ? b - vBrier : null;
  const enough = n >= s.minLabelled && ordered > 0 && ordered < n;
  const breached = enough && ((aucDrop !== null && aucDrop >= s.aucDrop) || (brierRise !== null && brierRise >= s.brierRise));
  const f = (x: number | null) => (x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(3));
  const detail = !enough
    ? `${n} customers scored, ${ordered} ordered: too few (or one outcome only) to judge`
    : `live AUC ${f(a)} (validation ${f(vAuc)}, drop ${f(aucDrop)}, limit ${s.aucDrop}); Brier ${f(b)} (validation ${f(vBrier)}, rise ${f(brierRise)}, limit ${s.brierRise}) over ${n} customers, ${ordered} ordered`;
  return {
    status: 'scored', version: matured.version, predictedAt: matured.watermark, maturedAt: new Date(to).toISOString(), horizonDays: matured.horizonDays,
    customers: n, ordered, auc: a, brier: b, meanPredicted: n ? sumP / n : NaN, observedRate: n ? ordered / n : NaN,
    validation: { auc: vAuc, brier: vBrier }, aucDrop, brierRise, breached, detail,
  };
}

export type ForecastAccuracy =
  | { status: 'none'; detail: string }
  | { status: 'waiting'; detail: string; version: string }
  | {
    status: 'scored';
    version: string;
    origin: string;
    /** Whole weeks scored (forecast weeks 1 … weeks). */
    weeks: number;
    products: number;
    rmsse: number;
    /** The naive forecast (last in-sample week repeated) scored the same way: context for the figure. */
    naiveRmsse: number;
    /** Σ|actual − forecast| / Σ actual over every product-week. */
    wape: number;
    /** (Σ forecast − Σ actual) / Σ actual. */
    bias: number;
    validation: { rmsse: number | null };
    rise: number | null;
    breached: boolean;
    detail: string;
  };

function sellingWeeks(y: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < y.length; i++) if (y[i]! > 0) n++;
  return n;
}

/** The champion forecast scored on the weeks that have ended since its origin. */
export function forecastAccuracy(
  champion: { version: string; artifact: ForecastArtifact; metrics: Record<string, number | null> } | null,
  sales: readonly SaleLine[], nowMs: number, s: AccuracySettings = DEFAULT_ACCURACY_SETTINGS,
): ForecastAccuracy {
  if (!champion) return { status: 'none', detail: 'no forecast champion (or its artifact is missing)' };
  const a = champion.artifact;
  const origin = Date.parse(a.weekStart);
  const weeks = Math.min(a.horizonWeeks - 1, Math.floor((nowMs - origin) / WEEK_MS) - 1);
  if (weeks < 1) {
    return { status: 'waiting', version: champion.version, detail: `forecast week 1 (from ${new Date(origin + WEEK_MS).toISOString().slice(0, 10)}) has not ended yet` };
  }
  const index = new Map(a.products.map((p, i) => [p.productId, i]));
  const actual = a.products.map(() => new Float64Array(weeks));
  for (const x of sales) {
    const i = index.get(x.productId);
    if (i === undefined) continue;
    const k = Math.floor((x.time - origin) / WEEK_MS);
    if (k >= 1 && k <= weeks) actual[i]![k - 1]! += x.quantity;
  }
  // In-sample series up to the origin, for the naive scale (the same scaling as validation).
  const history = productFeatures(sales.filter((x) => index.has(x.productId)), { asOf: origin });
  const insample = new Map(history.products.map((p) => [p.productId, p.weeklyUnits.subarray(p.firstWeek, history.completeWeeks)]));
  let sumR = 0, sumNaive = 0, products = 0, absErr = 0, sumA = 0, sumF = 0;
  a.products.forEach((p, i) => {
    const fc = p.weekly.mean.slice(1, weeks + 1);
    const act = actual[i]!;
    for (let k = 0; k < weeks; k++) { absErr += Math.abs(act[k]! - fc[k]!); sumA += act[k]!; sumF += fc[k]!; }
    const ins = insample.get(p.productId);
    // Scored like validation: products with enough selling weeks before the origin, a positive naive scale.
    if (!ins || sellingWeeks(ins) < DEFAULT_ENGINE_OPTIONS.minSellingWeeks) return;
    const scale = naiveScale(ins).mse;
    if (!(scale > 0)) return;
    const last = ins[ins.length - 1]!;
    let sq = 0, sqNaive = 0;
    for (let k = 0; k < weeks; k++) { sq += (act[k]! - fc[k]!) ** 2; sqNaive += (act[k]! - last) ** 2; }
    sumR += Math.sqrt(sq / weeks / scale);
    sumNaive += Math.sqrt(sqNaive / weeks / scale);
    products++;
  });
  const rmsse = products ? sumR / products : NaN;
  const vR = champion.metrics.validation_rmsse ?? null;
  const rise = vR !== null && vR > 0 && Number.isFinite(rmsse) ? rmsse / vR - 1 : null;
  const enough = products >= s.minProducts;
  const breached = enough && rise !== null && rise >= s.forecastErrorRise;
  const f = (x: number | null) => (x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(3));
  return {
    status: 'scored', version: champion.version, origin: a.weekStart, weeks, products, rmsse, naiveRmsse: products ? sumNaive / products : NaN,
    wape: sumA > 0 ? absErr / sumA : NaN, bias: sumA > 0 ? (sumF - sumA) / sumA : NaN,
    validation: { rmsse: vR }, rise, breached,
    detail: enough
      ? `live RMSSE ${f(rmsse)} over ${weeks} week${weeks === 1 ? '' : 's'} × ${products} products (validation ${f(vR)}, ${rise === null ? 'n/a' : `${rise >= 0 ? '+' : ''}${(rise * 100).toFixed(0)}%`}, limit +${(s.forecastErrorRise * 100).toFixed(0)}%; naive forecast ${f(products ? sumNaive / products : NaN)})`
      : `${products} products with a scaled error: too few to judge (need ${s.minProducts})`,
  };
}
