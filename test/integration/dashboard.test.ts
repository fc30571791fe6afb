// The operator dashboard over real HTTP: the real backend (Fastify on port 0, SQLite), two shops
// trained through the real pipeline (one with a running canary with exposures and conversions),
// Shopify's side played by the admin simulator (token exchange) and its signing helpers (session
// tokens). Checked: nothing without a credential, wrong credentials refused, a shop's session
// token sees only its shop, the security headers and CSP on every answer, the figures on the page
// are the ones the owning modules compute, and the merchant-control forms (CSRF) change what
// serving reads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminSimulator, type AdminSimulator } from '../../simulator/admin-server.ts';
import { sessionToken } from '../../simulator/sign.ts';
import { startTestBackend, TEST_API_KEY, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';
import { storeFor, trainedShop, type TrainedShop } from '../helpers/dashboard-fixture.ts';
import { experimentReport } from '../../backend/src/rollout/policy.ts';
import { loadArtifact } from '../../backend/src/ml/artifact.ts';
import type { ForecastArtifact } from '../../backend/src/models/forecast/index.ts';
import { loadControls } from '../../backend/src/serve/controls.ts';
import { loadOfflineToken } from '../../backend/src/shopify/auth.ts';
import { claimJob, enqueueJob, failJob } from '../../backend/src/jobs/queue.ts';
import { getMonitorReport } from '../../backend/src/monitor/monitor.ts';

const A = 'alpha-dash.myshopify.com';
const B = 'beta-dash.myshopify.com';
const ADMIN = 'operator-token-0123456789';
let be: TestBackend;
let sim: AdminSimulator;
let a: TrainedShop;
let b: TrainedShop;
const now = new Date();

const idToken = (shop: string, o: { secret?: string; exp?: number } = {}) =>
  sessionToken({ apiKey: TEST_API_KEY, secret: o.secret ?? TEST_SECRET, shop, sub: '42', ...(o.exp !== undefined ? { exp: o.exp, iat: o.exp - 60 } : {}) });

/** A JSON body, typed loosely: the assertions are what checks its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (r: Response): Promise<any> => r.json();

async function get(path: string, headers: Record<string, string> = {}) {
  return fetch(`${be.url}${path}`, { redirect: 'manual', headers: { accept: 'text/html', ...headers } });
}

async function login(extra: Record<string, string> = {}): Promise<{ cookie: string; setCookie: string; csrf: string }> {
  const res = await fetch(`${be.url}/dashboard/login`, {
    method: 'POST', redirect: 'manual', body: `token=${ADMIN}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', ...extra },
  });
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe('/dashboard');
  const setCookie = res.headers.get('set-cookie')!;
  const cookie = setCookie.split(';')[0]!;
  const page = await (await get(`/dashboard?shop=${A}`, { cookie })).text();
  return { cookie, setCookie, csrf: configOf(page).csrf! };
}

function configOf(page: string): { shop: string; embedded: boolean; csrf: string | null; session: string | null } {
  return JSON.parse(/<script type="application\/json" id="dashboard-config">(.*?)<\/script>/s.exec(page)![1]!);
}

function expectSecurityHeaders(res: Response, frameAncestors = "'none'") {
  const csp = res.headers.get('content-security-policy')!;
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("style-src 'self'");
  expect(csp).toContain("base-uri 'none'");
  expect(csp).toContain("form-action 'self'");
  expect(csp).toContain(`frame-ancestors ${frameAncestors}`);
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('unsafe-eval');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('same-origin');
  expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  expect(res.headers.get('permissions-policy')).toContain('camera=()');
  if (frameAncestors === "'none'") expect(res.headers.get('x-frame-options')).toBe('DENY');
  else expect(res.headers.get('x-frame-options')).toBeNull();
}

beforeAll(async () => {
  const { createServer } = await import('node:net');
  const port = await new Promise<number>((r) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)); }); });
  sim = await startAdminSimulator({ store: [storeFor(A, 31), storeFor(B, 32)], apiKey: TEST_API_KEY, apiSecret: TEST_SECRET, webhookTarget: { url: `http://127.0.0.1:${port}/webhooks` } });
  be = await startTestBackend({ SHOPIFY_ADMIN_BASE_URL: sim.baseUrlTemplate, PORT: String(port) });
  a = await trainedShop(be.deps.db, be.deps.keys, {
    shop: A, seed: 31, artifactsDir: be.config.artifactsDir, now, holdBackDays: 45,
    experiment: { days: 10, unitsPerDay: 240, rates: { holdout: 0.03, champion: 0.05, challenger: 0.08 } },
  });
  b = await trainedShop(be.deps.db, be.deps.keys, { shop: B, seed: 32, artifactsDir: be.config.artifactsDir, now });
  // A job that died with its error, for the queue panel.
  enqueueJob(be.deps.db, { type: 'train', shop: A, reason: 'volume: 120 new orders', maxAttempts: 1, now });
  const claimed = claimJob(be.deps.db, { owner: 'test-runner', now, leaseMs: 60_000 })!;
  failJob(be.deps.db, { id: claimed.id, owner: 'test-runner', attempt: claimed.attempts }, now, 'Error: training worker exited with code 137\n    at Worker', { permanent: false, delayMs: 1000 });
}, 240_000);

afterAll(async () => {
  await be?.stop();
  await sim?.close();
});

describe('no credential, wrong credential', () => {
  it('a page without a credential redirects to the login form; JSON and actions answer 401', async () => {
    const page = await get('/dashboard');
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/dashboard/login');
    expectSecurityHeaders(page);
    const deep = await get(`/dashboard?shop=${A}`);
    expect(deep.headers.get('location')).toBe(`/dashboard/login?next=${encodeURIComponent(`/dashboard?shop=${A}`)}`);
    const api = await get(`/dashboard/api/overview?shop=${A}`, { accept: 'application/json' });
    expect(api.status).toBe(401);
    expect((await json(api)).error).toBe('unauthorized');
    expectSecurityHeaders(api);
    for (const path of [`/dashboard/api/forecast/1?shop=${A}`, `/dashboard/api/runs/compare?shop=${A}`]) expect((await get(path, { accept: 'application/json' })).status).toBe(401);
    const post = await fetch(`${be.url}/dashboard/actions/product-control`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: `shop=${A}&product_id=1&action=exclude` });
    expect(post.status).toBe(401);
    expect(be.deps.db.prepare('SELECT count(*) FROM serve_product_controls').pluck().get()).toBe(0);
    const login = await get('/dashboard/login');
    expect(login.status).toBe(200);
    expectSecurityHeaders(login);
    expect(await login.text()).toContain('name="token"');
  });

  it('a wrong admin token, a forged cookie, a forged or expired session token: 401', async () => {
    expect((await get(`/dashboard?shop=${A}`, { authorization: 'Bearer not-the-operator-token' })).status).toBe(401);
    expect((await get(`/dashboard/api/overview?shop=${A}`, { authorization: `Bearer ${ADMIN}x`, accept: 'application/json' })).status).toBe(401);
    expect((await get('/dashboard', { cookie: 'shopml_dash=v1.eyJwIjoib3AiLCJleHAiOjk5OTk5OTk5OTksIm4iOiJ4In0.AAAA' })).status).toBe(401);
    const forged = await get(`/dashboard?embedded=1&host=x&id_token=${idToken(A, { secret: 'someone-elses-secret-0000' })}`);
    expect(forged.status).toBe(401);
    expectSecurityHeaders(forged, 'https://admin.shopify.com https://*.myshopify.com');
    expect(await forged.text()).toContain('Open shopml again');
    const expired = await get(`/dashboard?embedded=1&id_token=${idToken(A, { exp: Math.floor(Date.now() / 1000) - 120 })}`);
    expect(expired.status).toBe(401);
  });

  it('the login form: a wrong token sets no cookie; a cross-site post is refused; too many attempts are throttled', async () => {
    const wrong = await fetch(`${be.url}/dashboard/login`, { method: 'POST', redirect: 'manual', body: 'token=guess', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const cross = await fetch(`${be.url}/dashboard/login`, { method: 'POST', redirect: 'manual', body: `token=${ADMIN}`, headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' } });
    expect(cross.status).toBe(403);
    expect(cross.headers.get('set-cookie')).toBeNull();
    const foreign = await fetch(`${be.url}/dashboard/login`, { method: 'POST', redirect: 'manual', body: `token=${ADMIN}`, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await fetch(`${be.url}/dashboard/login`, { method: 'POST', redirect: 'manual', body: 'token=guess', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.9' } });
      statuses.push(r.status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });
});

describe('standalone: the operator', () => {
  it('logs in: an HttpOnly SameSite=Strict cookie (Secure behind https), then sees every shop', async () => {
    const s = await login();
    expect(s.setCookie).toMatch(/^shopml_dash=v1\.[\w-]+\.[\w-]+; Path=\/dashboard; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    // Back to the page asked for; never to another origin.
    for (const [next, to] of [[`/dashboard?shop=${B}`, `/dashboard?shop=${B}`], ['https://evil.example/dashboard', '/dashboard'], ['//evil.example', '/dashboard'], ['/dashboardx', '/dashboard']]) {
      const r = await fetch(`${be.url}/dashboard/login`, { method: 'POST', redirect: 'manual', body: `token=${ADMIN}&next=${encodeURIComponent(next!)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(r.headers.get('location')).toBe(to);
    }
    const https = await login({ 'x-forwarded-proto': 'https' });
    expect(https.setCookie).toMatch(/; Secure$/);
    const page = await get(`/dashboard?shop=${A}`, { cookie: s.cookie, 'x-forwarded-proto': 'https' });
    expect(page.status).toBe(200);
    expect(page.headers.get('strict-transport-security')).toContain('max-age=');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expectSecurityHeaders(page);
    const html = await page.text();
    expect(html).toContain(`<option value="${A}" selected>`);
    expect(html).toContain(`<option value="${B}">`);
    expect(configOf(html)).toMatchObject({ shop: A, embedded: false, session: null });
    // No inline script or style: every <script> is JSON data or a served file.
    for (const tag of html.match(/<script\b[^>]*>/g)!) expect(tag).toMatch(/type="application\/json"|src="\/dashboard\/assets\//);
    expect(html).not.toMatch(/\sstyle=|<style|\son\w+=/i);
    // The operator token as a Bearer header works too (scripts, curl).
    expect((await get(`/dashboard/api/overview?shop=${B}`, { authorization: `Bearer ${ADMIN}` })).status).toBe(200);
    // Log out: the cookie is cleared.
    const out = await fetch(`${be.url}/dashboard/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${encodeURIComponent(s.csrf)}` });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/^shopml_dash=; .*Max-Age=0/);
  });

  it('shows the figures the owning modules compute', async () => {
    const res = await get(`/dashboard?shop=${A}`, { authorization: `Bearer ${ADMIN}` });
    const html = await res.text();
    const o = await json(await get(`/dashboard/api/overview?shop=${A}`, { authorization: `Bearer ${ADMIN}`, accept: 'application/json' }));
    // Models: every champion's version, and the challenger.
    for (const v of Object.values(a.champion)) expect(html).toContain(`<code title="${v}">${v.slice(0, 12)}</code>`);
    expect(html).toContain(a.challenger!.slice(0, 12));
    expect(html).not.toContain(b.champion.recommend!.slice(0, 12));
    // Rollout: units and converters per variant as rollout/policy.ts reports them (a fresh report at the page's time).
    const r = experimentReport(be.deps.db, a.experimentId!, new Date(o.asOf));
    expect(o.rollout[0].report.variants).toEqual(JSON.parse(JSON.stringify(r.variants)));
    for (const v of ['holdout', 'challenger', 'champion'] as const) {
      const x = r.variants[v];
      expect(x.units).toBeGreaterThan(0);
      expect(html).toContain(`<td class="n">${x.units.toLocaleString('en-US')}</td><td class="n">${x.converters.toLocaleString('en-US')}</td>`);
      expect(html).toContain(`${(x.conversion.lo * 100).toFixed(2)}% – ${(x.conversion.hi * 100).toFixed(2)}%`);
    }
    expect(r.srm).not.toBeNull();
    expect(html).toContain(`χ² ${r.srm!.chi2.toLocaleString('en-US', { maximumFractionDigits: 2 })}`);
    expect(html).toContain('always-valid p');
    expect(r.srm!.mismatch).toBe(false);
    expect(o.rollout[0].timeToDecision.estimatedDays).toBeGreaterThan(0);
    expect(html).toContain(`${o.rollout[0].timeToDecision.estimatedDays} days (${o.rollout[0].timeToDecision.remainingDays} to go)`);
    // The daily conversion series ends at the report's cumulative figures.
    const s = o.rollout[0].series;
    expect(s.x.length).toBe(10);
    expect(s.rate.champion.at(-1)).toBeCloseTo(r.variants.champion.conversion.rate, 12);
    // Segments: sizes straight from customer_outputs of the champion segment model.
    const sizes = be.deps.db.prepare(`SELECT json_extract(output_json, '$.segment') AS name, count(*) AS n FROM customer_outputs WHERE shop = ? AND model_version = ? GROUP BY 1`).all(A, a.champion.segment) as { name: string; n: number }[];
    expect(sizes.length).toBeGreaterThan(1);
    for (const x of sizes) expect(html).toMatch(new RegExp(`<th scope="row">${x.name.replace(/'/g, '&#39;')}</th><td><code>[^<]*</code></td><td class="n">${x.n}</td>`));
    // Forecasts: the artifact's stock-out dates; products at risk first.
    const f = loadArtifact<{ artifact: ForecastArtifact }>(be.config.artifactsDir, a.champion.forecast!).artifact;
    const outs = f.products.filter((p) => p.stockoutDate !== null).map((p) => p.stockoutDate!).sort();
    expect(outs.length).toBeGreaterThan(0);
    expect(o.forecast.stockouts).toBe(outs.length);
    expect(o.forecast.rows[0].stockoutDate).toBe(outs[0]);
    expect(html).toContain(`<strong>${outs[0]}</strong>`);
    // Data quality: every check of the latest snapshot.
    const checks = JSON.parse(be.deps.db.prepare('SELECT quality_json FROM dataset_snapshots WHERE shop = ? ORDER BY created_at DESC LIMIT 1').pluck().get(A) as string) as { name: string }[];
    for (const c of checks) expect(html).toContain(`<th scope="row">${c.name}</th>`);
    // Drift: the latest monitor report — every column with the test that ran, the share against its threshold, histograms as shares.
    expect(a.monitorReports).toHaveLength(2);
    const m = getMonitorReport(be.deps.db, a.monitorReports[1]!, A)!;
    expect(o.drift.report).toMatchObject({ id: m.id, judged: m.judged, drifted: m.drifted, share: m.share, shareThreshold: m.shareThreshold, datasetDrift: m.datasetDrift });
    expect(m.judged).toBeGreaterThan(5);
    expect(html).toContain(`${m.drifted} of ${m.judged} columns = ${Math.round(m.share * 100)}% (threshold ${Math.round(m.shareThreshold * 100)}%)`);
    for (const c of m.columns) {
      expect(html).toContain(`<td>${c.group}</td><th scope="row">${c.column}</th><td>${c.treatedAs}</td><td>${c.test ?? '–'}</td>`);
    }
    expect(o.drift.histograms.length).toBeGreaterThan(3);
    for (const h of o.drift.histograms) {
      expect(h.reference.length).toBe(h.labels.length);
      expect(h.reference.reduce((x: number, y: number) => x + y, 0)).toBeCloseTo(1, 9);
      expect(h.current.reduce((x: number, y: number) => x + y, 0)).toBeCloseTo(1, 9);
      expect(html).toContain(`data-chart="drift-${h.id}"`);
    }
    expect(o.drift.shareSeries.x).toHaveLength(2);
    expect(html).toContain('data-chart="drift-share"');
    // Shop B was never monitored: its drift panel says so.
    const ob = await json(await get(`/dashboard/api/overview?shop=${B}`, { authorization: `Bearer ${ADMIN}`, accept: 'application/json' }));
    expect(ob.drift).toMatchObject({ available: true, report: null });
    // Jobs: counts and the dead job's last error.
    expect(o.jobs.counts.dead).toBe(1);
    expect(html).toContain('training worker exited with code 137');
    // Charts: a container per chart, and their series in the JSON block.
    for (const name of ['alias-recommend', 'alias-forecast', `conversion-${a.experimentId}`, 'segments', 'forecast', 'quality-line_value']) expect(html).toContain(`data-chart="${name}"`);
  });

  it('runs side by side and one product\'s forecast as JSON', async () => {
    const runs = be.deps.db.prepare(`SELECT id FROM training_runs WHERE shop = ? AND kind = 'recommend' ORDER BY id`).pluck().all(A) as number[];
    const c = await json(await get(`/dashboard/api/runs/compare?shop=${A}&ids=${runs.join(',')}`, { authorization: `Bearer ${ADMIN}` }));
    expect(c.comparison.runs.map((r: { id: number }) => r.id)).toEqual(runs);
    const recall = c.comparison.metrics.find((m: { key: string }) => m.key === 'recall@20');
    expect(recall.deltas[1]).toBeCloseTo(recall.values[1] - recall.values[0], 12);
    expect(c.html).toContain('Runs side by side');
    // Another shop's run ids are not shown.
    const other = be.deps.db.prepare('SELECT id FROM training_runs WHERE shop = ? LIMIT 1').pluck().get(B) as number;
    expect((await json(await get(`/dashboard/api/runs/compare?shop=${A}&ids=${other}`, { authorization: `Bearer ${ADMIN}` }))).comparison.runs).toEqual([]);

    const f = loadArtifact<{ artifact: ForecastArtifact }>(be.config.artifactsDir, a.champion.forecast!).artifact;
    const p = f.products[0]!;
    const j = await json(await get(`/dashboard/api/forecast/${p.productId}?shop=${A}`, { authorization: `Bearer ${ADMIN}` }));
    expect(j.x.length).toBe(26 + p.weekly.mean.length);
    expect(j.mean.slice(26)).toEqual(p.weekly.mean);
    expect(j.hi.slice(26)).toEqual(p.weekly.hi);
    expect(j.actual.slice(0, 26).reduce((s: number, x: number) => s + x, 0)).toBeGreaterThanOrEqual(0);
    expect((await get(`/dashboard/api/forecast/999?shop=${A}`, { authorization: `Bearer ${ADMIN}` })).status).toBe(404);
  });

  it('merchant controls: a form post needs the CSRF token, then changes what serving reads', async () => {
    const s = await login();
    const product = String(a.store.products[0]!.id);
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${be.url}${path}`, { method: 'POST', redirect: 'manual', body, headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers } });
    const noCsrf = await post('/dashboard/actions/product-control', `shop=${A}&product_id=${product}&action=exclude`);
    expect(noCsrf.status).toBe(403);
    expect(await noCsrf.text()).toContain('nothing was saved');
    expect(loadControls(be.deps.db, A).excluded.has(product)).toBe(false);
    const badCsrf = await post('/dashboard/actions/product-control', `shop=${A}&product_id=${product}&action=exclude&_csrf=nope`, { accept: 'application/json' });
    expect(badCsrf.status).toBe(403);

    const ok = await post('/dashboard/actions/product-control', `shop=${A}&product_id=${product}&action=exclude&_csrf=${encodeURIComponent(s.csrf)}`);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe(`/dashboard?shop=${encodeURIComponent(A)}&notice=saved#controls`);
    expect(loadControls(be.deps.db, A).excluded.has(product)).toBe(true);
    expect(loadControls(be.deps.db, B).excluded.size).toBe(0);

    const pin = await post('/dashboard/actions/product-control', `shop=${A}&product_id=${String(a.store.products[1]!.id)}&action=pin&position=1`, { accept: 'application/json', 'x-csrf-token': s.csrf });
    expect(pin.status).toBe(200);
    expect((await json(pin)).controls.pinned[0].productId).toBe(String(a.store.products[1]!.id));

    const settings = await post('/dashboard/actions/settings', `shop=${A}&min_history_orders=3&attribution_days=14`, { accept: 'application/json', 'x-csrf-token': s.csrf });
    expect(settings.status).toBe(200);
    expect(loadControls(be.deps.db, A)).toMatchObject({ minHistoryOrders: 3, attributionDays: 14 });
    const badSettings = await post('/dashboard/actions/settings', `shop=${A}&attribution_days=500`, { accept: 'application/json', 'x-csrf-token': s.csrf });
    expect(badSettings.status).toBe(400);
    expect((await json(badSettings)).detail).toMatch(/attribution window/);
    expect(loadControls(be.deps.db, A).attributionDays).toBe(14);

    const lead = await post('/dashboard/actions/lead-time', `shop=${A}&product_id=${product}&lead_time_days=21&_csrf=${encodeURIComponent(s.csrf)}`);
    expect(lead.headers.get('location')).toContain('notice=lead_time_saved#forecasts');
    expect(be.deps.db.prepare('SELECT lead_time_days FROM product_settings WHERE shop = ? AND product_id = ?').pluck().get(A, product)).toBe(21);
    const badLead = await post('/dashboard/actions/lead-time', `shop=${A}&product_id=${product}&lead_time_days=-3`, { accept: 'application/json', 'x-csrf-token': s.csrf });
    expect(badLead.status).toBe(400);

    // The page shows what was saved.
    const html = await (await get(`/dashboard?shop=${A}`, { cookie: s.cookie })).text();
    expect(html).toMatch(/<h3>Excluded products<\/h3><ul class="plain"><li>[^<]+ <small>\d+<\/small><\/li>/);
    expect(html).toContain(`value="21" placeholder="14"`);
  });
});

describe('embedded: a Shopify session token', () => {
  it('opens its own shop, framed by Shopify only, installs it by token exchange, and cannot see another shop', async () => {
    expect(loadOfflineToken(be.deps.db, be.deps.keys, A)).toBeNull();
    // Shopify opens the app's URL (the root) with these parameters: on to the dashboard, query kept.
    const query = `embedded=1&host=YWRtaW4&shop=${A}&id_token=${idToken(A)}`;
    const root = await get(`/?${query}`);
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe(`/dashboard?${query}`);
    const res = await get(root.headers.get('location')!);
    expect(res.status).toBe(200);
    expectSecurityHeaders(res, `https://admin.shopify.com https://${A}`);
    const html = await res.text();
    expect(loadOfflineToken(be.deps.db, be.deps.keys, A)).toBeTruthy();
    const cfg = configOf(html);
    expect(cfg).toMatchObject({ shop: A, embedded: true, csrf: null });
    expect(cfg.session).toMatch(/^v1\./);
    expect(html).not.toContain(`<option value="${B}"`);
    expect(html).not.toContain('Log out');
    expect(html).toContain(a.champion.segment!.slice(0, 12));
    expect(html).not.toContain(b.champion.segment!.slice(0, 12));

    // Another shop by name: refused, with the id_token and with the page's own session.
    expect((await get(`/dashboard?shop=${B}&id_token=${idToken(A)}`)).status).toBe(403);
    const bearer = { authorization: `Bearer ${cfg.session}`, accept: 'application/json' };
    expect((await get(`/dashboard/api/overview?shop=${B}`, bearer)).status).toBe(403);
    expect((await get(`/dashboard/api/forecast/${b.store.products[0]!.id}?shop=${B}`, bearer)).status).toBe(403);
    const own = await json(await get('/dashboard/api/overview', bearer));
    expect(own.shop).toBe(A);
    expect((await get('/dashboard/api/overview', { authorization: `Bearer ${idToken(B)}`, accept: 'application/json' })).status).toBe(200);
    expect((await json(await get('/dashboard/api/overview', { authorization: `Bearer ${idToken(B)}`, accept: 'application/json' }))).shop).toBe(B);

    // Its forms act on its own shop only (Bearer: no cookie, no CSRF token needed).
    const product = String(a.store.products[2]!.id);
    const mine = await fetch(`${be.url}/dashboard/actions/product-control`, { method: 'POST', headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' }, body: `shop=${A}&product_id=${product}&action=pin` });
    expect(mine.status).toBe(200);
    expect(loadControls(be.deps.db, A).pinned).toContain(product);
    const theirs = await fetch(`${be.url}/dashboard/actions/product-control`, { method: 'POST', headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' }, body: `shop=${B}&product_id=${product}&action=exclude` });
    expect(theirs.status).toBe(403);
    expect(loadControls(be.deps.db, B).excluded.size).toBe(0);
  });
});

describe('assets', () => {
  it('serves uPlot and the page script from the backend, versioned and immutable', async () => {
    const html = await (await get(`/dashboard?shop=${A}`, { authorization: `Bearer ${ADMIN}` })).text();
    const src = /src="(\/dashboard\/assets\/uPlot\.iife\.min\.js\?v=\w+)"/.exec(html)![1]!;
    const js = await fetch(`${be.url}${src}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expectSecurityHeaders(js);
    expect(await js.text()).toContain('uPlot');
    expect((await fetch(`${be.url}/dashboard/assets/dashboard.css`)).headers.get('content-type')).toContain('text/css');
    expect((await fetch(`${be.url}/dashboard/assets/..%2f..%2fconfig.ts`)).status).toBe(404);
    expect(html).not.toMatch(/https?:\/\/(?!admin\.shopify\.com)[\w.-]+\//);
  });
});
