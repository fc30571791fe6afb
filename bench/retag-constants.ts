// Shared by the re-tag benchmark and its simulator process.
export const RETAG_BENCH = {
  shop: 'retag-bench.myshopify.com',
  token: 'shpat_retag_bench_token',
  customers: 1000,
  /** Shopify Plus restore rate (points per second). */
  restoreRate: 1000,
  /** The simulator's default bucket (Shopify reports maximumAvailable per shop; the client reads it). */
  bucketSize: 2000,
} as const;
