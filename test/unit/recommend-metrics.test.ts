import { describe, expect, it } from 'vitest';
import { coverageAt, hitAt, ndcgAt, rankingReport, recallAt } from '../../backend/src/ml/metrics-ranking.ts';

const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `p${from + i}`);

describe('ranking metrics: hand-computed answers', () => {
  // User A ranks p1..p20 and bought {p2, p5, p30}: p2 at rank 2, p5 at rank 5, p30 not listed.
  //   Recall@20 = 2 hits / min(20, 3) = 2/3
  //   DCG@10   = 1/log2(2+1) + 1/log2(5+1) = 0.6309298 + 0.3868528 = 1.0177826
  //   IDCG@10  = min(10, 3) hits at the top = 1 + 0.6309298 + 0.5 = 2.1309298
  //   NDCG@10  = 1.0177826 / 2.1309298 = 0.4776237
  //   HR@10    = 1
  // User B ranks p11..p30 and bought {p25}: p25 at rank 15 (inside 20, outside 10).
  //   Recall@20 = 1/1 = 1, NDCG@10 = 0, HR@10 = 0
  // User C bought nothing relevant: left out of every average.
  // Means over A and B: Recall 0.8333333, NDCG 0.2388119, HR 0.5.
  // Coverage: the top-20 lists hold p1..p30 = 30 products of 60 candidates = 0.5.
  const listA = range(1, 20);
  const listB = range(11, 30);
  const relA = new Set(['p2', 'p5', 'p30']);
  const relB = new Set(['p25']);

  it('per user', () => {
    expect(recallAt(listA, relA, 20)).toBeCloseTo(2 / 3, 10);
    expect(ndcgAt(listA, relA, 10)).toBeCloseTo(0.4776237, 6);
    expect(hitAt(listA, relA, 10)).toBe(1);
    expect(recallAt(listB, relB, 20)).toBe(1);
    expect(ndcgAt(listB, relB, 10)).toBe(0);
    expect(hitAt(listB, relB, 10)).toBe(0);
  });

  it('averaged report, users without relevant items left out, coverage over candidates', () => {
    const r = rankingReport(
      new Map([['A', listA], ['B', listB], ['C', range(1, 20)]]),
      new Map([['A', relA], ['B', relB], ['C', new Set<string>()]]),
      60,
    );
    expect(r.users).toBe(2);
    expect(r['recall@20']).toBeCloseTo(0.8333333, 6);
    expect(r['ndcg@10']).toBeCloseTo(0.2388119, 6);
    expect(r['hr@10']).toBe(0.5);
    expect(r.coverage).toBe(0.5);
  });

  it('recall divides by min(20, relevant); NDCG ideal over min(10, relevant)', () => {
    // 25 relevant products, 10 of them in the top 20 → 10 / min(20, 25) = 0.5.
    const list = range(1, 20);
    const rel = new Set([...range(1, 10), ...range(101, 115)]);
    expect(rel.size).toBe(25);
    expect(recallAt(list, rel, 20)).toBe(0.5);
    // Ranks 1..10 all relevant and ≥ 10 relevant: NDCG@10 = 1.
    expect(ndcgAt(list, rel, 10)).toBeCloseTo(1, 12);
    // One hit at rank 1 with 2 relevant: 1 / (1 + 1/log2 3) = 0.6131472.
    expect(ndcgAt(['p1', 'x', 'y'], new Set(['p1', 'p9']), 10)).toBeCloseTo(0.6131472, 6);
    // A hit at rank 11 counts for Recall@20 but not for NDCG@10 or HR@10.
    const l11 = [...range(1, 10).map((p) => `q${p}`), 'hit'];
    expect(recallAt(l11, new Set(['hit']), 20)).toBe(1);
    expect(ndcgAt(l11, new Set(['hit']), 10)).toBe(0);
    expect(hitAt(l11, new Set(['hit']), 10)).toBe(0);
  });

  it('coverage counts distinct products in the top k only', () => {
    // Lists [a b c] and [c d e] with k = 2: {a, b, c, d} of 8 candidates = 0.5.
    expect(coverageAt([['a', 'b', 'c'], ['c', 'd', 'e']], 8, 2)).toBe(0.5);
  });
});
