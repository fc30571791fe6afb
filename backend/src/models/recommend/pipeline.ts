// The steps training and evaluation share: labels of a period, ranked lists for a set of
// customers from a score function, hyper-parameter search of the baselines on a validation
// window, and the ranker's fit-then-rank.
import type { SaleLine } from '../../features/clean.ts';
import { rankingReport, type RankingReport } from '../../ml/metrics-ranking.ts';
import { baselineScorer, BASELINES, type BaselineName, type BaselineParams, type Scorer } from './baselines.ts';
import { candidateRows, rankerScores, trainRanker, type CandidateRows, type RankerConfig, type RankerWeights, type RecommendTask } from './ranker.ts';
import { topK } from './scoring.ts';
import type { CutoffState } from './state.ts';

export const MODEL_NAMES = [...BASELINES, 'ranker'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];
export type { RecommendTask };

export interface Labels {
  /** Customer index (in the cutoff's baskets) → products (indexes) bought in the period that were sold before the cutoff. */
  all: Map<number, Set<number>>;
  /** The same, only products the customer had not bought before the cutoff; customers with none left out. */
  new: Map<number, Set<number>>;
}

/**
 * What customers bought in [state.asOf, to): only customers known before the cutoff, only
 * products sold before it (the candidates). Sales are in time order (clean.ts sorts them).
 */
export function periodLabels(s: CutoffState, sales: readonly SaleLine[], to = Infinity): Labels {
  const all = new Map<number, Set<number>>();
  for (const x of sales) {
    if (x.time < s.asOf || x.time >= to || x.customerId === null) continue;
    const c = s.b.customerIndex.get(x.customerId);
    const p = s.b.productIndex.get(x.productId);
    if (c === undefined || p === undefined) continue;
    let set = all.get(c);
    if (!set) all.set(c, (set = new Set()));
    set.add(p);
  }
  const sorted = new Map([...all].sort((a, b) => a[0] - b[0]));
  const fresh = new Map<number, Set<number>>();
  for (const [c, set] of sorted) {
    const own = new Set(s.b.histories[c]!.items);
    const nw = new Set([...set].filter((p) => !own.has(p)));
    if (nw.size > 0) fresh.set(c, nw);
  }
  return { all: sorted, new: fresh };
}

export function ownedSkip(s: CutoffState, c: number): (p: number) => boolean {
  const own = new Set(s.b.histories[c]!.items);
  return (p) => own.has(p);
}

/** Top-k lists from a score function for the given customers (new task: own products skipped). */
export function scorerLists(s: CutoffState, scorer: Scorer, customers: Iterable<number>, task: RecommendTask, k: number): Map<number, Int32Array> {
  const out = new Map<number, Int32Array>();
  for (const c of customers) out.set(c, topK(scorer(c), s.order, k, task === 'new' ? ownedSkip(s, c) : undefined));
  return out;
}

export function report(s: CutoffState, lists: Map<number, Int32Array>, truth: Map<number, Set<number>>): RankingReport {
  return rankingReport(lists, truth, s.n);
}

/** The figure every choice maximises: mean of Recall@20 and NDCG@10. */
export const selectionScore = (r: RankingReport): number => (r['recall@20'] + r['ndcg@10']) / 2;

export interface BaselineGrid {
  popularityDays: (number | null)[];
  knnK: number[];
  lambda: number[];
  erWeight: number[];
}

export const DEFAULT_GRID: BaselineGrid = {
  popularityDays: [null, 90, 30],
  knnK: [10, 20, 50, 100],
  lambda: [100, 250, 500, 1000, 2000],
  erWeight: [0.05, 0.1, 0.2, 0.4],
};

export interface TunedBaselines {
  params: Record<RecommendTask, BaselineParams>;
  /** Validation figures of each baseline at its chosen settings. */
  validation: Record<RecommendTask, Record<BaselineName, RankingReport>>;
}

/**
 * Grid search of every baseline's settings on a validation window (state = before the window,
 * labels = the window), separately for both tasks.
 */
export function tuneBaselines(s: CutoffState, labels: Labels, grid: BaselineGrid, minSupport: number): TunedBaselines {
  const tasks: RecommendTask[] = ['all', 'new'];
  const best: Record<RecommendTask, Partial<Record<BaselineName, { score: number; rep: RankingReport; p: Partial<BaselineParams> }>>> = { all: {}, new: {} };
  const consider = (task: RecommendTask, name: BaselineName, p: Partial<BaselineParams>, lists: Map<number, Int32Array>): void => {
    const rep = report(s, lists, labels[task]);
    const sc = selectionScore(rep);
    const cur = best[task][name];
    if (!cur || sc > cur.score) best[task][name] = { score: sc, rep, p };
  };
  const base: BaselineParams = { popularityDays: null, knnK: 20, lambda: 250, erLambda: 250, erWeight: 0.1, minSupport };
  const customers = [...labels.all.keys()];
  const newCustomers = [...labels.new.keys()];
  const skips = new Map(newCustomers.map((c) => [c, ownedSkip(s, c)]));
  const lists = (sc: Scorer, task: RecommendTask): Map<number, Int32Array> => {
    const out = new Map<number, Int32Array>();
    for (const c of task === 'all' ? customers : newCustomers) out.set(c, topK(sc(c), s.order, 20, task === 'new' ? skips.get(c) : undefined));
    return out;
  };
  const run = (name: BaselineName, p: Partial<BaselineParams>, scorer?: Scorer, tasks: RecommendTask[] = ['all', 'new']): void => {
    const sc = scorer ?? baselineScorer(s, name, { ...base, ...p });
    for (const task of tasks) consider(task, name, p, lists(sc, task));
  };
  for (const d of grid.popularityDays) run('popularity', { popularityDays: d });
  run('repurchase', {});
  for (const k of grid.knnK) run('item_knn', { knnK: k });
  for (const lambda of grid.lambda) {
    // One EASE score vector per customer and λ, reused by ease and every ease_repurchase weight.
    const ease = baselineScorer(s, 'ease', { ...base, lambda });
    const cache = new Map<number, Float64Array>();
    const cached: Scorer = (c) => { let v = cache.get(c); if (!v) cache.set(c, (v = ease(c))); return v; };
    run('ease', { lambda }, cached);
    // In the new-products task the repurchase term only touches skipped products: same lists as ease.
    run('ease_repurchase', { erLambda: lambda, erWeight: grid.erWeight[0] ?? 0.1 }, cached, ['new']);
    for (const w of grid.erWeight) {
      run('ease_repurchase', { erLambda: lambda, erWeight: w }, (c) => {
        const v = Float64Array.from(cached(c));
        const h = s.b.histories[c]!;
        for (let k = 0; k < h.items.length; k++) v[h.items[k]!]! += w * h.counts[k]!;
        return v;
      }, ['all']);
    }
  }
  const params = {} as Record<RecommendTask, BaselineParams>;
  const validation = { all: {}, new: {} } as Record<RecommendTask, Record<BaselineName, RankingReport>>;
  for (const task of tasks) {
    const p: BaselineParams = { ...base };
    for (const name of BASELINES) {
      const b = best[task][name]!;
      Object.assign(p, b.p);
      validation[task][name] = b.rep;
    }
    params[task] = p;
  }
  return { params, validation };
}

/** A ranker: several MLPs trained from different seeds, their scores averaged. */
export interface RankerBag {
  config: RankerConfig;
  task: RecommendTask;
  members: RankerWeights[];
}

export async function fitRankerBag(s: CutoffState, cfg: RankerConfig, task: RecommendTask, labels: Map<number, Set<number>>, seed: number, bag: number, rows?: CandidateRows): Promise<RankerBag> {
  const r = rows ?? candidateRows(s, cfg, [...labels.keys()], task, s.ease(cfg.lambda, cfg.minSupport), s.knn(cfg.knnK));
  const members: RankerWeights[] = [];
  for (let k = 0; k < bag; k++) members.push(await trainRanker(s.tf, cfg, r, (c) => labels.get(c), seed + 7919 * k));
  return { config: cfg, task, members };
}

/**
 * Ranked lists from a ranker bag: its candidates by averaged score, then every other product
 * (popularity order) so lists are always full; in the new task own products are skipped.
 */
export function rankerLists(s: CutoffState, bag: RankerBag, customers: ArrayLike<number>, k: number, rows?: CandidateRows): { lists: Map<number, Int32Array>; rows: CandidateRows } {
  const cfg = bag.config;
  const r = rows ?? candidateRows(s, cfg, customers, bag.task, s.ease(cfg.lambda, cfg.minSupport), s.knn(cfg.knnK));
  const score = new Float32Array(r.items.length);
  for (const m of bag.members) {
    const sc = rankerScores(s.tf, m, r.x);
    for (let i = 0; i < sc.length; i++) score[i]! += sc[i]!;
  }
  const lists = new Map<number, Int32Array>();
  const full = new Float64Array(s.n);
  for (let g = 0; g < r.customers.length; g++) {
    const c = r.customers[g]!;
    full.fill(-Infinity);
    for (let i = r.offsets[g]!; i < r.offsets[g + 1]!; i++) full[r.items[i]!] = score[i]!;
    lists.set(c, topK(full, s.order, k, bag.task === 'new' ? ownedSkip(s, c) : undefined));
  }
  return { lists, rows: r };
}
