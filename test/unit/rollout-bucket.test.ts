import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  assign, bucketOf, BUCKETS, DEFAULT_SPLIT, fnv1a32, gbHash, rolloutUnit, variantFor, variantForBucket, variantRanges, variantShares, VARIANTS, type Variant,
} from '../../backend/src/rollout/bucket.ts';
import { createPrng } from '../../backend/src/ml/prng.ts';

// GrowthBook's published cross-SDK vectors (packages/sdk-js/test/cases.json, `hash` section),
// copied verbatim with their source commit and licence: test/fixtures/growthbook/.
const fixture = JSON.parse(readFileSync(new URL('../fixtures/growthbook/hash-cases.json', import.meta.url), 'utf8')) as {
  commit: string; hash: [string, string, number, number | null][];
};

describe('GrowthBook hashing', () => {
  it('fixture is the published table (7 v2 rows, 7 v1 rows, 1 unknown version)', () => {
    expect(fixture.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(fixture.hash.filter((r) => r[2] === 2)).toHaveLength(7);
    expect(fixture.hash.filter((r) => r[2] === 1)).toHaveLength(7);
    expect(fixture.hash.filter((r) => r[3] === null)).toHaveLength(1);
  });

  it.each(fixture.hash.map((r) => [JSON.stringify(r), ...r] as const))('hash %s', (_label, seed, value, version, expected) => {
    expect(gbHash(seed, value, version)).toBe(expected);
  });

  it('bucketOf is the v2 hash × 10,000, an integer in 0..9,999', () => {
    for (const [seed, value, version, expected] of fixture.hash) {
      if (version !== 2) continue;
      expect(bucketOf(seed, value)).toBe(Math.round(expected! * BUCKETS));
    }
    expect(bucketOf('seed', 'a')).toBe(505);
  });

  it('FNV-1a 32-bit known values', () => {
    // Offset basis for the empty string; "a" from the FNV reference (0xe40c292c).
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });
});

describe('variant ranges', () => {
  it('defaults: 5% holdout, 5% challenger, 90% champion', () => {
    expect(variantRanges()).toEqual({ holdout: [0, 500], challenger: [500, 1000], champion: [1000, 10_000] });
    expect(variantShares(DEFAULT_SPLIT)).toEqual({ holdout: 0.05, challenger: 0.05, champion: 0.9 });
    expect(variantForBucket(0)).toBe('holdout');
    expect(variantForBucket(499)).toBe('holdout');
    expect(variantForBucket(500)).toBe('challenger');
    expect(variantForBucket(999)).toBe('challenger');
    expect(variantForBucket(1000)).toBe('champion');
    expect(variantForBucket(9999)).toBe('champion');
  });

  it('rejects impossible splits and buckets', () => {
    expect(() => variantRanges({ holdoutPct: 60, challengerPct: 50 })).toThrow(RangeError);
    expect(() => variantRanges({ holdoutPct: -1, challengerPct: 5 })).toThrow(RangeError);
    expect(() => variantRanges({ holdoutPct: 5.001, challengerPct: 5 })).toThrow(RangeError);
    expect(variantRanges({ holdoutPct: 2.5, challengerPct: 0.25 })).toEqual({ holdout: [0, 250], challenger: [250, 275], champion: [275, 10_000] });
    expect(() => variantForBucket(10_000)).toThrow(RangeError);
  });

  it('is deterministic: same salt and unit, same variant; another salt reshuffles', () => {
    expect(assign('shop-a:1', 'u-42')).toEqual(assign('shop-a:1', 'u-42'));
    expect(variantFor('shop-a:1', 'u-42')).toBe(assign('shop-a:1', 'u-42').variant);
    let moved = 0;
    for (let i = 0; i < 1000; i++) if (bucketOf('salt-1', `u${i}`) !== bucketOf('salt-2', `u${i}`)) moved++;
    expect(moved).toBeGreaterThan(990);
  });

  it('unit = customer id when logged in, else the anonymous id', () => {
    expect(rolloutUnit('123', 'anon-1')).toBe('123');
    expect(rolloutUnit(null, 'anon-1')).toBe('anon-1');
    expect(rolloutUnit(undefined, '  ')).toBeNull();
    expect(rolloutUnit('', '')).toBeNull();
  });

  const split100k = (units: string[], salt: string, split = DEFAULT_SPLIT) => {
    const n: Record<Variant, number> = { holdout: 0, challenger: 0, champion: 0 };
    for (const u of units) n[variantFor(salt, u, split)]++;
    return n;
  };

  it.each([
    ['sequential customer ids, default split', Array.from({ length: 100_000 }, (_, i) => String(6_100_000_000 + i)), 'recommend:3f9a', DEFAULT_SPLIT],
    ['random anonymous ids, default split', (() => { const r = createPrng('anon'); return Array.from({ length: 100_000 }, () => r.int31().toString(36) + '-' + r.int31().toString(36)); })(), 'recommend:77c1', DEFAULT_SPLIT],
    ['sequential ids, 10% / 20%', Array.from({ length: 100_000 }, (_, i) => `u${i}`), 'x', { holdoutPct: 10, challengerPct: 20 }],
  ] as const)('a 100k-unit split lands within ±0.3 points of the shares (%s)', (_label, units, salt, split) => {
    const n = split100k([...units], salt, split);
    const shares = variantShares(split);
    for (const v of VARIANTS) expect(Math.abs((100 * n[v]) / units.length - 100 * shares[v])).toBeLessThanOrEqual(0.3);
  });
});
