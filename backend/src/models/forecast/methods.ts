// The local (one series at a time) forecasting methods. Each takes a product's weekly units from
// its first selling week up to the forecast origin (explicit zeros, oldest first) and returns the
// point forecast for the next `h` weeks (never negative). `fit*` picks the smoothing parameters by
// the in-sample one-step-ahead squared error over a fixed grid (deterministic; ties → the first
// grid point); the plain functions take the parameters, for the hand-computed tests.

export type LocalMethod = 'naive' | 'moving_average' | 'ses' | 'holt' | 'croston' | 'tsb';
export const LOCAL_METHODS: readonly LocalMethod[] = ['naive', 'moving_average', 'ses', 'holt', 'croston', 'tsb'];

function flat(v: number, h: number): number[] {
  return new Array<number>(h).fill(Math.max(0, v));
}

/** Naive: every future week equals the last observed week. */
export function naiveForecast(y: ArrayLike<number>, h: number): number[] {
  return flat(y.length ? y[y.length - 1]! : 0, h);
}

/** Mean of the last `window` weeks (all of them when the series is shorter). */
export function movingAverageForecast(y: ArrayLike<number>, h: number, window: number): number[] {
  const k = Math.min(window, y.length);
  let s = 0;
  for (let i = y.length - k; i < y.length; i++) s += y[i]!;
  return flat(k ? s / k : 0, h);
}

// ---- simple exponential smoothing -------------------------------------------------------------

/** SES state after the whole series: level l_0 = y_0, l_t = α·y_t + (1−α)·l_{t−1}; sse = Σ_{t≥1} (y_t − l_{t−1})². */
export function sesLevel(y: ArrayLike<number>, alpha: number): { level: number; sse: number } {
  if (!y.length) return { level: 0, sse: 0 };
  let l = y[0]!;
  let sse = 0;
  for (let t = 1; t < y.length; t++) {
    const e = y[t]! - l;
    sse += e * e;
    l += alpha * e;
  }
  return { level: l, sse };
}

export function sesForecast(y: ArrayLike<number>, h: number, alpha: number): number[] {
  return flat(sesLevel(y, alpha).level, h);
}

export const SES_ALPHAS: readonly number[] = Array.from({ length: 100 }, (_, i) => (i + 1) / 100);

export function fitSes(y: ArrayLike<number>): { alpha: number; level: number } {
  let best = { alpha: SES_ALPHAS[0]!, level: 0, sse: Infinity };
  for (const a of SES_ALPHAS) {
    const r = sesLevel(y, a);
    if (r.sse < best.sse) best = { alpha: a, level: r.level, sse: r.sse };
  }
  return { alpha: best.alpha, level: best.level };
}

// ---- Holt's linear trend (damped) -------------------------------------------------------------

export interface HoltParams { alpha: number; beta: number; phi: number }

/**
 * Holt's linear trend with damping φ (φ = 1: the classic method). l_0 = y_0, b_0 = 0;
 * one-step forecast ŷ_t = l_{t−1} + φ·b_{t−1}; l_t = α·y_t + (1−α)·ŷ_t;
 * b_t = β·(l_t − l_{t−1}) + (1−β)·φ·b_{t−1}; h steps ahead: l_n + (φ + … + φ^h)·b_n, floored at 0.
 */
export function holtState(y: ArrayLike<number>, p: HoltParams): { level: number; trend: number; sse: number } {
  if (!y.length) return { level: 0, trend: 0, sse: 0 };
  let l = y[0]!;
  let b = 0;
  let sse = 0;
  for (let t = 1; t < y.length; t++) {
    const f = l + p.phi * b;
    const e = y[t]! - f;
    sse += e * e;
    const nl = f + p.alpha * e;
    b = p.beta * (nl - l) + (1 - p.beta) * p.phi * b;
    l = nl;
  }
  return { level: l, trend: b, sse };
}

export function holtForecast(y: ArrayLike<number>, h: number, p: HoltParams): number[] {
  const s = holtState(y, p);
  return holtPath(s.level, s.trend, p.phi, h);
}

function holtPath(level: number, trend: number, phi: number, h: number): number[] {
  const out: number[] = [];
  let damp = 0;
  let ph = 1;
  for (let i = 1; i <= h; i++) {
    ph *= phi;
    damp += ph;
    out.push(Math.max(0, level + damp * trend));
  }
  return out;
}

const HOLT_ALPHAS = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7];
const HOLT_BETAS = [0.01, 0.05, 0.1, 0.2];
const HOLT_PHIS = [0.8, 0.9, 0.98];

export function fitHolt(y: ArrayLike<number>): HoltParams & { level: number; trend: number } {
  let best = { alpha: HOLT_ALPHAS[0]!, beta: HOLT_BETAS[0]!, phi: HOLT_PHIS[0]!, level: 0, trend: 0, sse: Infinity };
  for (const alpha of HOLT_ALPHAS) for (const beta of HOLT_BETAS) for (const phi of HOLT_PHIS) {
    const s = holtState(y, { alpha, beta, phi });
    if (s.sse < best.sse) best = { alpha, beta, phi, level: s.level, trend: s.trend, sse: s.sse };
  }
  return { alpha: best.alpha, beta: best.beta, phi: best.phi, level: best.level, trend: best.trend };
}

export function holtFittedForecast(y: ArrayLike<number>, h: number): number[] {
  const f = fitHolt(y);
  return holtPath(f.level, f.trend, f.phi, h);
}

// ---- Croston and TSB (intermittent demand) ----------------------------------------------------

/**
 * Croston's method: z = demand size, p = interval between demands, both smoothed with α only in
 * weeks with demand. Initialised on the first demand: z_0 = its size, p_0 = its 1-based position.
 * At a later demand y_t > 0 after q weeks: z ← z + α(y_t − z), p ← p + α(q − p). Forecast z / p
 * (×(1 − α/2) with `sba`, the Syntetos–Boylan approximation). sse: one-step errors after the first demand.
 */
export function crostonState(y: ArrayLike<number>, alpha: number, sba = false): { forecast: number; sse: number } {
  let z = 0;
  let p = 0;
  let q = 0;
  let sse = 0;
  let started = false;
  const k = sba ? 1 - alpha / 2 : 1;
  for (let t = 0; t < y.length; t++) {
    const v = y[t]!;
    q++;
    if (started) {
      const e = v - (k * z) / p;
      sse += e * e;
    }
    if (v > 0) {
      if (!started) { z = v; p = q; started = true; }
      else { z += alpha * (v - z); p += alpha * (q - p); }
      q = 0;
    }
  }
  return { forecast: started ? (k * z) / p : 0, sse };
}

export function crostonForecast(y: ArrayLike<number>, h: number, alpha: number, sba = false): number[] {
  return flat(crostonState(y, alpha, sba).forecast, h);
}

const CROSTON_ALPHAS = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4];

export function fitCroston(y: ArrayLike<number>): { alpha: number; forecast: number } {
  let best = { alpha: CROSTON_ALPHAS[0]!, forecast: 0, sse: Infinity };
  for (const a of CROSTON_ALPHAS) {
    const s = crostonState(y, a);
    if (s.sse < best.sse) best = { alpha: a, forecast: s.forecast, sse: s.sse };
  }
  return { alpha: best.alpha, forecast: best.forecast };
}

/**
 * TSB (Teunter–Syntetos–Babai): the demand probability p is updated every week, the size z only
 * in weeks with demand — so an item that stops selling decays towards 0 (Croston's does not).
 * p_0 = share of weeks with demand, z_0 = mean non-zero demand (0 if none). Each week: forecast
 * p·z; then p ← p + β(1[y_t>0] − p), and if y_t > 0: z ← z + α(y_t − z). sse over all weeks.
 */
export function tsbState(y: ArrayLike<number>, alpha: number, beta: number): { forecast: number; sse: number } {
  let nz = 0;
  let sum = 0;
  for (let t = 0; t < y.length; t++) if (y[t]! > 0) { nz++; sum += y[t]!; }
  if (!y.length || !nz) return { forecast: 0, sse: 0 };
  let p = nz / y.length;
  let z = sum / nz;
  let sse = 0;
  for (let t = 0; t < y.length; t++) {
    const v = y[t]!;
    const e = v - p * z;
    sse += e * e;
    if (v > 0) { p += beta * (1 - p); z += alpha * (v - z); }
    else p -= beta * p;
  }
  return { forecast: p * z, sse };
}

export function tsbForecast(y: ArrayLike<number>, h: number, alpha: number, beta: number): number[] {
  return flat(tsbState(y, alpha, beta).forecast, h);
}

const TSB_ALPHAS = [0.05, 0.1, 0.2, 0.3, 0.5];
const TSB_BETAS = [0.02, 0.05, 0.1, 0.2, 0.3];

export function fitTsb(y: ArrayLike<number>): { alpha: number; beta: number; forecast: number } {
  let best = { alpha: TSB_ALPHAS[0]!, beta: TSB_BETAS[0]!, forecast: 0, sse: Infinity };
  for (const a of TSB_ALPHAS) for (const b of TSB_BETAS) {
    const s = tsbState(y, a, b);
    if (s.sse < best.sse) best = { alpha: a, beta: b, forecast: s.forecast, sse: s.sse };
  }
  return { alpha: best.alpha, beta: best.beta, forecast: best.forecast };
}

// ---- one entry point --------------------------------------------------------------------------

export interface LocalOptions {
  /** moving_average window (weeks). */
  maWindow: number;
}

/** Fit `method` on `y` (parameters by in-sample error) and forecast `h` weeks. */
export function localForecast(method: LocalMethod, y: ArrayLike<number>, h: number, opts: LocalOptions): number[] {
  switch (method) {
    case 'naive': return naiveForecast(y, h);
    case 'moving_average': return movingAverageForecast(y, h, opts.maWindow);
    case 'ses': return flat(fitSes(y).level, h);
    case 'holt': return holtFittedForecast(y, h);
    case 'croston': return flat(fitCroston(y).forecast, h);
    case 'tsb': return flat(fitTsb(y).forecast, h);
  }
}
