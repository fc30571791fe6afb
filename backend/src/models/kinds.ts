// Where each model kind meets the pipeline: its trainer (train-pipeline.ts, in a worker thread)
// and its evaluators (`shopml eval`). One table, so adding a kind is one line in each.
import type { CleanData } from '../features/clean.ts';
import { productSales } from '../features/clean.ts';
import type { EvalContext, ModelKind, TrainContext, TrainResult } from './types.ts';
import { evaluateRecommend, trainRecommend, type RecommendParams } from './recommend/index.ts';
import { evaluateSegment } from './segment/evaluate.ts';
import { trainSegment, type SegmentArtifact, type SegmentParams } from './segment/train.ts';
import { evaluateChurn, evaluateValue } from './churn/evaluate.ts';
import { trainChurn, type ChurnParams } from './churn/train.ts';
import { evaluateForecast } from './forecast/evaluate.ts';
import { trainForecast, type ForecastParams } from './forecast/train.ts';

type Trainer = (data: CleanData, params: Record<string, unknown>, ctx: TrainContext) => Promise<TrainResult<unknown, unknown>>;

export const TRAINERS: Record<ModelKind, Trainer> = {
  // Product models learn from product lines only; order-level lines are for customer models.
  recommend: (data, params, ctx) => trainRecommend(productSales(data), params as RecommendParams, ctx),
  forecast: (data, params, ctx) => trainForecast(productSales(data), params as ForecastParams, ctx),
  // `previous` (the last segment artifact) keeps segment names stable across retrains.
  segment: (data, params, ctx) => {
    const { previous, ...rest } = params as SegmentParams & { previous?: SegmentArtifact };
    return trainSegment(data, rest, ctx, previous);
  },
  churn: (data, params, ctx) => trainChurn(data, params as ChurnParams, ctx),
};

type Evaluator = (train: CleanData, test: CleanData, ctx: EvalContext) => Promise<unknown>;

export const EVALUATORS: Record<'recommend' | 'churn' | 'value' | 'forecast' | 'segment', Evaluator> = {
  recommend: evaluateRecommend,
  churn: evaluateChurn,
  value: evaluateValue,
  forecast: evaluateForecast,
  segment: evaluateSegment,
};
