// A seeded pseudo-random generator for model training (k-means++ seeding, weight init, mini-batch
// shuffles): sfc32 seeded through a string hash. No Math.random anywhere in training, so the same
// seed gives the same artifact bytes. `fork(label)` derives an independent stream from the seed
// and a label, so one step drawing more numbers does not reshuffle another.

export interface Prng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  below(n: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Fisher–Yates shuffle, in place (arrays and typed arrays). */
  shuffle<A extends { length: number; [i: number]: unknown }>(items: A): A;
  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array;
  /** n distinct indices of 0..total-1 (all of them, permuted, when n ≥ total). */
  sampleIndices(total: number, n: number): Int32Array;
  /** A 31-bit integer, e.g. to seed a TensorFlow.js initializer. */
  int31(): number;
  fork(label: string): Prng;
}

function hash(text: string, salt: number): number {
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

export function createPrng(seed: number | string): Prng {
  const key = String(seed);
  let a = hash(key, 1), b = hash(key, 2), c = hash(key, 3), d = hash(key, 4);
  const raw = (): number => {
    a |= 0; b |= 0; c |= 0; d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) raw();
  let spare: number | null = null;
  const rng: Prng = {
    next: raw,
    below: (n) => Math.floor(raw() * n),
    normal() {
      if (spare !== null) { const s = spare; spare = null; return s; }
      let u = 0;
      while (u <= 1e-300) u = raw();
      const v = raw();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    shuffle<A extends { length: number; [i: number]: unknown }>(items: A): A {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(raw() * (i + 1));
        const t = items[i]!; items[i] = items[j]!; items[j] = t;
      }
      return items;
    },
    permutation(n) {
      const p = new Int32Array(n);
      for (let i = 0; i < n; i++) p[i] = i;
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(raw() * (i + 1));
        const t = p[i]!; p[i] = p[j]!; p[j] = t;
      }
      return p;
    },
    sampleIndices(total, n) {
      const p = rng.permutation(total);
      return n >= total ? p : p.slice(0, n);
    },
    int31: () => Math.floor(raw() * 2147483647),
    fork: (label) => createPrng(`${key}\u0000${label}`),
  };
  return rng;
}
