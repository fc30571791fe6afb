// BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way") and the
// Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"), both fitted here by
// maximum likelihood (Nelder–Mead on log-parameters; log-gamma and log-beta from jstat).
//
// BG/NBD inputs per customer, in days: x = repeat transactions (distinct purchase days − 1),
// tx = time of the last transaction since the first, T = time since the first transaction.
// Gamma-Gamma inputs: n = transactions, m = mean spend per transaction (> 0).
import { createRequire } from 'node:module';
import { nelderMead } from './optimize.ts';

const jStat = createRequire(import.meta.url)('jstat') as { gammaln(x: number): number; betaln(a: number, b: number): number };
const gammaln = (x: number): number => jStat.gammaln(x);
const betaln = (a: number, b: number): number => jStat.betaln(a, b);

export interface BgNbdParams { r: number; alpha: number; a: number; b: number }
export interface GammaGammaParams { p: number; q: number; gamma: number }

export interface RecencyFrequency {
  x: ArrayLike<number>;
  tx: ArrayLike<number>;
  T: ArrayLike<number>;
}

function logAddExp(u: number, v: number): number {
  const m = Math.max(u, v);
  return m + Math.log(Math.exp(u - m) + Math.exp(v - m));
}

/** Mean log-likelihood per customer under BG/NBD. */
export function bgnbdLogLikelihood(p: BgNbdParams, d: RecencyFrequency): number {
  const { r, alpha, a, b } = p;
  const lnBab = betaln(a, b), lnGr = gammaln(r), rLnAlpha = r * Math.log(alpha);
  // The gamma/beta terms depend on x only (a small integer): computed once per distinct x.
  const c1 = new Map<number, number>(), c2 = new Map<number, number>(), c3 = new Map<number, number>();
  let s = 0;
  const n = d.x.length;
  for (let i = 0; i < n; i++) {
    const x = d.x[i]!, tx = d.tx[i]!, T = d.T[i]!;
    let a1 = c1.get(x);
    if (a1 === undefined) {
      a1 = gammaln(r + x) - lnGr + rLnAlpha;
      c1.set(x, a1);
      c2.set(x, betaln(a, b + x) - lnBab);
      c3.set(x, x > 0 ? betaln(a + 1, b + x - 1) - lnBab : 0);
    }
    const a2 = c2.get(x)! - (r + x) * Math.log(alpha + T);
    const ll = x > 0 ? logAddExp(a2, c3.get(x)! - (r + x) * Math.log(alpha + tx)) : a2;
    s += a1 + ll;
  }
  return s / n;
}

export function fitBgNbd(d: RecencyFrequency): BgNbdParams & { logLikelihood: number } {
  const toP = (v: number[]): BgNbdParams => ({ r: Math.exp(v[0]!), alpha: Math.exp(v[1]!), a: Math.exp(v[2]!), b: Math.exp(v[3]!) });
  // Start near the usual scale: r ~ 0.5, alpha ~ mean T, a ~ 1, b ~ 2.
  let meanT = 0;
  for (let i = 0; i < d.T.length; i++) meanT += d.T[i]! / d.T.length;
  // A weak penalty keeps parameters finite on degenerate data (nobody ever repeats, etc.).
  const f = (v: number[]): number => -bgnbdLogLikelihood(toP(v), d) + 1e-4 * v.reduce((s, t) => s + t * t, 0);
  const res = nelderMead(f, [Math.log(0.5), Math.log(Math.max(1, meanT)), 0, Math.log(2)], { maxIterations: 3000, tolerance: 1e-12, step: 0.7 });
  const p = toP(res.x);
  return { ...p, logLikelihood: bgnbdLogLikelihood(p, d) };
}

/** P(still alive at T | x, tx, T). */
export function bgnbdPAlive(p: BgNbdParams, x: number, tx: number, T: number): number {
  if (x === 0) return 1;
  const { r, alpha, a, b } = p;
  const lnRatio = Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
  return 1 / (1 + Math.exp(lnRatio));
}

/** Gauss hypergeometric 2F1(a, b; c; z) for 0 ≤ z < 1, by its series. */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  let term = 1, sum = 1;
  for (let k = 0; k < 10_000; k++) {
    term *= ((a + k) * (b + k)) / ((c + k) * (k + 1)) * z;
    sum += term;
    if (Math.abs(term) < 1e-14 * Math.abs(sum)) break;
  }
  return sum;
}

/** Expected transactions in the next `t` days given (x, tx, T). */
export function bgnbdExpected(p: BgNbdParams, x: number, tx: number, T: number, t: number): number {
  const { r, alpha, a, b } = p;
  if (a <= 1) {
    // The closed form needs a > 1; fall back to P(alive) × the posterior mean rate × t.
    return bgnbdPAlive(p, x, tx, T) * ((r + x) / (alpha + T)) * t;
  }
  const lead = (a + b + x - 1) / (a - 1);
  const hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t));
  const num = 1 - Math.exp((r + x) * (Math.log(alpha + T) - Math.log(alpha + T + t))) * hyp;
  const den = x > 0 ? 1 + Math.exp(Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx))) : 1;
  return Math.max(0, (lead * num) / den);
}

/**
 * P(at least one transaction in (T, T + t]) under BG/NBD, by integrating over the posterior of
 * the purchase rate λ and the dropout probability p: alive now (posterior), then no dropout
 * between purchases until the first purchase. Computed as 1 − P(no purchase): a customer who
 * is alive with rate λ and dropout p makes none in t with probability e^{−λt} (dropout only
 * happens right after a purchase), so P(none | alive) = E[e^{−λt}] over the Gamma(r + x, α + T)
 * posterior = ((α + T) / (α + T + t))^{r + x}.
 */
export function bgnbdProbabilityActive(p: BgNbdParams, x: number, tx: number, T: number, t: number): number {
  const alive = bgnbdPAlive(p, x, tx, T);
  const none = Math.exp((p.r + x) * (Math.log(p.alpha + T) - Math.log(p.alpha + T + t)));
  return alive * (1 - none);
}

export function gammaGammaLogLikelihood(g: GammaGammaParams, n: ArrayLike<number>, m: ArrayLike<number>): number {
  const { p, q, gamma } = g;
  let s = 0;
  const lgq = gammaln(q), qlg = q * Math.log(gamma);
  const c = new Map<number, number>(); // per distinct transaction count
  for (let i = 0; i < n.length; i++) {
    const x = n[i]!, mi = m[i]!;
    let k = c.get(x);
    if (k === undefined) c.set(x, (k = gammaln(p * x + q) - gammaln(p * x) - lgq + qlg + p * x * Math.log(x)));
    s += k + (p * x - 1) * Math.log(mi) - (p * x + q) * Math.log(x * mi + gamma);
  }
  return s / n.length;
}

export function fitGammaGamma(n: ArrayLike<number>, m: ArrayLike<number>): GammaGammaParams & { logLikelihood: number } {
  const toG = (v: number[]): GammaGammaParams => ({ p: Math.exp(v[0]!), q: Math.exp(v[1]!), gamma: Math.exp(v[2]!) });
  let mm = 0;
  for (let i = 0; i < m.length; i++) mm += m[i]! / m.length;
  const f = (v: number[]): number => -gammaGammaLogLikelihood(toG(v), n, m) + 1e-4 * v.reduce((s, t) => s + t * t, 0);
  const res = nelderMead(f, [0, Math.log(3), Math.log(Math.max(1e-6, mm))], { maxIterations: 3000, tolerance: 1e-12, step: 0.7 });
  const g = toG(res.x);
  return { ...g, logLikelihood: gammaGammaLogLikelihood(g, n, m) };
}

/** Posterior mean spend per transaction for a customer with n transactions of mean m. */
export function gammaGammaExpectedSpend(g: GammaGammaParams, n: number, m: number): number {
  const { p, q, gamma } = g;
  if (q <= 1) return n > 0 ? m : NaN;
  return (p * (gamma + n * m)) / (p * n + q - 1);
}
