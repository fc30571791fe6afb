// Offline evaluation of the churn and value models on a time split: pure data in, JSON out.
// The models are fitted on `train` only (features as of the split; every choice made on the
// validation slice at the end of the training period, see train.ts); `test` is only ever
// scored: label = at least one order in [split, split + horizon), target = spend there.
// Customers: everyone with an order before the split (guests excluded).
import { customerActivity, customerHistories, DAY_MS } from '../../features/customers.ts';
import { auc, brier, logLoss, mae, round, spearman } from '../../ml/stats.ts';
import type { CleanData, EvalContext } from '../types.ts';
import { CHURN_MODELS, fitChurn, scoreChurn, VALUE_MODELS, type ChurnArtifact, type ChurnModelName, type ChurnParams, type ChurnScores, type ProbabilityMetrics, type ValueMetrics, type ValueModelName } from './train.ts';

export interface ChurnEvalOptions extends ChurnParams {
  /** Default: whole days from the split to ctx.testEnd (91 for 2011-07-01 → 2011-09-30). */
  horizonDays?: number;
}

export interface ChurnEvaluation {
  horizonDays: number;
  customers: number;
  positives: number;
  test_base_rate: number;
  models: Partial<Record<ChurnModelName | 'base_rate', ProbabilityMetrics>>;
  chosen: ChurnModelName | 'base_rate';
  validation: ChurnArtifact['validation'];
  train_ms: number;
}

export interface ValueEvaluation {
  horizonDays: number;
  customers: number;
  buyers: number;
  models: Partial<Record<ValueModelName, ValueMetrics>>;
  chosen: ValueModelName;
  /** chosen's Spearman / past_spend's. */
  spearman_vs_past_spend: number;
  validation: ChurnArtifact['validation']['value'];
  train_ms: number;
}

export function evalHorizonDays(ctx: Pick<EvalContext, 'split' | 'testEnd'>, opts: ChurnEvalOptions = {}): number {
  return opts.horizonDays ?? Math.max(1, Math.round((ctx.testEnd - ctx.split) / DAY_MS));
}

interface Fitted { artifact: ChurnArtifact; scores: ChurnScores; ms: number }
// evaluateChurn and evaluateValue share one fit per (train data, split, params, seed, backend).
const cache = new WeakMap<object, Map<string, Fitted>>();

function fitted(train: CleanData, ctx: EvalContext, opts: ChurnEvalOptions): Fitted {
  const horizonDays = evalHorizonDays(ctx, opts);
  const params: ChurnParams = { ...opts, horizonDays };
  const key = JSON.stringify([ctx.split, ctx.seed, ctx.backend.name, params]);
  let perData = cache.get(train.sales);
  if (!perData) cache.set(train.sales, (perData = new Map()));
  const hit = perData.get(key);
  if (hit) return hit;
  const t0 = performance.now();
  const visible = { sales: train.sales.filter((s) => s.time < ctx.split), returns: train.returns.filter((r) => r.time < ctx.split) };
  const history = customerHistories(visible);
  let start = Infinity;
  for (const s of visible.sales) if (s.time < start) start = s.time;
  const artifact = fitChurn(history, start, ctx.split, params, ctx.seed, ctx.backend.tf, ctx.backend.name);
  const scores = scoreChurn(artifact, history, ctx.split);
  const f: Fitted = { artifact, scores, ms: performance.now() - t0 };
  perData.set(key, f);
  return f;
}

function outcomes(test: CleanData, ids: string[], split: number, horizonDays: number) {
  const act = customerActivity(customerHistories(test), ids, split, split + horizonDays * DAY_MS);
  return { y: Float64Array.from(act.orders, (o) => (o > 0 ? 1 : 0)), spend: act.spend };
}

const r6 = (x: number) => round(x, 6);

export async function evaluateChurn(train: CleanData, test: CleanData, ctx: EvalContext, opts: ChurnEvalOptions = {}): Promise<ChurnEvaluation> {
  const horizonDays = evalHorizonDays(ctx, opts);
  const { artifact, scores, ms } = fitted(train, ctx, opts);
  const { y } = outcomes(test, scores.ids, ctx.split, horizonDays);
  const n = y.length, positives = y.reduce((s, v) => s + v, 0);
  const models: ChurnEvaluation['models'] = {};
  const base = new Float64Array(n).fill(artifact.baseRate);
  models.base_rate = { auc: r6(auc(base, y)), brier: r6(brier(base, y)), logloss: r6(logLoss(base, y)) };
  for (const name of CHURN_MODELS) {
    const p = scores.models[name], raw = scores.raw[name];
    if (!p || !raw) continue;
    models[name] = { auc: r6(auc(raw, y)), brier: r6(brier(p, y)), logloss: r6(logLoss(p, y)) };
  }
  return {
    horizonDays, customers: n, positives, test_base_rate: r6(n ? positives / n : NaN), models, chosen: artifact.chosen,
    validation: artifact.validation, train_ms: Math.round(ms),
  };
}

export async function evaluateValue(train: CleanData, test: CleanData, ctx: EvalContext, opts: ChurnEvalOptions = {}): Promise<ValueEvaluation> {
  const horizonDays = evalHorizonDays(ctx, opts);
  const { artifact, scores, ms } = fitted(train, ctx, opts);
  const { spend } = outcomes(test, scores.ids, ctx.split, horizonDays);
  const models: ValueEvaluation['models'] = {};
  for (const name of VALUE_MODELS) {
    const p = scores.value[name];
    if (p) models[name] = { spearman: r6(spearman(p, spend)), mae: r6(mae(p, spend)) };
  }
  const chosen = artifact.spend.chosen;
  return {
    horizonDays, customers: spend.length, buyers: spend.reduce((s, v) => s + (v > 0 ? 1 : 0), 0), models, chosen,
    spearman_vs_past_spend: r6((models[chosen]?.spearman ?? NaN) / (models.past_spend?.spearman ?? NaN)),
    validation: artifact.validation.value, train_ms: Math.round(ms),
  };
}
