// Verifies everything that claims to come from Shopify, with Shopify's own library:
// webhooks (raw-body HMAC), Flow requests (raw-body HMAC), app proxy (hex signature + timestamp
// window), admin session tokens (HS256 JWT, audience = our API key). Expected failures are
// returned as {ok: false, reason}; nothing here throws for a bad request.
import '@shopify/shopify-api/adapters/node';
import { ApiVersion, LogSeverity, shopifyApi, type Shopify } from '@shopify/shopify-api';
import type { IncomingMessage } from 'node:http';
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
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
  /** The body exactly as received: Shopify signs bytes (a string is taken as its UTF-8 bytes). */
  webhook(rawBody: string | Uint8Array, req: IncomingMessage): Promise<Verified<WebhookIdentity>>;
  flow(rawBody: string | Uint8Array, req: IncomingMessage): Promise<Verified<object>>;
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

const REQUIRED_WEBHOOK_HEADERS = ['x-shopify-hmac-sha256', 'x-shopify-topic', 'x-shopify-api-version', 'x-shopify-shop-domain', 'x-shopify-webhook-id'];

/**
 * Session tokens: the clock skew `shopify.session.decodeSessionToken` allows on exp and nbf
 * (the library's JWT_PERMITTED_CLOCK_TOLERANCE, not exported; test/reliability/faults.test.ts
 * checks the boundary). A token expired by less than this is still accepted.
 */
export const SESSION_TOKEN_CLOCK_TOLERANCE_SEC = 10;

/**
 * X-Shopify-Triggered-At as an ISO instant, null when absent or not a date. Kept for diagnosis
 * only, never as a freshness check: the header is not covered by the HMAC (anyone replaying a
 * captured body can set it), and Shopify's retries legitimately carry the original time for up
 * to 4 hours. Replays are harmless because a delivery id is stored once and for all and the
 * payload's own updated_at orders snapshots (ingest/record.ts).
 */
export function triggeredAtOf(value: string | undefined): string | null {
  if (value === undefined || value.length > 64) return null;
  const t = Date.parse(value);
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** Constant-time check of a base64 HMAC-SHA256 header over the body's bytes (webhooks, Flow). */
function base64HmacMatches(key: KeyObject, rawBody: string | Uint8Array, given: string): boolean {
  const expected = createHmac('sha256', key).update(rawBody).digest();
  const g = Buffer.from(given, 'base64');
  return g.length === expected.length && timingSafeEqual(g, expected);
}

/**
 * Webhook verification on the hot path: the same checks as the library's
 * `shopify.webhooks.validate` (required headers, base64 HMAC-SHA256 of the raw body with the
 * client secret, constant-time comparison), computed synchronously with node:crypto. The
 * library's version goes through WebCrypto (an async key import and sign per request), which
 * cost ~0.28 ms a delivery here — a third of the whole ingestion budget. A test checks that both
 * agree on valid, forged, tampered and incomplete deliveries. The HMAC is over the bytes as
 * received (what Shopify signs), so an authentic body that is not UTF-8 is still recognised as
 * authentic and answered as malformed, not as forged.
 */
export function createWebhookVerifier(apiSecret: string): (rawBody: string | Uint8Array, req: IncomingMessage) => Verified<WebhookIdentity> {
  const key = createSecretKey(Buffer.from(apiSecret, 'utf8'));
  return (rawBody, req) => {
    if (header(req, 'x-shopify-hmac-sha256') === undefined) return { ok: false, reason: 'missing_hmac' };
    const missing = REQUIRED_WEBHOOK_HEADERS.filter((h) => header(req, h) === undefined);
    if (missing.length > 0) return { ok: false, reason: `missing_headers: ${missing.join(', ')}` };
    if (rawBody.length === 0) return { ok: false, reason: 'missing_body' };
    if (!base64HmacMatches(key, rawBody, header(req, 'x-shopify-hmac-sha256')!)) return { ok: false, reason: 'invalid_hmac' };
    const shop = header(req, 'x-shopify-shop-domain')!;
    if (!isShopDomain(shop)) return { ok: false, reason: 'invalid_shop_domain' };
    return {
      ok: true,
      topic: header(req, 'x-shopify-topic')!.toLowerCase(),
      shop,
      webhookId: header(req, 'x-shopify-webhook-id')!,
      apiVersion: header(req, 'x-shopify-api-version')!,
      triggeredAt: triggeredAtOf(header(req, 'x-shopify-triggered-at')),
      eventId: header(req, 'x-shopify-event-id') ?? null,
    };
  };
}

/**
 * Flow requests (actions, lifecycle callbacks): the checks of the library's `shopify.flow.validate`
 * in its order (missing_body, missing_hmac, invalid_hmac), over the raw bytes. A test checks both
 * agree.
 */
export function createFlowVerifier(apiSecret: string): (rawBody: string | Uint8Array, req: IncomingMessage) => Verified<object> {
  const key = createSecretKey(Buffer.from(apiSecret, 'utf8'));
  return (rawBody, req) => {
    if (rawBody.length === 0) return { ok: false, reason: 'missing_body' };
    const hmac = header(req, 'x-shopify-hmac-sha256');
    if (hmac === undefined) return { ok: false, reason: 'missing_hmac' };
    return base64HmacMatches(key, rawBody, hmac) ? { ok: true } : { ok: false, reason: 'invalid_hmac' };
  };
}

export function createVerifier(shopify: Shopify): Verifier {
  const verifyWebhook = createWebhookVerifier(shopify.config.apiSecretKey);
  const verifyFlow = createFlowVerifier(shopify.config.apiSecretKey);
  return {
    shopify,
    async webhook(rawBody, req) {
      return verifyWebhook(rawBody, req);
    },
    async flow(rawBody, req) {
      return verifyFlow(rawBody, req);
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
        // The library checks exp only when present; Shopify's tokens always carry it (1 minute).
        if (typeof p.exp !== 'number') return { ok: false, reason: 'invalid_session_token: no "exp" claim' };
        const shop = new URL(p.dest).host;
        if (!isShopDomain(shop)) return { ok: false, reason: 'invalid_shop_domain' };
        return { ok: true, shop, userId: p.sub ?? null, sessionId: p.sid ?? null, exp: p.exp };
      } catch (err) {
        // The library's message quotes the whole token: never echo (or log) a credential.
        return { ok: false, reason: `invalid_session_token: ${(err as Error).message.replace(m[1]!, '…')}` };
      }
    },
  };
}
