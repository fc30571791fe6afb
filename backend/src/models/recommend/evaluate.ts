// Honest offline evaluation of every recommender under one protocol.
//
//   train period ─────────────────────────────────────────────┬── test period ──
//   … ─────────────── VV ───────────── V ──────────────────── S (split) ────── testEnd
//                      └─ ranker labels ┘└── validation window ┘
//
// Stage A (choices, train data only): every baseline's settings are searched on the validation
// window [V, S) with models fitted on sales before V; the ranker is fitted on features as of VV
// with labels [VV, V) and scored on the same validation window. `chosen` (per task) is the model
// with the best validation mean of Recall@20 and NDCG@10.
// Stage B (scoring): every model is refitted on all sales before S with the settings chosen in
// stage A (the ranker: features as of V, labels [V, S)), and scored on the test period. The
// test sales are read only here, so nothing chosen can depend on them.
import type { CleanData } from '../../features/clean.ts';
import type { RankingReport } from '../../ml/metrics-ranking.ts';
import type { EvalContext } from '../types.ts';
import { baselineScorer, BASELINES, type BaselineName, type BaselineParams } from './baselines.ts';
import {
  DEFAULT_GRID, fitRankerBag, MODEL_NAMES, periodLabels, rankerLists, report, scorerLists, selectionScore,
  tuneBaselines, type BaselineGrid, type ModelName, type RecommendTask,
} from './pipeline.ts';
import { candidateRows, DEFAULT_RANKER_CONFIG, type CandidateRows, type RankerConfig } from './ranker.ts';
import { cutoffState, DAY_MS } from './state.ts';

export interface RecommendMetrics {
  'recall@20': number;
  'ndcg@10': number;
  'hr@10': number;
  coverage: number;
}

export interface RecommendTaskResult {
  models: Record<string, RecommendMetrics>;
  chosen: ModelName;
}

export interface RecommendEvaluation extends RecommendTaskResult {
  new_items_only: RecommendTaskResult;
  /** The stage-A figures every choice was made on (validation window at the end of train). */
  validation: { models: Record<string, RecommendMetrics>; new_items_only: { models: Record<string, RecommendMetrics> } };
  /** Settings chosen on validation, per task. */
  settings: { all: ChosenSettings; new_items_only: ChosenSettings };
  customers: { test: number; test_new_items_only: number; validation: number; validation_new_items_only: number };
  windows: { validation_start: string; ranker_labels_start: string; split: string; test_end: string };
  timings_ms: Record<string, number>;
  notes: string[];
}

export interface ChosenSettings extends BaselineParams {
  ranker: Pick<RankerConfig, 'lambda' | 'knnK' | 'decayDays' | 'hidden' | 'epochs' | 'loss'> & { bag: number };
}

export interface RecommendEvalOptions {
  /** Length of the validation window (and of the ranker's label window), days. Default 42. */
  validationDays?: number;
  grid?: Partial<BaselineGrid>;
  ranker?: Partial<RankerConfig>;
  /** MLPs averaged in the ranker. Default 3. */
  bag?: number;
  minSupport?: number;
}

const pick = (r: RankingReport): RecommendMetrics => ({ 'recall@20': r['recall@20'], 'ndcg@10': r['ndcg@10'], 'hr@10': r['hr@10'], coverage: r.coverage });

function choose(models: Record<string, RecommendMetrics>): ModelName {
  let best: ModelName = 'popularity';
  let bestScore = -Infinity;
  for (const name of MODEL_NAMES) {
    const m = models[name];
    if (!m) continue;
    const s = selectionScore({ ...m, users: 0 });
    if (s > bestScore + 1e-12) { best = name; bestScore = s; }
  }
  return best;
}

export async function evaluateRecommend(train: CleanData, test: CleanData, ctx: EvalContext, opts: RecommendEvalOptions = {}): Promise<RecommendEvaluation> {
  const tf = ctx.backend.tf;
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const lap = (name: string, since: number): number => { const now = performance.now(); timings[name] = Math.round(now - since); return now; };
  const progress = (f: number, m: string): void => ctx.onProgress?.(f, m);
  const days = opts.validationDays ?? 42;
  const bag = opts.bag ?? 3;
  const minSupport = opts.minSupport ?? 5;
  const grid: BaselineGrid = { ...DEFAULT_GRID, ...opts.grid };
  const S = ctx.split;
  const V = S - days * DAY_MS;
  const VV = V - days * DAY_MS;
  const trainSales = train.sales.filter((x) => x.time < S);
  const testEnd = ctx.testEnd;
  const testSales = test.sales.filter((x) => x.time >= S && x.time < testEnd + DAY_MS);
  const notes: string[] = [];

  // ---- Stage A: choices on the validation window [V, S) ----
  progress(0.02, 'validation: baselines');
  let t = performance.now();
  const sV = cutoffState(tf, trainSales, V);
  const labV = periodLabels(sV, trainSales, S);
  const tuned = tuneBaselines(sV, labV, grid, minSupport);
  t = lap('validation_baselines', t);

  const tasks: RecommendTask[] = ['all', 'new'];
  const rankerCfg: RankerConfig = { ...DEFAULT_RANKER_CONFIG, lambda: tuned.params.new.lambda, knnK: tuned.params.new.knnK, minSupport, ...opts.ranker };
  sV.release({ knn: [rankerCfg.knnK], ease: [`${rankerCfg.lambda}/${minSupport}`] });

  progress(0.3, 'validation: ranker');
  const sVV = cutoffState(tf, trainSales, VV);
  const labVV = periodLabels(sVV, trainSales, V);
  const validation: Record<RecommendTask, Record<string, RecommendMetrics>> = { all: {}, new: {} };
  const rowsV: Partial<Record<RecommendTask, CandidateRows>> = {};
  for (const task of tasks) {
    for (const name of BASELINES) validation[task][name] = pick(tuned.validation[task][name]);
    const lab = labVV[task];
    if (lab.size === 0 || labV[task].size === 0) { notes.push(`ranker (${task}): no labelled customers in a validation window; left out`); continue; }
    try {
      const bagA = await fitRankerBag(sVV, rankerCfg, task, lab, ctx.seed, bag);
      rowsV[task] = candidateRows(sV, rankerCfg, [...labV[task].keys()], task, sV.ease(rankerCfg.lambda, minSupport), sV.knn(rankerCfg.knnK));
      const { lists } = rankerLists(sV, bagA, rowsV[task]!.customers, 20, rowsV[task]);
      validation[task].ranker = pick(report(sV, lists, labV[task]));
    } catch (err) {
      notes.push(`ranker (${task}): ${(err as Error).message}; left out`);
    }
  }
  sVV.release();
  t = lap('validation_ranker', t);
  const chosenAll = choose(validation.all);
  const chosenNew = choose(validation.new);

  // ---- Stage B: refit on everything before S with the chosen settings, score the test period ----
  progress(0.6, 'test: refit and score');
  const sS = cutoffState(tf, trainSales, S);
  const labT = periodLabels(sS, testSales);
  const results: Record<RecommendTask, Record<string, RecommendMetrics>> = { all: {}, new: {} };
  for (const task of tasks) {
    const truth = labT[task];
    const p = tuned.params[task];
    for (const name of BASELINES) {
      const lists = scorerLists(sS, baselineScorer(sS, name as BaselineName, p), truth.keys(), task, 20);
      results[task][name] = pick(report(sS, lists, truth));
    }
  }
  t = lap('test_baselines', t);
  for (const task of tasks) {
    const rows = rowsV[task];
    if (!rows || !validation[task].ranker) continue;
    const bagB = await fitRankerBag(sV, rankerCfg, task, labV[task], ctx.seed, bag, rows);
    const { lists } = rankerLists(sS, bagB, Int32Array.from(labT[task].keys()), 20);
    results[task].ranker = pick(report(sS, lists, labT[task]));
  }
  t = lap('test_ranker', t);
  sV.release();
  sS.release();
  timings.total = Math.round(performance.now() - t0);
  progress(1, 'done');

  const settings = (task: RecommendTask): ChosenSettings => ({
    ...tuned.params[task],
    ranker: { lambda: rankerCfg.lambda, knnK: rankerCfg.knnK, decayDays: rankerCfg.decayDays, hidden: rankerCfg.hidden, epochs: rankerCfg.epochs, loss: rankerCfg.loss, bag },
  });
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    models: results.all,
    chosen: chosenAll,
    new_items_only: { models: results.new, chosen: chosenNew },
    validation: { models: validation.all, new_items_only: { models: validation.new } },
    settings: { all: settings('all'), new_items_only: settings('new') },
    customers: { test: labT.all.size, test_new_items_only: labT.new.size, validation: labV.all.size, validation_new_items_only: labV.new.size },
    windows: { validation_start: iso(V), ranker_labels_start: iso(VV), split: iso(S), test_end: iso(testEnd) },
    timings_ms: timings,
    notes,
  };
}
