// The baselines, each a score function over the whole catalog for one customer (index into the
// cutoff's baskets). Lists are the top-k of these scores with ties broken by popularity.
import { easeScores } from './ease.ts';
import { knnScores } from './knn.ts';
import type { CutoffState } from './state.ts';

export const BASELINES = ['popularity', 'repurchase', 'item_knn', 'ease', 'ease_repurchase'] as const;
export type BaselineName = (typeof BASELINES)[number];

export interface BaselineParams {
  /** popularity: window in days before the cutoff (null = the whole history). */
  popularityDays: number | null;
  /** item_knn: neighbours kept per product. */
  knnK: number;
  /** ease: ridge λ. */
  lambda: number;
  /** ease_repurchase: its own λ, and the weight of one past order of the product. */
  erLambda: number;
  erWeight: number;
  /** EASE: products with fewer buyers are left out of the inverse. */
  minSupport: number;
}

/**
 * Defaults = the settings the validation slice chose on the reference data (Online Retail, split
 * 2011-07-01, all-products task). `shopml eval` passes a store's own choices instead.
 */
export const DEFAULT_BASELINE_PARAMS: BaselineParams = {
  popularityDays: 30, knnK: 10, lambda: 100, erLambda: 2000, erWeight: 0.1, minSupport: 5,
};

export type Scorer = (c: number) => Float64Array;

export function repurchaseScores(s: CutoffState, c: number, out: Float64Array, weight = 1): Float64Array {
  const h = s.b.histories[c]!;
  for (let k = 0; k < h.items.length; k++) out[h.items[k]!]! += weight * h.counts[k]!;
  return out;
}

export function baselineScorer(s: CutoffState, name: BaselineName, p: BaselineParams): Scorer {
  const n = s.n;
  switch (name) {
    case 'popularity': {
      const order = s.popularity(p.popularityDays);
      const scores = new Float64Array(n);
      order.forEach((prod, r) => { scores[prod] = n - r; });
      return () => scores;
    }
    case 'repurchase':
      return (c) => repurchaseScores(s, c, new Float64Array(n));
    case 'item_knn': {
      const nb = s.knn(p.knnK);
      return (c) => knnScores(nb, s.b.histories[c]!.items, new Float64Array(n));
    }
    case 'ease': {
      const m = s.ease(p.lambda, p.minSupport);
      return (c) => easeScores(m, s.b.histories[c]!.items, new Float64Array(n));
    }
    case 'ease_repurchase': {
      const m = s.ease(p.erLambda, p.minSupport);
      return (c) => repurchaseScores(s, c, easeScores(m, s.b.histories[c]!.items, new Float64Array(n)), p.erWeight);
    }
  }
}
