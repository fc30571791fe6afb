// Verifies everything that claims to come from Shopify, with Shopify's own library:
// webhooks (raw-body HMAC), Flow requests (raw-body HMAC), app proxy (hex signature + timestamp
// window), admin session tokens (HS256 JWT, audience = our API key). Expected failures are
// returned as {ok: false, reason}; nothing here throws for a bad request.
import '@shopify/shopify-api/adapters/node';
import { ApiVersion, LogSeverity, shopifyApi, type Shopify } from '@shopify/shopify-api';
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.ts';

export type Verified<T> = ({ ok: true } & T) | { ok: false; reason: string };

export interface WebhookIdentity {
  topic: string;
  shop: string;
  webhookId: string;
  apiVersion: string;
  triggeredAt: string | null;
  eventId: string | null;
}

export interface SessionClaims {
  shop: string;
  userId: string | null;
  sessionId: string | null;
  exp: number;
}

export interface Verifier {
  readonly shopify: Shopify;
  webhook(rawBody: string, req: IncomingMessage): Promise<Verified<WebhookIdentity>>;
  flow(rawBody: string, req: IncomingMessage): Promise<Verified<object>>;
  appProxy(query: Record<string, string | string[] | undefined>): Promise<Verified<{ shop: string; customerId: string | null }>>;
  sessionToken(authorization: string | undefined): Promise<Verified<SessionClaims>>;
}

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

export function isShopDomain(s: unknown): s is string {
  return typeof s === 'string' && s.length <= 255 && SHOP_DOMAIN.test(s);
}

export function createShopifyApi(config: Pick<Config, 'apiKey' | 'apiSecret' | 'scopes' | 'appUrl'>): Shopify {
  return shopifyApi({
    apiKey: config.apiKey,
    apiSecretKey: config.apiSecret,
    scopes: config.scopes,
    hostName: new URL(config.appUrl).host,
    hostScheme: new URL(config.appUrl).protocol === 'http:' ? 'http' : 'https',
    apiVersion: ApiVersion.July26,
    isEmbeddedApp: true,
    logger: { level: LogSeverity.Error, log: async () => {} },
  });
}

export function createVerifier(shopify: Shopify): Verifier {
  return {
    shopify,
    async webhook(rawBody, req) {
      const v = await shopify.webhooks.validate({ rawBody, rawRequest: req });
      if (!v.valid) {
        const missing = 'missingHeaders' in v ? `: ${(v.missingHeaders as string[]).join(', ')}` : '';
        return { ok: false, reason: `${v.reason}${missing}` };
      }
      if (v.webhookType !== 'webhooks') return { ok: false, reason: 'unsupported_webhook_type' };
      if (!isShopDomain(v.domain)) return { ok: false, reason: 'invalid_shop_domain' };
      return {
        ok: true,
        // The library upper-cases the topic for its registry; keep Shopify's own spelling.
        topic: String(req.headers['x-shopify-topic']).trim().toLowerCase(),
        shop: v.domain,
        webhookId: v.webhookId,
        apiVersion: v.apiVersion,
        triggeredAt: v.triggeredAt ?? null,
        eventId: v.eventId ?? null,
      };
    },
    async flow(rawBody, req) {
      const v = await shopify.flow.validate({ rawBody, rawRequest: req });
      return v.valid ? { ok: true } : { ok: false, reason: v.reason };
    },
    async appProxy(query) {
      const q: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(query)) if (v !== undefined) q[k] = v;
      if (typeof q.signature !== 'string') return { ok: false, reason: 'missing_signature' };
      try {
        const valid = await shopify.utils.validateHmac(q as never, { signator: 'appProxy' });
        if (!valid) return { ok: false, reason: 'invalid_signature' };
      } catch (err) {
        // The library throws (rather than answering false) on a missing or out-of-window timestamp.
        return { ok: false, reason: `invalid_timestamp: ${(err as Error).message}` };
      }
      if (!isShopDomain(q.shop)) return { ok: false, reason: 'invalid_shop_domain' };
      const c = q.logged_in_customer_id;
      return { ok: true, shop: q.shop, customerId: typeof c === 'string' && /^\d+$/.test(c) ? c : null };
    },
    async sessionToken(authorization) {
      const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
      if (!m) return { ok: false, reason: 'missing_bearer_token' };
      try {
        const p = await shopify.session.decodeSessionToken(m[1]!);
        const shop = new URL(p.dest).host;
        if (!isShopDomain(shop)) return { ok: false, reason: 'invalid_shop_domain' };
        return { ok: true, shop, userId: p.sub ?? null, sessionId: p.sid ?? null, exp: p.exp };
      } catch (err) {
        return { ok: false, reason: `invalid_session_token: ${(err as Error).message}` };
      }
    },
  };
}
