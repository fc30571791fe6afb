// Deterministic traffic split for a rollout: every unit (shopper) lands in one of 10,000 buckets
// with GrowthBook's version-2 hashing, and bucket ranges map to variants:
//
//   [0, holdout)                      → holdout     (popularity list, no personal model)
//   [holdout, holdout + challenger)   → challenger  (the candidate model version)
//   [holdout + challenger, 10,000)    → champion    (the serving model version)
//
// GrowthBook v2: hash(seed, value) = fnv1a32(String(fnv1a32(seed + value))) % 10000 / 10000,
// FNV-1a 32-bit over UTF-16 code units, exactly as in GrowthBook's SDKs; checked against the
// vectors GrowthBook publishes (test/fixtures/growthbook/). Seed = the experiment's salt, value =
// the unit. Pure: no clock, no randomness, no I/O — the same (salt, unit) always gives the same
// bucket, on any server, so a shopper sees one variant for the life of an experiment.

export type Variant = 'holdout' | 'challenger' | 'champion';
export const VARIANTS: readonly Variant[] = ['holdout', 'challenger', 'champion'];

export const BUCKETS = 10_000;

/** Shares in percent of units. Defaults: 5% holdout, 5% challenger, the rest champion. */
export interface Split {
  holdoutPct: number;
  challengerPct: number;
}
export const DEFAULT_SPLIT: Readonly<Split> = Object.freeze({ holdoutPct: 5, challengerPct: 5 });

/** FNV-1a, 32-bit, over UTF-16 code units (what GrowthBook's JS SDK hashes). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193); // FNV prime 16777619 = 2^24 + 2^8 + 0x93
  }
  return h >>> 0;
}

/**
 * GrowthBook's `hash(seed, value, version)`: a float in [0, 1). Version 2 is the unbiased hash we
 * bucket with; version 1 (the SDK's original, biased one, 1,000 steps) is here only so the whole
 * published vector table can be checked. Unknown versions give null, as in GrowthBook.
 */
export function gbHash(seed: string, value: string, version: number): number | null {
  if (version === 2) return (fnv1a32(String(fnv1a32(seed + value))) % BUCKETS) / BUCKETS;
  if (version === 1) return (fnv1a32(value + seed) % 1000) / 1000;
  return null;
}

/** The unit's bucket in 0..9,999 (= GrowthBook v2 hash × 10,000, an exact integer). */
export function bucketOf(salt: string, unit: string): number {
  return fnv1a32(String(fnv1a32(salt + unit))) % BUCKETS;
}

/**
 * The rollout unit: the logged-in customer id when there is one, else the anonymous id the
 * storefront block keeps (the same rule the events endpoint uses for `storefront_events.unit`).
 * Null when neither is known — such a request is served the champion and never logged.
 */
export function rolloutUnit(customerId: string | null | undefined, anonymousId: string | null | undefined): string | null {
  const c = customerId?.trim();
  if (c) return c;
  const a = anonymousId?.trim();
  return a ? a : null;
}

/** Throws a RangeError unless both shares are in [0, 100] and together at most 100. */
export function validateSplit(split: Split): void {
  const { holdoutPct: h, challengerPct: c } = split;
  if (!Number.isFinite(h) || !Number.isFinite(c) || h < 0 || c < 0 || h + c > 100) {
    throw new RangeError(`split must have holdout, challenger ≥ 0 and holdout + challenger ≤ 100 (got ${h}%, ${c}%)`);
  }
  // Bucket boundaries are whole basis points (1 bucket = 0.01% of units).
  if (Math.abs(h * 100 - Math.round(h * 100)) > 1e-9 || Math.abs(c * 100 - Math.round(c * 100)) > 1e-9) {
    throw new RangeError(`split shares must be multiples of 0.01% (got ${h}%, ${c}%)`);
  }
}

/** Half-open bucket ranges [start, end) per variant. */
export function variantRanges(split: Split = DEFAULT_SPLIT): Record<Variant, [number, number]> {
  validateSplit(split);
  const h = Math.round(split.holdoutPct * 100);
  const c = Math.round(split.challengerPct * 100);
  return { holdout: [0, h], challenger: [h, h + c], champion: [h + c, BUCKETS] };
}

/** Configured share of units per variant, as fractions summing to 1. */
export function variantShares(split: Split = DEFAULT_SPLIT): Record<Variant, number> {
  const r = variantRanges(split);
  return {
    holdout: (r.holdout[1] - r.holdout[0]) / BUCKETS,
    challenger: (r.challenger[1] - r.challenger[0]) / BUCKETS,
    champion: (r.champion[1] - r.champion[0]) / BUCKETS,
  };
}

export function variantForBucket(bucket: number, split: Split = DEFAULT_SPLIT): Variant {
  if (!Number.isInteger(bucket) || bucket < 0 || bucket >= BUCKETS) throw new RangeError(`bucket must be an integer in 0..${BUCKETS - 1}, got ${bucket}`);
  const h = Math.round(split.holdoutPct * 100);
  const c = Math.round(split.challengerPct * 100);
  return bucket < h ? 'holdout' : bucket < h + c ? 'challenger' : 'champion';
}

export interface Assignment {
  bucket: number;
  variant: Variant;
}

/** The variant of one unit under a salt and split (what serving calls per request). */
export function variantFor(salt: string, unit: string, split: Split = DEFAULT_SPLIT): Variant {
  return variantForBucket(bucketOf(salt, unit), split);
}

/** Bucket and variant of one unit under a salt and split. */
export function assign(salt: string, unit: string, split: Split = DEFAULT_SPLIT): Assignment {
  const bucket = bucketOf(salt, unit);
  return { bucket, variant: variantForBucket(bucket, split) };
}
