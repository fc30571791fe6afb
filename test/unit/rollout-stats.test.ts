import { describe, expect, it } from 'vitest';
import {
  estimateTimeToDecision, fixedHorizonSampleSize, meanInterval, mixingSd, msprtLook, sequentialTest, srmTest, srmLogBayesFactor, chiSquaredFit, twoProportionZTest, welchTest, wilson,
  type Look,
} from '../../backend/src/rollout/stats.ts';
import { createPrng, type Prng } from '../../backend/src/ml/prng.ts';

describe('known answers', () => {
  it('Wilson interval: 8 of 10 → [0.4902, 0.9433]; 0 of 10 → [0, 0.2775]', () => {
    // By hand: p̂ = 0.8, z = 1.959964, z²/n = 0.384146; centre = 0.8 + 0.192073 = 0.992073;
    // half = z √(0.016 + 0.0096037) = 0.313616; ÷ 1.384146 → 0.490163 … 0.943318.
    const w = wilson(8, 10);
    expect(w.rate).toBe(0.8);
    expect(w.lo).toBeCloseTo(0.490163, 5);
    expect(w.hi).toBeCloseTo(0.943318, 5);
    const z = wilson(0, 10);
    expect(z.lo).toBe(0);
    expect(z.hi).toBeCloseTo(0.277533, 5); // z²/(n + z²) = 3.841459 / 13.841459
    expect(wilson(0, 0).lo).toBe(0);
    expect(() => wilson(11, 10)).toThrow(RangeError);
  });

  it('two-proportion z test: 200/1000 vs 250/1000 → z = 2.6774, p = 0.00742', () => {
    // Pooled p = 450/2000 = 0.225; SE = √(0.225 · 0.775 · (1/1000 + 1/1000)) = 0.0186748;
    // z = 0.05 / 0.0186748 = 2.677398; two-sided p = 2 (1 − Φ(2.677398)) = 0.0074196.
    const t = twoProportionZTest(200, 1000, 250, 1000);
    expect(t.diff).toBeCloseTo(0.05, 12);
    expect(t.lift).toBeCloseTo(0.25, 12);
    expect(t.sePooled).toBeCloseTo(0.0186748494, 9);
    expect(t.z).toBeCloseTo(2.677398, 5);
    expect(t.p).toBeCloseTo(0.0074196, 6);
    // Wald interval: 0.05 ± 1.959964 √(0.16/1000 + 0.1875/1000) = [0.013464, 0.086536].
    expect(t.ci.lo).toBeCloseTo(0.013464, 5);
    expect(t.ci.hi).toBeCloseTo(0.086536, 5);
    expect(twoProportionZTest(250, 1000, 200, 1000).z).toBeCloseTo(-2.677398, 5);
  });

  it('mean and Welch test from sums', () => {
    // a = [0, 0, 10, 20], b = [0, 30, 30, 60]: means 7.5 and 30, variances 91.667 and 600.
    const a = { n: 4, sum: 30, sumSq: 500 }, b = { n: 4, sum: 120, sumSq: 5400 };
    const m = meanInterval(a);
    expect(m.mean).toBe(7.5);
    expect(m.sd).toBeCloseTo(Math.sqrt(275 / 3), 10);
    // t(0.975, 3) = 3.182446: 7.5 ± 3.182446 · 9.5743/2.
    expect(m.hi - m.mean).toBeCloseTo(3.182446 * Math.sqrt(275 / 3) / 2, 4);
    const w = welchTest(a, b);
    expect(w.diff).toBe(22.5);
    const va = 275 / 3 / 4, vb = 600 / 4;
    expect(w.se).toBeCloseTo(Math.sqrt(va + vb), 10);
    expect(w.df).toBeCloseTo((va + vb) ** 2 / (va ** 2 / 3 + vb ** 2 / 3), 10); // Welch–Satterthwaite ≈ 3.94
    expect(w.p).toBeGreaterThan(0.05);
    expect(w.p).toBeLessThan(0.2);
  });

  it('fixed-horizon sample size: 3.0% → 3.6%, α 0.05, power 0.8 → 13,914 per arm', () => {
    // (1.959964 √(2 · 0.033 · 0.967) + 0.841621 √(0.0291 + 0.034704))² / 0.006² = 13,913.6.
    expect(fixedHorizonSampleSize(0.03, 0.036)).toEqual({ nA: 13914, nB: 13914 });
  });

  it('mSPRT single look: 300/10,000 vs 360/10,000, τ = 0.006 → Λ = 4.259', () => {
    // V = 0.033 · 0.967 · 2/10,000 = 6.3822e-6; τ² = 3.6e-5;
    // Λ = √(V/(V+τ²)) · exp(θ̂²τ² / (2V(V+τ²))) = 0.388055 · e^2.395640 = 4.25898.
    const m = msprtLook({ xA: 300, nA: 10_000, xB: 360, nB: 10_000 }, 0.006, 0.05);
    expect(m.variance).toBeCloseTo(6.3822e-6, 12);
    expect(m.lambda).toBeCloseTo(4.25898, 4);
    expect(m.pLook).toBeCloseTo(0.234798, 5);
    // Confidence sequence: 0.006 ± √(V(V+τ²)/τ² · (2 ln 20 + ln((V+τ²)/V))) = [−0.001697, 0.013697].
    expect(m.cs.lo).toBeCloseTo(-0.0016969, 6);
    expect(m.cs.hi).toBeCloseTo(0.0136969, 6);
    // The fixed-horizon test on the same numbers says p = 0.018: peeking-safe costs evidence.
    expect(twoProportionZTest(300, 10_000, 360, 10_000).p).toBeLessThan(0.02);
  });
});

describe('sample-ratio mismatch', () => {
  it('hand-computed chi-squared against 5 / 5 / 90 (reported for reference)', () => {
    // Expected 500 / 500 / 9,000. Fair: (20² + 20²)/500 + 0 = 1.6, p = e^(−0.8) = 0.4493.
    const fair = srmTest([[520, 480, 9000]], [0.05, 0.05, 0.9]);
    expect(fair.chi2).toBeCloseTo(1.6, 10);
    expect(fair.chi2P).toBeCloseTo(0.449329, 5);
    expect(fair.mismatch).toBe(false);
    // Skewed: (100² + 0 + 100²/9)/… = 20 + 0 + 1.1111 = 21.111, p = 2.6e-5 — below 0.001 for
    // one look; the anytime-valid p (1.3e-3) is not yet, the price of looking whenever one likes.
    // The same skew with twice the units is flagged (p = 1.3e-7).
    const skewed = srmTest([[600, 500, 8900]], [0.05, 0.05, 0.9]);
    expect(skewed.chi2).toBeCloseTo(21.1111, 3);
    expect(skewed.chi2P).toBeCloseTo(2.6048e-5, 8);
    expect(skewed.p).toBeCloseTo(1.343e-3, 5);
    expect(skewed.mismatch).toBe(false);
    const twice = srmTest([[600, 500, 8900], [1200, 1000, 17800]], [0.05, 0.05, 0.9]);
    expect(twice.p).toBeCloseTo(1.276e-7, 9);
    expect(twice.mismatch).toBe(true);
  });

  it('hand-computed Bayes factor: 3 / 1 against 1 : 1 with prior α = 50 / 50', () => {
    // Γ(100)/Γ(104) · Γ(53)/Γ(50) · Γ(51)/Γ(50) / 0.5⁴ = 50·51·52 · 50 · 16 / (100·101·102·103)
    // = 106,080,000 / 106,110,600 (concentration 100; jstat's ln Γ is good to ~1e-11 here).
    expect(Math.exp(srmLogBayesFactor([3, 1], [0.5, 0.5], 100))).toBeCloseTo(106_080_000 / 106_110_600, 10);
    // Shares need not sum to 1; no units → BF = 1.
    expect(srmLogBayesFactor([0, 0], [1, 1])).toBeCloseTo(0, 12);
    expect(srmLogBayesFactor([3, 1], [2, 2])).toBeCloseTo(srmLogBayesFactor([3, 1], [0.5, 0.5]), 12);
    // The always-valid p is the smallest 1 / BF of any look: it never goes back up.
    const r = srmTest([[600, 500, 8900], [1200, 1000, 17800], [1300, 1300, 23400]], [0.05, 0.05, 0.9]);
    expect(r.p).toBeCloseTo(Math.exp(-srmLogBayesFactor([1200, 1000, 17800], [0.05, 0.05, 0.9])), 12);
    expect(r.bayesFactor).toBeCloseTo(Math.exp(srmLogBayesFactor([1300, 1300, 23400], [0.05, 0.05, 0.9])), 12);
    expect(r.looks).toBe(3);
    expect(() => srmTest([], [0.5, 0.5])).toThrow(RangeError);
    expect(() => srmLogBayesFactor([1.5, 2], [0.5, 0.5])).toThrow(RangeError);
  });

  it('looked at every 50 units: the chi-squared test raises false alarms, the anytime-valid one does not', () => {
    // 400 experiments with the configured split, 20,000 units each, the split checked every 50
    // units (400 looks, as an hourly policy over 17 days). At α = 0.05 one look of either test
    // errs 5% of the time; over the looks the chi-squared test errs in most experiments, the
    // anytime-valid one in at most α of them (Ville's inequality).
    const rng = createPrng('srm-peeking');
    const shares = [0.1, 0.2, 0.7];
    let chi2Alarms = 0, seqAlarms = 0;
    for (let r = 0; r < 400; r++) {
      const n = [0, 0, 0];
      let chi2Alarm = false, seqAlarm = false;
      for (let i = 1; i <= 20_000; i++) {
        const u = rng.next();
        n[u < 0.1 ? 0 : u < 0.3 ? 1 : 2]!++;
        if (i % 50 !== 0) continue;
        if (chiSquaredFit(n, shares).p < 0.05) chi2Alarm = true;
        if (srmLogBayesFactor(n, shares) >= Math.log(1 / 0.05)) seqAlarm = true;
      }
      if (chi2Alarm) chi2Alarms++;
      if (seqAlarm) seqAlarms++;
    }
    console.log(`SRM under peeking (400 × 400 looks, α = 0.05): chi-squared ${chi2Alarms} false alarms, anytime-valid ${seqAlarms}`);
    expect(chi2Alarms).toBeGreaterThan(400 * 0.25);
    expect(seqAlarms).toBeLessThanOrEqual(400 * 0.05);
  });

  it('flags a skewed 100k split and never a fair one', () => {
    const rng = createPrng('srm');
    // Fair: 200 splits of 100k units drawn with the configured shares, looked at every 10k units:
    // p < 0.001 would be a false alarm (at most 0.2 of them expected); allow at most 1.
    let falseAlarms = 0;
    for (let r = 0; r < 200; r++) {
      const n = [0, 0, 0];
      const looks: number[][] = [];
      for (let i = 1; i <= 100_000; i++) {
        const u = rng.next();
        n[u < 0.05 ? 0 : u < 0.1 ? 1 : 2]!++;
        if (i % 10_000 === 0) looks.push([...n]);
      }
      if (srmTest(looks, [0.05, 0.05, 0.9]).mismatch) falseAlarms++;
    }
    expect(falseAlarms).toBeLessThanOrEqual(1);
    // Skewed: the challenger loses 8% of its units (e.g. its block fails to log exposures).
    const skew = [0, 0, 0];
    let firstAlarm = 0;
    for (let i = 1; i <= 100_000; i++) {
      const u = rng.next();
      const v = u < 0.05 ? 0 : u < 0.1 ? 1 : 2;
      if (v === 1 && rng.next() < 0.08) continue;
      skew[v]!++;
      if (!firstAlarm && i % 1000 === 0 && srmLogBayesFactor(skew, [0.05, 0.05, 0.9]) >= Math.log(1000)) firstAlarm = i;
    }
    const s = srmTest([skew], [0.05, 0.05, 0.9]);
    console.log(`SRM, 8% of one 5% arm lost: chi-squared p ${s.chi2P.toExponential(2)}, always-valid p ${s.p.toExponential(2)} at 100k units; first alarm (looks every 1k) at ${firstAlarm}`);
    expect(s.mismatch).toBe(true);
    expect(firstAlarm).toBeGreaterThan(0);
  });

  it('a unit in a variant with share 0 is a mismatch', () => {
    expect(srmLogBayesFactor([10, 1, 989], [0.01, 0, 0.99])).toBe(Infinity);
    const r = srmTest([[10, 1, 989]], [0.01, 0, 0.99]);
    expect(r).toMatchObject({ mismatch: true, p: 0, chi2P: 0 });
    expect(srmTest([[10, 0, 990]], [0.01, 0, 0.99])).toMatchObject({ df: 1, mismatch: false });
  });
});

// ------------------------------------------------------------------ simulation

/** Exact binomial draw: waiting times (geometric gaps) on the rarer outcome. */
function binomial(rng: Prng, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(rng, n, 1 - p);
  const lq = Math.log1p(-p);
  let x = 0, pos = 0;
  for (;;) {
    pos += Math.floor(Math.log(1 - rng.next()) / lq) + 1;
    if (pos > n) return x;
    x++;
  }
}

interface SimSetup { dailyUnits: number; days: number; p: number; lift: number; shareA: number; shareB: number; tau: number; alpha: number }

/** Runs `runs` experiments with a daily look each; returns rejections by direction and first-reject days. */
function simulate(seed: string, runs: number, s: SimSetup) {
  const rng = createPrng(seed);
  let better = 0, worse = 0;
  const rejectDays: number[] = [];
  for (let r = 0; r < runs; r++) {
    let xA = 0, nA = 0, xB = 0, nB = 0;
    const looks: Look[] = [];
    for (let d = 0; d < s.days; d++) {
      const a = binomial(rng, s.dailyUnits, s.shareA);
      const b = binomial(rng, s.dailyUnits - a, s.shareB / (1 - s.shareA));
      nA += a; nB += b;
      xA += binomial(rng, a, s.p);
      xB += binomial(rng, b, s.p * (1 + s.lift));
      looks.push({ xA, nA, xB, nB });
    }
    const res = sequentialTest(looks, s.tau, s.alpha);
    if (res.reject) {
      if (res.direction > 0) better++; else worse++;
      rejectDays.push(res.firstRejectLook + 1);
    }
  }
  return { better: better / runs, worse: worse / runs, rejected: (better + worse) / runs, rejectDays };
}

describe('anytime-valid sequential test (simulated)', () => {
  // A shop with 3% conversion and the default 5% challenger / 90% champion split, looked at
  // every day for 8 weeks. τ = 20% × 3% = 0.006, α = 0.05.
  const base = { p: 0.03, shareA: 0.9, shareB: 0.05, tau: mixingSd(0.03, 0.2), alpha: 0.05 };

  it('A/A: false-positive rate ≤ 6.5% over 1,000 experiments with 56 daily looks', () => {
    const aa = simulate('rollout-aa', 1000, { ...base, dailyUnits: 4000, days: 56, lift: 0 });
    console.log(`A/A false-positive rate: ${(aa.rejected * 100).toFixed(1)}% (challenger "better" ${(aa.better * 100).toFixed(1)}%, "worse" ${(aa.worse * 100).toFixed(1)}%) over 1,000 × 56 daily looks`);
    expect(aa.rejected).toBeLessThanOrEqual(0.065);
  });

  it('the same daily peeking with the fixed-horizon z test inflates false positives (why mSPRT)', () => {
    const rng = createPrng('rollout-aa-naive');
    let rejected = 0;
    for (let r = 0; r < 300; r++) {
      let xA = 0, nA = 0, xB = 0, nB = 0;
      for (let d = 0; d < 56; d++) {
        const a = binomial(rng, 4000, 0.9), b = binomial(rng, 4000 - a, 0.5);
        nA += a; nB += b; xA += binomial(rng, a, 0.03); xB += binomial(rng, b, 0.03);
        if (twoProportionZTest(xA, nA, xB, nB).p < 0.05) { rejected++; break; }
      }
    }
    console.log(`daily peeking at the fixed-horizon z test, A/A: ${((rejected / 300) * 100).toFixed(1)}% false positives`);
    expect(rejected / 300).toBeGreaterThan(0.15);
  });

  it('power on a +20% lift by the estimated time to decision, and the estimate is conservative', () => {
    // 20,000 new units a day: the estimate says 14 days (hand-checked below).
    const eta = estimateTimeToDecision({ baselineRate: 0.03, dailyUnits: 20_000, shareA: 0.9, shareB: 0.05 });
    expect(eta.days).toBe(14);
    const sim = simulate('rollout-power', 500, { ...base, dailyUnits: 20_000, days: eta.days!, lift: 0.2 });
    const sorted = [...sim.rejectDays].sort((x, y) => x - y);
    console.log(`+20% lift, 20k units/day, 14 daily looks: power ${(sim.better * 100).toFixed(1)}% (estimate ≥ ${(eta.power! * 100).toFixed(1)}%), wrong direction ${(sim.worse * 100).toFixed(1)}%, median day of decision ${sorted[Math.floor(sorted.length / 2)]}`);
    expect(sim.better).toBeGreaterThanOrEqual(0.8);
    expect(sim.worse).toBe(0);
  });
});

describe('time to decision', () => {
  it('hand-checked: 3% baseline, 20,000 units/day, 90% / 5% → 14 days', () => {
    // Day 14: n_A = 252,000, n_B = 14,000, p̄ = 0.0303158, V₀ = p̄q̄(1/n_A + 1/n_B) = 2.21642e-6,
    // b = √(V₀(V₀+τ²)/τ² · (2 ln 20 + ln((V₀+τ²)/V₀))) = 0.0045603 with τ = 0.006;
    // W = 0.03·0.97/252,000 + 0.036·0.964/14,000 = 2.59433e-6; power = Φ((0.006 − 0.0045603)/√W)
    // = Φ(0.89387) = 0.8143 ≥ 0.8. Day 13: b = 0.0047243, power = 0.7773 < 0.8.
    const e = estimateTimeToDecision({ baselineRate: 0.03, dailyUnits: 20_000, shareA: 0.9, shareB: 0.05 });
    expect(e.days).toBe(14);
    expect(e.unitsB).toBe(14_000);
    expect(e.unitsA).toBe(252_000);
    expect(e.power).toBeCloseTo(0.814289, 5);
    expect(e.tau).toBeCloseTo(0.006, 12);
    expect(e.warning).toBeNull();
    // A single fixed-horizon test (no peeking) would need 7,103 challenger units = 8 days.
    expect(e.fixedHorizon).toEqual({ nB: 7103, nA: 127854, days: 8 });
  });

  it('warns when a decision would take more than 8 weeks', () => {
    const e = estimateTimeToDecision({ baselineRate: 0.03, dailyUnits: 4000, shareA: 0.9, shareB: 0.05 });
    expect(e.days).toBe(68);
    expect(e.warning).toMatch(/68 days .* more than 8 weeks/);
    const never = estimateTimeToDecision({ baselineRate: 0.01, dailyUnits: 20, shareA: 0.9, shareB: 0.05 });
    expect(never.days).toBeNull();
    expect(never.warning).toMatch(/no decision expected/);
  });
});
