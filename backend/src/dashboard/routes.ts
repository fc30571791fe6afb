// /dashboard — the operator dashboard, server-rendered, charts drawn by uPlot in the browser.
//
//   GET  /dashboard                       the page (?shop= for the operator; ?id_token= from Shopify when embedded)
//   GET  /dashboard/login, POST /dashboard/login, POST /dashboard/logout
//   GET  /dashboard/api/overview?shop=    every panel's figures as JSON
//   GET  /dashboard/api/forecast/:product?shop=   one product's weekly history and forecast band
//   GET  /dashboard/api/runs/compare?shop=&ids=   runs side by side
//   POST /dashboard/actions/product-control | settings | lead-time   merchant controls (CSRF-protected)
//   GET  /dashboard/assets/:file          uPlot and the page's own script and style (no CDN)
//   GET  /                                the embedded app's URL: redirects to /dashboard, query kept
//
// Never reachable without a credential (session.ts): pages redirect to the login form, JSON
// answers 401. Every answer carries the security headers and a strict CSP (no inline script or
// style; frame-ancestors: Shopify's admin when embedded, 'none' otherwise).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppDeps } from '../app.ts';
import { errorBody } from '../errors.ts';
import { isShopDomain } from '../shopify/verify.ts';
import { ensureInstalled } from '../shopify/install.ts';
import { authFailures, refuseGuessing } from '../api/auth.ts';
import { ControlError, isProductId, PRODUCT_ACTIONS, setProductControl, setServeSettings, type ProductAction } from '../serve/controls.ts';
import { setLeadTime } from '../store/product-settings.ts';
import { isUnavailable, StoreUnavailableError } from '../store/writer.ts';
import { TokenBuckets } from '../track/rate-limit.ts';
import {
  clearedCookie, COOKIE_NAME, createSessionKeys, EMBEDDED_SESSION_SECONDS, newClaims, OPERATOR_SESSION_SECONDS, readCookie, sessionCookie,
  type DashboardPrincipal, type SessionClaims,
} from './session.ts';
import { dashboardPage, loginPage, messagePage, comparisonFragment } from './render.ts';
import { knownShops, overview, type ViewContext } from './views/index.ts';
import { productForecastChart } from './views/forecast.ts';
import { runComparison } from './views/registry.ts';
import { controlsView } from './views/controls.ts';
import { SummaryCache } from './views/artifact-summaries.ts';

const here = dirname(fileURLToPath(import.meta.url));
const requireFrom = createRequire(import.meta.url);

interface Asset { body: Buffer; type: string; etag: string }

function loadAssets(): { files: Map<string, Asset>; version: string } {
  const sources: [string, string, string][] = [
    ['uPlot.iife.min.js', requireFrom.resolve('uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['uPlot.min.css', requireFrom.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
    ['dashboard.js', join(here, 'public', 'dashboard.js'), 'text/javascript; charset=utf-8'],
    ['dashboard.css', join(here, 'public', 'dashboard.css'), 'text/css; charset=utf-8'],
    ['favicon.svg', join(here, 'public', 'favicon.svg'), 'image/svg+xml'],
  ];
  const files = new Map<string, Asset>();
  const all = createHash('sha256');
  for (const [name, path, type] of sources) {
    const body = readFileSync(path);
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    files.set(name, { body, type, etag });
    all.update(body);
  }
  return { files, version: all.digest('hex').slice(0, 10) };
}

/** Shopify opened us inside its admin (or tried to): these parameters come with an embedded load. */
const looksEmbedded = (q: Record<string, unknown>) => q.embedded === '1' || typeof q.host === 'string' || typeof q.id_token === 'string';

const SHOPIFY_FRAME_ANCESTORS = 'https://admin.shopify.com https://*.myshopify.com';

function csp(frameAncestors: string): string {
  return [
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "font-src 'self'", "connect-src 'self'",
    "form-action 'self'", "base-uri 'none'", `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

type Form = Record<string, string | string[] | undefined>;
const one = (v: unknown): string | undefined => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined);

interface Authed {
  principal: DashboardPrincipal;
  /** The verified dashboard session behind the request (cookie or Bearer session), if any. */
  claims: SessionClaims | null;
}

export async function dashboardRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const keys = createSessionKeys(deps.config.secretKey, deps.config.adminToken);
  const assets = loadAssets();
  const cache = new SummaryCache(16);
  const loginLimiter = new TokenBuckets({ burst: 10, perSecond: 10 / 60, maxKeys: 10_000 });
  /** frame-ancestors per request: a shop's admin when embedded. */
  const frameOf = new WeakMap<FastifyRequest, string>();

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 32 * 1024 }, (_req, body, done) => {
    const out: Form = {};
    for (const [k, v] of new URLSearchParams(body as string)) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    done(null, out);
  });

  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('Content-Security-Policy', csp(frameOf.get(req) ?? "'none'"));
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'same-origin');
    reply.header('Cross-Origin-Resource-Policy', 'same-origin');
    reply.header('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()');
    if (!frameOf.has(req)) {
      reply.header('X-Frame-Options', 'DENY');
      reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    }
    if (req.protocol === 'https') reply.header('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    if (!reply.getHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
    return payload;
  });

  // ------------------------------------------------------------ credentials

  /** The request's credential: null when none was given; 'invalid' when one was given and is wrong. */
  async function authenticate(req: FastifyRequest): Promise<Authed | null | 'invalid'> {
    const now = deps.now().getTime();
    const header = req.headers.authorization;
    if (header !== undefined) {
      const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      if (!bearer) return 'invalid';
      if (keys.isAdminToken(bearer)) return { principal: { kind: 'operator', via: 'bearer' }, claims: null };
      const c = keys.verify(bearer, now);
      if (c) return { principal: c.p === 'op' ? { kind: 'operator', via: 'session' } : { kind: 'shop', shop: c.s!, userId: c.u ?? null, via: 'session' }, claims: c };
      const v = await deps.verifier.sessionToken(header);
      if (v.ok) return { principal: { kind: 'shop', shop: v.shop, userId: v.userId, via: 'id_token' }, claims: null };
      return 'invalid';
    }
    const idToken = one((req.query as Record<string, unknown>).id_token);
    if (idToken !== undefined) {
      const v = await deps.verifier.sessionToken(`Bearer ${idToken}`);
      if (!v.ok) return 'invalid';
      return { principal: { kind: 'shop', shop: v.shop, userId: v.userId, via: 'id_token' }, claims: null };
    }
    const cookie = readCookie(req.headers.cookie, COOKIE_NAME);
    if (cookie !== undefined && cookie !== '') {
      const c = keys.verify(cookie, now);
      if (c && c.p === 'op') return { principal: { kind: 'operator', via: 'cookie' }, claims: c };
      return 'invalid';
    }
    return null;
  }

  /** The shop a request may look at: the principal's own, or the operator's choice (default: the first known). */
  function shopFor(a: Authed, requested: string | undefined): { ok: true; shop: string | null } | { ok: false; status: 400 | 403 } {
    if (a.principal.kind === 'shop') {
      if (requested !== undefined && requested !== a.principal.shop) return { ok: false, status: 403 };
      return { ok: true, shop: a.principal.shop };
    }
    if (requested !== undefined) return isShopDomain(requested) ? { ok: true, shop: requested } : { ok: false, status: 400 };
    return { ok: true, shop: knownShops(deps.db)[0] ?? null };
  }

  const wantsHtml = (req: FastifyRequest) => (req.headers.accept ?? '').includes('text/html');
  const ctx = (): ViewContext => ({ db: deps.db, artifactsDir: deps.config.artifactsDir, cache, now: deps.now() });

  function unauthorized(req: FastifyRequest, reply: FastifyReply, invalid: boolean) {
    const q = req.query as Record<string, unknown>;
    if (looksEmbedded(q)) {
      frameOf.set(req, SHOPIFY_FRAME_ANCESTORS);
      return reply.code(401).type('text/html; charset=utf-8').send(messagePage('Session expired',
        'Shopify\'s session token was missing, invalid or older than a minute. Open shopml again from the Apps menu of your Shopify admin.', assets.version));
    }
    if (!invalid && req.method === 'GET' && wantsHtml(req)) {
      const next = safeNext(req.url);
      return reply.code(302).header('Location', next && next !== '/dashboard' ? `/dashboard/login?next=${encodeURIComponent(next)}` : '/dashboard/login').send();
    }
    if (wantsHtml(req)) {
      return reply.code(401).type('text/html; charset=utf-8').send(messagePage('Not signed in', 'That credential is not valid (or the session ended).', assets.version, { href: '/dashboard/login', label: 'Log in' }));
    }
    return reply.code(401).header('WWW-Authenticate', 'Bearer realm="shopml dashboard"').send(errorBody('unauthorized'));
  }

  /** Authenticates or answers (401 / redirect); returns null when it answered. */
  async function guard(req: FastifyRequest, reply: FastifyReply): Promise<Authed | null> {
    if (await refuseGuessing(deps, req, reply)) return null;
    const a = await authenticate(req);
    if (a === null || a === 'invalid') {
      if (a === 'invalid') authFailures(deps).take(req.ip);
      await unauthorized(req, reply, a === 'invalid');
      return null;
    }
    return a;
  }

  // ------------------------------------------------------------ assets (code, no data: no credential needed)

  app.get('/dashboard/assets/:file', async (req, reply) => {
    const a = assets.files.get((req.params as { file: string }).file);
    if (!a) return reply.code(404).send(errorBody('not_found'));
    const versioned = (req.query as { v?: string }).v === assets.version;
    reply.header('Cache-Control', versioned ? 'public, max-age=31536000, immutable' : 'no-cache');
    reply.header('ETag', a.etag);
    if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
    return reply.type(a.type).send(a.body);
  });

  // ------------------------------------------------------------ login / logout

  app.get('/dashboard/login', async (req, reply) => {
    const a = await authenticate(req);
    if (a && a !== 'invalid' && a.principal.kind === 'operator') return reply.code(303).header('Location', '/dashboard').send();
    const notice = one((req.query as Record<string, unknown>).notice) ?? null;
    return reply.type('text/html; charset=utf-8').send(loginPage({ notice, assetVersion: assets.version, next: safeNext(one((req.query as Record<string, unknown>).next)) }));
  });

  /** A login form must come from our own page: no cross-site posts (login CSRF). */
  function sameOrigin(req: FastifyRequest): boolean {
    // Browsers send Sec-Fetch-Site (pages cannot forge it); older ones at least an Origin.
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined) return site === 'same-origin' || site === 'none';
    const origin = req.headers.origin;
    if (origin === undefined) return true; // not a browser form post: the token itself is the check
    return origin === `${req.protocol}://${req.host}`;
  }

  app.post('/dashboard/login', async (req, reply) => {
    const next = safeNext(one((req.body as Form | null)?.next));
    const page = (code: number, notice: string) => reply.code(code).type('text/html; charset=utf-8').send(loginPage({ notice, assetVersion: assets.version, next }));
    if (!sameOrigin(req)) return page(403, 'csrf');
    if (!loginLimiter.take(req.ip)) return page(429, 'rate_limited');
    const token = one((req.body as Form | null)?.token);
    if (!token || !keys.isAdminToken(token)) {
      req.log.warn({ ip: req.ip }, 'dashboard login failed');
      return page(401, 'bad_login');
    }
    const claims = newClaims({ kind: 'operator' }, deps.now().getTime(), OPERATOR_SESSION_SECONDS);
    reply.header('Set-Cookie', sessionCookie(keys.sign(claims), req));
    return reply.code(303).header('Location', next ?? '/dashboard').send();
  });

  app.post('/dashboard/logout', async (req, reply) => {
    const a = await authenticate(req);
    if (a && a !== 'invalid' && a.principal.via === 'cookie' && !keys.checkCsrf(a.claims!, one((req.body as Form | null)?._csrf))) {
      return reply.code(403).type('text/html; charset=utf-8').send(messagePage('Form expired', 'Reload the page and try again.', assets.version, { href: '/dashboard', label: 'Back' }));
    }
    reply.header('Set-Cookie', clearedCookie(req));
    return reply.code(303).header('Location', '/dashboard/login?notice=logged_out').send();
  });

  // ------------------------------------------------------------ the page

  app.get('/dashboard', async (req, reply) => {
    const a = await guard(req, reply);
    if (!a) return reply;
    const q = req.query as Record<string, unknown>;
    const s = shopFor(a, one(q.shop));
    if (!s.ok) return reply.code(s.status).type('text/html; charset=utf-8').send(messagePage(s.status === 403 ? 'Not your shop' : 'Bad request', s.status === 403 ? 'This session may only look at its own shop.' : 'shop must be a *.myshopify.com domain.', assets.version));
    const embedded = a.principal.kind === 'shop';
    if (embedded) frameOf.set(req, `https://admin.shopify.com https://${a.principal.kind === 'shop' ? a.principal.shop : ''}`);
    if (!s.shop) return reply.type('text/html; charset=utf-8').send(messagePage('No shops yet', 'Nothing is stored yet: install shopml on a shop, or import orders with `shopml import`.', assets.version));
    let notice = one(q.notice) ?? one(q.error) ?? null;
    if (a.principal.kind === 'shop' && a.principal.via === 'id_token') {
      const idToken = one(q.id_token) ?? /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (idToken && !(await ensureInstalled(deps, a.principal.shop, idToken, req.log))) notice = 'not_installed';
    }
    const session = embedded ? keys.sign(newClaims({ kind: 'shop', shop: s.shop, userId: a.principal.kind === 'shop' ? a.principal.userId : null }, deps.now().getTime(), EMBEDDED_SESSION_SECONDS)) : null;
    const csrf = a.principal.via === 'cookie' ? keys.csrfFor(a.claims!) : null;
    const c = ctx();
    const ids = idsFrom(q.ids);
    const o = overview(c, s.shop, { compare: ids });
    const first = o.forecast.rows[0];
    const forecastChart = first ? productForecastChart(c.db, s.shop, c.artifactsDir, cache, first.productId) : null;
    return reply.type('text/html; charset=utf-8').send(dashboardPage(o, {
      shops: a.principal.kind === 'operator' ? knownShops(deps.db) : [s.shop], embedded, csrf, session,
      canLogout: a.principal.via === 'cookie', notice, forecastChart, assetVersion: assets.version,
    }));
  });

  // ------------------------------------------------------------ JSON

  async function jsonShop(req: FastifyRequest, reply: FastifyReply): Promise<string | null> {
    const a = await guard(req, reply);
    if (!a) return null;
    const s = shopFor(a, one((req.query as Record<string, unknown>).shop));
    if (!s.ok) {
      await reply.code(s.status).send(errorBody(s.status === 403 ? 'forbidden' : 'bad_request'));
      return null;
    }
    if (!s.shop) {
      await reply.code(404).send(errorBody('not_found', 'no shops yet'));
      return null;
    }
    return s.shop;
  }

  app.get('/dashboard/api/overview', async (req, reply) => {
    const shop = await jsonShop(req, reply);
    if (!shop) return reply;
    return overview(ctx(), shop, { compare: idsFrom((req.query as Record<string, unknown>).ids) });
  });

  app.get('/dashboard/api/forecast/:product', async (req, reply) => {
    const shop = await jsonShop(req, reply);
    if (!shop) return reply;
    const product = (req.params as { product: string }).product;
    if (!/^[\w.-]{1,64}$/.test(product)) return reply.code(400).send(errorBody('bad_request', 'invalid product id'));
    const c = productForecastChart(deps.db, shop, deps.config.artifactsDir, cache, product);
    if (!c) return reply.code(404).send(errorBody('not_found', 'no forecast for this product'));
    return c;
  });

  app.get('/dashboard/api/runs/compare', async (req, reply) => {
    const shop = await jsonShop(req, reply);
    if (!shop) return reply;
    const c = runComparison(deps.db, shop, idsFrom((req.query as Record<string, unknown>).ids));
    return { comparison: c, html: comparisonFragment(c) };
  });

  // ------------------------------------------------------------ merchant controls

  /** Authenticates a state-changing request: a Bearer credential, or the cookie with its CSRF token. */
  async function actionShop(req: FastifyRequest, reply: FastifyReply): Promise<string | null> {
    const a = await guard(req, reply);
    if (!a) return null;
    const body = (req.body ?? {}) as Form;
    if (a.principal.via === 'cookie' && !keys.checkCsrf(a.claims!, one(body._csrf) ?? one(req.headers['x-csrf-token']))) {
      if ((req.headers.accept ?? '').includes('application/json')) await reply.code(403).send(errorBody('forbidden', 'missing or invalid CSRF token'));
      else await reply.code(403).type('text/html; charset=utf-8').send(messagePage('Form expired', 'The form\'s security token is missing or out of date; nothing was saved. Reload the page and try again.', assets.version, { href: '/dashboard', label: 'Back to the dashboard' }));
      return null;
    }
    const requested = one(body.shop) ?? one((req.query as Record<string, unknown>).shop);
    const s = shopFor(a, requested);
    if (!s.ok || !s.shop || (a.principal.kind === 'operator' && requested === undefined)) {
      await reply.code(s.ok ? 400 : s.status).send(errorBody(s.ok || s.status === 400 ? 'bad_request' : 'forbidden', s.ok ? 'shop is required' : undefined));
      return null;
    }
    return s.shop;
  }

  /** JSON for the page's script; a redirect back to the page for a plain form post. */
  function respond(req: FastifyRequest, reply: FastifyReply, status: number, body: unknown, notice: string, shop: string | null, anchor = 'controls') {
    if ((req.headers.accept ?? '').includes('application/json') || !shop) return reply.code(status).send(body);
    const key = status < 400 ? 'notice' : 'error';
    return reply.code(303).header('Location', `/dashboard?shop=${encodeURIComponent(shop)}&${key}=${notice}#${anchor}`).send();
  }

  async function write<T>(req: FastifyRequest, reply: FastifyReply, shop: string, fn: () => Promise<T>, notice: string, anchor: string) {
    try {
      const out = await fn();
      return respond(req, reply, 200, out, notice, shop, anchor);
    } catch (err) {
      if (err instanceof ControlError) return respond(req, reply, 400, errorBody('bad_request', err.message), 'bad_request', shop, anchor);
      if (err instanceof StoreUnavailableError || isUnavailable(err)) return reply.code(503).send(errorBody('store_unavailable'));
      throw err;
    }
  }

  const bad = (req: FastifyRequest, reply: FastifyReply, shop: string, detail: string, anchor = 'controls') => respond(req, reply, 400, errorBody('bad_request', detail), 'bad_request', shop, anchor);

  app.post('/dashboard/actions/product-control', async (req, reply) => {
    const shop = await actionShop(req, reply);
    if (!shop) return reply;
    const b = (req.body ?? {}) as Form;
    const product = one(b.product_id)?.trim();
    const action = one(b.action);
    const posRaw = one(b.position)?.trim();
    if (!isProductId(product)) return bad(req, reply, shop, 'product id must be a Shopify product id (digits)');
    if (!PRODUCT_ACTIONS.includes(action as ProductAction)) return bad(req, reply, shop, `action must be one of ${PRODUCT_ACTIONS.join(', ')}`);
    const position = posRaw ? Number(posRaw) : undefined;
    if (position !== undefined && !(Number.isInteger(position) && position >= 1)) return bad(req, reply, shop, 'position must be a whole number ≥ 1');
    return write(req, reply, shop, async () => {
      await deps.writer.write((db) => setProductControl(db, shop, product, action as ProductAction, deps.now().toISOString(), position));
      return { ok: true, shop, controls: controlsView(deps.db, shop) };
    }, 'saved', 'controls');
  });

  app.post('/dashboard/actions/settings', async (req, reply) => {
    const shop = await actionShop(req, reply);
    if (!shop) return reply;
    const b = (req.body ?? {}) as Form;
    const whole = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : /^\d+$/.test(v.trim()) ? Number(v) : NaN);
    const minHistoryOrders = whole(one(b.min_history_orders));
    const attributionDays = whole(one(b.attribution_days));
    if (Number.isNaN(minHistoryOrders) || Number.isNaN(attributionDays)) return bad(req, reply, shop, 'min_history_orders and attribution_days must be whole numbers');
    if (minHistoryOrders === undefined && attributionDays === undefined) return bad(req, reply, shop, 'give min_history_orders and/or attribution_days');
    return write(req, reply, shop, async () => {
      await deps.writer.write((db) => setServeSettings(db, shop, { minHistoryOrders, attributionDays }, deps.now().toISOString()));
      return { ok: true, shop, controls: controlsView(deps.db, shop) };
    }, 'saved', 'controls');
  });

  app.post('/dashboard/actions/lead-time', async (req, reply) => {
    const shop = await actionShop(req, reply);
    if (!shop) return reply;
    const b = (req.body ?? {}) as Form;
    const product = one(b.product_id)?.trim();
    const raw = one(b.lead_time_days)?.trim() ?? '';
    if (!product || !/^[\w.-]{1,64}$/.test(product)) return bad(req, reply, shop, 'invalid product id', 'forecasts');
    const days = raw === '' ? null : Number(raw);
    if (days !== null && !(Number.isFinite(days) && days > 0 && days <= 365)) return bad(req, reply, shop, 'lead time must be a number of days from 0 to 365, or empty to clear', 'forecasts');
    return write(req, reply, shop, async () => {
      await deps.writer.write((db) => setLeadTime(db, shop, product, days, deps.now().toISOString()));
      return { ok: true, shop, product_id: product, lead_time_days: days };
    }, 'lead_time_saved', 'forecasts');
  });

  // The app's URL (shopify.app.toml application_url) is the root: Shopify opens the embedded app
  // there, with ?shop=&host=&embedded=1&id_token=. Same query, to the dashboard.
  app.get('/', async (req, reply) => {
    const i = req.url.indexOf('?');
    return reply.code(302).header('Location', `/dashboard${i >= 0 ? req.url.slice(i) : ''}`).send();
  });

  // Anything else under /dashboard: a 404 with the same headers.
  app.all('/dashboard/*', async (_req, reply) => reply.code(404).send(errorBody('not_found')));
}

/** Where to go after logging in: a dashboard page of this origin only (no open redirect). */
export function safeNext(v: unknown): string | null {
  if (typeof v !== 'string' || v.length > 500) return null;
  return /^\/dashboard(?:[?#]|$)/.test(v) && !/[\\\s]/.test(v) ? v : null;
}

function idsFrom(v: unknown): number[] | undefined {
  const list = (Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : []).map((x) => Number(x)).filter((x) => Number.isInteger(x) && x > 0);
  return list.length ? list.slice(0, 6) : undefined;
}
