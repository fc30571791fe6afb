// Install: exchange the admin session token for an offline access token (Shopify's token
// exchange, the same request @shopify/shopify-api's auth.tokenExchange sends, but over an
// injected fetch and base URL so the simulator can stand in for Shopify), stored encrypted.
import type { Db } from '../store/db.ts';
import type { Keys } from '../keys.ts';

export interface TokenExchangeOptions {
  shop: string;
  sessionToken: string;
  apiKey: string;
  apiSecret: string;
  adminBaseUrl: string; // 'https://{shop}' in production
  fetch?: typeof globalThis.fetch;
}

export class TokenExchangeError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'TokenExchangeError';
    this.status = status;
  }
}

export function shopBaseUrl(template: string, shop: string): string {
  return template.replace('{shop}', shop).replace(/\/+$/, '');
}

export async function exchangeForOfflineToken(o: TokenExchangeOptions): Promise<{ accessToken: string; scope: string }> {
  const res = await (o.fetch ?? globalThis.fetch)(`${shopBaseUrl(o.adminBaseUrl, o.shop)}/admin/oauth/access_token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({
      client_id: o.apiKey,
      client_secret: o.apiSecret,
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: o.sessionToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      requested_token_type: 'urn:shopify:params:oauth:token-type:offline-access-token',
    }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (!res.ok) throw new TokenExchangeError(res.status, `token exchange for ${o.shop} failed with HTTP ${res.status}: ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as { access_token?: unknown; scope?: unknown };
  if (typeof body.access_token !== 'string') throw new TokenExchangeError(502, `token exchange for ${o.shop} answered without access_token`);
  return { accessToken: body.access_token, scope: typeof body.scope === 'string' ? body.scope : '' };
}

export function storeOfflineToken(db: Db, keys: Keys, shop: string, accessToken: string, scope: string, now: string): void {
  db.prepare(`INSERT INTO shops (shop, installed_at, uninstalled_at, access_token_enc, scopes, updated_at) VALUES (?, ?, NULL, ?, ?, ?)
    ON CONFLICT (shop) DO UPDATE SET uninstalled_at = NULL, access_token_enc = excluded.access_token_enc, scopes = excluded.scopes, updated_at = excluded.updated_at`)
    .run(shop, now, keys.encrypt(accessToken), scope, now);
}

export function loadOfflineToken(db: Db, keys: Keys, shop: string): string | null {
  const enc = db.prepare('SELECT access_token_enc FROM shops WHERE shop = ? AND uninstalled_at IS NULL').pluck().get(shop) as string | null | undefined;
  return enc ? keys.decrypt(enc) : null;
}
