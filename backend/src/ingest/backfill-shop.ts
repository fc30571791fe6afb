// Backfill one installed shop with its stored offline token: used by `shopml backfill`,
// POST /api/v1/backfill and the demo.
import type { Db } from '../store/db.ts';
import type { Keys } from '../keys.ts';
import { createAdminClient } from '../shopify/admin-client.ts';
import { loadOfflineToken } from '../shopify/auth.ts';
import { backfillOrders, type BackfillCounts, type BackfillOptions } from './backfill.ts';

export class NotInstalledError extends Error {
  override name = 'NotInstalledError';
}

export async function backfillShop(opts: {
  db: Db;
  keys: Keys;
  shop: string;
  adminBaseUrl: string;
  fetch?: typeof globalThis.fetch;
  pollIntervalMs?: number;
  onProgress?: BackfillOptions['onProgress'];
}): Promise<BackfillCounts> {
  const token = loadOfflineToken(opts.db, opts.keys, opts.shop);
  if (!token) throw new NotInstalledError(`${opts.shop} has no offline access token: install the app on it first`);
  const client = createAdminClient({ shop: opts.shop, accessToken: token, baseUrl: opts.adminBaseUrl, fetch: opts.fetch });
  return backfillOrders({
    db: opts.db, keys: opts.keys, shop: opts.shop, client, fetch: opts.fetch,
    pollIntervalMs: opts.pollIntervalMs ?? 1000, onProgress: opts.onProgress,
  });
}
