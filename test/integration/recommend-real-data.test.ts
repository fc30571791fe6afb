// The goals on the real Online Retail data (UCI 352, Dec 2010 – Sep 2011), split at 2011-07-01.
// Skipped when the shared data file is not on this machine.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CleanData } from '../../backend/src/features/clean.ts';
import { readCleanData, splitAt } from '../../backend/src/features/from-file.ts';
import { tensorBackend } from '../../backend/src/ml/tensor-backend.ts';
import { evaluateRecommend, trainRecommend, type RecommendEvaluation } from '../../backend/src/models/recommend/index.ts';
import { REAL_DATA_FILE } from '../helpers/real-data.ts';

const FILE = REAL_DATA_FILE;
const SPLIT = Date.parse('2011-07-01T00:00:00Z');

describe.skipIf(!existsSync(FILE))('recommendations on the Online Retail data', () => {
  let data: CleanData;
  let result: RecommendEvaluation;
  let evalMs = 0;

  it('evaluateRecommend: honest baselines, chosen model meets the goals', async () => {
    const backend = await tensorBackend();
    data = await readCleanData({ file: FILE, format: 'online-retail' });
    const { train, test } = splitAt(data, SPLIT);
    const lastDay = Math.floor(test.sales[test.sales.length - 1]!.time / 86_400_000) * 86_400_000;
    const t0 = performance.now();
    result = await evaluateRecommend(train, test, { seed: 1, backend, asOf: SPLIT, split: SPLIT, testEnd: lastDay });
    evalMs = performance.now() - t0;
    const m = result.models, n = result.new_items_only.models;
    console.log(JSON.stringify({ evalMs: Math.round(evalMs), chosen: result.chosen, chosenNew: result.new_items_only.chosen, models: m, new: n, timings: result.timings_ms }));

    // Baselines land near the reference figures of straightforward implementations.
    expect(m.repurchase!['recall@20']).toBeCloseTo(0.372, 2);
    expect(m.repurchase!['ndcg@10']).toBeCloseTo(0.415, 2);
    expect(Math.abs(m.ease!['recall@20'] - 0.33)).toBeLessThan(0.02);
    expect(Math.abs(m.ease_repurchase!['recall@20'] - 0.381)).toBeLessThan(0.02);
    expect(Math.abs(n.ease!['recall@20'] - 0.149)).toBeLessThan(0.015);
    expect(Math.abs(n.item_knn!['recall@20'] - 0.132)).toBeLessThan(0.015);

    // Goals for the chosen models.
    expect(m[result.chosen]!['recall@20']).toBeGreaterThanOrEqual(0.400);
    expect(m[result.chosen]!['ndcg@10']).toBeGreaterThanOrEqual(0.437);
    expect(n[result.new_items_only.chosen]!['recall@20']).toBeGreaterThanOrEqual(0.156);
    expect(n[result.new_items_only.chosen]!['ndcg@10']).toBeGreaterThanOrEqual(0.150);
    // ~60 s on an idle 2-core machine; generous bound for a shared one.
    expect(evalMs).toBeLessThan(150_000);
  }, 300_000);

  it('trainRecommend: the chosen model on the full 10 months', async () => {
    const backend = await tensorBackend();
    data ??= await readCleanData({ file: FILE, format: 'online-retail' });
    const asOf = data.sales[data.sales.length - 1]!.time;
    const t0 = performance.now();
    const r = await trainRecommend(data, { model: result?.chosen ?? 'ranker', settings: result?.settings.all }, { seed: 1, backend, asOf });
    const ms = performance.now() - t0;
    console.log(JSON.stringify({ trainMs: Math.round(ms), metrics: r.metrics, customers: r.perCustomer?.size }));
    expect(r.perCustomer!.size).toBeGreaterThan(3000);
    expect(r.metrics['recall@20']).toBeGreaterThan(0.3);
    expect(ms).toBeLessThan(60_000);
  }, 300_000);
});
