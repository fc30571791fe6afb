// A small seeded PRNG (sfc32, seeded through a string hash) and the samplers the simulator needs.
// Everything the simulator generates is a pure function of the seed: no Math.random, no clock.
// `fork(label)` derives an independent stream from the *seed*, not from the current state, so a
// subsystem (say, product generation) produces the same output however many numbers another
// subsystem drew before it — changing one part of the generator does not reshuffle the rest.

export type Seed = number | string;

export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  uniform(min: number, max: number): number;
  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  weightedIndex(weights: ArrayLike<number>): number;
  weightedPick<T>(items: readonly T[], weights: ArrayLike<number>): T;
  normal(mean?: number, sd?: number): number;
  /** Log-normal parametrised by its median (e^mu) and the sd of the log. */
  logNormal(median: number, sigma: number): number;
  exponential(rate: number): number;
  gamma(shape: number, scale?: number): number;
  poisson(lambda: number): number;
  /** Fisher-Yates, in place; returns the same array. */
  shuffle<T>(items: T[]): T[];
  /** k distinct items, without replacement. */
  sample<T>(items: readonly T[], k: number): T[];
  /** A random (version 4 layout) UUID drawn from this stream. */
  uuid(): string;
  /** An independent stream derived from this stream's seed and `label`. */
  fork(label: string): Rng;
}

/** 32-bit string hash (cyrb-style mixing): turns any seed + label into sfc32 state. */
export function hashSeed(text: string, salt = 0): number {
  let h1 = 0xdeadbeef ^ salt;
  let h2 = 0x41c6ce57 ^ salt;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 ^ h2) >>> 0;
}

/** sfc32 (Chris Doty-Humphrey's small fast counter): 128-bit state, passes PractRand. */
function sfc32(a: number, b: number, c: number, d: number): () => number {
  return () => {
    a |= 0; b |= 0; c |= 0; d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

export function createRng(seed: Seed): Rng {
  const key = String(seed);
  const next = sfc32(hashSeed(key, 1), hashSeed(key, 2), hashSeed(key, 3), hashSeed(key, 4));
  for (let i = 0; i < 12; i++) next(); // let the counter mix in before first use
  let spareNormal: number | null = null;

  const rng: Rng = {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick(items) {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
    weightedIndex(weights) {
      let total = 0;
      for (let i = 0; i < weights.length; i++) total += weights[i] as number;
      if (!(total > 0)) throw new RangeError('weights must have a positive sum');
      let r = next() * total;
      for (let i = 0; i < weights.length; i++) {
        r -= weights[i] as number;
        if (r < 0) return i;
      }
      return weights.length - 1; // float rounding at the very end
    },
    weightedPick: (items, weights) => items[rng.weightedIndex(weights)] as (typeof items)[number],
    normal(mean = 0, sd = 1) {
      // Box-Muller; keeps the second variate of each pair.
      if (spareNormal !== null) {
        const z = spareNormal;
        spareNormal = null;
        return mean + sd * z;
      }
      const u = 1 - next(); // (0, 1]
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spareNormal = r * Math.sin(2 * Math.PI * v);
      return mean + sd * r * Math.cos(2 * Math.PI * v);
    },
    logNormal: (median, sigma) => median * Math.exp(sigma * rng.normal()),
    exponential: (rate) => -Math.log(1 - next()) / rate,
    gamma(shape, scale = 1) {
      // Marsaglia-Tsang; shape < 1 boosted with U^(1/shape).
      if (shape < 1) return rng.gamma(shape + 1, scale) * Math.pow(1 - next(), 1 / shape);
      const d = shape - 1 / 3;
      const c = 1 / Math.sqrt(9 * d);
      for (;;) {
        let x: number;
        let v: number;
        do {
          x = rng.normal();
          v = 1 + c * x;
        } while (v <= 0);
        v = v * v * v;
        const u = 1 - next();
        if (u < 1 - 0.0331 * x * x * x * x) return d * v * scale;
        if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
      }
    },
    poisson(lambda) {
      if (!(lambda > 0)) return 0;
      if (lambda < 30) {
        // Knuth: multiply uniforms until below e^-lambda.
        const limit = Math.exp(-lambda);
        let k = 0;
        let p = next();
        while (p > limit) {
          k++;
          p *= next();
        }
        return k;
      }
      return poissonPtrs(next, lambda);
    },
    shuffle(items) {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        const tmp = items[i] as (typeof items)[number];
        items[i] = items[j] as (typeof items)[number];
        items[j] = tmp;
      }
      return items;
    },
    sample(items, k) {
      const copy = items.slice();
      const n = Math.min(k, copy.length);
      for (let i = 0; i < n; i++) {
        const j = i + Math.floor(next() * (copy.length - i));
        const tmp = copy[i] as (typeof copy)[number];
        copy[i] = copy[j] as (typeof copy)[number];
        copy[j] = tmp;
      }
      return copy.slice(0, n);
    },
    uuid() {
      const hex: string[] = [];
      for (let i = 0; i < 4; i++) hex.push(Math.floor(next() * 4294967296).toString(16).padStart(8, '0'));
      const h = hex.join('');
      const variant = ((parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
    },
    fork: (label) => createRng(`${key}/${label}`),
  };
  return rng;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7): used by the large-lambda Poisson sampler. */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Hörmann's PTRS (transformed rejection with squeeze): exact Poisson for lambda >= 10. */
function poissonPtrs(next: () => number, lambda: number): number {
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = next() - 0.5;
    const v = next();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logGamma(k + 1)) return k;
  }
}

/**
 * Repeated draws from one fixed discrete distribution: cumulative sums + binary search, so a
 * draw is O(log n) instead of the O(n) scan of `weightedIndex`.
 */
export interface WeightedSampler {
  readonly size: number;
  draw(rng: Rng): number;
}

export function createWeightedSampler(weights: ArrayLike<number>): WeightedSampler {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] as number;
    if (w < 0 || !Number.isFinite(w)) throw new RangeError(`weight ${i} must be finite and >= 0`);
    total += w;
    cumulative[i] = total;
  }
  if (!(total > 0)) throw new RangeError('weights must have a positive sum');
  return {
    size: weights.length,
    draw(rng) {
      const r = rng.next() * total;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((cumulative[mid] as number) > r) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    },
  };
}
