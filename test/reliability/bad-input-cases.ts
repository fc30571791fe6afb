// The bad requests of test/reliability/bad-input.test.ts: a seeded generator of malformed,
// truncated, oversized, wrongly typed, wrongly encoded, forged and unknown requests across every
// endpoint, each with the answer it must get. Signatures are made the way Shopify makes them
// (simulator/sign.ts), so an "authentic" case really is authentic and only its body is bad.
//
// Every case names its class, the endpoint, what is wrong with it and the statuses it may get.
// Nothing here writes: bodies that would validate are never sent authentically to a route that
// stores them (the only expected rows are the quarantine rows of authentic-but-broken webhooks).
import { createHmac, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Prng } from '../../backend/src/ml/prng.ts';
import { appProxyQuery, flowActionRequest, flowLifecycleRequest, sessionToken, webhookHeaders } from '../../simulator/sign.ts';

export const CLASSES = ['forged', 'malformed', 'truncated', 'oversized', 'wrong_type', 'wrong_encoding', 'unknown'] as const;
export type BadClass = (typeof CLASSES)[number];

export interface BadRequest {
  cls: BadClass;
  /** The endpoint family, for the per-endpoint counts. */
  endpoint: string;
  /** What is wrong, in a few words. */
  what: string;
  method: string;
  /** Path and query, as sent on the wire. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Statuses this case may get. */
  expect: number[];
  /** An authentic webhook with a broken body: must leave one quarantine row with a reason. */
  quarantine?: { shop: string; webhookId: string };
  /** The answer is an HTML page (dashboard for a browser), not JSON. */
  html?: boolean;
  /** A 200 with a recommendations list (the storefront never gets an error for odd parameters). */
  recommendations?: boolean;
}

export interface CaseContext {
  secret: string;
  apiKey: string;
  adminToken: string;
  /** The shop whose data the fixture holds. */
  shop: string;
  /** A valid orders/create payload of that shop, and a product and an inventory level payload. */
  order: Record<string, unknown>;
  product: Record<string, unknown>;
  inventory: Record<string, unknown>;
  /** Route body limits (bytes). */
  limits: { webhook: number; flowAction: number; flowLifecycle: number; events: number; api: number; form: number };
}

type Factory = (rng: Prng, c: CaseContext) => BadRequest;

/** Topics invented by forged deliveries start with this. */
export const FORGED_TOPIC_PREFIX = 'forged/topic-';

// ------------------------------------------------------------------ byte-level helpers

const pick = <T>(rng: Prng, items: readonly T[]): T => items[rng.below(items.length)]!;
const json = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8');

/** A proper prefix of a JSON text: never valid JSON (an object is only complete at its last byte). */
export function truncate(rng: Prng, b: Buffer): Buffer {
  return b.subarray(0, 1 + rng.below(Math.max(1, b.length - 2)));
}

/** Printable junk, or raw binary, that is not JSON. */
function junk(rng: Prng): Buffer {
  const texts = ['not json', '<xml/>', 'null,', '{"a":}', "{'single':'quotes'}", '{"a":1,}', '[1,2', 'NaN', '{"a":1}{"b":2}', '\u0000\u0001', 'a=1&b=2', '{"a":"\\u12"}'];
  if (rng.next() < 0.6) return Buffer.from(pick(rng, texts), 'utf8');
  // Binary that is not UTF-8: always starts with a lone continuation byte.
  const out = Buffer.alloc(8 + rng.below(64));
  for (let i = 0; i < out.length; i++) out[i] = rng.below(256);
  out[0] = 0x80 | rng.below(0x40);
  return out;
}

/** Byte sequences that are not UTF-8: lone continuation, overlong, surrogate, above U+10FFFF, truncated. */
const BAD_UTF8 = [[0xff], [0xfe], [0x80], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xc3], [0xe2, 0x82]];

/** A JSON text with an invalid UTF-8 sequence inside one of its string values. */
function withBadUtf8(rng: Prng, b: Buffer): Buffer {
  const s = b.toString('utf8');
  const q = s.indexOf('":"');
  const at = q >= 0 ? Buffer.byteLength(s.slice(0, q + 3)) : 1;
  return Buffer.concat([b.subarray(0, at), Buffer.from(pick(rng, BAD_UTF8)), b.subarray(at)]);
}

/** The same JSON wrongly encoded: invalid UTF-8 inside, UTF-16 (with or without BOM), gzip bytes. */
function misencoded(rng: Prng, b: Buffer): { what: string; body: Buffer } {
  switch (rng.below(4)) {
    case 0: return { what: 'invalid UTF-8 in a string', body: withBadUtf8(rng, b) };
    case 1: return { what: 'UTF-16LE with BOM', body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(b.toString('utf8'), 'utf16le')]) };
    case 2: return { what: 'UTF-16BE', body: Buffer.from(b.toString('utf8'), 'utf16le').swap16() };
    default: return { what: 'gzip bytes', body: gzipSync(b) };
  }
}

/** A body of `size` bytes that starts like JSON (the route must refuse it before parsing). */
function oversized(size: number): Buffer {
  const b = Buffer.alloc(size, 0x61);
  b.write('{"pad":"', 0);
  return b;
}

/** Just over a route's limit: by one byte up to 25 %. */
const overLimit = (rng: Prng, limit: number) => limit + 1 + rng.below(Math.ceil(limit / 4));

/** A client address for the case (X-Forwarded-For from the one trusted proxy): per-IP budgets stay per client. */
const clientIp = (rng: Prng) => `10.${rng.below(256)}.${rng.below(256)}.${1 + rng.below(254)}`;

// ------------------------------------------------------------------ credentials

function webhook(c: CaseContext, topic: string, body: Buffer, o: { secret?: string; shop?: string } = {}): { headers: Record<string, string>; webhookId: string } {
  const webhookId = `bad-${randomUUID()}`;
  return { webhookId, headers: webhookHeaders({ secret: o.secret ?? c.secret, shop: o.shop ?? c.shop, topic, rawBody: body, webhookId }) };
}

const flowSig = (secret: string, body: Buffer) => createHmac('sha256', secret).update(body).digest('base64');
const flowHeaders = (secret: string, body: Buffer) => ({ 'content-type': 'application/json', 'x-shopify-hmac-sha256': flowSig(secret, body) });

function flowAction(c: CaseContext, patch: Record<string, unknown> = {}, handle = `no-such-action-${randomUUID().slice(0, 8)}`): Buffer {
  const base = JSON.parse(flowActionRequest({ secret: c.secret, shop: c.shop, shopId: 1, handle, actionDefinitionId: 'x', properties: { customer_id: '1' } }).body) as Record<string, unknown>;
  return json({ ...base, ...patch });
}

function lifecycle(c: CaseContext, patch: Record<string, unknown> = {}): Buffer {
  const base = JSON.parse(flowLifecycleRequest({ secret: c.secret, shop: c.shop, shopId: 1, flowTriggerDefinitionId: 'churn-risk-rose', hasEnabledFlow: true }).body) as Record<string, unknown>;
  return json({ ...base, ...patch });
}

function proxyQuery(c: CaseContext, extra: Record<string, string | string[]> = {}, o: { secret?: string; shop?: string; timestamp?: number } = {}): URLSearchParams {
  return appProxyQuery({ secret: o.secret ?? c.secret, shop: o.shop ?? c.shop, extra, timestamp: o.timestamp });
}

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** Session tokens that must all be refused: every way an App Bridge token can be wrong. */
function forgedSessionToken(rng: Prng, c: CaseContext): { what: string; token: string } {
  const now = Math.floor(Date.now() / 1000);
  const hs = (header: object, claims: object, secret = c.secret) => {
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const claims = { iss: `https://${c.shop}/admin`, dest: `https://${c.shop}`, aud: c.apiKey, sub: '1', exp: now + 60, nbf: now, iat: now, jti: randomUUID(), sid: 'x' };
  switch (rng.below(9)) {
    case 0: return { what: 'signed with another secret', token: sessionToken({ apiKey: c.apiKey, secret: 'not-the-app-secret-0123', shop: c.shop }) };
    case 1: return { what: 'wrong audience', token: sessionToken({ apiKey: 'another-app-key', secret: c.secret, shop: c.shop }) };
    case 2: return { what: 'expired', token: sessionToken({ apiKey: c.apiKey, secret: c.secret, shop: c.shop, iat: now - 600, exp: now - 300 }) };
    case 3: return { what: 'not yet valid', token: sessionToken({ apiKey: c.apiKey, secret: c.secret, shop: c.shop, iat: now, nbf: now + 300, exp: now + 600 }) };
    case 4: return { what: 'alg none', token: `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.` };
    case 5: return { what: 'HS512', token: (() => { const input = `${b64url(JSON.stringify({ alg: 'HS512', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`; return `${input}.${createHmac('sha512', c.secret).update(input).digest('base64url')}`; })() };
    case 6: return { what: 'dest not a shop', token: hs({ alg: 'HS256', typ: 'JWT' }, { ...claims, dest: 'https://evil.example.com' }) };
    case 7: return { what: 'tampered claims', token: (() => { const [h, , s] = sessionToken({ apiKey: c.apiKey, secret: c.secret, shop: c.shop }).split('.'); return `${h}.${b64url(JSON.stringify({ ...claims, dest: 'https://other.myshopify.com' }))}.${s}`; })() };
    default: return { what: 'not a JWT', token: pick(rng, ['abc', 'a.b.c', 'x'.repeat(300), '..', 'eyJhbGciOiJIUzI1NiJ9']) };
  }
}

function forgedAuthorization(rng: Prng, c: CaseContext): { what: string; headers: Record<string, string> } {
  switch (rng.below(5)) {
    case 0: return { what: 'no credential', headers: {} };
    case 1: return { what: 'wrong operator token', headers: { authorization: `Bearer ${c.adminToken}x` } };
    case 2: return { what: 'Basic scheme', headers: { authorization: `Basic ${Buffer.from(`admin:${c.adminToken}`).toString('base64')}` } };
    case 3: return { what: 'empty bearer', headers: { authorization: 'Bearer ' } };
    default: { const t = forgedSessionToken(rng, c); return { what: `session token ${t.what}`, headers: { authorization: `Bearer ${t.token}` } }; }
  }
}

const operator = (c: CaseContext) => ({ authorization: `Bearer ${c.adminToken}` });

// ------------------------------------------------------------------ the admin API's routes

interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT';
  path: (c: CaseContext) => string;
  /** Wrongly typed bodies or query values (400), operator-authenticated. */
  wrong: ((c: CaseContext) => { what: string; path?: string; body?: unknown; status?: number[] })[];
}

const q = (c: CaseContext) => `shop=${c.shop}`;
const API: ApiRoute[] = [
  { method: 'GET', path: (c) => `/api/v1/status?${q(c)}`, wrong: [() => ({ what: 'shop not a domain', path: '/api/v1/status?shop=evil.example.com' }), () => ({ what: 'shop twice', path: '/api/v1/status?shop=a.myshopify.com&shop=b.myshopify.com' })] },
  { method: 'POST', path: () => '/api/v1/session', wrong: [] },
  { method: 'GET', path: (c) => `/api/v1/products/lead-times?${q(c)}`, wrong: [() => ({ what: 'no shop', path: '/api/v1/products/lead-times' })] },
  {
    method: 'PUT', path: (c) => `/api/v1/products/123/lead-time?${q(c)}`,
    wrong: [
      () => ({ what: 'lead_time_days a string', body: { lead_time_days: 'ten' } }), () => ({ what: 'lead_time_days negative', body: { lead_time_days: -1 } }),
      () => ({ what: 'lead_time_days over a year', body: { lead_time_days: 400 } }), () => ({ what: 'no lead_time_days', body: {} }),
      () => ({ what: 'body an array', body: [7] }), (c) => ({ what: 'product id with a space', path: `/api/v1/products/a%20b/lead-time?${q(c)}`, body: { lead_time_days: 3 } }),
    ],
  },
  { method: 'GET', path: (c) => `/api/v1/data-requests/1?${q(c)}`, wrong: [(c) => ({ what: 'unknown request id', path: `/api/v1/data-requests/no-such-request?${q(c)}`, status: [404] })] },
  { method: 'GET', path: (c) => `/api/v1/models?${q(c)}`, wrong: [(c) => ({ what: 'unknown kind', path: `/api/v1/models?${q(c)}&kind=astrology` })] },
  { method: 'GET', path: (c) => `/api/v1/models/history?${q(c)}`, wrong: [(c) => ({ what: 'unknown kind', path: `/api/v1/models/history?${q(c)}&kind=x` }), () => ({ what: 'no shop', path: '/api/v1/models/history' })] },
  {
    method: 'POST', path: (c) => `/api/v1/models/promote?${q(c)}`,
    wrong: [
      () => ({ what: 'kind a number', body: { kind: 7, version: 'abcdef' } }), () => ({ what: 'version an array', body: { kind: 'recommend', version: ['abc'] } }),
      () => ({ what: 'version not hex', body: { kind: 'recommend', version: 'zzzzzz' } }), () => ({ what: 'no version', body: { kind: 'recommend' } }),
      () => ({ what: 'to not an alias', body: { kind: 'recommend', version: 'abcdef', to: 'emperor' } }), () => ({ what: 'body a string', body: 'promote' }),
      () => ({ what: 'unknown version', body: { kind: 'recommend', version: 'abcdef12' }, status: [404] }),
    ],
  },
  {
    method: 'POST', path: (c) => `/api/v1/models/rollback?${q(c)}`,
    wrong: [() => ({ what: 'alias a number', body: { kind: 'recommend', alias: 5 } }), () => ({ what: 'no kind', body: {} }), () => ({ what: 'reason too long', body: { kind: 'churn', reason: 'x'.repeat(600) } })],
  },
  { method: 'GET', path: (c) => `/api/v1/controls?${q(c)}`, wrong: [() => ({ what: 'no shop', path: '/api/v1/controls' })] },
  {
    method: 'PUT', path: (c) => `/api/v1/controls/products/123?${q(c)}`,
    wrong: [
      () => ({ what: 'unknown action', body: { action: 'nuke' } }), () => ({ what: 'position zero', body: { action: 'pin', position: 0 } }),
      () => ({ what: 'position a string', body: { action: 'pin', position: 'first' } }), (c) => ({ what: 'product id not digits', path: `/api/v1/controls/products/abc?${q(c)}`, body: { action: 'exclude' } }),
      () => ({ what: 'body null', body: null }),
    ],
  },
  {
    method: 'PUT', path: (c) => `/api/v1/controls/settings?${q(c)}`,
    wrong: [
      () => ({ what: 'attribution_days a string', body: { attribution_days: 'week' } }), () => ({ what: 'attribution_days zero', body: { attribution_days: 0 } }),
      () => ({ what: 'min_history_orders fractional', body: { min_history_orders: 1.5 } }), () => ({ what: 'nothing to change', body: {} }), () => ({ what: 'body an array', body: [] }),
    ],
  },
  { method: 'GET', path: (c) => `/api/v1/controls/attribution?${q(c)}`, wrong: [(c) => ({ what: 'since not a date', path: `/api/v1/controls/attribution?${q(c)}&since=yesterday-ish` })] },
  {
    method: 'GET', path: (c) => `/api/v1/jobs?${q(c)}`,
    wrong: [(c) => ({ what: 'unknown status', path: `/api/v1/jobs?${q(c)}&status=sleeping` }), (c) => ({ what: 'limit zero', path: `/api/v1/jobs?${q(c)}&limit=0` }), (c) => ({ what: 'limit huge', path: `/api/v1/jobs?${q(c)}&limit=99999` }), (c) => ({ what: 'limit not a number', path: `/api/v1/jobs?${q(c)}&limit=ten` })],
  },
  { method: 'POST', path: (c) => `/api/v1/jobs/999999/retry?${q(c)}`, wrong: [(c) => ({ what: 'job id not a number', path: `/api/v1/jobs/abc/retry?${q(c)}` }), (c) => ({ what: 'no such job', path: `/api/v1/jobs/999999/retry?${q(c)}`, status: [404] })] },
  { method: 'GET', path: (c) => `/api/v1/customers/1/insights?${q(c)}`, wrong: [(c) => ({ what: 'customer id not digits', path: `/api/v1/customers/abc/insights?${q(c)}` }), (c) => ({ what: 'a product GID as customer', path: `/api/v1/customers/${encodeURIComponent('gid://shopify/Product/1')}/insights?${q(c)}` })] },
  { method: 'GET', path: (c) => `/api/v1/products/1/insights?${q(c)}`, wrong: [(c) => ({ what: 'product id not digits', path: `/api/v1/products/-1/insights?${q(c)}` })] },
  { method: 'GET', path: (c) => `/api/v1/canary?${q(c)}`, wrong: [(c) => ({ what: 'id not a number', path: `/api/v1/canary?${q(c)}&id=latest` })] },
  { method: 'GET', path: (c) => `/api/v1/canary/plan?${q(c)}`, wrong: [(c) => ({ what: 'holdout over 100', path: `/api/v1/canary/plan?${q(c)}&holdout=500` }), (c) => ({ what: 'mde not a number', path: `/api/v1/canary/plan?${q(c)}&mde=big` })] },
  { method: 'GET', path: (c) => `/api/v1/canary/experiments?${q(c)}`, wrong: [() => ({ what: 'no shop', path: '/api/v1/canary/experiments' })] },
  { method: 'GET', path: (c) => `/api/v1/canary/shadows?${q(c)}`, wrong: [(c) => ({ what: 'unknown kind', path: `/api/v1/canary/shadows?${q(c)}&kind=recommendx` })] },
  {
    method: 'POST', path: (c) => `/api/v1/canary/start?${q(c)}`,
    wrong: [() => ({ what: 'holdout a word', body: { holdout: 'half' } }), () => ({ what: 'mde out of range', body: { mde: 99 } }), () => ({ what: 'version a number', body: { version: 12 } }), () => ({ what: 'body an array', body: [1] })],
  },
  ...(['promote', 'rollback', 'stop'] as const).map((a): ApiRoute => ({
    method: 'POST', path: (c) => `/api/v1/canary/${a}?${q(c)}`, wrong: [() => ({ what: 'reason a number', body: { reason: 5 } }), () => ({ what: 'body a string', body: 'now' })],
  })),
];

// ------------------------------------------------------------------ factories, by endpoint

const WEBHOOK_TOPICS = ['orders/create', 'orders/updated', 'products/update', 'inventory_levels/update', 'customers/redact', 'app/uninstalled', 'refunds/create'];

function authenticWebhook(c: CaseContext, cls: BadClass, what: string, topic: string, body: Buffer): BadRequest {
  const w = webhook(c, topic, body);
  return { cls, endpoint: 'webhooks', what, method: 'POST', path: '/webhooks', headers: w.headers, body, expect: [200], quarantine: { shop: c.shop, webhookId: w.webhookId } };
}

/** Valid payloads of data topics with one validated field given the wrong type: quarantined. */
function wronglyTypedPayload(rng: Prng, c: CaseContext): { topic: string; what: string; body: unknown } {
  const order = structuredClone(c.order) as Record<string, unknown> & { line_items: Record<string, unknown>[] };
  switch (rng.below(9)) {
    case 0: return { topic: 'orders/create', what: 'order id not digits', body: { ...order, id: pick(rng, ['abc', -1, 1.5, {}, true]) } };
    case 1: return { topic: 'orders/updated', what: 'created_at not a time', body: { ...order, created_at: pick(rng, [12345, 'soon', null, []]) } };
    case 2: return { topic: 'orders/create', what: 'line_items not a list', body: { ...order, line_items: pick(rng, ['many', {}, null, 3]) } };
    case 3: order.line_items[0]!.quantity = pick(rng, ['2', -1, 1.5, null]); return { topic: 'orders/create', what: 'quantity wrongly typed', body: order };
    case 4: order.line_items[0]!.price = pick(rng, ['12,50', true, '£3', {}]); return { topic: 'orders/create', what: 'price wrongly typed', body: order };
    case 5: return { topic: 'products/update', what: 'product id not digits', body: { ...c.product, id: 'p-1' } };
    case 6: return { topic: 'products/create', what: 'variants not a list', body: { ...c.product, variants: 'all' } };
    case 7: return { topic: 'inventory_levels/update', what: 'available a word', body: { ...c.inventory, available: 'lots' } };
    default: return { topic: pick(rng, ['carts/create', 'themes/publish', 'orders/exploded']), what: 'unsupported topic', body: { id: 1 } };
  }
}

const WEBHOOKS: Partial<Record<BadClass, Factory[]>> = {
  forged: [
    (rng, c) => { const body = json(c.order); const w = webhook(c, 'orders/create', body, { secret: 'not-the-secret-0123456789' }); return { cls: 'forged', endpoint: 'webhooks', what: 'signed with another secret', method: 'POST', path: '/webhooks', headers: w.headers, body, expect: [401] }; },
    (rng, c) => { const body = json(c.order); const w = webhook(c, 'orders/create', body); const t = Buffer.from(body); const at = rng.below(t.length); t[at] = t[at]! ^ 0x01; return { cls: 'forged', endpoint: 'webhooks', what: 'body changed after signing', method: 'POST', path: '/webhooks', headers: w.headers, body: t, expect: [401] }; },
    (rng, c) => {
      const body = json(c.order); const w = webhook(c, 'orders/create', body);
      const drop = pick(rng, ['X-Shopify-Hmac-Sha256', 'X-Shopify-Topic', 'X-Shopify-Shop-Domain', 'X-Shopify-Webhook-Id', 'X-Shopify-API-Version']);
      const headers = Object.fromEntries(Object.entries(w.headers).filter(([k]) => k !== drop));
      return { cls: 'forged', endpoint: 'webhooks', what: `without ${drop}`, method: 'POST', path: '/webhooks', headers, body, expect: [401] };
    },
    (rng, c) => { const body = json(c.order); const w = webhook(c, 'orders/create', body); return { cls: 'forged', endpoint: 'webhooks', what: 'HMAC not base64 of 32 bytes', method: 'POST', path: '/webhooks', headers: { ...w.headers, 'X-Shopify-Hmac-Sha256': pick(rng, ['abc', '!!!!', 'a'.repeat(500), w.headers['X-Shopify-Hmac-Sha256']!.toLowerCase()]) }, body, expect: [401] }; },
    (rng, c) => { const body = json(c.order); const w = webhook(c, 'orders/create', body, { shop: pick(rng, ['evil.example.com', 'shop.myshopify.com.evil.io', '-x.myshopify.com', 'UPPER.myshopify.com']) }); return { cls: 'forged', endpoint: 'webhooks', what: 'shop header not a myshopify domain', method: 'POST', path: '/webhooks', headers: w.headers, body, expect: [401] }; },
    (rng, c) => { const body = Buffer.alloc(0); const w = webhook(c, 'orders/create', body); return { cls: 'forged', endpoint: 'webhooks', what: 'empty body', method: 'POST', path: '/webhooks', headers: w.headers, body, expect: [401] }; },
    (rng, c) => {
      // A made-up topic on a forged delivery: must not become a metric label (one series per topic).
      const body = json(c.order); const w = webhook(c, `${FORGED_TOPIC_PREFIX}${rng.below(1e9)}`, body, { secret: 'not-the-secret-0123456789' });
      return { cls: 'forged', endpoint: 'webhooks', what: 'made-up topic, forged', method: 'POST', path: '/webhooks', headers: w.headers, body, expect: [401] };
    },
    (rng, c) => {
      // An authentic compliance delivery of another shop replayed with this shop's header.
      const topic = pick(rng, ['customers/redact', 'shop/redact', 'customers/data_request', 'app/uninstalled']);
      const field = topic === 'app/uninstalled' ? 'myshopify_domain' : 'shop_domain';
      const body = json({ shop_id: 9, [field]: 'someone-else.myshopify.com', customer: { id: 1 }, orders_to_redact: [] });
      const w = webhook(c, topic, body);
      return { cls: 'forged', endpoint: 'webhooks', what: `${topic} naming another shop`, method: 'POST', path: '/webhooks', headers: w.headers, body, expect: [401] };
    },
  ],
  malformed: [
    (rng, c) => authenticWebhook(c, 'malformed', 'not JSON', pick(rng, WEBHOOK_TOPICS), junk(rng)),
    (rng, c) => authenticWebhook(c, 'malformed', 'JSON but not an object', pick(rng, WEBHOOK_TOPICS), Buffer.from(pick(rng, ['[]', '[1,2]', '"order"', '42', 'null', 'true']))),
    (rng, c) => authenticWebhook(c, 'malformed', 'customers/redact naming nobody', 'customers/redact', json({ shop_domain: c.shop, customer: {}, orders_to_redact: [] })),
    (rng, c) => authenticWebhook(c, 'malformed', 'bulk_operations/finish without id', 'bulk_operations/finish', json({ status: 'completed' })),
  ],
  truncated: [(rng, c) => authenticWebhook(c, 'truncated', 'cut short', pick(rng, ['orders/create', 'products/update', 'inventory_levels/update']), truncate(rng, json(pick(rng, [c.order, c.product, c.inventory]))))],
  wrong_type: [(rng, c) => { const p = wronglyTypedPayload(rng, c); return authenticWebhook(c, 'wrong_type', p.what, p.topic, json(p.body)); }],
  wrong_encoding: [
    (rng, c) => { const m = misencoded(rng, json(c.order)); return authenticWebhook(c, 'wrong_encoding', m.what, 'orders/create', m.body); },
    (rng, c) => authenticWebhook(c, 'wrong_encoding', 'UTF-8 BOM before the JSON', 'orders/create', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(c.order)])),
    (rng, c) => { const body = gzipSync(json(c.order)); const w = webhook(c, 'orders/create', body); return { cls: 'wrong_encoding', endpoint: 'webhooks', what: 'Content-Encoding gzip', method: 'POST', path: '/webhooks', headers: { ...w.headers, 'Content-Encoding': 'gzip' }, body, expect: [415] }; },
  ],
  oversized: [(rng, c) => { const body = oversized(overLimit(rng, c.limits.webhook)); const w = webhook(c, 'orders/create', body); return { cls: 'oversized', endpoint: 'webhooks', what: `${body.length} bytes`, method: 'POST', path: '/webhooks', headers: w.headers, body, expect: [413] }; }],
  unknown: [
    (rng) => ({ cls: 'unknown', endpoint: 'webhooks', what: 'wrong method', method: pick(rng, ['GET', 'PUT', 'DELETE', 'PATCH']), path: '/webhooks', headers: {}, expect: [404] }),
    (rng, c) => { const body = json(c.order); return { cls: 'unknown', endpoint: 'webhooks', what: 'wrong path (authentic delivery)', method: 'POST', path: pick(rng, ['/webhooks/orders', '/webhook', '/webhooks/orders/create']), headers: webhook(c, 'orders/create', body).headers, body, expect: [404] }; },
  ],
};

function flowCase(cls: BadClass, what: string, body: Buffer, expect: number[], o: { secret?: string; path?: string; headers?: Record<string, string>; sign?: Buffer } = {}): (c: CaseContext) => BadRequest {
  return (c) => ({ cls, endpoint: 'flow actions', what, method: 'POST', path: o.path ?? '/flow/actions/tag-customer-ml-segment', headers: { ...flowHeaders(o.secret ?? c.secret, o.sign ?? body), ...o.headers }, body, expect });
}

const FLOW_ACTIONS: Partial<Record<BadClass, Factory[]>> = {
  forged: [
    (rng, c) => flowCase('forged', 'signed with another secret', flowAction(c, {}, 'score-customer'), [401], { secret: 'another-secret-0123456789' })(c),
    (rng, c) => { const b = flowAction(c, {}, 'score-customer'); const t = Buffer.from(b.toString().replace('"1"', '"2"')); return flowCase('forged', 'body changed after signing', t, [401], { sign: b })(c); },
    (rng, c) => ({ cls: 'forged', endpoint: 'flow actions', what: 'no HMAC', method: 'POST', path: '/flow/actions/score-customer', headers: { 'content-type': 'application/json' }, body: flowAction(c, {}, 'score-customer'), expect: [401] }),
    (rng, c) => flowCase('forged', 'empty body', Buffer.alloc(0), [401])(c),
  ],
  malformed: [(rng, c) => flowCase('malformed', 'not JSON', junk(rng), [400])(c)],
  truncated: [(rng, c) => flowCase('truncated', 'cut short', truncate(rng, flowAction(c, {}, 'score-customer')), [400])(c)],
  wrong_type: [
    (rng, c) => {
      const [what, patch] = pick(rng, [
        ['action_run_id a number', { action_run_id: 5 }], ['handle with a space', { handle: 'tag customer' }], ['shopify_domain not a shop', { shopify_domain: 'evil.example.com' }],
        ['properties a list', { properties: [1, 2] }], ['no action_run_id', { action_run_id: undefined }], ['action_run_id empty', { action_run_id: '' }],
      ] as [string, Record<string, unknown>][]);
      return flowCase('wrong_type', what, flowAction(c, patch, 'score-customer'), [400])(c);
    },
    (rng, c) => {
      const handle = pick(rng, ['tag-customer-ml-segment', 'score-customer', 'send-order-to-shopml']);
      const props = pick(rng, [{}, { customer_id: 'abc' }, { customer_id: [1] }, { order_id: { id: 1 } }]);
      return flowCase('wrong_type', `${handle} with wrongly typed properties`, flowAction(c, { properties: props }, handle), [422])(c);
    },
  ],
  wrong_encoding: [
    (rng, c) => { const m = misencoded(rng, flowAction(c, {}, 'score-customer')); return flowCase('wrong_encoding', m.what, m.body, [400])(c); },
    (rng, c) => { const body = gzipSync(flowAction(c, {}, 'score-customer')); return flowCase('wrong_encoding', 'Content-Encoding gzip', body, [415], { headers: { 'content-encoding': 'gzip' } })(c); },
  ],
  oversized: [(rng, c) => flowCase('oversized', 'over 256 KB', oversized(overLimit(rng, c.limits.flowAction)), [413])(c)],
  unknown: [
    (rng, c) => flowCase('unknown', 'unknown handle (authentic)', flowAction(c), [404], { path: `/flow/actions/${pick(rng, ['nope', 'score-customer'])}` })(c),
    (rng) => ({ cls: 'unknown', endpoint: 'flow actions', what: 'wrong method or path', method: pick(rng, ['GET', 'PUT', 'DELETE']), path: pick(rng, ['/flow/actions/score-customer', '/flow/actions', '/flow/actions/a/b']), headers: {}, expect: [404] }),
  ],
};

function lifecycleCase(cls: BadClass, what: string, body: Buffer, expect: number[], o: { secret?: string; headers?: Record<string, string>; sign?: Buffer } = {}): (c: CaseContext) => BadRequest {
  return (c) => ({ cls, endpoint: 'flow lifecycle', what, method: 'POST', path: '/flow/lifecycle', headers: { ...flowHeaders(o.secret ?? c.secret, o.sign ?? body), ...o.headers }, body, expect });
}

const FLOW_LIFECYCLE: Partial<Record<BadClass, Factory[]>> = {
  forged: [(rng, c) => lifecycleCase('forged', 'signed with another secret', lifecycle(c), [401], { secret: 'another-secret-0123456789' })(c)],
  malformed: [(rng, c) => lifecycleCase('malformed', 'not JSON', junk(rng), [400])(c)],
  truncated: [(rng, c) => lifecycleCase('truncated', 'cut short', truncate(rng, lifecycle(c)), [400])(c)],
  wrong_type: [(rng, c) => {
    const [what, patch] = pick(rng, [['has_enabled_flow a string', { has_enabled_flow: 'yes' }], ['timestamp not a time', { timestamp: 'whenever' }], ['no trigger id', { flow_trigger_definition_id: undefined }], ['shopify_domain a number', { shopify_domain: 7 }]] as [string, Record<string, unknown>][]);
    return lifecycleCase('wrong_type', what, lifecycle(c, patch), [400])(c);
  }],
  wrong_encoding: [(rng, c) => { const m = misencoded(rng, lifecycle(c)); return lifecycleCase('wrong_encoding', m.what, m.body, [400])(c); }],
  oversized: [(rng, c) => lifecycleCase('oversized', 'over 64 KB', oversized(overLimit(rng, c.limits.flowLifecycle)), [413])(c)],
};

const PROXY_RECS: Partial<Record<BadClass, Factory[]>> = {
  forged: [
    (rng, c) => ({ cls: 'forged', endpoint: 'proxy recommendations', what: 'signed with another secret', method: 'GET', path: `/proxy/recommendations?${proxyQuery(c, {}, { secret: 'not-our-secret-0123' })}`, headers: {}, expect: [401] }),
    (rng, c) => { const off = pick(rng, [-1, 1]) * (91 + rng.below(1_000_000)); return { cls: 'forged', endpoint: 'proxy recommendations', what: `timestamp ${off > 0 ? '+' : ''}${off} s`, method: 'GET', path: `/proxy/recommendations?${proxyQuery(c, {}, { timestamp: Math.floor(Date.now() / 1000) + off })}`, headers: {}, expect: [401] }; },
    (rng, c) => { const p = proxyQuery(c, { product_id: '1' }); const k = pick(rng, ['signature', 'timestamp', 'shop']); p.delete(k); return { cls: 'forged', endpoint: 'proxy recommendations', what: `without ${k}`, method: 'GET', path: `/proxy/recommendations?${p}`, headers: {}, expect: [401] }; },
    (rng, c) => { const p = proxyQuery(c, { product_id: '1' }); p.set(pick(rng, ['product_id', 'logged_in_customer_id', 'path_prefix']), '42'); return { cls: 'forged', endpoint: 'proxy recommendations', what: 'parameter changed after signing', method: 'GET', path: `/proxy/recommendations?${p}`, headers: {}, expect: [401] }; },
    (rng, c) => { const p = proxyQuery(c); p.append(pick(rng, ['shop', 'timestamp', 'signature']), pick(rng, ['other.myshopify.com', '1', 'abc'])); return { cls: 'forged', endpoint: 'proxy recommendations', what: 'a single-value parameter twice', method: 'GET', path: `/proxy/recommendations?${p}`, headers: {}, expect: [401] }; },
    (rng, c) => { const p = proxyQuery(c); p.set('signature', p.get('signature')!.toUpperCase()); return { cls: 'forged', endpoint: 'proxy recommendations', what: 'signature in upper-case hex', method: 'GET', path: `/proxy/recommendations?${p}`, headers: {}, expect: [401] }; },
    (rng, c) => ({ cls: 'forged', endpoint: 'proxy recommendations', what: 'signed for a non-myshopify shop', method: 'GET', path: `/proxy/recommendations?${proxyQuery(c, {}, { shop: 'evil.example.com' })}`, headers: {}, expect: [401] }),
  ],
  malformed: [
    (rng, c) => {
      const [what, extra] = pick(rng, [
        ['limit not a number', { limit: pick(rng, ['abc', '-5', '1e309', '', '0x10', '9'.repeat(40)]) }], ['product ids that are not ids', { product_id: pick(rng, ['abc', '1;DROP TABLE products', '-1', '1.5,2.5', ',,,', '\u0000']) }],
        ['anonymous_id not allowed', { anonymous_id: pick(rng, ['a'.repeat(65), 'x y', '../../etc', '<script>']) }], ['consent odd', { consent: pick(rng, ['maybe', '2', 'TRUE ']) }],
        ['a hundred product ids', { product_id: Array.from({ length: 100 }, (_, i) => String(8_120_000_000_000 + i)) }], ['unknown parameters', { foo: 'bar', 'a[b]': 'c', constructor: 'x', toString: 'y' }],
      ] as [string, Record<string, string | string[]>][]);
      return { cls: 'malformed', endpoint: 'proxy recommendations', what, method: 'GET', path: `/proxy/recommendations?${proxyQuery(c, extra)}`, headers: {}, expect: [200], recommendations: true };
    },
  ],
  wrong_type: [(rng, c) => ({ cls: 'wrong_type', endpoint: 'proxy recommendations', what: 'customer id not digits (signed)', method: 'GET', path: `/proxy/recommendations?${appProxyQuery({ secret: c.secret, shop: c.shop, loggedInCustomerId: pick(rng, ['abc', '-1', '1.5', 'gid://shopify/Customer/1']) })}`, headers: {}, expect: [200], recommendations: true })],
  oversized: [(rng, c) => ({ cls: 'oversized', endpoint: 'proxy recommendations', what: 'query string over 16 KB', method: 'GET', path: `/proxy/recommendations?${proxyQuery(c, { product_id: 'x'.repeat(17_000 + rng.below(10_000)) })}`, headers: {}, expect: [431] })],
  unknown: [(rng, c) => ({ cls: 'unknown', endpoint: 'proxy recommendations', what: 'wrong method or path', method: pick(rng, ['POST', 'PUT', 'GET']), path: `${pick(rng, ['/proxy/recommendation', '/proxy/recommendations/1', '/proxy', '/proxy/'])}?${proxyQuery(c)}`, headers: {}, expect: [404] })],
};

function eventsCase(c: CaseContext, cls: BadClass, what: string, body: Buffer, expect: number[], o: { query?: URLSearchParams; headers?: Record<string, string> } = {}): BadRequest {
  return { cls, endpoint: 'proxy events', what, method: 'POST', path: `/proxy/events?${o.query ?? proxyQuery(c)}`, headers: { 'content-type': 'application/json', ...o.headers }, body, expect };
}

/** A storefront events body; each case its own shopper (the per-shopper rate limit stays out of the way). */
const eventsBody = (patch: Record<string, unknown> = {}, event: Record<string, unknown> = {}) =>
  ({ consent: true, anonymous_id: `a-${randomUUID()}`, events: [{ id: `e-${randomUUID()}`, type: 'click', product_id: '1', ...event }], ...patch });

const EVENTS: Partial<Record<BadClass, Factory[]>> = {
  forged: [(rng, c) => eventsCase(c, 'forged', 'query signed with another secret', json(eventsBody()), [401], { query: proxyQuery(c, {}, { secret: 'no-no-no-0123456789' }) })],
  malformed: [(rng, c) => eventsCase(c, 'malformed', 'not JSON', junk(rng), [400])],
  truncated: [(rng, c) => eventsCase(c, 'truncated', 'cut short', truncate(rng, json(eventsBody())), [400])],
  wrong_type: [(rng, c) => {
    const [what, patch, event] = pick(rng, [
      ['consent a string', { consent: 'yes' }, {}], ['events an object', { events: { id: 'x' } }, {}], ['event id too short', {}, { id: 'e1' }], ['unknown event type', {}, { type: 'purchase' }],
      ['product id not digits', {}, { product_id: 'abc' }], ['occurred_at not a time', {}, { occurred_at: 'tea time' }], ['51 events', { events: Array.from({ length: 51 }, (_, i) => ({ id: `e-000000${i}`, type: 'click', product_id: '1' })) }, {}],
      ['product_ids not a list', {}, { type: 'impression', product_ids: '1,2' }], ['anonymous_id with a space', { anonymous_id: 'a b' }, {}],
    ] as [string, Record<string, unknown>, Record<string, unknown>][]);
    return eventsCase(c, 'wrong_type', what, json(eventsBody(patch, event)), [400]);
  }],
  wrong_encoding: [
    (rng, c) => { const m = misencoded(rng, json(eventsBody())); return eventsCase(c, 'wrong_encoding', m.what, m.body, [400]); },
    (rng, c) => eventsCase(c, 'wrong_encoding', 'Content-Encoding gzip', gzipSync(json(eventsBody())), [415], { headers: { 'content-encoding': 'gzip' } }),
  ],
  oversized: [(rng, c) => eventsCase(c, 'oversized', 'over 32 KB', oversized(overLimit(rng, c.limits.events)), [413])],
  unknown: [(rng, c) => ({ cls: 'unknown', endpoint: 'proxy events', what: 'wrong method', method: pick(rng, ['GET', 'PUT', 'DELETE']), path: `/proxy/events?${proxyQuery(c)}`, headers: {}, expect: [404] })],
};

const withBody = (r: ApiRoute) => r.method !== 'GET';

function apiCase(cls: BadClass, what: string, r: ApiRoute, c: CaseContext, o: { path?: string; headers?: Record<string, string>; body?: Buffer; expect: number[] }): BadRequest {
  return { cls, endpoint: 'admin API', what: `${r.method} ${(o.path ?? r.path(c)).split('?')[0]}: ${what}`, method: r.method, path: o.path ?? r.path(c), headers: { ...o.headers }, body: o.body, expect: o.expect };
}

const writeRoutes = API.filter(withBody);

const ADMIN_API: Partial<Record<BadClass, Factory[]>> = {
  forged: [(rng, c) => { const r = pick(rng, API); const a = forgedAuthorization(rng, c); return apiCase('forged', a.what, r, c, { headers: { ...a.headers, ...(withBody(r) ? { 'content-type': 'application/json' } : {}) }, body: withBody(r) ? json({}) : undefined, expect: [401] }); }],
  malformed: [(rng, c) => { const r = pick(rng, writeRoutes); return apiCase('malformed', 'not JSON', r, c, { headers: { ...operator(c), 'content-type': 'application/json' }, body: Buffer.from(pick(rng, ['{bad', '{"a":}', "{'a':1}", '[1,', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', 'NaN'])), expect: [400] }); }],
  truncated: [(rng, c) => { const r = pick(rng, writeRoutes); return apiCase('truncated', 'cut short', r, c, { headers: { ...operator(c), 'content-type': 'application/json' }, body: truncate(rng, json({ kind: 'recommend', version: 'abcdef12', reason: 'because', lead_time_days: 3, action: 'exclude' })), expect: [400] }); }],
  wrong_type: [(rng, c) => {
    const r = pick(rng, API.filter((x) => x.wrong.length > 0));
    const w = pick(rng, r.wrong)(c);
    const body = w.body === undefined ? (withBody(r) ? json({}) : undefined) : Buffer.from(typeof w.body === 'string' ? JSON.stringify(w.body) : JSON.stringify(w.body), 'utf8');
    return apiCase('wrong_type', w.what, r, c, { path: w.path, headers: { ...operator(c), ...(body ? { 'content-type': 'application/json' } : {}) }, body, expect: w.status ?? [400] });
  }],
  wrong_encoding: [
    (rng, c) => { const r = pick(rng, writeRoutes); const ct = pick(rng, ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'application/json; charset=utf-16', 'application/json; charset=latin1']); return apiCase('wrong_encoding', `Content-Type ${ct}`, r, c, { headers: { ...operator(c), 'content-type': ct }, body: json({ kind: 'recommend' }), expect: [415] }); },
    (rng, c) => { const r = pick(rng, writeRoutes); return apiCase('wrong_encoding', 'invalid UTF-8', r, c, { headers: { ...operator(c), 'content-type': 'application/json' }, body: withBadUtf8(rng, json({ reason: 'x', kind: 'recommend', action: 'nuke' })), expect: [400] }); },
    (rng, c) => { const r = pick(rng, writeRoutes); return apiCase('wrong_encoding', 'Content-Encoding gzip', r, c, { headers: { ...operator(c), 'content-type': 'application/json', 'content-encoding': pick(rng, ['gzip', 'br', 'deflate']) }, body: gzipSync(json({ kind: 'recommend' })), expect: [415] }); },
  ],
  oversized: [(rng, c) => { const r = pick(rng, writeRoutes); return apiCase('oversized', 'over 1 MB', r, c, { headers: { ...operator(c), 'content-type': 'application/json' }, body: oversized(overLimit(rng, c.limits.api)), expect: [413] }); }],
  unknown: [(rng, c) => {
    const [method, path] = pick(rng, [['GET', '/api/v1/nope'], ['DELETE', '/api/v1/models'], ['PATCH', '/api/v1/controls'], ['GET', '/api/v2/models'], ['POST', '/api/v1/status'], ['GET', '/api/v1/models/promote'], ['PUT', '/api/v1/jobs']] as [string, string][]);
    return { cls: 'unknown', endpoint: 'admin API', what: `${method} ${path}`, method, path: `${path}?${q(c)}`, headers: operator(c), expect: [404] };
  }],
};

const DASHBOARD_JSON_GETS = ['/dashboard/api/overview', '/dashboard/api/forecast/123', '/dashboard/api/runs/compare?ids=1,2'];
const DASHBOARD_ACTIONS = ['/dashboard/actions/product-control', '/dashboard/actions/settings', '/dashboard/actions/lead-time'];
const form = (v: Record<string, string>) => Buffer.from(new URLSearchParams(v).toString(), 'utf8');
const formHeaders = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };

const DASHBOARD: Partial<Record<BadClass, Factory[]>> = {
  forged: [
    (rng, c) => {
      const a = rng.below(3) === 0 ? { what: 'forged session cookie', headers: { cookie: `shopml_dash=v1.${b64url(JSON.stringify({ p: 'op', exp: 4e9, n: 'x' }))}.${b64url('sig')}` } } : forgedAuthorization(rng, c);
      const path = pick(rng, DASHBOARD_JSON_GETS);
      return { cls: 'forged', endpoint: 'dashboard', what: `GET ${path.split('?')[0]}: ${a.what}`, method: 'GET', path, headers: { accept: 'application/json', ...a.headers }, expect: [401] };
    },
    (rng, c) => { const path = pick(rng, DASHBOARD_ACTIONS); const a = forgedAuthorization(rng, c); return { cls: 'forged', endpoint: 'dashboard', what: `POST ${path}: ${a.what}`, method: 'POST', path, headers: { ...formHeaders, ...a.headers }, body: form({ shop: c.shop, product_id: '1', action: 'exclude' }), expect: [401] }; },
    (rng, c) => { const t = forgedSessionToken(rng, c); return { cls: 'forged', endpoint: 'dashboard', what: `embedded page: id_token ${t.what}`, method: 'GET', path: `/dashboard?embedded=1&shop=${c.shop}&id_token=${encodeURIComponent(t.token)}`, headers: { accept: 'text/html' }, expect: [401], html: true }; },
    (rng, c) => ({ cls: 'forged', endpoint: 'dashboard', what: 'page without a credential', method: 'GET', path: pick(rng, ['/dashboard', `/dashboard?shop=${c.shop}`]), headers: { accept: 'text/html' }, expect: [302], html: true }),
    (rng, c) => ({ cls: 'forged', endpoint: 'dashboard', what: 'login with a wrong token', method: 'POST', path: '/dashboard/login', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body: form({ token: pick(rng, ['', 'x', `${c.adminToken} `, c.adminToken.toUpperCase()]) }), expect: [401], html: true }),
    (rng, c) => ({ cls: 'forged', endpoint: 'dashboard', what: 'login posted from another site', method: 'POST', path: '/dashboard/login', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(rng.next() < 0.5 ? { 'sec-fetch-site': 'cross-site' } : { origin: 'https://evil.example.com' }) }, body: form({ token: c.adminToken }), expect: [403], html: true }),
  ],
  malformed: [(rng, c) => { const path = pick(rng, DASHBOARD_ACTIONS); return { cls: 'malformed', endpoint: 'dashboard', what: `POST ${path}: JSON not parsable`, method: 'POST', path, headers: { ...operator(c), 'content-type': 'application/json', accept: 'application/json' }, body: Buffer.from(pick(rng, ['{bad', '[1,', '{"shop":}'])), expect: [400] }; }],
  truncated: [(rng, c) => { const path = pick(rng, DASHBOARD_ACTIONS); return { cls: 'truncated', endpoint: 'dashboard', what: `POST ${path}: JSON cut short`, method: 'POST', path, headers: { ...operator(c), 'content-type': 'application/json', accept: 'application/json' }, body: truncate(rng, json({ shop: c.shop, product_id: '1', action: 'exclude' })), expect: [400] }; }],
  wrong_type: [
    (rng, c) => {
      const [path, what, values] = pick(rng, [
        ['/dashboard/actions/product-control', 'unknown action', { action: 'nuke', product_id: '1' }], ['/dashboard/actions/product-control', 'product id not digits', { action: 'exclude', product_id: 'abc' }],
        ['/dashboard/actions/product-control', 'position zero', { action: 'pin', product_id: '1', position: '0' }], ['/dashboard/actions/settings', 'attribution_days a word', { attribution_days: 'week' }],
        ['/dashboard/actions/settings', 'nothing to change', {}], ['/dashboard/actions/lead-time', 'lead time negative', { product_id: '1', lead_time_days: '-3' }],
        ['/dashboard/actions/lead-time', 'lead time a word', { product_id: '1', lead_time_days: 'soon' }], ['/dashboard/actions/lead-time', 'product id with a space', { product_id: 'a b', lead_time_days: '3' }],
      ] as [string, string, Record<string, string>][]);
      return { cls: 'wrong_type', endpoint: 'dashboard', what: `POST ${path}: ${what}`, method: 'POST', path, headers: { ...operator(c), ...formHeaders }, body: form({ shop: c.shop, ...values }), expect: [400] };
    },
    (rng, c) => { const [path, what] = pick(rng, [[`/dashboard/api/overview?shop=evil.example.com`, 'shop not a domain'], [`/dashboard/api/forecast/a%20b?shop=${c.shop}`, 'product id with a space'], [`/dashboard/api/forecast/${'9'.repeat(80)}?shop=${c.shop}`, 'product id too long']] as [string, string][]); return { cls: 'wrong_type', endpoint: 'dashboard', what: `GET: ${what}`, method: 'GET', path, headers: { ...operator(c), accept: 'application/json' }, expect: [400] }; },
    (rng, c) => ({ cls: 'wrong_type', endpoint: 'dashboard', what: 'action without a shop (operator)', method: 'POST', path: pick(rng, DASHBOARD_ACTIONS), headers: { ...operator(c), ...formHeaders }, body: form({ product_id: '1', action: 'exclude', lead_time_days: '3', attribution_days: '7' }), expect: [400] }),
  ],
  wrong_encoding: [
    (rng, c) => { const ct = pick(rng, ['application/xml', 'text/plain', 'multipart/form-data; boundary=z', 'application/json; charset=utf-16']); return { cls: 'wrong_encoding', endpoint: 'dashboard', what: `action with Content-Type ${ct}`, method: 'POST', path: pick(rng, DASHBOARD_ACTIONS), headers: { ...operator(c), 'content-type': ct, accept: 'application/json' }, body: form({ shop: c.shop }), expect: [415] }; },
    (rng, c) => ({ cls: 'wrong_encoding', endpoint: 'dashboard', what: 'action with Content-Encoding gzip', method: 'POST', path: pick(rng, DASHBOARD_ACTIONS), headers: { ...operator(c), ...formHeaders, 'content-encoding': 'gzip' }, body: gzipSync(form({ shop: c.shop })), expect: [415] }),
    (rng, c) => ({ cls: 'wrong_encoding', endpoint: 'dashboard', what: 'action with invalid UTF-8 in a JSON body', method: 'POST', path: pick(rng, DASHBOARD_ACTIONS), headers: { ...operator(c), 'content-type': 'application/json', accept: 'application/json' }, body: withBadUtf8(rng, json({ shop: c.shop, action: 'x' })), expect: [400] }),
  ],
  oversized: [
    (rng, c) => ({ cls: 'oversized', endpoint: 'dashboard', what: 'form over 32 KB', method: 'POST', path: pick(rng, [...DASHBOARD_ACTIONS, '/dashboard/login']), headers: { ...operator(c), ...formHeaders }, body: Buffer.from(`shop=${c.shop}&pad=${'a'.repeat(overLimit(rng, c.limits.form))}`), expect: [413] }),
    (rng, c) => ({ cls: 'oversized', endpoint: 'dashboard', what: 'JSON over 1 MB', method: 'POST', path: pick(rng, DASHBOARD_ACTIONS), headers: { ...operator(c), 'content-type': 'application/json', accept: 'application/json' }, body: oversized(overLimit(rng, c.limits.api)), expect: [413] }),
  ],
  unknown: [(rng, c) => {
    const [method, path] = pick(rng, [['GET', '/dashboard/nope'], ['GET', '/dashboard/assets/evil.js'], ['GET', '/dashboard/assets/..%2F..%2Fpackage.json'], ['DELETE', '/dashboard'], ['GET', '/dashboard/actions/settings'], ['PUT', '/dashboard/login'], ['GET', '/dashboard/api/nope']] as [string, string][]);
    return { cls: 'unknown', endpoint: 'dashboard', what: `${method} ${path}`, method, path, headers: { ...operator(c), accept: 'application/json' }, expect: [404] };
  }],
};

const EDGE: Partial<Record<BadClass, Factory[]>> = {
  forged: [
    (rng, c) => ({ cls: 'forged', endpoint: 'dashboard', what: 'logout with a forged cookie and no CSRF token', method: 'POST', path: '/dashboard/logout', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `shopml_dash=v1.${b64url(JSON.stringify({ p: 'op', exp: 4e9, n: 'x' }))}.${b64url('sig')}` }, body: form({ _csrf: 'x' }), expect: [303], html: true }),
    (rng, c) => ({ cls: 'forged', endpoint: 'dashboard', what: 'app URL with a forged id_token', method: 'GET', path: `/?shop=${c.shop}&embedded=1&id_token=${encodeURIComponent(forgedSessionToken(rng, c).token)}`, headers: {}, expect: [302], html: true }),
  ],
  wrong_encoding: [(rng, c) => ({ cls: 'wrong_encoding', endpoint: 'dashboard', what: 'logout with Content-Type xml', method: 'POST', path: '/dashboard/logout', headers: { 'content-type': 'application/xml' }, body: Buffer.from('<logout/>'), expect: [415] })],
  unknown: [(rng) => {
    const [method, path] = pick(rng, [['POST', '/healthz'], ['DELETE', '/metrics'], ['GET', '/nope'], ['GET', '/.env'], ['GET', '/admin'], ['PUT', '/readyz'], ['GET', '/api'], ['OPTIONS', '/webhooks']] as [string, string][]);
    return { cls: 'unknown', endpoint: 'health & other', what: `${method} ${path}`, method, path, headers: {}, expect: [404] };
  }],
  malformed: [(rng) => ({ cls: 'malformed', endpoint: 'health & other', what: 'URL not valid percent-encoding', method: 'GET', path: pick(rng, ['/dashboard/%E0%A4%A', '/api/v1/customers/%ZZ/insights', '/flow/actions/%', '/%C0%AF']), headers: {}, expect: [400] })],
  oversized: [
    (rng) => ({ cls: 'oversized', endpoint: 'health & other', what: 'a path parameter over 100 characters', method: 'GET', path: `/api/v1/customers/${'1'.repeat(101 + rng.below(2000))}/insights`, headers: {}, expect: [414] }),
    (rng) => ({ cls: 'oversized', endpoint: 'health & other', what: 'query string over 16 KB', method: 'GET', path: `${pick(rng, ['/healthz', '/readyz', '/metrics', '/', '/dashboard/login'])}?q=${'x'.repeat(17_000 + rng.below(5_000))}`, headers: {}, expect: [431] }),
    (rng, c) => ({ cls: 'oversized', endpoint: 'dashboard', what: 'logout form over 32 KB', method: 'POST', path: '/dashboard/logout', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(`_csrf=${'a'.repeat(overLimit(rng, c.limits.form))}`), expect: [413] }),
  ],
};

export const FAMILIES: Record<string, Partial<Record<BadClass, Factory[]>>> = {
  webhooks: WEBHOOKS, 'flow actions': FLOW_ACTIONS, 'flow lifecycle': FLOW_LIFECYCLE, 'proxy recommendations': PROXY_RECS,
  'proxy events': EVENTS, 'admin API': ADMIN_API, dashboard: DASHBOARD, 'health & other': EDGE,
};

/**
 * `n` bad requests: first one from every factory (every endpoint × class that applies), then
 * factories drawn at random, classes evenly. Oversized bodies are a fixed small share (they are
 * megabytes each).
 */
export function generateBadRequests(rng: Prng, c: CaseContext, n: number): BadRequest[] {
  const all: { cls: BadClass; f: Factory }[] = [];
  for (const family of Object.values(FAMILIES)) for (const cls of CLASSES) for (const f of family[cls] ?? []) all.push({ cls, f });
  const byClass = new Map<BadClass, Factory[]>(CLASSES.map((cls) => [cls, all.filter((x) => x.cls === cls).map((x) => x.f)]));
  const out: BadRequest[] = all.map((x) => x.f(rng, c));
  // Every admin API route forged and wrongly typed at least once; every GET-only route oversized.
  for (const r of API) {
    const a = forgedAuthorization(rng, c);
    out.push(apiCase('forged', a.what, r, c, { headers: { ...a.headers, ...(withBody(r) ? { 'content-type': 'application/json' } : {}) }, body: withBody(r) ? json({}) : undefined, expect: [401] }));
    for (const w of r.wrong) {
      const x = w(c);
      const body = x.body === undefined ? (withBody(r) ? json({}) : undefined) : json(x.body);
      out.push(apiCase('wrong_type', x.what, r, c, { path: x.path, headers: { ...operator(c), ...(body ? { 'content-type': 'application/json' } : {}) }, body, expect: x.status ?? [400] }));
    }
  }
  for (const path of ['/healthz', '/readyz', '/metrics', '/', '/dashboard/login']) {
    out.push({ cls: 'oversized', endpoint: 'health & other', what: 'query string over 16 KB', method: 'GET', path: `${path}?q=${'x'.repeat(17_000 + rng.below(5_000))}`, headers: {}, expect: [431] });
  }
  while (out.length < n) {
    const cls = rng.next() < 0.03 ? 'oversized' : pick(rng, CLASSES.filter((k) => k !== 'oversized'));
    out.push(pick(rng, byClass.get(cls)!)(rng, c));
  }
  for (const r of out) r.headers['x-forwarded-for'] = clientIp(rng);
  return out;
}
