// Repeat-purchase / churn risk and customer value (model card: docs/models/churn.md).
//
// For every customer with an order before the watermark `asOf`: the probability of ordering
// again within the horizon (default 90 days; churnProbability is its complement), BG/NBD's
// P(alive), an expected next-order date and the predicted spend over the horizon.
//
// Protocol (nothing here looks past `asOf`):
//  * Training window: features as of cut = asOf − horizon, label = an order in [cut, asOf),
//    spend target = the spend in that window. This last horizon of the training period is also
//    the validation slice: every candidate is scored out of fold (K folds of customers, seeded),
//    and every choice — the MLP's step count, each candidate's calibration (none / Platt /
//    isotonic, by cross-fitted Brier), the served model (`chosen`, by validation AUC) and the
//    value model (by validation Spearman) — is made on those out-of-fold predictions.
//  * Final models are refitted on the whole window and score features as of asOf.
//
// Candidates: `frequency` (orders alone, Platt-scaled), `logistic_rfm` (logistic regression on
// log RFM + tenure), `bgnbd` (BG/NBD P(≥ 1 purchase in the horizon), unsupervised),
// `shopml_linear` (logistic regression on the rich inputs) and `shopml_mlp` (TensorFlow.js MLP
// on the rich inputs, BG/NBD quantities included). Value: `past_spend` (past spend scaled to
// the horizon), `bgnbd_gg` (BG/NBD expected purchases × Gamma-Gamma spend per purchase) and
// `shopml_hurdle` (calibrated P(order) × a ridge regression of log spend among buyers).
import { customerActivity, customerFeatures, customerHistories, DAY_MS, type CustomerFeatures, type CustomerHistories } from '../../features/customers.ts';
import { calibrate, fitIsotonic, fitPlatt, fitIsotonicValues, type Calibrator, type IsotonicCalibrator } from '../../ml/calibration.ts';
import type { BgNbdParams, GammaGammaParams } from '../../ml/bgnbd.ts';
import { fitLogistic, predictLogistic, type LogisticModel } from '../../ml/logistic.ts';
import { mlpLogit, trainMlpHeads, type MlpWeights } from '../../ml/mlp.ts';
import { createPrng } from '../../ml/prng.ts';
import { fitRidge, predictRidge, type RidgeModel } from '../../ml/ridge.ts';
import { auc, averageRanks, brier, logLoss, mae, round, sigmoid, spearman } from '../../ml/stats.ts';
import type { Tf } from '../../ml/tensor-backend.ts';
import type { CleanData, TrainContext, TrainResult } from '../types.ts';
import { fitProbabilistic, probabilisticScores, RFM_INPUTS, RICH_INPUTS, rfmRow, richRow, type ProbabilisticModels, type ProbabilisticScores } from './inputs.ts';

export const CHURN_MODELS = ['frequency', 'logistic_rfm', 'bgnbd', 'shopml_linear', 'shopml_mlp'] as const;
export type ChurnModelName = (typeof CHURN_MODELS)[number];
export const VALUE_MODELS = ['past_spend', 'bgnbd_gg', 'shopml_hurdle', 'shopml_rank'] as const;
export type ValueModelName = (typeof VALUE_MODELS)[number];

export interface ChurnParams {
  /** Horizon of "orders again", in days. Default 90. */
  horizonDays?: number;
  /** Folds of customers for the out-of-fold validation. Default 5. */
  folds?: number;
  /** MLP hidden units. Default 8. */
  hidden?: number;
  /** MLP L2 penalty. Default 0.01. */
  l2?: number;
  learningRate?: number; // default 0.02
  /** Step counts the MLP's training length is chosen from (on validation). Default [40, 80, 160]. */
  steps?: number[];
}

/** Fewest customers behind one knot of an isotonic map kept in the artifact. */
const MIN_BLOCK = 10;

const DEFAULTS = { horizonDays: 90, folds: 5, hidden: 8, l2: 0.01, learningRate: 0.02, steps: [40, 80, 160] };

export interface ProbabilityMetrics { auc: number; brier: number; logloss: number }
export interface ValueMetrics { spearman: number; mae: number }

export interface ChurnArtifact {
  kind: 'churn';
  version: 1;
  backend: string;
  asOf: number;
  horizonDays: number;
  /** First sale in the data: past spend is scaled by horizon / (asOf − historyStart). */
  historyStart: number;
  /** BG/NBD and Gamma-Gamma fitted on the history up to asOf (what scoring uses). */
  probabilistic: ProbabilisticModels;
  rfmInputs: string[];
  richInputs: string[];
  models: {
    logistic_rfm: LogisticModel | null;
    shopml_linear: LogisticModel | null;
    shopml_mlp: { means: number[]; sds: number[]; steps: number; weights: MlpWeights } | null;
  };
  calibrators: Partial<Record<ChurnModelName, Calibrator>>;
  /** The model served as orderProbability; 'base_rate' when the window had one class only. */
  chosen: ChurnModelName | 'base_rate';
  baseRate: number;
  /** Ridge regression of log(spend in the horizon) among buyers; exp(ŷ + σ²/2) is the spend if ordering. */
  spend: { chosen: ValueModelName; conditional: RidgeModel | null; rank: RidgeModel | null; rankToSpend: IsotonicCalibrator | null };
  validation: {
    window: { from: number; to: number };
    customers: number;
    positives: number;
    churn: Partial<Record<ChurnModelName | 'base_rate', ProbabilityMetrics>>;
    calibration: Partial<Record<ChurnModelName, string>>;
    value: Partial<Record<ValueModelName, ValueMetrics>>;
    mlpSteps: number | null;
  };
}

export interface ChurnOutput {
  /** 1 − orderProbability. */
  churnProbability: number;
  /** Calibrated P(at least one order within the horizon). */
  orderProbability: number;
  /** BG/NBD P(still active). */
  pAlive?: number;
  /** Epoch ms: asOf + the median wait for the next purchase if the customer is still active. */
  expectedNextOrder: number;
  /** Predicted spend within the horizon (store currency). */
  predictedSpend: number;
}

type Resolved = typeof DEFAULTS;

function resolve(params: ChurnParams): Resolved {
  return {
    horizonDays: params.horizonDays ?? DEFAULTS.horizonDays,
    folds: Math.max(2, params.folds ?? DEFAULTS.folds),
    hidden: params.hidden ?? DEFAULTS.hidden,
    l2: params.l2 ?? DEFAULTS.l2,
    learningRate: params.learningRate ?? DEFAULTS.learningRate,
    steps: [...(params.steps ?? DEFAULTS.steps)].sort((a, b) => a - b),
  };
}

/** Sales and returns strictly before asOf: a model never sees past its watermark. */
function before(data: Pick<CleanData, 'sales' | 'returns'>, asOf: number): Pick<CleanData, 'sales' | 'returns'> {
  const late = data.sales.some((s) => s.time >= asOf) || data.returns.some((r) => r.time >= asOf);
  return late ? { sales: data.sales.filter((s) => s.time < asOf), returns: data.returns.filter((r) => r.time < asOf) } : data;
}

function firstSale(data: Pick<CleanData, 'sales'>): number {
  let t = Infinity;
  for (const s of data.sales) if (s.time < t) t = s.time;
  return t;
}

function standardizer(rows: number[][]): { means: number[]; sds: number[] } {
  const n = rows.length, d = rows[0]?.length ?? 0;
  const means = new Array<number>(d).fill(0), sds = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) means[j]! += r[j]! / n;
  for (const r of rows) for (let j = 0; j < d; j++) sds[j]! += (r[j]! - means[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) sds[j] = Math.sqrt(sds[j]!) || 1;
  return { means, sds };
}

const standardize = (row: number[], s: { means: number[]; sds: number[] }): number[] => row.map((v, j) => (v - s.means[j]!) / s.sds[j]!);

function fitCalibrator(method: Calibrator['method'], p: ArrayLike<number>, y: ArrayLike<number>): Calibrator {
  if (method === 'platt') return fitPlatt(p, y);
  if (method === 'isotonic') return fitIsotonic(p, y, MIN_BLOCK);
  return { method: 'none' };
}

function subset<T>(a: ArrayLike<T>, idx: number[]): T[] {
  return idx.map((i) => a[i]!);
}

interface Window {
  features: CustomerFeatures;
  prob: ProbabilisticScores;
  pm: ProbabilisticModels;
  y: Float64Array;
  spend: Float64Array;
}

/** Validation on the training window + refit: everything but scoring. */
export function fitChurn(history: CustomerHistories, historyStart: number, asOf: number, params: ChurnParams, seed: number, tf: Tf, backendName: string): ChurnArtifact {
  const P = resolve(params);
  const cut = asOf - P.horizonDays * DAY_MS;
  const fW = customerFeatures(history, cut);
  const pmW = fitProbabilistic(fW);
  const win: Window = { features: fW, pm: pmW, prob: probabilisticScores(fW, pmW, P.horizonDays), y: new Float64Array(0), spend: new Float64Array(0) };
  const act = customerActivity(history, fW.ids, cut, asOf);
  win.y = Float64Array.from(act.orders, (o) => (o > 0 ? 1 : 0));
  win.spend = act.spend;
  const n = fW.ids.length;
  const positives = win.y.reduce((s, v) => s + v, 0);
  const baseRate = n > 0 ? positives / n : 0.5; // no window at all: uninformative

  const final = customerFeatures(history, asOf);
  const artifact: ChurnArtifact = {
    kind: 'churn', version: 1, backend: backendName, asOf, horizonDays: P.horizonDays, historyStart,
    probabilistic: fitProbabilistic(final),
    rfmInputs: [...RFM_INPUTS], richInputs: [...RICH_INPUTS],
    models: { logistic_rfm: null, shopml_linear: null, shopml_mlp: null },
    calibrators: {}, chosen: 'base_rate', baseRate,
    spend: { chosen: 'bgnbd_gg', conditional: null, rank: null, rankToSpend: null },
    validation: { window: { from: cut, to: asOf }, customers: n, positives, churn: {}, calibration: {}, value: {}, mlpSteps: null },
  };
  const constantMetrics = (p: number): ProbabilityMetrics => {
    const c = new Float64Array(n).fill(p);
    return { auc: auc(c, win.y), brier: brier(c, win.y), logloss: logLoss(c, win.y) };
  };
  artifact.validation.churn.base_rate = constantMetrics(baseRate);

  // Folds of customers (seeded), shared by every candidate and the calibration cross-fit.
  const K = Math.min(P.folds, Math.max(2, n));
  const fold = new Int32Array(n);
  createPrng(seed).fork('churn-folds').permutation(n).forEach((p, i) => { fold[p] = i % K; });
  const inFold = (k: number, want: boolean) => { const r: number[] = []; for (let i = 0; i < n; i++) if ((fold[i] === k) === want) r.push(i); return r; };
  const trainIdx = Array.from({ length: K }, (_, k) => inFold(k, false));
  const testIdx = Array.from({ length: K }, (_, k) => inFold(k, true));
  const supervised = positives >= 5 && n - positives >= 5;

  const rfmRows = Array.from({ length: n }, (_, i) => rfmRow(fW, i));
  const richRows = Array.from({ length: n }, (_, i) => richRow(fW, win.prob, i));
  const oof: Partial<Record<ChurnModelName, Float64Array>> = {};
  oof.frequency = Float64Array.from(fW.frequency, (f) => f / (1 + f));
  if (pmW.bgnbd) oof.bgnbd = Float64Array.from(win.prob.pActive);

  if (supervised) {
    for (const [name, rows] of [['logistic_rfm', rfmRows], ['shopml_linear', richRows]] as const) {
      const o = new Float64Array(n);
      for (let k = 0; k < K; k++) {
        const m = fitLogistic(subset(rows, trainIdx[k]!), subset(win.y, trainIdx[k]!), { l2: 1e-3 });
        for (const i of testIdx[k]!) o[i] = predictLogistic(m, rows[i]!);
      }
      oof[name] = o;
      artifact.models[name] = fitLogistic(rows, win.y, { l2: 1e-3 });
    }
    // MLP: K fold heads + 1 full head, one batched training run; step count chosen on OOF log loss.
    const st = standardizer(richRows);
    const d = RICH_INPUTS.length;
    const X = new Float32Array(n * d);
    richRows.forEach((r, i) => X.set(standardize(r, st), i * d));
    const masks = Array.from({ length: K + 1 }, (_, k) => Float32Array.from(fold, (f) => (k === K || f !== k ? 1 : 0)));
    const snaps = trainMlpHeads(tf, X, n, d, Float32Array.from(win.y), masks, { hidden: P.hidden, l2: P.l2, learningRate: P.learningRate, checkpoints: P.steps, seed: `${seed}` });
    let best = -1, bestLoss = Infinity, bestOof = new Float64Array(n);
    snaps.forEach((heads, s) => {
      const o = new Float64Array(n);
      for (let i = 0; i < n; i++) o[i] = sigmoid(mlpLogit(heads[fold[i]!]!, X.subarray(i * d, (i + 1) * d)));
      const l = logLoss(o, win.y);
      if (l < bestLoss - 1e-12) { bestLoss = l; best = s; bestOof = o; }
    });
    oof.shopml_mlp = bestOof;
    artifact.models.shopml_mlp = { ...st, steps: P.steps[best]!, weights: snaps[best]![K]! };
    artifact.validation.mlpSteps = P.steps[best]!;
  }

  // Calibration: per candidate, the method with the lowest cross-fitted Brier; then refitted on all OOF.
  const calibrated: Partial<Record<ChurnModelName, Float64Array>> = {};
  for (const name of CHURN_MODELS) {
    const raw = oof[name];
    if (!raw) continue;
    const methods: Calibrator['method'][] = !supervised ? ['none'] : name === 'frequency' ? ['platt', 'isotonic'] : ['none', 'platt', 'isotonic'];
    let bestMethod: Calibrator['method'] = methods[0]!, bestBrier = Infinity, bestCal = Float64Array.from(raw);
    for (const method of methods) {
      const cal = new Float64Array(n);
      for (let k = 0; k < K; k++) {
        const c = fitCalibrator(method, subset(raw, trainIdx[k]!), subset(win.y, trainIdx[k]!));
        for (const i of testIdx[k]!) cal[i] = calibrate(c, raw[i]!);
      }
      const b = brier(cal, win.y);
      if (b < bestBrier - 1e-12) { bestBrier = b; bestMethod = method; bestCal = cal; }
    }
    artifact.calibrators[name] = fitCalibrator(bestMethod, raw, win.y);
    artifact.validation.calibration[name] = bestMethod;
    calibrated[name] = bestCal;
    artifact.validation.churn[name] = { auc: auc(raw, win.y), brier: brier(bestCal, win.y), logloss: logLoss(bestCal, win.y) };
  }
  // The served model: best validation AUC (ties: the earlier, simpler candidate).
  let chosenAuc = -Infinity;
  for (const name of CHURN_MODELS) {
    const m = artifact.validation.churn[name];
    if (!m || (!supervised && name !== 'bgnbd')) continue;
    if (m.auc > chosenAuc + 1e-9) { chosenAuc = m.auc; artifact.chosen = name; }
  }

  if (artifact.chosen === 'base_rate' && artifact.probabilistic.bgnbd) {
    // No usable training window (history shorter than the horizon, or one class only): BG/NBD
    // needs no labels — serve its P(active in the horizon) as is.
    artifact.chosen = 'bgnbd';
    artifact.calibrators.bgnbd ??= { method: 'none' };
    artifact.validation.calibration.bgnbd ??= 'none';
  }

  // Value: spend in the window.
  const spanW = Math.max(1, (cut - historyStart) / DAY_MS);
  const valuePred: Partial<Record<ValueModelName, Float64Array>> = {
    past_spend: Float64Array.from(fW.monetary, (m) => (m * P.horizonDays) / spanW),
  };
  if (pmW.bgnbd) valuePred.bgnbd_gg = Float64Array.from(win.prob.expected, (e, i) => e * win.prob.spendPerPurchase[i]!);
  const buyers = (idx: number[]) => idx.filter((i) => win.y[i]! > 0 && win.spend[i]! > 0);
  const chosenCal = artifact.chosen !== 'base_rate' ? calibrated[artifact.chosen] : undefined;
  if (supervised && chosenCal) {
    const o = new Float64Array(n);
    for (let k = 0; k < K; k++) {
      const b = buyers(trainIdx[k]!);
      if (b.length < 3) continue;
      const r = fitRidge(subset(richRows, b), b.map((i) => Math.log(win.spend[i]!)), 1e-2);
      for (const i of testIdx[k]!) o[i] = chosenCal[i]! * Math.exp(predictRidge(r, richRows[i]!) + r.residualVariance / 2);
    }
    valuePred.shopml_hurdle = o;
    const all = buyers(Array.from({ length: n }, (_, i) => i));
    if (all.length >= 3) artifact.spend.conditional = fitRidge(subset(richRows, all), all.map((i) => Math.log(win.spend[i]!)), 1e-2);
  }
  if (supervised) {
    // Rank regression: ridge on the normalised rank of the window spend (what Spearman scores),
    // mapped back to spend by an isotonic fit of spend on the out-of-fold score.
    const rk = averageRanks(win.spend);
    const target = Array.from(rk, (r) => r / n);
    const o = new Float64Array(n);
    for (let k = 0; k < K; k++) {
      const r = fitRidge(subset(richRows, trainIdx[k]!), subset(target, trainIdx[k]!), 1e-2);
      for (const i of testIdx[k]!) o[i] = predictRidge(r, richRows[i]!);
    }
    const toSpend = fitIsotonicValues(o, win.spend, MIN_BLOCK);
    const cross = new Float64Array(n);
    for (let k = 0; k < K; k++) {
      const m = fitIsotonicValues(subset(o, trainIdx[k]!), subset(win.spend, trainIdx[k]!), MIN_BLOCK);
      for (const i of testIdx[k]!) cross[i] = rankSpend(m, o[i]!);
    }
    valuePred.shopml_rank = cross;
    artifact.spend.rank = fitRidge(richRows, target, 1e-2);
    artifact.spend.rankToSpend = toSpend;
  }
  let bestRho = -Infinity;
  for (const name of VALUE_MODELS) {
    const p = valuePred[name];
    if (!p) continue;
    if (name === 'shopml_hurdle' && !artifact.spend.conditional) continue;
    if (name === 'shopml_rank' && !artifact.spend.rank) continue;
    const m = { spearman: spearman(p, win.spend), mae: mae(p, win.spend) };
    artifact.validation.value[name] = m;
    if (Number.isFinite(m.spearman) && m.spearman > bestRho + 1e-9) { bestRho = m.spearman; artifact.spend.chosen = name; }
  }
  if (!Number.isFinite(bestRho)) artifact.spend.chosen = artifact.probabilistic.bgnbd ? 'bgnbd_gg' : 'past_spend';
  return artifact;
}

/**
 * Spend for a rank score: the isotonic map (≥ 0: means of spends), ties inside a flat step
 * broken by the score itself through a bounded increasing term in (0, 1e-6).
 */
function rankSpend(m: IsotonicCalibrator, score: number): number {
  return Math.max(0, calibrate(m, score)) + 1e-6 * (0.5 + Math.atan(score) / Math.PI);
}

export interface ChurnScores {
  ids: string[];
  features: CustomerFeatures;
  prob: ProbabilisticScores;
  /** Calibrated P(order within the horizon), per candidate. */
  models: Partial<Record<ChurnModelName, Float64Array>>;
  /** Uncalibrated scores (for AUC: a monotone calibration changes nothing, isotonic ties would). */
  raw: Partial<Record<ChurnModelName, Float64Array>>;
  orderProbability: Float64Array;
  value: Partial<Record<ValueModelName, Float64Array>>;
  predictedSpend: Float64Array;
  expectedNextOrder: Float64Array;
}

/** Scores every customer with an order before `asOf` (default: the artifact's) with every model in the artifact. */
export function scoreChurn(a: ChurnArtifact, source: CustomerHistories | Pick<CleanData, 'sales' | 'returns'>, asOf = a.asOf): ChurnScores {
  const history = 'customers' in source ? source : customerHistories(before(source, asOf));
  const f = customerFeatures(history, asOf);
  const n = f.ids.length;
  const prob = probabilisticScores(f, a.probabilistic, a.horizonDays);
  const raw: Partial<Record<ChurnModelName, Float64Array>> = {};
  raw.frequency = Float64Array.from(f.frequency, (v) => v / (1 + v));
  if (a.probabilistic.bgnbd) raw.bgnbd = Float64Array.from(prob.pActive);
  const rfmRows = Array.from({ length: n }, (_, i) => rfmRow(f, i));
  const richRows = Array.from({ length: n }, (_, i) => richRow(f, prob, i));
  if (a.models.logistic_rfm) { const m = a.models.logistic_rfm; raw.logistic_rfm = Float64Array.from(rfmRows, (r) => predictLogistic(m, r)); }
  if (a.models.shopml_linear) { const m = a.models.shopml_linear; raw.shopml_linear = Float64Array.from(richRows, (r) => predictLogistic(m, r)); }
  if (a.models.shopml_mlp) { const m = a.models.shopml_mlp; raw.shopml_mlp = Float64Array.from(richRows, (r) => sigmoid(mlpLogit(m.weights, standardize(r, m)))); }
  const models: Partial<Record<ChurnModelName, Float64Array>> = {};
  for (const name of CHURN_MODELS) {
    const r = raw[name], c = a.calibrators[name];
    if (r && c) models[name] = Float64Array.from(r, (p) => calibrate(c, p));
  }
  const orderProbability = a.chosen !== 'base_rate' && models[a.chosen] ? models[a.chosen]! : new Float64Array(n).fill(a.baseRate);
  const span = Math.max(1, (asOf - a.historyStart) / DAY_MS);
  const value: Partial<Record<ValueModelName, Float64Array>> = {
    past_spend: Float64Array.from(f.monetary, (m) => (m * a.horizonDays) / span),
  };
  if (a.probabilistic.bgnbd) value.bgnbd_gg = Float64Array.from(prob.expected, (e, i) => e * prob.spendPerPurchase[i]!);
  const cond = a.spend.conditional;
  if (cond) value.shopml_hurdle = Float64Array.from(richRows, (r, i) => orderProbability[i]! * Math.exp(predictRidge(cond, r) + cond.residualVariance / 2));
  const { rank, rankToSpend } = a.spend;
  if (rank && rankToSpend) value.shopml_rank = Float64Array.from(richRows, (r) => rankSpend(rankToSpend, predictRidge(rank, r)));
  const predictedSpend = value[a.spend.chosen] ?? value.past_spend!;
  const expectedNextOrder = Float64Array.from(prob.medianWaitDays, (w) => asOf + Math.round(Math.min(w, 3650) * DAY_MS));
  return { ids: f.ids, features: f, prob, models, raw, orderProbability, value, predictedSpend, expectedNextOrder };
}

export async function trainChurn(data: CleanData, params: ChurnParams, ctx: TrainContext): Promise<TrainResult<ChurnArtifact, ChurnOutput>> {
  ctx.onProgress?.(0, 'churn: customer histories');
  const visible = before(data, ctx.asOf);
  const history = customerHistories(visible);
  ctx.onProgress?.(0.1, 'churn: validation and fit');
  const artifact = fitChurn(history, firstSale(visible), ctx.asOf, params, ctx.seed, ctx.backend.tf, ctx.backend.name);
  ctx.onProgress?.(0.9, 'churn: scoring');
  const s = scoreChurn(artifact, history, ctx.asOf);
  const perCustomer = new Map<string, ChurnOutput>();
  s.ids.forEach((id, i) => {
    const p = s.orderProbability[i]!;
    perCustomer.set(id, {
      churnProbability: 1 - p, orderProbability: p,
      ...(artifact.probabilistic.bgnbd ? { pAlive: s.prob.pAlive[i]! } : {}),
      expectedNextOrder: s.expectedNextOrder[i]!, predictedSpend: s.predictedSpend[i]!,
    });
  });
  const v = artifact.validation;
  const chosenMetrics = artifact.chosen === 'base_rate' ? v.churn.base_rate : v.churn[artifact.chosen];
  const metrics: Record<string, number> = {
    customers_scored: s.ids.length,
    validation_customers: v.customers,
    validation_base_rate: round(artifact.baseRate, 6),
    validation_auc: round(chosenMetrics?.auc ?? NaN, 6),
    validation_brier: round(chosenMetrics?.brier ?? NaN, 6),
    validation_logloss: round(chosenMetrics?.logloss ?? NaN, 6),
    validation_base_rate_brier: round(v.churn.base_rate?.brier ?? NaN, 6),
    validation_value_spearman: round(v.value[artifact.spend.chosen]?.spearman ?? NaN, 6),
    validation_past_spend_spearman: round(v.value.past_spend?.spearman ?? NaN, 6),
  };
  ctx.onProgress?.(1, 'churn: done');
  return { artifact, perCustomer, metrics, params: { ...resolve(params), chosen: artifact.chosen, valueChosen: artifact.spend.chosen, mlpSteps: v.mlpSteps } };
}

