// Statistics for a rollout: pure functions on counts and sums (no I/O), distributions from jstat.
//
// - Conversion rate per variant: Wilson score interval.
// - Revenue per visitor (RPV) per variant: mean of per-unit revenue (0 for units that did not buy)
//   with a Student-t interval; the difference of two variants with Welch's t test
//   (Welch–Satterthwaite degrees of freedom). Normal theory on a skewed quantity: it is reported,
//   never used for an automatic decision.
// - Two-proportion z test (pooled standard error), the classic fixed-horizon test: reported for
//   reference; it is only valid when looked at once.
// - Sample-ratio mismatch: the anytime-valid multinomial test of Lindon & Malek ("Anytime-Valid
//   Inference for Multinomial Count Data", NeurIPS 2022) on units per variant against the
//   configured shares; always-valid p < 0.001 marks the experiment broken. The policy looks at the
//   split every time it runs (hourly in production, every few seconds in the demo): a
//   fixed-horizon chi-squared test looked at that often raises false alarms far above its 0.1%
//   (`srmTest` below). Pearson's chi-squared is still reported, for reference.
// - Anytime-valid sequential test: the mixture sequential probability ratio test (mSPRT) of
//   Johari, Koomen, Pekelis & Walsh ("Peeking at A/B Tests", KDD 2017; "Always Valid Inference",
//   Operations Research 2022), as used by Optimizely's Stats Engine, for θ = p_B − p_A with a
//   normal mixture θ ~ N(0, τ²) over the alternative:
//
//       Λ_n = √(V / (V + τ²)) · exp( θ̂² τ² / (2 V (V + τ²)) ),
//
//   θ̂ the observed difference and V its variance (pooled: p̄(1 − p̄)(1/n_A + 1/n_B)). Under
//   H0 (θ = 0) Λ_n is a non-negative martingale (asymptotically), so by Ville's inequality
//   P(Λ_n ≥ 1/α for any n) ≤ α: looking every day does not inflate false positives. The
//   always-valid p-value is p_n = min(p_{n−1}, 1/Λ_n) and the matching confidence sequence is
//
//       θ̂ ± √( V (V + τ²) / τ² · (2 ln(1/α) + ln((V + τ²) / V)) ),
//
//   intersected over looks. The mixing variance τ² sets which effect sizes the test is quickest
//   to find; we use τ = (minimum relative lift of interest, default 20%) × baseline conversion
//   rate, fixed when the experiment starts (never re-estimated from the experiment's own data).
// - Time to decision: the first day by which the mSPRT rejects with probability ≥ power when the
//   true lift is the minimum of interest (a conservative bound, see `estimateTimeToDecision`).
import { createRequire } from 'node:module';

interface JStat {
  normal: { cdf(x: number, mean: number, sd: number): number; inv(p: number, mean: number, sd: number): number };
  chisquare: { cdf(x: number, dof: number): number };
  gammaln(x: number): number;
  studentt: { cdf(x: number, dof: number): number; inv(p: number, dof: number): number };
}
const jStat = createRequire(import.meta.url)('jstat') as JStat;

export interface Interval {
  lo: number;
  hi: number;
}

const checkLevel = (level: number) => {
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${level}`);
};
const checkCounts = (x: number, n: number) => {
  if (!(Number.isFinite(x) && Number.isFinite(n) && x >= 0 && n >= 0 && x <= n)) throw new RangeError(`need 0 ≤ successes ≤ trials, got ${x} of ${n}`);
};

/** Standard normal quantile Φ⁻¹(p). */
export function zQuantile(p: number): number {
  return jStat.normal.inv(p, 0, 1);
}
/** Standard normal cdf Φ(x). */
export function normalCdf(x: number): number {
  return jStat.normal.cdf(x, 0, 1);
}

// ---------------------------------------------------------------- proportions

export interface Proportion extends Interval {
  successes: number;
  n: number;
  rate: number;
}

/**
 * Wilson score interval for a binomial proportion:
 * (p̂ + z²/2n ± z √(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n). n = 0 gives rate NaN and [0, 1].
 */
export function wilson(successes: number, n: number, level = 0.95): Proportion {
  checkCounts(successes, n);
  checkLevel(level);
  if (n === 0) return { successes, n, rate: NaN, lo: 0, hi: 1 };
  const z = zQuantile(1 - (1 - level) / 2);
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = p + z2n / 2;
  const half = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  const denom = 1 + z2n;
  return { successes, n, rate: p, lo: Math.max(0, (centre - half) / denom), hi: Math.min(1, (centre + half) / denom) };
}

export interface TwoProportionTest {
  /** Rates of A (the reference) and B. */
  rateA: number;
  rateB: number;
  /** B − A. */
  diff: number;
  /** Relative lift (B − A) / A; NaN when A is 0. */
  lift: number;
  /** Pooled standard error under H0 (what z is computed with). */
  sePooled: number;
  z: number;
  /** Two-sided p-value. */
  p: number;
  /** Unpooled (Wald) interval for B − A at `level`. */
  ci: Interval;
}

/** Two-proportion z test of H0: p_A = p_B, pooled standard error, two-sided. */
export function twoProportionZTest(xA: number, nA: number, xB: number, nB: number, level = 0.95): TwoProportionTest {
  checkCounts(xA, nA);
  checkCounts(xB, nB);
  checkLevel(level);
  const rateA = nA > 0 ? xA / nA : NaN;
  const rateB = nB > 0 ? xB / nB : NaN;
  const diff = rateB - rateA;
  const pooled = (xA + xB) / (nA + nB);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB));
  const z = sePooled > 0 ? diff / sePooled : diff === 0 || Number.isNaN(diff) ? 0 : Math.sign(diff) * Infinity;
  const p = nA > 0 && nB > 0 ? Math.min(1, 2 * normalCdf(-Math.abs(z))) : NaN;
  const se = Math.sqrt((rateA * (1 - rateA)) / nA + (rateB * (1 - rateB)) / nB);
  const zc = zQuantile(1 - (1 - level) / 2);
  return { rateA, rateB, diff, lift: rateA > 0 ? diff / rateA : NaN, sePooled, z, p, ci: { lo: diff - zc * se, hi: diff + zc * se } };
}

// ---------------------------------------------------------------- means (revenue per visitor)

/** Sufficient statistics of a per-unit quantity: count, Σx, Σx². */
export interface Sums {
  n: number;
  sum: number;
  sumSq: number;
}

export interface MeanEstimate extends Interval {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1). */
  sd: number;
  se: number;
}

function sampleVariance(s: Sums): number {
  if (s.n < 2) return NaN;
  return Math.max(0, (s.sumSq - (s.sum * s.sum) / s.n) / (s.n - 1));
}

/** Mean with a Student-t interval (n − 1 degrees of freedom). */
export function meanInterval(s: Sums, level = 0.95): MeanEstimate {
  checkLevel(level);
  const mean = s.n > 0 ? s.sum / s.n : NaN;
  const sd = Math.sqrt(sampleVariance(s));
  const se = sd / Math.sqrt(s.n);
  if (!(s.n >= 2)) return { n: s.n, mean, sd, se, lo: NaN, hi: NaN };
  const t = se > 0 ? jStat.studentt.inv(1 - (1 - level) / 2, s.n - 1) : 0;
  return { n: s.n, mean, sd, se, lo: mean - t * se, hi: mean + t * se };
}

export interface WelchTest {
  meanA: number;
  meanB: number;
  /** B − A. */
  diff: number;
  lift: number;
  se: number;
  df: number;
  t: number;
  p: number;
  ci: Interval;
}

/** Welch's unequal-variance t test of mean B − mean A, two-sided. */
export function welchTest(a: Sums, b: Sums, level = 0.95): WelchTest {
  checkLevel(level);
  const meanA = a.sum / a.n, meanB = b.sum / b.n;
  const va = sampleVariance(a) / a.n, vb = sampleVariance(b) / b.n;
  const se = Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  const diff = meanB - meanA;
  const lift = meanA > 0 ? diff / meanA : NaN;
  if (!(se > 0) || !Number.isFinite(df)) {
    return { meanA, meanB, diff, lift, se, df: NaN, t: NaN, p: NaN, ci: { lo: NaN, hi: NaN } };
  }
  const t = diff / se;
  const p = Math.min(1, 2 * jStat.studentt.cdf(-Math.abs(t), df));
  const tc = jStat.studentt.inv(1 - (1 - level) / 2, df);
  return { meanA, meanB, diff, lift, se, df, t, p, ci: { lo: diff - tc * se, hi: diff + tc * se } };
}

// ---------------------------------------------------------------- sample-ratio mismatch

export const SRM_THRESHOLD = 0.001;
/**
 * Concentration of the Dirichlet prior over the alternative's shares, centred on the configured
 * ones (prior parameters = concentration × share). Larger finds small imbalances sooner and
 * large ones later. Measured on a 5 / 5 / 90 split with one 5% arm losing some of its units,
 * looked at every 500 units (median of 20 runs, units until p < 0.001; bench/srm-simulation.ts):
 * losing 5% of them, 204,000 units at 100 (the default of savvi, a reference implementation),
 * 150,000 at 1,000, 121,000 at 10,000; losing 8%, 74,000 / 62,000 / 55,000; losing 20%,
 * 11,000 / 9,500 / 13,500; losing 50%, 1,500 / 2,000 / 4,500. 1,000 is never more than 1.33×
 * the best of the three (100: up to 1.69×, 10,000: up to 3×).
 */
export const SRM_PRIOR_CONCENTRATION = 1000;

export interface SrmResult {
  observed: number[];
  expected: number[];
  /** Pearson's chi-squared at the last look and its fixed-horizon p: for reference only (valid for one look). */
  chi2: number;
  df: number;
  chi2P: number;
  /** Bayes factor of "some other split" against the configured one, at the last look. */
  bayesFactor: number;
  /** Always-valid p-value: min over the looks of 1 / Bayes factor (capped at 1). */
  p: number;
  looks: number;
  /** p < threshold: the split is not what was configured; the experiment's numbers cannot be trusted. */
  mismatch: boolean;
}

/**
 * ln of the Bayes factor of the Dirichlet-multinomial alternative (prior α = c · shares) against
 * the multinomial with the configured shares θ, for counts x summing to n:
 *
 *     ln BF = ln Γ(Σα) − ln Γ(Σα + n) + Σ [ln Γ(α_i + x_i) − ln Γ(α_i)] − Σ x_i ln θ_i
 *
 * It depends on the counts only, not on their order. Under the configured split it is a
 * non-negative martingale with mean 1 as units arrive, so by Ville's inequality
 * P(BF ≥ 1/α at any look, ever) ≤ α. A unit in a category with share 0 is impossible under the
 * configured split: +∞. Categories with share 0 and no unit drop out.
 */
export function srmLogBayesFactor(observed: readonly number[], shares: readonly number[], concentration = SRM_PRIOR_CONCENTRATION): number {
  if (observed.length !== shares.length || observed.length < 2) throw new RangeError('srm needs one share per observed count, at least two');
  if (!(concentration > 0)) throw new RangeError(`prior concentration must be > 0, got ${concentration}`);
  const shareSum = shares.reduce((s, x) => s + x, 0);
  if (!(shareSum > 0) || shares.some((x) => !(x >= 0))) throw new RangeError(`shares must be ≥ 0 with a positive sum, got ${shares.join(', ')}`);
  let n = 0, alphaSum = 0, ln = 0;
  for (let i = 0; i < observed.length; i++) {
    const x = observed[i]!;
    if (!(Number.isInteger(x) && x >= 0)) throw new RangeError(`counts must be whole and ≥ 0, got ${x}`);
    const theta = shares[i]! / shareSum;
    if (theta === 0) {
      if (x > 0) return Infinity;
      continue;
    }
    const a = concentration * theta;
    n += x;
    alphaSum += a;
    ln += jStat.gammaln(a + x) - jStat.gammaln(a) - x * Math.log(theta);
  }
  return ln + jStat.gammaln(alphaSum) - jStat.gammaln(alphaSum + n);
}

/**
 * Pearson's chi-squared goodness of fit of observed counts against expected shares (normalized),
 * with its fixed-horizon p. Categories with a configured share of 0 must have no units (any unit
 * there gives p = 0); they add no degree of freedom otherwise.
 */
export function chiSquaredFit(observed: readonly number[], shares: readonly number[]): { expected: number[]; chi2: number; df: number; p: number } {
  if (observed.length !== shares.length || observed.length < 2) throw new RangeError('srm needs one share per observed count, at least two');
  const total = observed.reduce((s, x) => s + x, 0);
  const shareSum = shares.reduce((s, x) => s + x, 0);
  const expected = shares.map((s) => (total * s) / shareSum);
  let chi2 = 0, cells = 0, impossible = false;
  for (let i = 0; i < observed.length; i++) {
    if (expected[i]! > 0) { chi2 += (observed[i]! - expected[i]!) ** 2 / expected[i]!; cells++; }
    else if (observed[i]! > 0) impossible = true;
  }
  const df = Math.max(cells - 1, 0);
  let p = df > 0 ? 1 - jStat.chisquare.cdf(chi2, df) : 1;
  if (df === 2) p = Math.exp(-chi2 / 2); // exact for 2 degrees of freedom, keeps tiny p-values
  if (impossible) p = 0;
  return { expected, chi2, df, p };
}

/**
 * The sample-ratio check over cumulative looks (units per category at each look, oldest first;
 * the last is now). Mismatch when the always-valid p — the smallest 1 / BF of any look — is
 * below the threshold: valid however often and whenever the split is looked at.
 */
export function srmTest(looks: readonly (readonly number[])[], shares: readonly number[], threshold = SRM_THRESHOLD, concentration = SRM_PRIOR_CONCENTRATION): SrmResult {
  const last = looks.at(-1);
  if (!last) throw new RangeError('srmTest needs at least one look');
  let p = 1, lnBf = 0;
  for (const look of looks) {
    lnBf = srmLogBayesFactor(look, shares, concentration);
    p = Math.min(p, Math.exp(-lnBf));
  }
  const fit = chiSquaredFit(last, shares);
  return { observed: [...last], expected: fit.expected, chi2: fit.chi2, df: fit.df, chi2P: fit.p, bayesFactor: Math.exp(lnBf), p, looks: looks.length, mismatch: p < threshold };
}

// ---------------------------------------------------------------- mSPRT

/** One cumulative look: A is the reference (champion), B the treatment (challenger). */
export interface Look {
  xA: number;
  nA: number;
  xB: number;
  nB: number;
}

export interface MsprtLook {
  diff: number;
  /** Variance of the difference used by the test (pooled under H0). */
  variance: number;
  /** Mixture likelihood ratio Λ against H0: θ = 0. */
  lambda: number;
  /** 1 / Λ (not yet minimized over looks). */
  pLook: number;
  /** Confidence sequence for θ = p_B − p_A at this look alone. */
  cs: Interval;
}

/** Pooled variance of p̂_B − p̂_A. */
export function pooledDiffVariance(l: Look): number {
  const p = (l.xA + l.xB) / (l.nA + l.nB);
  return p * (1 - p) * (1 / l.nA + 1 / l.nB);
}

/** Half-width of the normal-mixture confidence sequence for variance V, mixing variance τ², level 1 − α. */
export function csHalfWidth(variance: number, tau: number, alpha: number): number {
  const t2 = tau * tau;
  return Math.sqrt(((variance * (variance + t2)) / t2) * (2 * Math.log(1 / alpha) + Math.log((variance + t2) / variance)));
}

export function msprtLook(l: Look, tau: number, alpha: number): MsprtLook {
  if (!(tau > 0)) throw new RangeError(`mixing standard deviation τ must be > 0, got ${tau}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  checkCounts(l.xA, l.nA);
  checkCounts(l.xB, l.nB);
  if (l.nA === 0 || l.nB === 0) return { diff: NaN, variance: NaN, lambda: 1, pLook: 1, cs: { lo: -Infinity, hi: Infinity } };
  const diff = l.xB / l.nB - l.xA / l.nA;
  const v = pooledDiffVariance(l);
  // No conversions at all (or every unit converted): no evidence either way.
  if (!(v > 0)) return { diff, variance: v, lambda: 1, pLook: 1, cs: { lo: -Infinity, hi: Infinity } };
  const t2 = tau * tau;
  const logLambda = 0.5 * Math.log(v / (v + t2)) + (diff * diff * t2) / (2 * v * (v + t2));
  const lambda = Math.exp(logLambda);
  const h = csHalfWidth(v, tau, alpha);
  return { diff, variance: v, lambda, pLook: Math.min(1, Math.exp(-logLambda)), cs: { lo: diff - h, hi: diff + h } };
}

export interface SequentialResult {
  looks: MsprtLook[];
  /** Always-valid p-value: min over looks of 1/Λ. */
  p: number;
  /** Running intersection of the confidence sequences (1 − α). */
  cs: Interval;
  /** H0 rejected at some look (⇔ 0 outside the running confidence sequence). */
  reject: boolean;
  /** Direction of the effect once rejected: B better (+1), worse (−1), or 0 while not rejected. */
  direction: -1 | 0 | 1;
  /** Index of the first look at which H0 was rejected, or −1. */
  firstRejectLook: number;
  tau: number;
  alpha: number;
}

/**
 * mSPRT over a series of cumulative looks (e.g. one per day). Valid however many looks there are
 * and whenever one stops. Looks with an empty arm are skipped (Λ = 1).
 */
export function sequentialTest(looks: readonly Look[], tau: number, alpha = 0.05): SequentialResult {
  const out: MsprtLook[] = [];
  let p = 1, lo = -Infinity, hi = Infinity, firstRejectLook = -1;
  for (let i = 0; i < looks.length; i++) {
    const m = msprtLook(looks[i]!, tau, alpha);
    out.push(m);
    p = Math.min(p, m.pLook);
    lo = Math.max(lo, m.cs.lo);
    hi = Math.min(hi, m.cs.hi);
    if (firstRejectLook < 0 && m.lambda >= 1 / alpha) firstRejectLook = i;
  }
  // An empty intersection can only happen if the model is badly wrong (e.g. the split changed
  // mid-experiment); fall back to the last look's sequence rather than inventing a direction.
  if (lo > hi && out.length > 0) { lo = out.at(-1)!.cs.lo; hi = out.at(-1)!.cs.hi; }
  const reject = p <= alpha;
  let direction: -1 | 0 | 1 = 0;
  if (reject) direction = lo > 0 ? 1 : hi < 0 ? -1 : out[firstRejectLook]!.diff > 0 ? 1 : -1;
  return { looks: out, p, cs: { lo, hi }, reject, direction, firstRejectLook, tau, alpha };
}

/** τ for the normal mixture: the absolute difference of the minimum relative lift of interest. */
export function mixingSd(baselineRate: number, mdeRel = 0.2): number {
  if (!(baselineRate > 0 && baselineRate < 1)) throw new RangeError(`baseline conversion rate must be in (0, 1), got ${baselineRate}`);
  if (!(mdeRel > 0)) throw new RangeError(`minimum detectable lift must be > 0, got ${mdeRel}`);
  return baselineRate * mdeRel;
}

// ---------------------------------------------------------------- power and time to decision

export interface FixedHorizonSize {
  /** Units needed in the treatment (B) arm and in the reference (A) arm. */
  nB: number;
  nA: number;
}

/**
 * Classic fixed-horizon sample size for the two-sided two-proportion z test, allocation
 * n_A = k · n_B: n_B = (z_{1−α/2} √(p̄q̄(1 + 1/k)) + z_{1−β} √(p_A q_A / k + p_B q_B))² / (p_B − p_A)²,
 * p̄ = (k p_A + p_B)/(k + 1). For k = 1 this is the textbook per-group formula.
 */
export function fixedHorizonSampleSize(pA: number, pB: number, alpha = 0.05, power = 0.8, k = 1): FixedHorizonSize {
  const za = zQuantile(1 - alpha / 2), zb = zQuantile(power);
  const pbar = (k * pA + pB) / (k + 1);
  const num = za * Math.sqrt(pbar * (1 - pbar) * (1 + 1 / k)) + zb * Math.sqrt((pA * (1 - pA)) / k + pB * (1 - pB));
  const nB = Math.ceil((num * num) / ((pB - pA) ** 2));
  return { nB, nA: Math.ceil(k * nB) };
}

export interface TimeToDecisionInput {
  /** Conversion rate of the reference arm (units that buy / units exposed). */
  baselineRate: number;
  /** New units reaching the recommendations block per day (all variants together). */
  dailyUnits: number;
  /** Shares (fractions) of units in the two arms compared. */
  shareA: number;
  shareB: number;
  /** Minimum relative lift worth detecting, e.g. 0.2 for +20%. */
  mdeRel?: number;
  alpha?: number;
  power?: number;
  /** Mixing standard deviation; default baseline × mdeRel. */
  tau?: number;
  /** Days beyond which a warning is raised (default 56 = 8 weeks). */
  warnAfterDays?: number;
  /** Search limit (default 3 years). */
  maxDays?: number;
}

export interface TimeToDecision {
  /** Days of daily looks until the mSPRT has decided with probability ≥ power; null beyond maxDays. */
  days: number | null;
  unitsA: number | null;
  unitsB: number | null;
  /** Probability of having rejected by `days` (lower bound). */
  power: number | null;
  /** What a single fixed-horizon z test would need, for comparison (it cannot be peeked at). */
  fixedHorizon: FixedHorizonSize & { days: number };
  tau: number;
  alpha: number;
  mdeRel: number;
  warning: string | null;
}

/**
 * Time to decision before a canary starts. For day d, with n_A = dailyUnits·shareA·d and
 * n_B = dailyUnits·shareB·d, the mSPRT rejects at that look when |θ̂| ≥ b_d, the half-width of
 * the confidence sequence at the pooled variance V_d. With true lift θ = p·mdeRel, θ̂ ≈ N(θ, W_d)
 * (W_d the unpooled variance), so P(reject at look d) ≈ Φ((θ − b_d)/√W_d). Since the test stops at
 * the first crossing, P(decided by d) ≥ P(reject at d): the first d where this reaches `power`
 * is a conservative (late) estimate of when a real lift of that size is found.
 */
export function estimateTimeToDecision(input: TimeToDecisionInput): TimeToDecision {
  const mdeRel = input.mdeRel ?? 0.2, alpha = input.alpha ?? 0.05, targetPower = input.power ?? 0.8;
  const warnAfter = input.warnAfterDays ?? 56, maxDays = input.maxDays ?? 1095;
  const pA = input.baselineRate;
  const tau = input.tau ?? mixingSd(pA, mdeRel);
  if (!(input.dailyUnits > 0)) throw new RangeError(`daily units must be > 0, got ${input.dailyUnits}`);
  if (!(input.shareA > 0 && input.shareB > 0 && input.shareA + input.shareB <= 1 + 1e-12)) throw new RangeError('arm shares must be > 0 and sum to at most 1');
  const pB = Math.min(pA * (1 + mdeRel), 1 - 1e-9);
  const theta = pB - pA;
  const k = input.shareA / input.shareB;
  const fh = fixedHorizonSampleSize(pA, pB, alpha, targetPower, k);
  const fixedHorizon = { ...fh, days: Math.ceil(fh.nB / (input.dailyUnits * input.shareB)) };

  let days: number | null = null, pw: number | null = null;
  for (let d = 1; d <= maxDays; d++) {
    const nA = input.dailyUnits * input.shareA * d, nB = input.dailyUnits * input.shareB * d;
    const pbar = (pA * nA + pB * nB) / (nA + nB);
    const v0 = pbar * (1 - pbar) * (1 / nA + 1 / nB);
    const w = (pA * (1 - pA)) / nA + (pB * (1 - pB)) / nB;
    const b = csHalfWidth(v0, tau, alpha);
    const power = normalCdf((theta - b) / Math.sqrt(w));
    if (power >= targetPower) { days = d; pw = power; break; }
  }
  const unitsA = days === null ? null : Math.round(input.dailyUnits * input.shareA * days);
  const unitsB = days === null ? null : Math.round(input.dailyUnits * input.shareB * days);
  let warning: string | null = null;
  if (days === null) warning = `no decision expected within ${maxDays} days at this traffic: a +${Math.round(mdeRel * 100)}% lift is too small to find; raise the challenger share or accept a larger minimum lift`;
  else if (days > warnAfter) warning = `about ${days} days (${(days / 7).toFixed(1)} weeks) to decide, more than ${Math.round(warnAfter / 7)} weeks: raise the challenger share or accept a larger minimum lift`;
  return { days, unitsA, unitsB, power: pw, fixedHorizon, tau, alpha, mdeRel, warning };
}
