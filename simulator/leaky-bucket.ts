// Shopify's GraphQL Admin rate limit: each shop has a bucket of `size` points that refills at
// `restoreRate` points per second. A query is admitted only if its requested cost fits in what is
// available; once executed, the bucket is charged the actual cost (Shopify refunds the
// difference between requested and actual).

export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export interface BucketOptions {
  size: number;
  restoreRate: number;
  now?: () => number;
}

export class LeakyBucket {
  readonly size: number;
  private rate: number;
  private level: number;
  private at: number;
  private readonly now: () => number;

  constructor(opts: BucketOptions) {
    if (!(opts.size > 0) || !(opts.restoreRate > 0)) throw new Error('bucket size and restore rate must be positive');
    this.size = opts.size;
    this.rate = opts.restoreRate;
    this.now = opts.now ?? Date.now;
    this.level = opts.size;
    this.at = this.now();
  }

  get restoreRate(): number {
    return this.rate;
  }

  /** Points available now (refill is computed lazily from elapsed time). */
  available(): number {
    const t = this.now();
    if (t > this.at) {
      this.level = Math.min(this.size, this.level + ((t - this.at) / 1000) * this.rate);
      this.at = t;
    }
    return this.level;
  }

  /** Admits and charges `cost` if it fits; otherwise charges nothing. */
  tryTake(cost: number): boolean {
    if (cost > this.available()) return false;
    this.level -= cost;
    return true;
  }

  /** Gives back points charged up front but not used (requested − actual cost). */
  refund(points: number): void {
    this.available();
    this.level = Math.min(this.size, this.level + Math.max(0, points));
  }

  /** Milliseconds until `cost` points are available (0 if they are; Infinity if never). */
  msUntil(cost: number): number {
    if (cost > this.size) return Infinity;
    const missing = cost - this.available();
    return missing <= 0 ? 0 : (missing / this.rate) * 1000;
  }

  setRestoreRate(rate: number): void {
    if (!(rate > 0)) throw new Error('restore rate must be positive');
    this.available(); // settle the refill at the old rate first
    this.rate = rate;
  }

  status(): ThrottleStatus {
    return { maximumAvailable: this.size, currentlyAvailable: Math.floor(this.available()), restoreRate: this.rate };
  }
}
