// Ranking metrics for top-k recommendation, with binary relevance. Definitions (the ones shopml
// reports everywhere):
//   Recall@k   = hits in the top k / min(k, number of relevant items)
//   NDCG@k     = DCG@k / IDCG@k, DCG = Σ_{rank r ≤ k, hit} 1 / log2(r + 1) (r from 1), and the
//                ideal DCG puts min(k, number of relevant items) hits at the top
//   HR@k       = 1 when at least one of the top k is relevant, else 0
//   coverage@k = share of the candidate items that appear in at least one top-k list
// Per-user figures are averaged over the users that have at least one relevant item.

export type Ranked<T> = ArrayLike<T>;

export function recallAt<T>(ranked: Ranked<T>, relevant: ReadonlySet<T>, k: number): number {
  if (relevant.size === 0) return 0;
  let hits = 0;
  const m = Math.min(k, ranked.length);
  for (let r = 0; r < m; r++) if (relevant.has(ranked[r]!)) hits++;
  return hits / Math.min(k, relevant.size);
}

export function ndcgAt<T>(ranked: Ranked<T>, relevant: ReadonlySet<T>, k: number): number {
  if (relevant.size === 0) return 0;
  let dcg = 0;
  const m = Math.min(k, ranked.length);
  for (let r = 0; r < m; r++) if (relevant.has(ranked[r]!)) dcg += 1 / Math.log2(r + 2);
  let idcg = 0;
  const ideal = Math.min(k, relevant.size);
  for (let r = 0; r < ideal; r++) idcg += 1 / Math.log2(r + 2);
  return dcg / idcg;
}

export function hitAt<T>(ranked: Ranked<T>, relevant: ReadonlySet<T>, k: number): number {
  const m = Math.min(k, ranked.length);
  for (let r = 0; r < m; r++) if (relevant.has(ranked[r]!)) return 1;
  return 0;
}

/** Share of `candidateCount` candidates appearing in at least one of the lists' top k. */
export function coverageAt<T>(lists: Iterable<Ranked<T>>, candidateCount: number, k: number): number {
  if (candidateCount <= 0) return 0;
  const seen = new Set<T>();
  for (const l of lists) for (let r = 0; r < Math.min(k, l.length); r++) seen.add(l[r]!);
  return seen.size / candidateCount;
}

export interface RankingReport {
  'recall@20': number;
  'ndcg@10': number;
  'hr@10': number;
  coverage: number;
  /** Users averaged over. */
  users: number;
}

/**
 * The report for one model: `lists` holds each user's ranked list (at least 20 long when the
 * catalog allows), `truth` each user's relevant items; users without relevant items are skipped.
 * Coverage counts the top-20 lists of the users averaged over.
 */
export function rankingReport<U, T>(lists: ReadonlyMap<U, Ranked<T>>, truth: ReadonlyMap<U, ReadonlySet<T>>, candidateCount: number): RankingReport {
  let recall = 0, ndcg = 0, hr = 0, users = 0;
  const used: Ranked<T>[] = [];
  for (const [u, rel] of truth) {
    if (rel.size === 0) continue;
    const l = lists.get(u) ?? [];
    recall += recallAt(l, rel, 20);
    ndcg += ndcgAt(l, rel, 10);
    hr += hitAt(l, rel, 10);
    used.push(l);
    users++;
  }
  const d = users || 1;
  return { 'recall@20': recall / d, 'ndcg@10': ndcg / d, 'hr@10': hr / d, coverage: coverageAt(used, candidateCount, 20), users };
}
