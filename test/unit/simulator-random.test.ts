import { describe, expect, it } from 'vitest';
import { createRng, createWeightedSampler, logGamma } from '../../simulator/random.ts';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs: number[]) => {
  const m = mean(xs);
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
};
const draws = (n: number, f: () => number) => Array.from({ length: n }, f);

describe('simulator/random', () => {
  it('is a pure function of the seed', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = draws(100, () => a.next());
    expect(draws(100, () => b.next())).toEqual(sa);
    expect(draws(100, () => c.next())).not.toEqual(sa);
    expect(createRng('42').next()).toBe(createRng(42).next()); // seeds are compared as strings
  });

  it('forks depend on the seed and label only, not on how much the parent drew', () => {
    const fresh = createRng('s').fork('x');
    const used = createRng('s');
    for (let i = 0; i < 1000; i++) used.next();
    expect(used.fork('x').next()).toBe(fresh.next());
    expect(createRng('s').fork('y').next()).not.toBe(createRng('s').fork('x').next());
  });

  it('draws in range', () => {
    const r = createRng(1);
    for (let i = 0; i < 5000; i++) {
      const u = r.next();
      expect(u >= 0 && u < 1).toBe(true);
      const k = r.int(3, 7);
      expect(Number.isInteger(k) && k >= 3 && k <= 7).toBe(true);
    }
    const seen = new Set(draws(2000, () => r.int(0, 4)));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('samples distributions with the right moments', () => {
    const r = createRng('moments');
    const n = 20_000;
    const normal = draws(n, () => r.normal(5, 2));
    expect(mean(normal)).toBeCloseTo(5, 1);
    expect(Math.sqrt(variance(normal))).toBeCloseTo(2, 1);
    const expo = draws(n, () => r.exponential(4));
    expect(mean(expo)).toBeCloseTo(0.25, 2);
    for (const [shape, scale] of [[0.5, 2], [3, 1.5]] as const) {
      const g = draws(n, () => r.gamma(shape, scale));
      expect(mean(g) / (shape * scale)).toBeGreaterThan(0.96);
      expect(mean(g) / (shape * scale)).toBeLessThan(1.04);
      expect(variance(g) / (shape * scale * scale)).toBeGreaterThan(0.9);
      expect(variance(g) / (shape * scale * scale)).toBeLessThan(1.1);
    }
    for (const lambda of [0.7, 12, 45, 400]) {
      const p = draws(n, () => r.poisson(lambda));
      expect(p.every((k) => Number.isInteger(k) && k >= 0)).toBe(true);
      expect(mean(p) / lambda).toBeGreaterThan(0.97);
      expect(mean(p) / lambda).toBeLessThan(1.03);
      expect(variance(p) / lambda).toBeGreaterThan(0.92);
      expect(variance(p) / lambda).toBeLessThan(1.08);
    }
    const ln = draws(n, () => r.logNormal(10, 0.5)).sort((a, b) => a - b);
    expect(ln[n / 2]! / 10).toBeGreaterThan(0.97);
    expect(ln[n / 2]! / 10).toBeLessThan(1.03);
  });

  it('logGamma matches factorials', () => {
    expect(Math.exp(logGamma(6))).toBeCloseTo(120, 6);
    expect(logGamma(101)).toBeCloseTo(363.73937555556347, 6);
    expect(Math.exp(logGamma(0.5))).toBeCloseTo(Math.sqrt(Math.PI), 8);
  });

  it('weighted picks follow the weights (linear and binary-search samplers agree)', () => {
    const r = createRng('weights');
    const weights = [1, 0, 3, 6];
    const sampler = createWeightedSampler(weights);
    const a = [0, 0, 0, 0];
    const b = [0, 0, 0, 0];
    for (let i = 0; i < 20_000; i++) {
      a[r.weightedIndex(weights)]!++;
      b[sampler.draw(r)]!++;
    }
    for (const counts of [a, b]) {
      expect(counts[1]).toBe(0);
      expect(counts[0]! / 20_000).toBeCloseTo(0.1, 1);
      expect(counts[3]! / 20_000).toBeCloseTo(0.6, 1);
    }
    expect(() => createWeightedSampler([0, 0])).toThrow(RangeError);
  });

  it('shuffles, samples without replacement and makes v4-shaped UUIDs', () => {
    const r = createRng(3);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = r.shuffle(items.slice());
    expect(shuffled.slice().sort((x, y) => x - y)).toEqual(items);
    expect(shuffled).not.toEqual(items);
    const picked = r.sample(items, 10);
    expect(new Set(picked).size).toBe(10);
    const id = r.uuid();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(createRng(3).uuid()).toBe(createRng(3).uuid());
  });
});
