// Installing a shop: the first valid session token from it is exchanged for an offline access
// token (stored encrypted), and the shop's catalog and order history are queued for a backfill
// through bulk exports — in the same transaction, so an installed shop always gets its history.
// /api/v1 and the embedded dashboard both install this way.
import type { FastifyBaseLogger } from 'fastify';
import type { AppDeps } from '../app.ts';
import { enqueueBackfill } from '../jobs/loop.ts';
import { exchangeForOfflineToken, loadOfflineToken, storeOfflineToken } from './auth.ts';

/** True when the shop is installed (now or before); false when the token exchange failed (logged). */
export async function ensureInstalled(deps: AppDeps, shop: string, sessionToken: string, log: FastifyBaseLogger): Promise<boolean> {
  if (loadOfflineToken(deps.db, deps.keys, shop)) return true;
  try {
    const t = await exchangeForOfflineToken({
      shop, sessionToken, apiKey: deps.config.apiKey, apiSecret: deps.config.apiSecret, adminBaseUrl: deps.config.adminBaseUrl, fetch: deps.fetch,
    });
    const now = deps.now();
    const job = await deps.writer.write((db) => {
      storeOfflineToken(db, deps.keys, shop, t.accessToken, t.scope, now.toISOString());
      return enqueueBackfill(db, shop, now);
    });
    log.info({ shop, backfillJob: job.id }, 'installed: offline access token stored, backfill queued');
    return true;
  } catch (err) {
    log.error({ shop, err: (err as Error).message }, 'token exchange failed');
    return false;
  }
}
