// Goal checks on the real Online Retail file (skipped when ../shared is absent): churn,
// value and segments on the 2011-07-01 split with a 13-week horizon, and training speed on the
// full file. Missed goals are written as `it.fails` with the measured gap (docs/models/churn.md)
// so the suite stays green and flags the day a change reaches them.
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CleanData } from '../../backend/src/features/clean.ts';
import { readCleanData, splitAt } from '../../backend/src/features/from-file.ts';
import { tensorBackend, type TensorBackend } from '../../backend/src/ml/tensor-backend.ts';
import type { EvalContext } from '../../backend/src/models/types.ts';
import { evaluateChurn, evaluateValue, type ChurnEvaluation, type ValueEvaluation } from '../../backend/src/models/churn/evaluate.ts';
import { trainChurn } from '../../backend/src/models/churn/train.ts';
import { evaluateSegment, type SegmentEvaluation } from '../../backend/src/models/segment/evaluate.ts';
import { trainSegment } from '../../backend/src/models/segment/train.ts';
import { REAL_DATA_FILE } from '../helpers/real-data.ts';

const FILE = REAL_DATA_FILE;
const SPLIT = Date.parse('2011-07-01T00:00:00Z');

describe.skipIf(!existsSync(FILE))('real data: Online Retail, split 2011-07-01, 13-week horizon', () => {
  let data: CleanData, backend: TensorBackend, churn: ChurnEvaluation, value: ValueEvaluation, segment: SegmentEvaluation;
  beforeAll(async () => {
    backend = await tensorBackend();
    data = await readCleanData({ file: FILE, format: 'online-retail' });
    const { train, test } = splitAt(data, SPLIT);
    const ctx: EvalContext = { seed: 42, backend, asOf: SPLIT, split: SPLIT, testEnd: Date.parse('2011-09-30T00:00:00Z') };
    churn = await evaluateChurn(train, test, ctx, { horizonDays: 91 });
    value = await evaluateValue(train, test, ctx, { horizonDays: 91 });
    segment = await evaluateSegment(train, test, ctx, { horizonDays: 91 });
  }, 120_000);

  it('reproduces the reference baselines (logistic_rfm 0.758, frequency 0.734)', () => {
    expect(churn.horizonDays).toBe(91);
    expect(churn.customers).toBe(2957);
    expect(churn.models.logistic_rfm!.auc).toBeCloseTo(0.758, 3);
    expect(churn.models.frequency!.auc).toBeCloseTo(0.734, 3);
  });

  it('churn: the chosen model beats both baselines on AUC and the base rate on Brier', () => {
    const c = churn.models[churn.chosen]!;
    expect(c.auc).toBeGreaterThan(churn.models.logistic_rfm!.auc);
    expect(c.auc).toBeGreaterThan(0.76);
    expect(c.brier).toBeLessThan(churn.models.base_rate!.brier);
    expect(c.brier).toBeLessThan(churn.models.logistic_rfm!.brier);
  });

  it.fails('goal: churn AUC ≥ 0.78 (missed: ≈ 0.764, see docs/models/churn.md)', () => {
    expect(churn.models[churn.chosen]!.auc).toBeGreaterThanOrEqual(0.78);
  });

  it('value: every model within reach of past spend; the best beats it', () => {
    expect(value.models.past_spend!.spearman).toBeCloseTo(0.5426, 3);
    const best = Math.max(...Object.values(value.models).map((m) => m!.spearman));
    expect(best).toBeGreaterThan(value.models.past_spend!.spearman);
    expect(value.spearman_vs_past_spend).toBeGreaterThanOrEqual(0.97);
  });

  it.fails('goal: value Spearman ≥ 1.10 × past_spend (missed: ≈ 1.00 chosen, 1.02 best, see docs/models/churn.md)', () => {
    expect(value.spearman_vs_past_spend).toBeGreaterThanOrEqual(1.1);
  });

  it('segments separate what customers do next', () => {
    expect(segment.k).toBe(6);
    const rates = Object.values(segment.repeat_rate_by_segment);
    expect(Math.max(...rates) - Math.min(...rates)).toBeGreaterThan(0.5);
    expect(segment.repeat_rate_by_segment.Champions).toBeGreaterThan(0.85);
    expect(segment.future_value_by_segment.Champions).toBeGreaterThan(5 * segment.future_value_by_segment.Lost!);
  });

  it('speed: segment + churn training on the full file within 10 s', async () => {
    const ctx = { seed: 42, backend, asOf: Date.parse('2011-10-01T00:00:00Z') };
    const t0 = performance.now();
    await trainSegment(data, {}, ctx);
    await trainChurn(data, {}, ctx);
    expect(performance.now() - t0).toBeLessThan(10_000);
  }, 60_000);
});
