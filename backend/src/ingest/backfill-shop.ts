// Backfill one installed shop with its stored offline token: used by `shopml backfill`, the
// install flow and the demo. The catalog comes first (products, variants, images, stock), then
// the order history: two bulk operations, one after the other (one at a time per shop and app).
import type { Db } from '../store/db.ts';
import type { Keys } from '../keys.ts';
import { createAdminClient } from '../shopify/admin-client.ts';
import { loadOfflineToken } from '../shopify/auth.ts';
import {
  backfillOrders, backfillProducts,
  type BackfillCounts, type BackfillOptions, type ProductBackfillCounts, type ProductBackfillOptions,
} from './backfill.ts';

export class NotInstalledError extends Error {
  override name = 'NotInstalledError';
}

export type BackfillWhat = 'products' | 'orders' | 'all';
export const BACKFILL_WHAT: readonly BackfillWhat[] = ['products', 'orders', 'all'];

export interface ShopBackfillCounts {
  /** null when not asked for. */
  products: ProductBackfillCounts | null;
  orders: BackfillCounts | null;
}

export type ShopBackfillProgress = Parameters<NonNullable<BackfillOptions['onProgress']>>[0] | Parameters<NonNullable<ProductBackfillOptions['onProgress']>>[0];

export async function backfillShop(opts: {
  db: Db;
  keys: Keys;
  shop: string;
  adminBaseUrl: string;
  /** Default 'all': products, then orders. */
  what?: BackfillWhat;
  fetch?: typeof globalThis.fetch;
  pollIntervalMs?: number;
  batchSize?: number;
  onProgress?: (p: ShopBackfillProgress) => void;
}): Promise<ShopBackfillCounts> {
  const what = opts.what ?? 'all';
  const token = loadOfflineToken(opts.db, opts.keys, opts.shop);
  if (!token) throw new NotInstalledError(`${opts.shop} has no offline access token: install the app on it first`);
  const client = createAdminClient({ shop: opts.shop, accessToken: token, baseUrl: opts.adminBaseUrl, fetch: opts.fetch });
  const common = {
    db: opts.db, keys: opts.keys, shop: opts.shop, client, fetch: opts.fetch,
    pollIntervalMs: opts.pollIntervalMs ?? 1000, batchSize: opts.batchSize, onProgress: opts.onProgress,
  };
  const products = what === 'orders' ? null : await backfillProducts(common);
  const orders = what === 'products' ? null : await backfillOrders(common);
  return { products, orders };
}
