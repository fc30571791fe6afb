// The Admin API client of an installed shop, from its stored offline token. One client per
// (process, shop, token): the client's estimate of the shop's cost bucket is shared by every job
// and request of the process, so concurrent work schedules against one budget instead of each
// call discovering the throttle on its own.
import type { AppDeps } from '../app.ts';
import { NotInstalledError } from '../ingest/backfill-shop.ts';
import { createAdminClient, type AdminClient, type AdminClientOptions } from './admin-client.ts';
import { loadOfflineToken } from './auth.ts';

type ClientDeps = Pick<AppDeps, 'db' | 'keys' | 'config' | 'fetch'>;

const clients = new WeakMap<ClientDeps, Map<string, { token: string; client: AdminClient }>>();

export type ShopClientOptions = Omit<AdminClientOptions, 'shop' | 'accessToken' | 'baseUrl' | 'fetch'>;

/**
 * The shop's Admin client. Throws NotInstalledError when the shop has no offline token (never
 * installed, or uninstalled). `options` apply when the client is first created.
 */
export function shopAdminClient(deps: ClientDeps, shop: string, options: ShopClientOptions = {}): AdminClient {
  const token = loadOfflineToken(deps.db, deps.keys, shop);
  if (!token) throw new NotInstalledError(`${shop} has no offline access token: install the app on it first`);
  let perShop = clients.get(deps);
  if (!perShop) clients.set(deps, (perShop = new Map()));
  const cached = perShop.get(shop);
  if (cached && cached.token === token) return cached.client;
  const client = createAdminClient({ ...options, shop, accessToken: token, baseUrl: deps.config.adminBaseUrl, fetch: deps.fetch });
  perShop.set(shop, { token, client });
  return client;
}
