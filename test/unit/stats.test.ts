import { describe, expect, it } from 'vitest';
import { hungarian } from '../../backend/src/ml/assignment.ts';
import { bgnbdExpected, bgnbdPAlive, bgnbdProbabilityActive, fitBgNbd, fitGammaGamma, gammaGammaExpectedSpend, hyp2f1 } from '../../backend/src/ml/bgnbd.ts';
import { calibrate, calibrateAll, fitIsotonic, fitIsotonicValues, fitPlatt } from '../../backend/src/ml/calibration.ts';
import { silhouette } from '../../backend/src/ml/kmeans.ts';
import { fitLogistic, predictLogistic } from '../../backend/src/ml/logistic.ts';
import { nelderMead } from '../../backend/src/ml/optimize.ts';
import { createPrng } from '../../backend/src/ml/prng.ts';
import { fitRidge, predictRidge } from '../../backend/src/ml/ridge.ts';
import { auc, averageRanks, brier, logit, logLoss, mae, sigmoid, spearman } from '../../backend/src/ml/stats.ts';

describe('metrics: known answers', () => {
  it('AUC = P(positive outranks negative), ties count one half', () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    // positives {0.5, 0.9} vs negatives {0.5, 0.5}: 0.5 + 0.5 + 1 + 1 over 4 pairs
    expect(auc([0.5, 0.5, 0.5, 0.9], [0, 1, 0, 1])).toBeCloseTo(0.75, 12);
    expect(auc([1, 2, 3], [0, 0, 1])).toBe(1);
    expect(auc([3, 2, 1], [0, 0, 1])).toBe(0);
    expect(auc([0.2, 0.2, 0.2, 0.2], [0, 1, 0, 1])).toBe(0.5);
    expect(auc([0.1, 0.2], [1, 1])).toBeNaN();
    expect(auc([0.1, 0.2], [true, false])).toBe(0);
  });

  it('Brier and log loss', () => {
    expect(brier([0.9, 0.2, 0.6], [1, 0, 0])).toBeCloseTo((0.01 + 0.04 + 0.36) / 3, 12);
    expect(logLoss([0.9, 0.2], [1, 0])).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8)) / 2, 12);
    expect(logLoss([0, 1], [1, 0])).toBeCloseTo(-Math.log(1e-15), 2); // clipped to [1e-15, 1 − 1e-15]: finite
    expect(brier([], [])).toBeNaN();
  });

  it('average ranks and Spearman with ties', () => {
    expect(Array.from(averageRanks([3, 1, 2, 2]))).toEqual([4, 1, 2.5, 2.5]);
    // ranks x = [1, 2.5, 2.5, 4], y = [1, 3, 2, 4]: Σdxdy = 4.5, Σdx² = 4.5, Σdy² = 5
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 1000])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
    // many tied zeros, as in next-period spend: ranks y = [2, 2, 2, 5, 4]; Σdxdy = 7, Σdx² = 10, Σdy² = 8
    expect(spearman([0.1, 0.2, 0.3, 0.4, 0.5], [0, 0, 0, 5, 3])).toBeCloseTo(7 / Math.sqrt(80), 12);
  });

  it('MAE, sigmoid, logit', () => {
    expect(mae([1, 2, 3], [2, 2, 5])).toBeCloseTo(1, 12);
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(-800)).toBeGreaterThanOrEqual(0);
    expect(sigmoid(logit(0.3))).toBeCloseTo(0.3, 12);
  });

  it('silhouette by hand', () => {
    // 1-D points 0, 1 | 10, 11: s = (10.5 − 1)/10.5, (9.5 − 1)/9.5, twice each
    const s = silhouette([0, 1, 10, 11], 1, [0, 0, 1, 1]);
    expect(s).toBeCloseTo((2 * (9.5 / 10.5) + 2 * (8.5 / 9.5)) / 4, 12);
    // a point alone in its cluster scores 0: (0.8 + 0.75 + 0) / 3
    expect(silhouette([0, 1, 5], 1, [0, 0, 1])).toBeCloseTo(1.55 / 3, 12);
    // on a sample of indices
    expect(silhouette([0, 1, 10, 11, 50], 1, [0, 0, 1, 1, 1], [0, 1, 2, 3])).toBeCloseTo(s, 12);
    expect(silhouette([0, 1], 1, [0, 0])).toBeNaN();
  });
});

describe('optimisation and assignment', () => {
  it('Hungarian finds the minimum-cost assignment (square and rectangular)', () => {
    expect(hungarian([[4, 1, 3], [2, 0, 5], [3, 2, 2]])).toEqual([1, 0, 2]);
    expect(hungarian([[1, 2, 3], [2, 4, 6]])).toEqual([1, 0]); // 2 + 2 beats 1 + 4
    expect(hungarian([[10, 1, 10, 10], [1, 10, 10, 10]])).toEqual([1, 0]);
    expect(() => hungarian([[1], [2]])).toThrow();
  });

  it('Nelder–Mead finds the Rosenbrock minimum', () => {
    const r = nelderMead((x) => 100 * (x[1]! - x[0]! ** 2) ** 2 + (1 - x[0]!) ** 2, [-1.2, 1], { maxIterations: 5000, tolerance: 1e-14 });
    expect(r.x[0]).toBeCloseTo(1, 4);
    expect(r.x[1]).toBeCloseTo(1, 4);
  });

  it('logistic regression on one binary feature reproduces the group rates', () => {
    const x = [0, 0, 0, 0, 1, 1, 1, 1, 1].map((v) => [v]);
    const y = [0, 0, 0, 1, 1, 1, 1, 0, 1];
    const m = fitLogistic(x, y, { l2: 0 });
    expect(predictLogistic(m, [0])).toBeCloseTo(0.25, 6);
    expect(predictLogistic(m, [1])).toBeCloseTo(0.8, 6);
  });

  it('ridge with no penalty is least squares', () => {
    const rows = [[0], [1], [2], [3]];
    const m = fitRidge(rows, [1, 3, 5, 7], 0);
    expect(predictRidge(m, [10])).toBeCloseTo(21, 9);
    expect(m.residualVariance).toBeCloseTo(0, 12);
  });

  it('the seeded PRNG is deterministic and forks independently', () => {
    const a = createPrng(7), b = createPrng(7);
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()));
    expect(createPrng(7).fork('x').next()).toBe(createPrng(7).fork('x').next());
    expect(createPrng(7).fork('x').next()).not.toBe(createPrng(7).fork('y').next());
    expect(Array.from(createPrng(1).permutation(6)).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('calibration', () => {
  // Truth p uniform; the model is overconfident and shifted: raw = sigmoid(3·logit(p) + 1).
  const rng = createPrng('calibration');
  const n = 4000;
  const truth = Float64Array.from({ length: n }, () => 0.02 + 0.96 * rng.next());
  const y = Float64Array.from(truth, (p) => (rng.next() < p ? 1 : 0));
  const raw = Float64Array.from(truth, (p) => sigmoid(3 * logit(p) + 1));
  const fit = (a: Float64Array) => a.subarray(0, n / 2), held = (a: Float64Array) => a.subarray(n / 2);

  it('Platt scaling improves Brier and log loss on held-out data and roughly undoes the distortion', () => {
    const c = fitPlatt(fit(raw), fit(y));
    expect(c.a).toBeGreaterThan(0.25);
    expect(c.a).toBeLessThan(0.45); // ≈ 1/3
    const cal = calibrateAll(c, held(raw));
    expect(brier(cal, held(y))).toBeLessThan(brier(held(raw), held(y)) - 0.01);
    expect(logLoss(cal, held(y))).toBeLessThan(logLoss(held(raw), held(y)));
  });

  it('isotonic regression improves Brier on held-out data and is monotone', () => {
    const c = fitIsotonic(fit(raw), fit(y));
    const cal = calibrateAll(c, held(raw));
    expect(brier(cal, held(y))).toBeLessThan(brier(held(raw), held(y)) - 0.01);
    for (let i = 1; i < c.y.length; i++) expect(c.y[i]!).toBeGreaterThan(c.y[i - 1]!);
    expect(calibrate(c, -1)).toBe(c.y[0]);
  });

  it('isotonic with a minimum block size: no knot stands for fewer points, still increasing', () => {
    const p = Array.from({ length: 100 }, (_, i) => i);
    const y = p.map((i) => i * i + (i % 7) * 50);
    const c = fitIsotonicValues(p, y, 10);
    expect(c.x.length).toBeLessThanOrEqual(10);
    for (let i = 1; i < c.y.length; i++) expect(c.y[i]!).toBeGreaterThan(c.y[i - 1]!);
    expect(fitIsotonicValues(p, y).x.length).toBeGreaterThan(c.x.length);
  });

  it('isotonic fit by hand (pool adjacent violators)', () => {
    const c = fitIsotonic([0.1, 0.2, 0.3, 0.4], [1, 0, 0, 1]);
    // (0.1,1) and (0.2,0) violate → pooled with (0.3,0): mean 1/3 at x̄ = 0.2; then (0.4, 1)
    expect(c.x.map((v) => +v.toFixed(12))).toEqual([0.2, 0.4]);
    expect(c.y.map((v) => +v.toFixed(12))).toEqual([+(1 / 3).toFixed(12), 1]);
  });
});

describe('BG/NBD and Gamma-Gamma', () => {
  it('2F1 matches a closed form', () => {
    for (const z of [0.1, 0.5, 0.9]) expect(hyp2f1(1, 1, 2, z)).toBeCloseTo(-Math.log(1 - z) / z, 10);
  });

  it('P(alive) is 1 without repeats and falls with time since the last purchase', () => {
    const p = { r: 0.5, alpha: 10, a: 0.8, b: 2.5 };
    expect(bgnbdPAlive(p, 0, 0, 100)).toBe(1);
    expect(bgnbdPAlive(p, 3, 90, 100)).toBeGreaterThan(bgnbdPAlive(p, 3, 20, 100));
    expect(bgnbdExpected(p, 3, 90, 100, 1e-9)).toBeCloseTo(0, 6);
    expect(bgnbdExpected(p, 5, 95, 100, 30)).toBeGreaterThan(bgnbdExpected(p, 1, 95, 100, 30));
    const active = bgnbdProbabilityActive(p, 3, 90, 100, 30);
    expect(active).toBeGreaterThan(0);
    expect(active).toBeLessThan(bgnbdPAlive(p, 3, 90, 100));
  });

  it('recovers the parameters of data simulated from the model', () => {
    const truth = { r: 1.5, alpha: 20, a: 2, b: 6 };
    const rng = createPrng('bgnbd');
    const gamma = (shape: number): number => { // Marsaglia–Tsang, shape ≥ 1 here
      const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
      for (;;) {
        let x = 0, v = 0;
        do { x = rng.normal(); v = 1 + c * x; } while (v <= 0);
        v = v ** 3;
        const u = rng.next();
        if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
      }
    };
    const beta = (a: number, b: number) => { const x = gamma(a); return x / (x + gamma(b)); };
    const n = 3000, T = 200;
    const x = new Float64Array(n), tx = new Float64Array(n), Ts = new Float64Array(n).fill(T);
    for (let i = 0; i < n; i++) {
      const lambda = gamma(truth.r) / truth.alpha, p = beta(truth.a, truth.b);
      let t = 0, k = 0, last = 0;
      for (;;) {
        t += -Math.log(1 - rng.next()) / lambda;
        if (t > T) break;
        k++; last = t;
        if (rng.next() < p) break; // drops out right after this purchase
      }
      x[i] = k; tx[i] = last;
    }
    const fit = fitBgNbd({ x, tx, T: Ts });
    expect(fit.r / fit.alpha).toBeCloseTo(truth.r / truth.alpha, 1); // mean purchase rate
    expect(fit.r).toBeGreaterThan(1);
    expect(fit.r).toBeLessThan(2.2);
    expect(fit.a / (fit.a + fit.b)).toBeGreaterThan(0.15); // mean dropout 0.25
    expect(fit.a / (fit.a + fit.b)).toBeLessThan(0.35);
  });

  it('Gamma-Gamma: the posterior mean spend is the formula, shrinking towards the population mean', () => {
    const g = { p: 6, q: 4, gamma: 15 };
    expect(gammaGammaExpectedSpend(g, 2, 50)).toBeCloseTo((6 * (15 + 2 * 50)) / (6 * 2 + 4 - 1), 12);
    const population = (g.p * g.gamma) / (g.q - 1); // 30
    const few = gammaGammaExpectedSpend(g, 1, 100), many = gammaGammaExpectedSpend(g, 50, 100);
    expect(few).toBeGreaterThan(population);
    expect(few).toBeLessThan(many);
    expect(many).toBeLessThan(100);
    // a fit on spends drawn around 30 puts the population mean near 30
    const rng = createPrng('gg');
    const n = Float64Array.from({ length: 800 }, () => 1 + rng.below(6));
    const m = Float64Array.from(n, () => 30 * Math.exp(0.3 * rng.normal() - 0.045));
    const fit = fitGammaGamma(n, m);
    expect((fit.p * fit.gamma) / (fit.q - 1)).toBeGreaterThan(25);
    expect((fit.p * fit.gamma) / (fit.q - 1)).toBeLessThan(36);
  });
});
