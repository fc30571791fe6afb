// A small seeded PRNG (mulberry32 over a 32-bit hash of the seed): the ranker's own batching and
// shuffling use it, never Math.random, so training is a pure function of data, params and seed.

export interface Prng {
  next(): number; // [0, 1)
  int(n: number): number; // [0, n)
  shuffle<T>(a: T[]): T[];
  shuffleInPlace(a: Int32Array): Int32Array;
}

export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function createPrng(seed: number | string): Prng {
  let s = hash32(String(seed));
  const next = (): number => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    shuffle<T>(a: T[]): T[] {
      for (let i = a.length - 1; i > 0; i--) { const j = int(i + 1); const t = a[i]!; a[i] = a[j]!; a[j] = t; }
      return a;
    },
    shuffleInPlace(a: Int32Array): Int32Array {
      for (let i = a.length - 1; i > 0; i--) { const j = int(i + 1); const t = a[i]!; a[i] = a[j]!; a[j] = t; }
      return a;
    },
  };
}
