// Reliability, tenancy and auth (issue 7, item 4), against the real backend (Fastify on a port, a
// real SQLite file) with Shopify played by the admin simulator (token exchange) and the signing
// helpers (simulator/sign.ts):
//
//   - property: two shops with data (trained models of every kind, a canary with exposures and
//     conversions, jobs (one dead), tags, controls, lead times, data requests, quarantined
//     deliveries, Flow runs and lifecycle, storefront events). For every route of the server and
//     every way a request can name a shop (query, body, path ids, headers, signed fields), a
//     request carrying shop A's credential (session token, embedded dashboard session, app proxy
//     signature, Flow or webhook HMAC) gets A's data only, or a refusal; no answer carries B's
//     data; every row of B (every table) is byte-for-byte unchanged. Seeded random combinations on
//     top of the full grid; a check that the catalog covers every route Fastify has.
//   - app proxy timestamps: accepted up to the 90 s edge on both sides, refused one second beyond;
//   - session tokens: wrong audience, expired, not yet valid, wrong signature, alg none, another
//     algorithm, a destination that is not a shop: refused on /api/v1 and the dashboard;
//   - the dashboard is never reachable without a credential (every route of the route table);
//   - rate limits on the public endpoints (storefront events, login, wrong credentials) and why
//     the others have none;
//   - security headers and a strict CSP on the dashboard's HTML, sensible headers on JSON.
//
// Known limit, not tested as a property: Shopify's webhook HMAC covers the body only, not
// X-Shopify-Shop-Domain. Bodies that name their shop (compliance topics, app/uninstalled) are
// checked against the header (refused on mismatch, below); an order or product body names no
// shop, so a captured signed delivery replayed under another shop's header cannot be told apart.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminSimulator, type AdminSimulator } from '../../simulator/admin-server.ts';
import { appProxyQuery, flowActionRequest, flowLifecycleRequest, sessionToken, webhookHeaders } from '../../simulator/sign.ts';
import { orderPayload } from '../../simulator/rest-payloads.ts';
import { createPrng, type Prng } from '../../backend/src/ml/prng.ts';
import { claimJob, enqueueJob, failJob } from '../../backend/src/jobs/queue.ts';
import { recordTags } from '../../backend/src/flow/tags.ts';
import { serveStateFor } from '../../backend/src/serve/state.ts';
import { AUTH_FAILURE_BURST } from '../../backend/src/api/auth.ts';
import type { Db } from '../../backend/src/store/db.ts';
import { startTestBackend, TEST_API_KEY, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';
import { storeFor, trainedShop, type TrainedShop } from '../helpers/dashboard-fixture.ts';
import { reportFigures, size } from './profile.ts';
import { routeTable as fastifyRoutes } from './route-table.ts';

const A = 'alpha-tenant.myshopify.com';
const B = 'beta-tenant.myshopify.com';
const RANDOM_PROBES = size(400, 4_000);

let be: TestBackend;
let sim: AdminSimulator;
let a: TrainedShop;
let b: TrainedShop;
let dashA: string; // A's embedded dashboard session (minted from A's session token)
/** What only B has: ids and versions, and strings, that must never appear in an answer to A. */
let bMarkers: Set<string>;
let bStrings: string[];
let bRes: { products: string[]; customers: string[]; orders: string[]; versions: string[]; runs: number[]; experiment: number; deadJob: number; dataRequest: string; recId: string };
const now = new Date();
/** The app's clock (deps.now) stands still while this is set: budgets that refill over time stay put. */
let frozenAt: number | null = null;

const tok = (shop: string, o: Partial<Parameters<typeof sessionToken>[0]> = {}) => sessionToken({ apiKey: TEST_API_KEY, secret: TEST_SECRET, shop, sub: '42', ...o });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

interface Answer { status: number; headers: Headers; text: string }

let client = 0;
/** One request; from its own client address (X-Forwarded-For, one trusted proxy) unless given, so per-address limits stay out of the way. */
async function call(method: string, path: string, o: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  const ip = `10.${100 + ((++client >> 16) & 63)}.${(client >> 8) & 255}.${client & 255}`;
  const res = await fetch(`${be.url}${path}`, { method, redirect: 'manual', headers: { 'x-forwarded-for': ip, ...o.headers }, body: o.body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Every row of `shop` in every table, hashed per table. */
function shopRows(db: Db, shop: string): Record<string, string> {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  const out: Record<string, string> = {};
  for (const t of tables) {
    const cols = (db.prepare(`PRAGMA table_info("${t}")`).all() as { name: string }[]).map((c) => c.name);
    if (!cols.includes('shop')) throw new Error(`table ${t} has no shop column: tenancy cannot be checked`);
    const rows = (db.prepare(`SELECT * FROM "${t}" WHERE shop = ?`).raw().all(shop) as unknown[][])
      .map((r) => JSON.stringify(r, (_k, v) => (Buffer.isBuffer(v) ? v.toString('base64') : typeof v === 'bigint' ? String(v) : v))).sort();
    out[t] = `${rows.length}:${createHash('sha256').update(rows.join('\n')).digest('hex').slice(0, 16)}`;
  }
  return out;
}

/** B's ids, versions and strings found in a text (those the request itself carried apart: an echo is no leak). */
function leaks(text: string, request: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/[0-9a-f]{64}|\d{6,}/g)) if (bMarkers.has(m[0]) && !request.includes(m[0])) found.add(m[0]);
  for (const s of bStrings) if (text.includes(s) && !request.includes(s)) found.add(s);
  return [...found];
}

function webhookFor(shop: string, topic: string, body: unknown, headerShop = shop) {
  const raw = JSON.stringify(body);
  return { body: raw, headers: webhookHeaders({ secret: TEST_SECRET, shop: headerShop, topic, rawBody: raw, webhookId: `t-${randomUUID()}` }) };
}

beforeAll(async () => {
  sim = await startAdminSimulator({ store: [storeFor(A, 31), storeFor(B, 32)], apiKey: TEST_API_KEY, apiSecret: TEST_SECRET });
  be = await startTestBackend({ SHOPIFY_ADMIN_BASE_URL: sim.baseUrlTemplate }, { jobs: false, now: () => new Date(frozenAt ?? Date.now()) });
  const db = be.deps.db;
  const experiment = { days: 6, unitsPerDay: 60, rates: { holdout: 0.04, champion: 0.05, challenger: 0.06 } };
  a = await trainedShop(db, be.deps.keys, { shop: A, seed: 31, artifactsDir: be.config.artifactsDir, now, experiment });
  b = await trainedShop(db, be.deps.keys, { shop: B, seed: 32, artifactsDir: be.config.artifactsDir, now, experiment });
  // A dead job for B (A must not be able to retry it), before the installs queue their backfills.
  enqueueJob(db, { type: 'train', shop: B, reason: 'tenancy fixture', maxAttempts: 1, now });
  const claimed = claimJob(db, { owner: 'tenancy-test', now, leaseMs: 60_000 })!;
  failJob(db, { id: claimed.id, owner: 'tenancy-test', attempt: claimed.attempts }, now, 'Error: boom', { permanent: true, delayMs: 0 });

  // Everything else each shop has, written through the real routes with its own credentials.
  for (const [shop, store] of [[A, a.store], [B, b.store]] as const) {
    const t = () => bearer(tok(shop));
    expect((await call('POST', '/api/v1/session', { headers: t() })).status).toBe(200); // token exchange: offline token, backfill job
    const p = String(store.products[1]!.id);
    expect((await call('PUT', `/api/v1/controls/products/${p}`, { headers: { ...t(), 'content-type': 'application/json' }, body: JSON.stringify({ action: 'pin', position: 1 }) })).status).toBe(200);
    expect((await call('PUT', '/api/v1/controls/settings', { headers: { ...t(), 'content-type': 'application/json' }, body: JSON.stringify({ attribution_days: 9 }) })).status).toBe(200);
    expect((await call('PUT', `/api/v1/products/${p}/lead-time`, { headers: { ...t(), 'content-type': 'application/json' }, body: JSON.stringify({ lead_time_days: 12 }) })).status).toBe(200);
    const c = store.customers[0]!;
    const dr = webhookFor(shop, 'customers/data_request', { shop_id: 1, shop_domain: shop, customer: { id: c.id, email: c.email }, orders_requested: [], data_request: { id: shop === B ? 990_000_000_002 : 990_000_000_001 } });
    expect((await call('POST', '/webhooks', dr)).status).toBe(200);
    expect((await call('POST', '/webhooks', webhookFor(shop, 'orders/create', { id: 'broken' }))).status).toBe(200); // quarantined
    const lc = flowLifecycleRequest({ secret: TEST_SECRET, shop, shopId: 1, flowTriggerDefinitionId: 'churn-risk-rose', hasEnabledFlow: true });
    expect((await call('POST', '/flow/lifecycle', lc)).status).toBe(200);
    const fa = flowActionRequest({ secret: TEST_SECRET, shop, shopId: 1, handle: 'score-customer', actionRunId: `${shop === B ? 'beta' : 'alpha'}-run-1`, actionDefinitionId: 'Score customer', properties: { customer_id: String(c.id) } });
    expect((await call('POST', '/flow/actions/score-customer', fa)).status).toBe(200);
    const recs = await call('GET', `/proxy/recommendations?${appProxyQuery({ secret: TEST_SECRET, shop, extra: { product_id: p, anonymous_id: `anon-${shop.slice(0, 4)}`, consent: '1' } })}`);
    expect(recs.status).toBe(200);
    const recId = (JSON.parse(recs.text) as { rec_id: string }).rec_id;
    if (shop === B) bRes = { ...(bRes ?? {}), recId } as typeof bRes;
    const ev = await call('POST', `/proxy/events?${appProxyQuery({ secret: TEST_SECRET, shop })}`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ consent: true, anonymous_id: `anon-${shop.slice(0, 4)}`, events: [{ id: `e-${shop.slice(0, 4)}-0001`, type: 'click', product_id: p, rec_id: recId }] }) });
    expect(ev.status).toBe(204);
    db.transaction(() => recordTags(db, shop, String(c.id), new Map([['ml-segment', `${shop === B ? 'beta' : 'alpha'}-only-tag`]]), now.toISOString()))();
  }
  const page = await call('GET', `/dashboard?embedded=1&shop=${A}&id_token=${tok(A)}`, { headers: { accept: 'text/html' } });
  expect(page.status).toBe(200);
  dashA = (JSON.parse(/<script type="application\/json" id="dashboard-config">(.*?)<\/script>/s.exec(page.text)![1]!) as { session: string }).session;

  const aIds = new Set([...a.store.products.map((x) => String(x.id)), ...a.store.customers.map((x) => String(x.id)), ...a.store.orders.map((x) => String(x.id))]);
  const only = (ids: number[]) => ids.map(String).filter((x) => !aIds.has(x));
  const versions = db.prepare('SELECT version FROM model_versions WHERE shop = ?').pluck().all(B) as string[];
  const aVersions = new Set(db.prepare('SELECT version FROM model_versions WHERE shop = ?').pluck().all(A) as string[]);
  bRes = {
    ...bRes,
    products: only(b.store.products.map((x) => x.id)), customers: only(b.store.customers.map((x) => x.id)), orders: only(b.store.orders.map((x) => x.id)),
    versions: versions.filter((v) => !aVersions.has(v)),
    runs: db.prepare('SELECT id FROM training_runs WHERE shop = ?').pluck().all(B) as number[],
    experiment: b.experimentId!, deadJob: claimed.id, dataRequest: '990000000002',
  };
  bMarkers = new Set([...bRes.products, ...bRes.customers, ...bRes.orders, ...bRes.versions, bRes.dataRequest]);
  bStrings = [B, 'beta-run-1', 'beta-only-tag', 'e-beta-0001', bRes.recId];
  expect(bRes.products.length).toBeGreaterThan(10);
  expect(bRes.versions.length).toBeGreaterThanOrEqual(5);
}, 240_000);

afterAll(async () => {
  await be?.stop();
  await sim?.close();
});

// --------------------------------------------------------------------------------- the catalog

interface Probe {
  /** The route as in Fastify's table: "POST /api/v1/models/promote". */
  route: string;
  /** How the request names a shop: none, query, body, path (B's resource ids), header, signed (inside signed material). */
  naming: string;
  what: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  expect: number[];
  /** A further check of a 2xx answer (that it holds A's data only), returning what is wrong. */
  check?: (text: string) => string | null;
}

type Maker = (rng: Prng) => Probe[];
const pick = <T>(rng: Prng, xs: readonly T[]): T => xs[rng.below(xs.length)]!;
const OK = [200, 201, 204];
const JSON_CT = { 'content-type': 'application/json' };

/** The shop-A credentials the admin API accepts: a session token (fresh: they live a minute). */
const apiCred = () => bearer(tok(A));
/** The dashboard's: A's embedded session, A's session token as Bearer. */
const dashCred = (rng: Prng) => (rng.next() < 0.5 ? bearer(dashA) : bearer(tok(A)));

type Check = (text: string) => string | null;
function api(route: string, path: string, o: { body?: unknown; ids?: (rng: Prng) => { path?: string; body?: unknown; expect: number[]; what: string; check?: Check }[]; bodyShop?: boolean; ignoresShop?: boolean; none?: number[]; check?: Check } = {}): Maker {
  const [method] = route.split(' ') as [string];
  const withBody = method !== 'GET';
  const q = path.includes('?') ? '&' : '?';
  return (rng) => {
    const body = (b: unknown) => (withBody ? JSON.stringify(b ?? {}) : undefined);
    const h = () => ({ ...apiCred(), ...(withBody ? JSON_CT : {}) });
    const probes: Probe[] = [
      { route, naming: 'none', what: 'own shop', method, path, headers: h(), body: body(o.body), expect: o.none ?? [...OK, 400, 404, 409] },
      { route, naming: 'query', what: '?shop=B', method, path: `${path}${q}shop=${B}`, headers: h(), body: body(o.body), expect: o.ignoresShop ? o.none! : [403] },
      { route, naming: 'query', what: '?shop=A&shop=B', method, path: `${path}${q}shop=${A}&shop=${B}`, headers: h(), body: body(o.body), expect: o.ignoresShop ? o.none! : [403] },
      { route, naming: 'header', what: 'X-Shopify-Shop-Domain: B', method, path, headers: { ...h(), 'x-shopify-shop-domain': B, 'x-shop': B }, body: body(o.body), expect: o.none ?? [...OK, 400, 404, 409] },
    ];
    if (withBody) probes.push({ route, naming: 'body', what: 'body shop B', method, path, headers: h(), body: body({ ...(o.body as object), shop: B }), expect: o.bodyShop ? [403] : o.none ?? [...OK, 400, 404, 409] });
    for (const x of o.ids?.(rng) ?? []) probes.push({ route, naming: 'path', what: x.what, method, path: x.path ?? path, headers: h(), body: withBody ? JSON.stringify(x.body ?? o.body ?? {}) : undefined, expect: x.expect, check: x.check });
    return o.check ? probes.map((p) => ({ ...p, check: p.check ?? o.check })) : probes;
  };
}

const parsed = (text: string) => JSON.parse(text) as Record<string, unknown>;
/** Every object in a JSON answer that has a `shop` field names A. */
const onlyA: Check = (text) => {
  const shops = new Set<string>();
  JSON.parse(text, (k, v) => { if (k === 'shop' && typeof v === 'string') shops.add(v); return v; });
  shops.delete(A);
  return shops.size ? `answer names shops ${[...shops].join(', ')}` : null;
};
/** A recommendations answer lists A's products only. */
const aProducts: Check = (text) => {
  const ids = new Set(a.store.products.map((x) => String(x.id)));
  const foreign = (parsed(text).products as { id: string }[]).filter((x) => !ids.has(String(x.id)));
  return foreign.length ? `products not A's: ${foreign.map((x) => x.id).join(', ')}` : null;
};

const CATALOG: Maker[] = [
  api('GET /api/v1/status', '/api/v1/status', { none: [200], check: onlyA }),
  // The session route answers who the credential is: a shop named anywhere is ignored (A's answer).
  api('POST /api/v1/session', '/api/v1/session', { none: [200], ignoresShop: true, check: onlyA }),
  api('GET /api/v1/products/lead-times', '/api/v1/products/lead-times', { none: [200] }),
  api('PUT /api/v1/products/:id/lead-time', '/api/v1/products/1/lead-time', { body: { lead_time_days: 5 }, none: [200], ids: (rng) => [{ what: "B's product id", path: `/api/v1/products/${pick(rng, bRes.products)}/lead-time`, expect: [200] }] }),
  api('GET /api/v1/data-requests/:id', '/api/v1/data-requests/990000000001', { none: [200], ids: () => [{ what: "B's data request", path: `/api/v1/data-requests/${bRes.dataRequest}`, expect: [404] }] }),
  api('GET /api/v1/models', '/api/v1/models', { none: [200], check: onlyA }),
  api('GET /api/v1/models/history', '/api/v1/models/history', { none: [200] }),
  api('POST /api/v1/models/promote', '/api/v1/models/promote', { body: { kind: 'recommend', version: 'ffffff' }, bodyShop: true, none: [404], ids: (rng) => [{ what: "B's version", body: { kind: 'recommend', version: pick(rng, bRes.versions), to: 'challenger' }, expect: [404] }] }),
  api('POST /api/v1/models/rollback', '/api/v1/models/rollback', { body: { kind: 'churn', to: 'ffffff' }, bodyShop: true, none: [404], ids: (rng) => [{ what: "B's version as target", body: { kind: 'segment', to: pick(rng, bRes.versions) }, expect: [404] }] }),
  api('GET /api/v1/controls', '/api/v1/controls', { none: [200] }),
  api('PUT /api/v1/controls/products/:id', '/api/v1/controls/products/1', { body: { action: 'exclude' }, none: [200], ids: (rng) => [{ what: "B's product id", path: `/api/v1/controls/products/${pick(rng, bRes.products)}`, body: { action: 'exclude' }, expect: [200] }] }),
  api('PUT /api/v1/controls/settings', '/api/v1/controls/settings', { body: { attribution_days: 8 }, none: [200] }),
  api('GET /api/v1/controls/attribution', '/api/v1/controls/attribution', { none: [200] }),
  api('GET /api/v1/jobs', '/api/v1/jobs', { none: [200], check: onlyA, ids: () => [{ what: 'the dead jobs (B has one)', path: '/api/v1/jobs?status=dead', expect: [200] }] }),
  api('POST /api/v1/jobs/:id/retry', '/api/v1/jobs/999999/retry', { none: [404], ids: () => [{ what: "B's dead job", path: `/api/v1/jobs/${bRes.deadJob}/retry`, expect: [404] }] }),
  api('GET /api/v1/customers/:id/insights', `/api/v1/customers/${'1'}/insights`, { none: [200], ids: (rng) => [{ what: "B's customer", path: `/api/v1/customers/${pick(rng, bRes.customers)}/insights`, expect: [200] }, { what: "B's customer as GID", path: `/api/v1/customers/${encodeURIComponent(`gid://shopify/Customer/${pick(rng, bRes.customers)}`)}/insights`, expect: [200] }] }),
  api('GET /api/v1/products/:id/insights', '/api/v1/products/1/insights', { none: [200], ids: (rng) => [{ what: "B's product", path: `/api/v1/products/${pick(rng, bRes.products)}/insights`, expect: [200] }] }),
  api('GET /api/v1/canary', '/api/v1/canary', { none: [200], ids: () => [{ what: "B's experiment id", path: `/api/v1/canary?id=${bRes.experiment}`, expect: [200], check: (t) => (parsed(t).experiment === null ? null : 'an experiment in the answer') }] }),
  api('GET /api/v1/canary/plan', '/api/v1/canary/plan', { none: [200, 409] }),
  api('GET /api/v1/canary/experiments', '/api/v1/canary/experiments', { none: [200], check: onlyA }),
  api('GET /api/v1/canary/shadows', '/api/v1/canary/shadows', { none: [200] }),
  api('POST /api/v1/canary/start', '/api/v1/canary/start', { body: { version: 'ffffff' }, bodyShop: true, none: [400, 404, 409], ids: (rng) => [{ what: "B's version", body: { version: pick(rng, bRes.versions) }, expect: [400, 404, 409] }] }),
  // Deciding on A's own canary changes A (allowed); the point is B, named in the body or query.
  api('POST /api/v1/canary/promote', '/api/v1/canary/promote', { body: { reason: 'tenancy' }, bodyShop: true, none: [200, 409] }),
  api('POST /api/v1/canary/rollback', '/api/v1/canary/rollback', { body: { reason: 'tenancy' }, bodyShop: true, none: [200, 409] }),
  api('POST /api/v1/canary/stop', '/api/v1/canary/stop', { body: { reason: 'tenancy' }, bodyShop: true, none: [200, 409] }),

  // ---- dashboard
  (rng): Probe[] => [
    { route: 'GET /dashboard', naming: 'none', what: 'own page (embedded)', method: 'GET', path: `/dashboard?embedded=1&id_token=${tok(A)}`, headers: { accept: 'text/html' }, expect: [200] },
    { route: 'GET /dashboard', naming: 'query', what: 'id_token A, ?shop=B', method: 'GET', path: `/dashboard?embedded=1&id_token=${tok(A)}&shop=${B}`, headers: { accept: 'text/html' }, expect: [403] },
    { route: 'GET /dashboard', naming: 'query', what: 'A session, ?shop=B', method: 'GET', path: `/dashboard?shop=${B}`, headers: { accept: 'text/html', ...dashCred(rng) }, expect: [403] },
    { route: 'GET /dashboard', naming: 'path', what: "B's run ids to compare", method: 'GET', path: `/dashboard?ids=${bRes.runs.slice(0, 3).join(',')}`, headers: { accept: 'text/html', ...dashCred(rng) }, expect: [200] },
    { route: 'GET /dashboard', naming: 'header', what: 'X-Shopify-Shop-Domain: B', method: 'GET', path: '/dashboard', headers: { accept: 'text/html', ...dashCred(rng), 'x-shopify-shop-domain': B }, expect: [200] },
  ],
  (rng): Probe[] => [
    { route: 'GET /dashboard/api/overview', naming: 'none', what: 'own', method: 'GET', path: '/dashboard/api/overview', headers: { accept: 'application/json', ...dashCred(rng) }, expect: [200] },
    { route: 'GET /dashboard/api/overview', naming: 'query', what: '?shop=B', method: 'GET', path: `/dashboard/api/overview?shop=${B}`, headers: { accept: 'application/json', ...dashCred(rng) }, expect: [403] },
    { route: 'GET /dashboard/api/overview', naming: 'path', what: "B's run ids", method: 'GET', path: `/dashboard/api/overview?ids=${bRes.runs.join(',')}`, headers: { accept: 'application/json', ...dashCred(rng) }, expect: [200] },
  ],
  (rng): Probe[] => [
    { route: 'GET /dashboard/api/forecast/:product', naming: 'path', what: "B's product", method: 'GET', path: `/dashboard/api/forecast/${pick(rng, bRes.products)}`, headers: { accept: 'application/json', ...dashCred(rng) }, expect: [404] },
    { route: 'GET /dashboard/api/forecast/:product', naming: 'query', what: '?shop=B', method: 'GET', path: `/dashboard/api/forecast/${pick(rng, bRes.products)}?shop=${B}`, headers: { accept: 'application/json', ...dashCred(rng) }, expect: [403] },
    { route: 'GET /dashboard/api/forecast/:product', naming: 'none', what: "A's product", method: 'GET', path: `/dashboard/api/forecast/${a.store.products[0]!.id}`, headers: { accept: 'application/json', ...dashCred(rng) }, expect: [200, 404] },
  ],
  (rng): Probe[] => [
    { route: 'GET /dashboard/api/runs/compare', naming: 'path', what: "B's run ids", method: 'GET', path: `/dashboard/api/runs/compare?ids=${bRes.runs.join(',')}`, headers: { accept: 'application/json', ...dashCred(rng) }, expect: [200], check: (t) => ((parsed(t).comparison as { runs: unknown[] }).runs.length === 0 ? null : "B's runs compared") },
    { route: 'GET /dashboard/api/runs/compare', naming: 'query', what: '?shop=B', method: 'GET', path: `/dashboard/api/runs/compare?shop=${B}`, headers: { accept: 'application/json', ...dashCred(rng) }, expect: [403] },
  ],
  ...(['product-control', 'settings', 'lead-time'] as const).map((action): Maker => (rng) => {
    const fields: Record<string, string> = action === 'product-control' ? { product_id: pick(rng, bRes.products), action: 'exclude' } : action === 'settings' ? { attribution_days: '6' } : { product_id: pick(rng, bRes.products), lead_time_days: '4' };
    const form = (extra: Record<string, string>) => new URLSearchParams({ ...fields, ...extra }).toString();
    const h = () => ({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...dashCred(rng) });
    const route = `POST /dashboard/actions/${action}`;
    return [
      { route, naming: 'body', what: 'form shop=B', method: 'POST', path: `/dashboard/actions/${action}`, headers: h(), body: form({ shop: B }), expect: [403] },
      { route, naming: 'query', what: '?shop=B', method: 'POST', path: `/dashboard/actions/${action}?shop=${B}`, headers: h(), body: form({}), expect: [403] },
      { route, naming: 'path', what: "B's product id, own shop", method: 'POST', path: `/dashboard/actions/${action}`, headers: h(), body: form({ shop: A }), expect: [200] },
      { route, naming: 'header', what: 'X-Shopify-Shop-Domain: B', method: 'POST', path: `/dashboard/actions/${action}`, headers: { ...h(), 'x-shopify-shop-domain': B }, body: form({}), expect: [200] },
    ];
  }),
  (rng) => [{ route: 'GET /dashboard/assets/:file', naming: 'query', what: 'code, no data', method: 'GET', path: `/dashboard/assets/dashboard.js?shop=${B}`, headers: dashCred(rng), expect: [200] }],
  (rng): Probe[] => [
    { route: 'GET /dashboard/login', naming: 'query', what: 'A session, ?shop=B', method: 'GET', path: `/dashboard/login?shop=${B}`, headers: dashCred(rng), expect: [200] },
    { route: 'POST /dashboard/login', naming: 'body', what: "A's session token as the operator token", method: 'POST', path: '/dashboard/login', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body: `token=${tok(A)}&shop=${B}`, expect: [401] },
    { route: 'POST /dashboard/logout', naming: 'body', what: 'logout naming B', method: 'POST', path: '/dashboard/logout', headers: { 'content-type': 'application/x-www-form-urlencoded', ...dashCred(rng) }, body: `shop=${B}`, expect: [303] },
    { route: 'GET /', naming: 'query', what: 'app URL with id_token A, shop=B', method: 'GET', path: `/?shop=${B}&embedded=1&id_token=${tok(A)}`, headers: {}, expect: [302] },
  ],

  // ---- app proxy (signed for A)
  (rng) => {
    const signed = (extra: Record<string, string>, customer = '') => appProxyQuery({ secret: TEST_SECRET, shop: A, loggedInCustomerId: customer, extra });
    const route = 'GET /proxy/recommendations';
    const replaced = signed({ product_id: String(a.store.products[0]!.id) });
    replaced.set('shop', B);
    return ([
      { route, naming: 'signed', what: "B's products in the signed query", method: 'GET', path: `/proxy/recommendations?${signed({ product_id: [pick(rng, bRes.products), pick(rng, bRes.products)].join(','), limit: '8' })}`, headers: {}, expect: [200] },
      { route, naming: 'signed', what: "B's customer as the logged-in customer", method: 'GET', path: `/proxy/recommendations?${signed({ limit: '8' }, pick(rng, bRes.customers))}`, headers: {}, expect: [200] },
      { route, naming: 'signed', what: 'shop_domain=B signed as an extra parameter', method: 'GET', path: `/proxy/recommendations?${signed({ shop_domain: B, anonymous_id: 'anon-beta' })}`, headers: {}, expect: [200] },
      { route, naming: 'query', what: 'shop=B appended', method: 'GET', path: `/proxy/recommendations?${signed({})}&shop=${B}`, headers: {}, expect: [401] },
      { route, naming: 'query', what: "shop replaced by B, A's signature", method: 'GET', path: `/proxy/recommendations?${replaced}`, headers: {}, expect: [401] },
      { route, naming: 'header', what: 'X-Shopify-Shop-Domain: B', method: 'GET', path: `/proxy/recommendations?${signed({ consent: '1', anonymous_id: `u-${rng.below(1e6)}` })}`, headers: { 'x-shopify-shop-domain': B }, expect: [200] },
    ] as Probe[]).map((p) => ({ ...p, check: aProducts }));
  },
  (rng) => {
    const q = appProxyQuery({ secret: TEST_SECRET, shop: A });
    const route = 'POST /proxy/events';
    const events = (extra: Record<string, unknown> = {}, e: Record<string, unknown> = {}) => JSON.stringify({ consent: true, anonymous_id: `u-${randomUUID().slice(0, 8)}`, events: [{ id: `e-${randomUUID()}`, type: 'click', product_id: pick(rng, bRes.products), ...e }], ...extra });
    const replaced = new URLSearchParams(q);
    replaced.set('shop', B);
    return [
      { route, naming: 'signed', what: "B's rec_id in A's event", method: 'POST', path: `/proxy/events?${q}`, headers: JSON_CT, body: events({}, { rec_id: bRes.recId }), expect: [204] },
      { route, naming: 'body', what: 'body shop B', method: 'POST', path: `/proxy/events?${q}`, headers: JSON_CT, body: events({ shop: B }), expect: [204] },
      { route, naming: 'query', what: 'shop=B appended', method: 'POST', path: `/proxy/events?${q}&shop=${B}`, headers: JSON_CT, body: events(), expect: [401] },
      { route, naming: 'query', what: "shop replaced by B, A's signature", method: 'POST', path: `/proxy/events?${replaced}`, headers: JSON_CT, body: events(), expect: [401] },
      { route, naming: 'header', what: 'X-Shopify-Shop-Domain: B', method: 'POST', path: `/proxy/events?${q}`, headers: { ...JSON_CT, 'x-shopify-shop-domain': B }, body: events(), expect: [204] },
    ];
  },

  // ---- Flow (signed for A)
  (rng) => {
    const route = 'POST /flow/actions/:handle';
    const act = (handle: string, properties: Record<string, unknown>) => flowActionRequest({ secret: TEST_SECRET, shop: A, shopId: 1, handle, actionDefinitionId: 'x', properties });
    const score = act('score-customer', { customer_id: pick(rng, bRes.customers) });
    const tag = act('tag-customer-ml-segment', { customer_id: pick(rng, bRes.customers) });
    const send = act('send-order-to-shopml', { order_id: pick(rng, bRes.orders) });
    const edited = act('score-customer', { customer_id: String(a.store.customers[0]!.id) });
    return [
      { route, naming: 'signed', what: "score B's customer", method: 'POST', path: '/flow/actions/score-customer', ...score, expect: [200] },
      { route, naming: 'signed', what: "tag B's customer", method: 'POST', path: '/flow/actions/tag-customer-ml-segment', ...tag, expect: [200, 422] },
      { route, naming: 'signed', what: "send B's order", method: 'POST', path: '/flow/actions/send-order-to-shopml', ...send, expect: [200, 422, 503] },
      { route, naming: 'query', what: '?shop=B on the URL', method: 'POST', path: `/flow/actions/score-customer?shop=${B}`, ...act('score-customer', { customer_id: String(a.store.customers[0]!.id) }), expect: [200] },
      { route, naming: 'header', what: 'X-Shopify-Shop-Domain: B', method: 'POST', path: '/flow/actions/score-customer', body: score.body, headers: { ...score.headers, 'x-shopify-shop-domain': B }, expect: [200] },
      { route, naming: 'body', what: "shopify_domain edited to B, A's HMAC", method: 'POST', path: '/flow/actions/score-customer', headers: edited.headers, body: edited.body.replace(A, B), expect: [401] },
    ].map((p) => ({ ...p, headers: p.headers as Record<string, string> }));
  },
  () => {
    const route = 'POST /flow/lifecycle';
    const lc = () => flowLifecycleRequest({ secret: TEST_SECRET, shop: A, shopId: 1, flowTriggerDefinitionId: 'stock-out-predicted', hasEnabledFlow: true });
    const edited = lc();
    return [
      { route, naming: 'query', what: '?shop=B', method: 'POST', path: `/flow/lifecycle?shop=${B}`, ...lc(), expect: [200] },
      { route, naming: 'body', what: "shopify_domain edited to B, A's HMAC", method: 'POST', path: '/flow/lifecycle', headers: edited.headers, body: edited.body.replace(A, B), expect: [401] },
    ];
  },

  // ---- webhooks (signed for A)
  (rng) => {
    const route = 'POST /webhooks';
    const order = orderPayload(a.store.orders[rng.below(a.store.orders.length)]!, a.store) as Record<string, unknown> & { line_items: Record<string, unknown>[]; customer: Record<string, unknown> | null };
    order.id = 700_000_000_000 + rng.below(1e9);
    order.customer = { id: Number(pick(rng, bRes.customers)), email: null };
    order.line_items = order.line_items.map((l, i) => ({ ...l, id: Number(order.id) * 10 + i, product_id: Number(pick(rng, bRes.products)), properties: [{ name: '_shopml_rec', value: bRes.recId }] }));
    const bc = Number(pick(rng, bRes.customers));
    const redactB = webhookFor(A, 'customers/redact', { shop_id: 1, shop_domain: B, customer: { id: bc }, orders_to_redact: [] });
    const replayToB = webhookFor(A, 'customers/redact', { shop_id: 1, shop_domain: A, customer: { id: Number(a.store.customers[2]!.id) }, orders_to_redact: [] }, B);
    return [
      { route, naming: 'signed', what: "A's order naming B's customer, products and rec_id", method: 'POST', path: `/webhooks?shop=${B}`, ...webhookFor(A, 'orders/create', order), expect: [200] },
      { route, naming: 'signed', what: "customers/redact of A for B's customer id", method: 'POST', path: '/webhooks', ...webhookFor(A, 'customers/redact', { shop_id: 1, shop_domain: A, customer: { id: bc }, orders_to_redact: [Number(pick(rng, bRes.orders))] }), expect: [200] },
      { route, naming: 'signed', what: "customers/data_request of A for B's customer", method: 'POST', path: '/webhooks', ...webhookFor(A, 'customers/data_request', { shop_id: 1, shop_domain: A, customer: { id: bc }, orders_requested: [Number(pick(rng, bRes.orders))], data_request: { id: 880_000_000_000 + rng.below(1e9) } }), expect: [200] },
      { route, naming: 'body', what: 'customers/redact body naming B, header A', method: 'POST', path: '/webhooks', ...redactB, expect: [401] },
      { route, naming: 'header', what: "A's customers/redact replayed with header B", method: 'POST', path: '/webhooks', ...replayToB, expect: [401] },
      { route, naming: 'body', what: 'shop/redact naming B, header A', method: 'POST', path: '/webhooks', ...webhookFor(A, 'shop/redact', { shop_id: 2, shop_domain: B }), expect: [401] },
      { route, naming: 'body', what: 'app/uninstalled naming B, header A', method: 'POST', path: '/webhooks', ...webhookFor(A, 'app/uninstalled', { id: 2, myshopify_domain: B, domain: B }), expect: [401] },
    ];
  },

  // ---- health (no credential, no shop data)
  (): Probe[] => ['/healthz', '/readyz', '/metrics'].map((p) => ({ route: `GET ${p}`, naming: 'query' as const, what: '?shop=B', method: 'GET', path: `${p}?shop=${B}`, headers: {}, expect: [200] })),
  (): Probe[] => [{ route: 'OPTIONS /api/v1/*', naming: 'query', what: 'CORS preflight naming B', method: 'OPTIONS', path: `/api/v1/models?shop=${B}`, headers: { origin: 'https://admin.shopify.com', 'access-control-request-method': 'GET' }, expect: [204] }],
];

const routeTable = () => fastifyRoutes(be.app);

// --------------------------------------------------------------------------------- the property

describe('tenancy: a credential for shop A never reads or changes shop B', () => {
  it('every route is in the catalog (the property below covers all of them)', () => {
    const rng = createPrng('tenancy-coverage');
    const covered = new Set(CATALOG.flatMap((m) => m(rng).map((p) => p.route)));
    // The dashboard's catch-all answers 404 to everything (checked without a credential below).
    const routes = [...routeTable()].filter((r) => !r.endsWith(' /dashboard/*'));
    expect(routes.filter((r) => !covered.has(r))).toEqual([]);
    expect(routes.length).toBeGreaterThan(40);
  });

  it(`A's credential, every endpoint × every way to name B (grid + ${RANDOM_PROBES} random): A's data or a refusal, B untouched`, async () => {
    const db = be.deps.db;
    // Exposures and serving counts are buffered by the serving state: what the fixture served is written now.
    const flush = () => serveStateFor(be.deps).flush();
    await flush();
    const before = shopRows(db, B);
    const aBefore = shopRows(db, A);
    const rng = createPrng('tenancy-7');
    const grid = CATALOG.flatMap((m) => m(rng));
    const random: Probe[] = [];
    while (random.length < RANDOM_PROBES) random.push(pick(rng, pick(rng, CATALOG)(rng)));
    const failures: string[] = [];
    const byNaming: Record<string, Record<string, number>> = {};
    let checkpoints = 0;
    let adopted = 0;
    const probes = [...grid, ...random];
    for (let i = 0; i < probes.length; i++) {
      const p = probes[i]!;
      const r = await call(p.method, p.path, { headers: p.headers, body: p.body });
      (byNaming[p.naming] ??= {})[String(r.status)] = (byNaming[p.naming]![String(r.status)] ?? 0) + 1;
      const label = `${p.route} [${p.naming}: ${p.what}]`;
      if (!p.expect.includes(r.status)) failures.push(`${label}: ${r.status}, expected ${p.expect.join('|')}: ${r.text.slice(0, 160)}`);
      const wrong = r.status < 300 && p.check ? p.check(r.text) : null;
      if (wrong) failures.push(`${label}: ${wrong}`);
      const asked = `${p.path} ${p.body ?? ''}`;
      const leaked = [...leaks(r.text, asked), ...leaks(r.headers.get('location') ?? '', `${asked} ${B}`)];
      if (leaked.length > 0) failures.push(`${label}: answer carries B's ${leaked.slice(0, 3).join(', ')}`);
      // An id A itself wrote into its own rows (excluding B's product id in A's controls, say) is
      // A's data from then on: it stops being a marker of B. Versions and B's strings never do.
      if (r.status < 300) for (const m of asked.matchAll(/\d{6,}/g)) if (bMarkers.has(m[0])) { bMarkers.delete(m[0]); adopted++; }
      if (i % 100 === 99 || i === probes.length - 1) {
        checkpoints++;
        await flush();
        const now = shopRows(db, B);
        const changed = Object.keys(before).filter((t) => before[t] !== now[t]);
        if (changed.length > 0) {
          failures.push(`B's rows changed (${changed.join(', ')}) within probes ${i - 99}..${i}`);
          break;
        }
      }
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(shopRows(db, B)).toEqual(before);
    // A's credential did act on A (the property is not vacuous): A's rows moved.
    const aAfter = shopRows(db, A);
    const aChanged = Object.keys(aBefore).filter((t) => aBefore[t] !== aAfter[t]);
    expect(aChanged).toEqual(expect.arrayContaining(['storefront_events', 'events', 'serve_product_controls', 'product_settings', 'flow_action_runs', 'data_requests', 'tombstones']));
    // B's rec_id in A's events: stored for A, attributed to nothing of B.
    const crossed = db.prepare('SELECT variant, model_version, experiment_id FROM storefront_events WHERE shop = ? AND rec_id = ?').all(A, bRes.recId) as Record<string, unknown>[];
    expect(crossed.length).toBeGreaterThan(0);
    for (const row of crossed) expect(row).toEqual({ variant: null, model_version: null, experiment_id: null });
    reportFigures('tenancy', {
      routes: routeTable().size, grid_probes: grid.length, random_probes: random.length, b_tables_checked: Object.keys(before).length,
      b_rows_checked: Object.values(before).reduce((s, v) => s + Number(v.split(':')[0]), 0), checkpoints, a_tables_changed: aChanged.length, ids_adopted_by_a: adopted,
      status_by_naming: byNaming, failures: failures.length,
    });
  }, size(180_000, 1_200_000));
});

// --------------------------------------------------------------------------------- app proxy window

describe('app proxy timestamps', () => {
  it('accepted up to 90 s either side of the server clock, refused one second beyond', async () => {
    let results: (readonly [number, number])[] = [];
    let attempts = 0;
    for (;;) {
      // Start right after a second ticks, so the server's whole second is the one signed against;
      // if the requests straddled a tick (a loaded machine), the edges were not exact: again.
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
      const nowSec = Math.floor(Date.now() / 1000);
      const status = async (offset: number) => (await call('GET', `/proxy/recommendations?${appProxyQuery({ secret: TEST_SECRET, shop: A, timestamp: nowSec + offset })}`)).status;
      results = await Promise.all([-90, 90, -91, 91, -3600, 86_400, 0].map(async (o) => [o, await status(o)] as const));
      attempts++;
      if (Math.floor(Date.now() / 1000) === nowSec) break;
      expect(attempts, 'seven requests never fitted in one second').toBeLessThan(5);
    }
    expect(Object.fromEntries(results)).toEqual({ '-90': 200, '90': 200, '-91': 401, '91': 401, '-3600': 401, '86400': 401, '0': 200 });
    const ev = (o: number) => call('POST', `/proxy/events?${appProxyQuery({ secret: TEST_SECRET, shop: A, timestamp: Math.floor(Date.now() / 1000) + o })}`, { headers: JSON_CT, body: JSON.stringify({ consent: false, events: [] }) });
    expect((await ev(-200)).status).toBe(401);
    expect((await ev(0)).status).toBe(204);
    reportFigures('tenancy-proxy-window', { tolerance_seconds: 90, results: Object.fromEntries(results) });
  });
});

// --------------------------------------------------------------------------------- session tokens

describe('session tokens', () => {
  const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');
  const jwt = (header: object, claims: object, sign: (input: string) => string) => { const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`; return `${input}.${sign(input)}`; };
  const hs256 = (secret: string) => (input: string) => createHmac('sha256', secret).update(input).digest('base64url');

  it('wrong audience, expired, not yet valid, wrong signature, alg none, HS512, no shop: refused on /api/v1 and the dashboard', async () => {
    const t = Math.floor(Date.now() / 1000);
    const claims = { iss: `https://${A}/admin`, dest: `https://${A}`, aud: TEST_API_KEY, sub: '42', exp: t + 60, nbf: t, iat: t, jti: randomUUID(), sid: 's' };
    const bad: Record<string, string> = {
      'wrong audience': tok(A, { apiKey: 'another-apps-key' }),
      'expired a minute ago': tok(A, { iat: t - 120, exp: t - 60 }),
      'not valid for another minute': tok(A, { iat: t, nbf: t + 60, exp: t + 120 }),
      'signed with another secret': sessionToken({ apiKey: TEST_API_KEY, secret: 'not-the-app-secret-000', shop: A }),
      'claims changed after signing': (() => { const [h, , s] = tok(A).split('.'); return `${h}.${b64(JSON.stringify({ ...claims, dest: `https://${B}` }))}.${s}`; })(),
      'alg none': `${b64(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64(JSON.stringify(claims))}.`,
      'HS512 with the app secret': jwt({ alg: 'HS512', typ: 'JWT' }, claims, (i) => createHmac('sha512', TEST_SECRET).update(i).digest('base64url')),
      'destination not a shop': jwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, dest: 'https://example.com' }, hs256(TEST_SECRET)),
      'no expiry': jwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: undefined }, hs256(TEST_SECRET)),
    };
    const outcome: Record<string, number[]> = {};
    for (const [what, token] of Object.entries(bad)) {
      const answers = [
        await call('GET', '/api/v1/models', { headers: bearer(token) }),
        await call('GET', '/dashboard/api/overview', { headers: { ...bearer(token), accept: 'application/json' } }),
        await call('GET', `/dashboard?embedded=1&id_token=${encodeURIComponent(token)}`, { headers: { accept: 'text/html' } }),
      ];
      outcome[what] = answers.map((r) => r.status);
      for (const r of answers) expect(r.status, what).toBe(401);
      for (const r of answers) expect(leaks(r.text, ''), what).toEqual([]);
    }
    // The same request with a good token: 200 (the refusals above are about the token only).
    expect((await call('GET', '/api/v1/models', { headers: bearer(tok(A)) })).status).toBe(200);
    // Shopify's own clock tolerance (10 s, @shopify/shopify-api): a token a few seconds past exp still passes.
    expect((await call('GET', '/api/v1/models', { headers: bearer(tok(A, { iat: t - 63, exp: t - 3 })) })).status).toBe(200);
    reportFigures('tenancy-session-tokens', { refused: Object.keys(outcome).length, outcome });
  });
});

// --------------------------------------------------------------------------------- dashboard auth

describe('the dashboard without a credential', () => {
  it('no route of /dashboard answers with data: pages redirect to the login, JSON and actions are 401', async () => {
    const routes = [...routeTable()].filter((r) => (r.includes(' /dashboard') || r === 'GET /') && /^(GET|POST|PUT|DELETE|PATCH) /.test(r));
    const fill = (path: string) => path.replace(':product', String(a.store.products[0]!.id)).replace(':file', 'dashboard.js').replace('*', 'anything');
    const seen: Record<string, number> = {};
    await serveStateFor(be.deps).flush();
    const rowsBefore = [shopRows(be.deps.db, A), shopRows(be.deps.db, B)];
    for (const r of routes) {
      const [method, path] = r.split(' ') as [string, string];
      for (const [label, headers] of [['none', {}], ['forged cookie', { cookie: 'shopml_dash=v1.eyJwIjoib3AiLCJleHAiOjk5OTk5OTk5OTksIm4iOiJ4In0.AAAA' }], ['expired id token', {}]] as const) {
        const q = label === 'expired id token' ? `?shop=${A}&id_token=${tok(A, { iat: 1_700_000_000, exp: 1_700_000_060 })}` : `?shop=${A}`;
        for (const accept of ['text/html', 'application/json']) {
          const res = await call(method, `${fill(path)}${q}`, { headers: { accept, ...headers, ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) }, body: method === 'POST' ? `shop=${A}&product_id=1&action=exclude&attribution_days=3&lead_time_days=2&token=` : undefined });
          seen[`${r} (${label}, ${accept.split('/')[1]})`] = res.status;
          // Never a shop's data: no A or B marker, whatever the status.
          expect(res.text.includes('alpha-only-tag') || res.text.includes(String(a.champion.recommend)) || leaks(res.text, '').length > 0, r).toBe(false);
          if (path === '/dashboard/assets/:file') { expect(res.status).toBe(200); continue; } // code, no data
          if (path === '/dashboard/login') { expect([200, 401, 403]).toContain(res.status); continue; } // the login form itself
          if (path === '/dashboard/logout') { expect(res.status).toBe(303); continue; } // clears a cookie, reads nothing
          if (path === '/') { expect(res.status).toBe(302); expect(res.headers.get('location')).toMatch(/^\/dashboard\?/); continue; }
          if (path === '/dashboard/*') { expect([401, 404]).toContain(res.status); continue; }
          expect([302, 401], `${r} ${label} ${accept}`).toContain(res.status);
          if (res.status === 302) expect(res.headers.get('location')).toMatch(/^\/dashboard\/login/);
        }
      }
    }
    await serveStateFor(be.deps).flush();
    expect([shopRows(be.deps.db, A), shopRows(be.deps.db, B)]).toEqual(rowsBefore); // nothing written
    reportFigures('tenancy-dashboard-auth', { routes: routes.length, requests: Object.keys(seen).length });
  });
});

// --------------------------------------------------------------------------------- rate limits

describe('rate limits on public endpoints', () => {
  it('storefront events: one shopper gets 20 at once then 429 with Retry-After; another shopper is unaffected', async () => {
    const q = () => appProxyQuery({ secret: TEST_SECRET, shop: A });
    const send = (anon: string) => call('POST', `/proxy/events?${q()}`, { headers: JSON_CT, body: JSON.stringify({ consent: false, anonymous_id: anon, events: [] }) });
    const t0 = Date.now();
    const statuses = await Promise.all(Array.from({ length: 40 }, () => send('burst-shopper').then((r) => r.status)));
    const refilled = Math.ceil((Date.now() - t0) / 1000); // one token a second comes back meanwhile
    const accepted = statuses.filter((x) => x === 204).length;
    expect(accepted).toBeGreaterThanOrEqual(20);
    expect(accepted).toBeLessThanOrEqual(20 + refilled);
    expect(statuses.filter((x) => x === 429).length).toBe(40 - accepted);
    const limited = await send('burst-shopper');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(JSON.parse(limited.text)).toMatchObject({ error: 'rate_limited' });
    expect((await send('another-shopper')).status).toBe(204);
  });

  it('dashboard login: 10 attempts per client address, then 429 — a forged X-Forwarded-For does not reset it', async () => {
    const attempt = (xff: string) => call('POST', '/dashboard/login', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', 'x-forwarded-for': xff }, body: 'token=wrong-token-guess' });
    // The trusted proxy appends the real client (10.7.7.7); what the client wrote before it is ignored.
    const statuses = await Promise.all(Array.from({ length: 14 }, (_, i) => attempt(`203.0.113.${i}, 10.7.7.7`).then((r) => r.status)));
    // 10 at once, one more every 6 s: all 14 within a few seconds leave 4 (or 3) refused.
    expect(statuses.filter((x) => x === 401).length).toBeGreaterThanOrEqual(10);
    expect(statuses.filter((x) => x === 429).length).toBeGreaterThanOrEqual(3);
    expect(statuses.filter((x) => x !== 401 && x !== 429)).toEqual([]);
    expect((await attempt('10.7.7.8')).status).toBe(401); // another client still has its attempts
    const ok = await call('POST', '/dashboard/login', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', 'x-forwarded-for': '10.7.7.9' }, body: `token=${be.config.adminToken}` });
    expect(ok.status).toBe(303);
  });

  it(`wrong credentials on /api/v1 and the dashboard: ${AUTH_FAILURE_BURST} per client address, then 429 even for a right one`, async () => {
    const from = (ip: string, headers: Record<string, string>, path = '/api/v1/status') => call('GET', path, { headers: { ...headers, accept: 'application/json', 'x-forwarded-for': ip } });
    frozenAt = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < AUTH_FAILURE_BURST; i++) statuses.push((await from('10.8.8.8', bearer(`guess-${i}-${'x'.repeat(20)}`), i % 2 ? '/api/v1/status' : '/dashboard/api/overview')).status);
    expect(statuses).toEqual(Array(AUTH_FAILURE_BURST).fill(401));
    const blocked = await from('10.8.8.8', bearer(be.config.adminToken));
    expect(blocked.status).toBe(429); // guessing stops, a right guess included
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await from('10.8.8.8', bearer(tok(A)), '/dashboard/api/overview')).status).toBe(429);
    expect((await from('10.8.8.9', bearer(be.config.adminToken))).status).toBe(200); // other clients are not affected
    frozenAt += 3_000; // one more attempt comes back every 3 s
    expect((await from('10.8.8.8', bearer(be.config.adminToken))).status).toBe(200);
    expect((await from('10.8.8.8', bearer('another-guess-xxxxxxxxxxxxxxxx'))).status).toBe(401);
    expect((await from('10.8.8.8', bearer(be.config.adminToken))).status).toBe(429);
    // Requests without any credential do not spend the budget (a browser before it logs in).
    for (let i = 0; i < AUTH_FAILURE_BURST + 5; i++) expect((await from('10.8.8.10', {})).status).toBe(401);
    expect((await from('10.8.8.10', bearer(be.config.adminToken))).status).toBe(200);
    frozenAt = null;
  });

  it('no limit on recommendations (signed by Shopify, read-only), webhooks and Flow (HMAC-verified, Shopify retries): documented choices', async () => {
    // A shopper reloading quickly still gets lists: 60 in a row, all 200.
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await call('GET', `/proxy/recommendations?${appProxyQuery({ secret: TEST_SECRET, shop: A, extra: { anonymous_id: 'fast-shopper', consent: '1' } })}`)).status);
    expect(new Set(statuses)).toEqual(new Set([200]));
  });
});

// --------------------------------------------------------------------------------- headers

describe('security headers', () => {
  function expectStrictHtml(res: Answer, embedded: boolean) {
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'", "form-action 'self'", "base-uri 'none'"]) expect(csp).toContain(d);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*\s|data:|http:/);
    expect(csp).toContain(embedded ? `frame-ancestors https://admin.shopify.com https://${A}` : "frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(res.headers.get('permissions-policy')).toContain('camera=()');
    expect(res.headers.get('cache-control')).toBe('no-store');
    if (!embedded) expect(res.headers.get('x-frame-options')).toBe('DENY');
    // No inline script or style in the page itself (the CSP would block it anyway).
    expect(res.text).not.toMatch(/<script(?![^>]*(src=|type="application\/json"))[^>]*>|style="|<style|\son[a-z]+="/i);
  }

  it('every dashboard HTML page: a strict CSP (no inline code), framing only by Shopify when embedded, HSTS over https', async () => {
    const op = bearer(be.config.adminToken);
    expectStrictHtml(await call('GET', `/dashboard?shop=${A}`, { headers: { ...op, accept: 'text/html' } }), false);
    expectStrictHtml(await call('GET', '/dashboard/login', { headers: { accept: 'text/html' } }), false);
    expectStrictHtml(await call('GET', `/dashboard?shop=${A}`, { headers: { accept: 'text/html', authorization: 'Bearer wrong' } }), false);
    expectStrictHtml(await call('GET', `/dashboard?embedded=1&id_token=${tok(A)}`, { headers: { accept: 'text/html' } }), true);
    const https = await call('GET', '/dashboard/login', { headers: { accept: 'text/html', 'x-forwarded-proto': 'https' } });
    expect(https.headers.get('strict-transport-security')).toMatch(/max-age=\d{7,}/);
    const login = await call('POST', '/dashboard/login', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', 'x-forwarded-proto': 'https', 'x-forwarded-for': '10.6.6.6' }, body: `token=${be.config.adminToken}` });
    expect(login.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict; .*Secure/);
    // A notice name is looked up, never echoed: nothing from the prototype either.
    expect((await call('GET', '/dashboard/login?notice=constructor', { headers: { accept: 'text/html' } })).text).not.toContain('native code');
  });

  it('JSON answers: nosniff and a JSON type everywhere; never cached on the admin API; personal lists private', async () => {
    const answers: [string, Answer][] = [
      ['healthz', await call('GET', '/healthz')],
      ['api 200', await call('GET', '/api/v1/models', { headers: bearer(tok(A)) })],
      ['api 401', await call('GET', '/api/v1/models')],
      ['api 403', await call('GET', `/api/v1/models?shop=${B}`, { headers: bearer(tok(A)) })],
      ['webhook 401', await call('POST', '/webhooks', { headers: JSON_CT, body: '{}' })],
      ['flow 401', await call('POST', '/flow/lifecycle', { headers: JSON_CT, body: '{}' })],
      ['proxy 401', await call('GET', '/proxy/recommendations')],
      ['proxy personal', await call('GET', `/proxy/recommendations?${appProxyQuery({ secret: TEST_SECRET, shop: A, loggedInCustomerId: String(a.store.customers[0]!.id) })}`)],
      ['404', await call('GET', '/nope')],
      ['dashboard json 401', await call('GET', '/dashboard/api/overview', { headers: { accept: 'application/json' } })],
    ];
    for (const [what, r] of answers) {
      expect(r.headers.get('x-content-type-options'), what).toBe('nosniff');
      expect(r.headers.get('content-type'), what).toMatch(/^application\/json; charset=utf-8/);
      expect(() => JSON.parse(r.text), what).not.toThrow();
    }
    for (const [what, r] of answers.filter(([w]) => w.startsWith('api'))) expect(r.headers.get('cache-control'), what).toBe('no-store');
    expect(answers.find(([w]) => w === 'proxy personal')![1].headers.get('cache-control')).toBe('private, no-store');
    expect(answers.find(([w]) => w === 'dashboard json 401')![1].headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});
