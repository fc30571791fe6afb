// Drift statistics against known answers. Where each number comes from is said next to it:
// hand computation, complete enumeration (the definition of an exact permutation p-value),
// published tables, or the examples in SciPy's documentation.
import { describe, expect, it } from 'vitest';
import {
  binCounts, chiSquareHomogeneity, jensenShannonDistance, kolmogorovSf, ksPValue, ksProbOutsideSquare, ksTwoSample, mergeWalk,
  normalizedWasserstein, populationStd, psi, quantileEdges, sortedFinite, twoProportionZ, wassersteinSorted,
} from '../../backend/src/monitor/drift-tests.ts';

const f64 = (...x: number[]) => Float64Array.from(x).sort();
const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

/** P(D ≥ observed) by listing every way the n1 + n2 ranks can split between the samples. */
function enumeratedKsP(n1: number, n2: number, dScaled: number): number {
  let hit = 0, total = 0;
  const walk = (i: number, j: number, dmax: number): void => {
    if (i === n1 && j === n2) { total++; if (dmax >= dScaled) hit++; return; }
    if (i < n1) walk(i + 1, j, Math.max(dmax, Math.abs((i + 1) * n2 - j * n1)));
    if (j < n2) walk(i, j + 1, Math.max(dmax, Math.abs(i * n2 - (j + 1) * n1)));
  };
  walk(0, 0, 0);
  return hit / total;
}

describe('two-sample Kolmogorov–Smirnov', () => {
  it('computes D with a merge walk (ties advance both samples)', () => {
    // Hand: F_a − F_b is 2/3 after x = 2 ([1,2,3] vs [2.5,4,5]: F_a(2) = 2/3, F_b(2) = 0).
    expect(mergeWalk(f64(1, 2, 3), f64(2.5, 4, 5)).ks).toBeCloseTo(2 / 3, 12);
    // Ties: [1,1,2] vs [1,2,2]: at x = 1 F_a = 2/3, F_b = 1/3 → D = 1/3 (not 2/3, which a walk stepping one value at a time would report).
    expect(mergeWalk(f64(1, 1, 2), f64(1, 2, 2)).ks).toBeCloseTo(1 / 3, 12);
    expect(mergeWalk(f64(1, 2, 3), f64(1, 2, 3)).ks).toBe(0);
  });

  it('gives the exact permutation p-value of fully separated samples (hand-counted)', () => {
    // [1,2,3] vs [4,5,6]: D = 1; of the C(6,3) = 20 equally likely splits, 2 give D = 1 → p = 0.1.
    const a = ksTwoSample(f64(1, 2, 3), f64(4, 5, 6));
    expect(a.statistic).toBe(1);
    expect(a.method).toBe('exact');
    expect(a.pValue).toBeCloseTo(0.1, 12);
    // [1,2] vs [3,4,5]: 2 of C(5,2) = 10 splits → 0.2 (unequal sizes: the inside method).
    expect(ksTwoSample(f64(1, 2), f64(3, 4, 5)).pValue).toBeCloseTo(0.2, 12);
  });

  it('matches complete enumeration for every attainable D, equal and unequal sizes', () => {
    for (const [n1, n2] of [[4, 4], [6, 6], [3, 7], [5, 8], [9, 6], [10, 4], [7, 7]] as const) {
      const g = gcd(n1, n2);
      for (let d = g; d <= n1 * n2; d += g) {
        expect(ksPValue(d, n1, n2).pValue, `n1=${n1} n2=${n2} dScaled=${d}`).toBeCloseTo(enumeratedKsP(n1, n2, d), 10);
      }
    }
  });

  it('matches the Kolmogorov distribution table (Smirnov 1948; Massey 1951 critical values)', () => {
    // P(K > λ): 1.2238 → 0.10, 1.3581 → 0.05, 1.6276 → 0.01; and Q(0.5) = 0.96394524 (the series at a small λ).
    expect(kolmogorovSf(1.2238)).toBeCloseTo(0.1, 4);
    expect(kolmogorovSf(1.3581)).toBeCloseTo(0.05, 4);
    expect(kolmogorovSf(1.6276)).toBeCloseTo(0.01, 4);
    expect(kolmogorovSf(0.5)).toBeCloseTo(0.96394524, 6);
    // Both series agree where they switch (λ = 1.18).
    const w = -(Math.PI ** 2) / (8 * 1.18 * 1.18);
    let s = 0;
    for (let k = 1; k <= 9; k += 2) s += Math.exp(k * k * w);
    expect(kolmogorovSf(1.18)).toBeCloseTo(1 - (Math.sqrt(2 * Math.PI) / 1.18) * s, 10);
  });

  it('uses the asymptotic law above 10,000 rows, and it agrees with the exact law there', () => {
    const n = 10_000;
    for (const h of [120, 150, 190]) {
      const exact = ksProbOutsideSquare(n, h);
      const en = n / 2, D = h / n;
      const asym = kolmogorovSf((Math.sqrt(en) + 0.12 + 0.11 / Math.sqrt(en)) * D);
      expect(Math.abs(asym - exact) / exact).toBeLessThan(0.02);
    }
    // D = 205/10,001 at n1 = n2 = 10,001: λ ≈ (√5000.5 + 0.12)·0.0205 ≈ 1.45 → P ≈ 0.03.
    const big = ksPValue(205 * 10_001, 10_001, 10_001);
    expect(big.method).toBe('asymptotic');
    expect(big.pValue).toBeGreaterThan(0.01);
    expect(big.pValue).toBeLessThan(0.05);
    // Unequal sizes under 10,000 with a huge D: the exact lattice count would take ~10⁸ steps; p ≈ 0 either way.
    const wide = ksPValue(5_000 * 9_999, 10_000, 9_999);
    expect(wide.method).toBe('asymptotic');
    expect(wide.pValue).toBeLessThan(1e-100);
    expect(ksPValue(200 * 9_999, 10_000, 9_999).method).toBe('exact');
  });
});

describe('Wasserstein distance', () => {
  it('reproduces SciPy documentation examples', () => {
    // scipy.stats.wasserstein_distance([0, 1, 3], [5, 6, 8]) = 5.0
    expect(wassersteinSorted(f64(0, 1, 3), f64(5, 6, 8))).toBeCloseTo(5, 12);
    // wasserstein_distance([0, 1], [0, 1], [3, 1], [2, 2]) = 0.25 — the weights as repeated values.
    expect(wassersteinSorted(f64(0, 0, 0, 1), f64(0, 0, 1, 1))).toBeCloseTo(0.25, 12);
  });

  it('integrates |F_a − F_b| (hand-computed, unequal sizes)', () => {
    // [0,1] vs [0,0.5,1]: |1/2 − 1/3|·0.5 + |1/2 − 2/3|·0.5 = 1/6.
    expect(wassersteinSorted(f64(0, 1), f64(0, 0.5, 1))).toBeCloseTo(1 / 6, 12);
    expect(wassersteinSorted(f64(0, 0, 1), f64(0, 1, 1))).toBeCloseTo(1 / 3, 12);
  });

  it("normalizes by the reference's population std, floored at 0.001 (Evidently)", () => {
    const ref = f64(1, 2, 3, 4); // np.std = sqrt(1.25)
    expect(populationStd(ref)).toBeCloseTo(Math.sqrt(1.25), 12);
    // A shift by c moves every quantile by c: W1 = c.
    const w = wassersteinSorted(ref, f64(1.5, 2.5, 3.5, 4.5));
    expect(w).toBeCloseTo(0.5, 12);
    expect(normalizedWasserstein(w, populationStd(ref))).toBeCloseTo(0.5 / Math.sqrt(1.25), 12);
    expect(normalizedWasserstein(0.01, 0)).toBeCloseTo(10, 12);
  });
});

describe('categorical tests', () => {
  it('chi-squared homogeneity: the SciPy chi2_contingency example, checked by hand', () => {
    // obs = [[10, 10, 20], [20, 20, 20]]: expected [[12,12,16],[18,18,24]];
    // χ² = 4/12 + 4/12 + 16/16 + 4/18 + 4/18 + 16/24 = 2.7778, df = 2, p = e^(−χ²/2) = 0.249352.
    const r = chiSquareHomogeneity([10, 10, 20], [20, 20, 20]);
    expect(r.statistic).toBeCloseTo(2.7777777777777777, 10);
    expect(r.df).toBe(2);
    expect(r.pValue).toBeCloseTo(Math.exp(-r.statistic / 2), 10);
    expect(r.pValue).toBeCloseTo(0.24935220877729619, 8);
  });

  it('chi-squared drops categories empty in both samples and is 1 with one category', () => {
    expect(chiSquareHomogeneity([10, 0, 10, 20], [20, 0, 20, 20]).df).toBe(2);
    expect(chiSquareHomogeneity([5, 0], [7, 0]).pValue).toBe(1);
  });

  it('two-proportion z test (hand-computed)', () => {
    // 30/100 vs 45/100: pooled 0.375, se = √(0.375·0.625·0.02) = 0.0684653, z = 0.15 / se = 2.19089, p = 2(1 − Φ(z)) = 0.028459.
    const r = twoProportionZ(30, 100, 45, 100);
    expect(r.statistic).toBeCloseTo(2.19089, 4);
    expect(r.pValue).toBeCloseTo(0.028459, 4);
    // One value in both samples: nothing to test.
    expect(twoProportionZ(100, 100, 50, 50).pValue).toBe(1);
  });

  it('Jensen–Shannon distance, base 2 (SciPy documentation examples)', () => {
    // distance.jensenshannon([1, 0, 0], [0, 1, 0], 2.0) = 1.0
    expect(jensenShannonDistance([1, 0, 0], [0, 1, 0])).toBeCloseTo(1, 12);
    // distance.jensenshannon([1.0, 0.0], [0.5, 0.5]) = 0.46450140402245893 in nats; in bits ÷ √ln 2.
    expect(jensenShannonDistance([1, 0], [0.5, 0.5])).toBeCloseTo(0.46450140402245893 / Math.sqrt(Math.LN2), 12);
    expect(jensenShannonDistance([3, 1], [30, 10])).toBeCloseTo(0, 12); // counts are normalized
  });

  it('PSI (hand-computed) with Evidently’s fill for empty bins', () => {
    // (0.5 − 0.25)·ln 2 + (0.5 − 0.75)·ln(0.5/0.75) = 0.274653
    expect(psi([50, 50], [25, 75])).toBeCloseTo(0.25 * Math.LN2 + 0.25 * Math.log(1.5), 10);
    // An empty current bin becomes 0.0001 (the other shares are not renormalized, as in Evidently):
    // (0.5 − 0.0001)·ln(0.5/0.0001) + (0.5 − 1)·ln(0.5/1)
    expect(psi([1, 1], [0, 100])).toBeCloseTo(0.4999 * Math.log(5000) + 0.5 * Math.LN2, 10);
  });
});

describe('sorting and histograms', () => {
  it('drops NaN and ±Infinity as missing values', () => {
    const r = sortedFinite([3, NaN, -Infinity, 1, Infinity, 2]);
    expect(Array.from(r.sorted)).toEqual([1, 2, 3]);
    expect(r.missing).toBe(3);
  });

  it('bins at reference quantiles: ~1/bins of the reference per bin, every current value counted', () => {
    const ref = Float64Array.from({ length: 1000 }, (_, i) => i);
    const edges = quantileEdges(ref, 10);
    expect(edges).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(binCounts(ref, edges)).toEqual(Array(10).fill(100));
    const cur = f64(-5, 50, 150, 150, 2000);
    expect(binCounts(cur, edges)).toEqual([2, 2, 0, 0, 0, 0, 0, 0, 0, 1]);
    // Heavy ties collapse edges instead of making empty bins.
    expect(quantileEdges(f64(0, 0, 0, 0, 0, 0, 0, 0, 1, 2), 5)).toEqual([1]);
  });

  it('counts the values of a low-cardinality sample during the walk', () => {
    const w = mergeWalk(f64(1, 1, 2, 3), f64(2, 2, 3, 4), 5);
    expect(w.distinct).toBe(4);
    expect(w.values).toEqual([1, 2, 3, 4]);
    expect(w.refCounts).toEqual([2, 1, 1, 0]);
    expect(w.curCounts).toEqual([0, 2, 1, 1]);
    expect(mergeWalk(f64(1, 2, 3), f64(4, 5, 6), 5).values).toBeNull();
  });
});
