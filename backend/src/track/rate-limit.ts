// Token buckets in memory, one per key (shop + unit): `burst` requests at once, refilled at
// `perSecond`. Keys are kept least recently used first and the oldest are dropped beyond
// `maxKeys` (a dropped key starts again with a full bucket, which only ever errs towards
// accepting). Per process: behind several instances the limit is per instance.
export interface RateLimitOptions {
  burst?: number;
  perSecond?: number;
  maxKeys?: number;
  now?: () => number;
}

export class TokenBuckets {
  private readonly burst: number;
  private readonly perMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(o: RateLimitOptions = {}) {
    this.burst = o.burst ?? 20;
    this.perMs = (o.perSecond ?? 1) / 1000;
    this.maxKeys = o.maxKeys ?? 100_000;
    this.now = o.now ?? Date.now;
  }

  /** Takes `cost` tokens for `key`; false (and nothing taken) when there are not enough. */
  take(key: string, cost = 1): boolean {
    const now = this.now();
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key);
      b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * this.perMs);
      b.at = now;
    } else {
      b = { tokens: this.burst, at: now };
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(key, b);
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  }

  /** Whether `cost` tokens are there for `key` now; takes nothing (a failure budget checked before the work). */
  has(key: string, cost = 1): boolean {
    const b = this.buckets.get(key);
    return b === undefined || Math.min(this.burst, b.tokens + (this.now() - b.at) * this.perMs) >= cost;
  }

  /** Seconds until `key` has `cost` tokens again (0 when it has them now): a Retry-After. */
  secondsUntil(key: string, cost = 1): number {
    const b = this.buckets.get(key);
    if (b === undefined) return 0;
    const tokens = Math.min(this.burst, b.tokens + (this.now() - b.at) * this.perMs);
    return tokens >= cost ? 0 : Math.ceil((cost - tokens) / this.perMs / 1000);
  }

  get size(): number {
    return this.buckets.size;
  }
}
