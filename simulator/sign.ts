// Signing exactly as Shopify does, with node:crypto only. Deliberately independent of
// @shopify/shopify-api: the backend verifies with that library, so tests that sign here and
// verify there cross-check two implementations of the same rules (reference §1.3, §3.3, §4.2).
import { createHmac, randomBytes, randomUUID } from 'node:crypto';

export const DEFAULT_API_VERSION = '2026-07';

/** base64(HMAC-SHA256(secret, raw body bytes)): webhooks and Flow requests. */
export function webhookHmac(secret: string, rawBody: string | Uint8Array): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}

export interface WebhookHeaderOptions {
  secret: string;
  shop: string;
  topic: string;
  rawBody: string | Uint8Array;
  /** Unique per delivery and stable across retries: the receiver's idempotency key. */
  webhookId: string;
  apiVersion?: string;
  /** When the event happened (ISO 8601); defaults to now. */
  triggeredAt?: string;
  /** Shared by every webhook of one event; defaults to a fresh UUID. */
  eventId?: string;
  /** The subscription's `name`, when it has one. */
  name?: string;
}

export type HeaderMap = Record<string, string>;

export function webhookHeaders(opts: WebhookHeaderOptions): HeaderMap {
  const headers: HeaderMap = {
    'Content-Type': 'application/json',
    'X-Shopify-Hmac-Sha256': webhookHmac(opts.secret, opts.rawBody),
    'X-Shopify-Topic': opts.topic,
    'X-Shopify-Shop-Domain': opts.shop,
    'X-Shopify-API-Version': opts.apiVersion ?? DEFAULT_API_VERSION,
    'X-Shopify-Webhook-Id': opts.webhookId,
    'X-Shopify-Triggered-At': opts.triggeredAt ?? new Date().toISOString(),
    'X-Shopify-Event-Id': opts.eventId ?? randomUUID(),
  };
  if (opts.name !== undefined) headers['X-Shopify-Name'] = opts.name;
  return headers;
}

/** Flow signs its action, validation and lifecycle requests like webhooks (reference §1.3). */
export const flowHmac = webhookHmac;

export interface SignedRequest {
  body: string;
  headers: HeaderMap;
}

function signedJson(secret: string, payload: unknown): SignedRequest {
  const body = JSON.stringify(payload);
  return { body, headers: { 'Content-Type': 'application/json', 'X-Shopify-Hmac-Sha256': flowHmac(secret, body) } };
}

export interface FlowActionRequestOptions {
  secret: string;
  shop: string;
  /** Sent as given: Flow's documented example has a string ("1"); a number tests the other form. */
  shopId: number | string;
  handle: string;
  actionRunId?: string;
  /** The action's title (Flow calls it action_definition_id). */
  actionDefinitionId: string;
  /** One entry per settings field: reference fields as `<object>_id`, others by key. */
  properties: Record<string, unknown>;
  /** Added to `properties` as `step_reference` as in Flow's example; null leaves it out. */
  stepReference?: string | null;
}

/** The POST Flow sends to an action's runtime_url (reference §1.2). */
export function flowActionRequest(opts: FlowActionRequestOptions): SignedRequest {
  const stepReference = opts.stepReference === undefined ? randomUUID() : opts.stepReference;
  return signedJson(opts.secret, {
    shop_id: opts.shopId,
    shopify_domain: opts.shop,
    action_run_id: opts.actionRunId ?? randomUUID(),
    action_definition_id: opts.actionDefinitionId,
    handle: opts.handle,
    properties: stepReference === null ? { ...opts.properties } : { ...opts.properties, step_reference: stepReference },
  });
}

export interface FlowLifecycleRequestOptions {
  secret: string;
  shop: string;
  shopId: number;
  flowTriggerDefinitionId: string;
  hasEnabledFlow: boolean;
  /** ISO 8601; newest wins at the receiver. Defaults to now. */
  timestamp?: string;
}

/** The trigger lifecycle callback: is any enabled workflow using this trigger? (reference §2.3) */
export function flowLifecycleRequest(opts: FlowLifecycleRequestOptions): SignedRequest {
  return signedJson(opts.secret, {
    flow_trigger_definition_id: opts.flowTriggerDefinitionId,
    has_enabled_flow: opts.hasEnabledFlow,
    shop_id: opts.shopId,
    shopify_domain: opts.shop,
    timestamp: opts.timestamp ?? new Date().toISOString(),
  });
}

/**
 * App proxy signature (reference §3.3): every parameter but `signature`, repeated values
 * joined with ",", sorted by key, "key=value" pairs concatenated with no separator, then
 * hex(HMAC-SHA256(secret, message)).
 */
export function appProxySignature(secret: string, params: Record<string, string | string[]> | URLSearchParams): string {
  const grouped = new Map<string, string[]>();
  const entries: Iterable<[string, string | string[]]> = params instanceof URLSearchParams ? params.entries() : Object.entries(params);
  for (const [key, value] of entries) {
    if (key === 'signature') continue;
    grouped.set(key, [...(grouped.get(key) ?? []), ...(Array.isArray(value) ? value : [value])]);
  }
  // Byte-order sort (Shopify's); equal to localeCompare for Shopify's own lower-case keys.
  const message = [...grouped.keys()].sort().map((key) => `${key}=${(grouped.get(key) as string[]).join(',')}`).join('');
  return createHmac('sha256', secret).update(message).digest('hex');
}

export interface AppProxyQueryOptions {
  secret: string;
  shop: string;
  pathPrefix?: string; // default '/apps/shopml'
  /** Empty string when nobody is logged in — still signed. */
  loggedInCustomerId?: string;
  /** Unix seconds; defaults to now (receivers reject more than 90 s of skew). */
  timestamp?: number;
  /** The storefront request's own query parameters; arrays become repeated keys. */
  extra?: Record<string, string | string[]>;
}

/** The query string Shopify appends when forwarding a storefront request through the app proxy. */
export function appProxyQuery(opts: AppProxyQueryOptions): URLSearchParams {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(opts.extra ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) query.append(key, v);
  }
  query.append('shop', opts.shop);
  query.append('logged_in_customer_id', opts.loggedInCustomerId ?? '');
  query.append('path_prefix', opts.pathPrefix ?? '/apps/shopml');
  query.append('timestamp', String(opts.timestamp ?? Math.floor(Date.now() / 1000)));
  query.append('signature', appProxySignature(opts.secret, query));
  return query;
}

export interface SessionTokenOptions {
  apiKey: string;
  secret: string;
  shop: string;
  /** The staff member's user id. */
  sub?: string;
  iat?: number; // unix seconds, default now
  nbf?: number; // default iat
  exp?: number; // default iat + 60 (App Bridge tokens live one minute)
  jti?: string;
  sid?: string;
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** An App Bridge session token: HS256 JWT signed with the app's client secret. */
export function sessionToken(opts: SessionTokenOptions): string {
  const iat = opts.iat ?? Math.floor(Date.now() / 1000);
  const claims = {
    iss: `https://${opts.shop}/admin`,
    dest: `https://${opts.shop}`,
    aud: opts.apiKey,
    sub: opts.sub ?? '1',
    exp: opts.exp ?? iat + 60,
    nbf: opts.nbf ?? iat,
    iat,
    jti: opts.jti ?? randomUUID(),
    sid: opts.sid ?? randomBytes(32).toString('hex'),
  };
  const signingInput = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
  return `${signingInput}.${createHmac('sha256', opts.secret).update(signingInput).digest('base64url')}`;
}
