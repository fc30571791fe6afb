// Flow requests, app proxy requests and the admin API, signed as Shopify signs them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowActionRequest, flowLifecycleRequest, appProxyQuery, sessionToken } from '../../simulator/sign.ts';
import { SHOP, startTestBackend, TEST_API_KEY, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';

let be: TestBackend;
let runs = 0;
beforeAll(async () => {
  be = await startTestBackend();
  // A real handler registered the way flow-actions/ registers them: counts its runs.
  be.deps.flowActions.set('echo-test', { handle: 'echo-test', run: async (ctx) => { runs++; return { returnValue: { seen: ctx.properties.customer_id } }; } });
});
afterAll(async () => { await be.stop(); });

async function post(path: string, req: { body: string; headers: Record<string, string> }) {
  const res = await fetch(`${be.url}${path}`, { method: 'POST', headers: req.headers, body: req.body });
  return { status: res.status, body: await res.json().catch(() => null) as Record<string, unknown> | null };
}

describe('Flow actions', () => {
  const action = (secret = TEST_SECRET, actionRunId = 'run-1', handle = 'echo-test') =>
    flowActionRequest({ secret, shop: SHOP, shopId: 1, handle, actionRunId, actionDefinitionId: 'Echo', properties: { customer_id: '123' } });

  it('runs a verified action once per action_run_id; the signed handle wins over the URL', async () => {
    const first = await post('/flow/actions/something-else', action());
    expect(first).toEqual({ status: 200, body: { return_value: { seen: '123' } } });
    const again = await post('/flow/actions/echo-test', action());
    expect(again).toEqual(first);
    expect(runs).toBe(1);
  });

  it('rejects a forged request with 401 and runs nothing', async () => {
    const forged = await post('/flow/actions/echo-test', action('wrong-secret-wrong-secret', 'run-2'));
    expect(forged.status).toBe(401);
    const req = action(TEST_SECRET, 'run-3');
    const tampered = await post('/flow/actions/echo-test', { ...req, body: req.body.replace('"123"', '"124"') });
    expect(tampered.status).toBe(401);
    expect(runs).toBe(1);
  });

  it('answers 404 for an unknown handle (Flow marks the step failed, no retry)', async () => {
    expect((await post('/flow/actions/nope', action(TEST_SECRET, 'run-4', 'nope'))).status).toBe(404);
  });

  it('records trigger lifecycle callbacks, newest timestamp wins', async () => {
    const mk = (enabled: boolean, timestamp: string) => flowLifecycleRequest({ secret: TEST_SECRET, shop: SHOP, shopId: 1, flowTriggerDefinitionId: 'churn-risk-rose', hasEnabledFlow: enabled, timestamp });
    expect((await post('/flow/lifecycle', mk(true, '2026-07-02T00:00:00Z'))).status).toBe(200);
    expect((await post('/flow/lifecycle', mk(false, '2026-07-01T00:00:00Z'))).status).toBe(200);
    expect(be.deps.db.prepare('SELECT has_enabled_flow FROM flow_trigger_lifecycle WHERE shop = ?').pluck().get(SHOP)).toBe(1);
    const forged = mk(false, '2026-07-03T00:00:00Z');
    expect((await post('/flow/lifecycle', { ...forged, headers: { ...forged.headers, 'X-Shopify-Hmac-Sha256': 'AAAA' } })).status).toBe(401);
  });
});

describe('app proxy', () => {
  const get = (q: URLSearchParams) => fetch(`${be.url}/proxy/recommendations?${q}`);

  it('serves a verified request; personal requests are never cacheable', async () => {
    const anon = await get(appProxyQuery({ secret: TEST_SECRET, shop: SHOP, extra: { product_id: '1', limit: '4' } }));
    expect(anon.status).toBe(200);
    expect(anon.headers.get('cache-control')).toMatch(/public/);
    const body = (await anon.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ variant: expect.any(String), model_version: expect.any(String), rec_id: expect.any(String), products: expect.any(Array) });
    const personal = await get(appProxyQuery({ secret: TEST_SECRET, shop: SHOP, loggedInCustomerId: '42' }));
    expect(personal.status).toBe(200);
    expect(personal.headers.get('cache-control')).toBe('private, no-store');
  });

  it('refuses a forged signature, a stale timestamp, and a missing signature', async () => {
    expect((await get(appProxyQuery({ secret: 'not-our-secret-at-all', shop: SHOP }))).status).toBe(401);
    const stale = appProxyQuery({ secret: TEST_SECRET, shop: SHOP, timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect((await get(stale)).status).toBe(401);
    const q = appProxyQuery({ secret: TEST_SECRET, shop: SHOP });
    q.delete('signature');
    expect((await get(q)).status).toBe(401);
    const tampered = appProxyQuery({ secret: TEST_SECRET, shop: SHOP, loggedInCustomerId: '' });
    tampered.set('logged_in_customer_id', '42');
    expect((await get(tampered)).status).toBe(401);
  });

  it('records storefront events only with analytics consent, deduplicated by id', async () => {
    const q = appProxyQuery({ secret: TEST_SECRET, shop: SHOP, extra: {} });
    const send = (consent: boolean) => fetch(`${be.url}/proxy/events?${q}`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ consent, events: [{ id: 'evt-00000001', type: 'impression', product_id: '5', anonymous_id: 'anon-1' }] }),
    });
    expect((await send(false)).status).toBe(204);
    expect(be.deps.db.prepare('SELECT count(*) FROM storefront_events').pluck().get()).toBe(0);
    expect((await send(true)).status).toBe(204);
    expect((await send(true)).status).toBe(204);
    expect(be.deps.db.prepare('SELECT count(*) FROM storefront_events').pluck().get()).toBe(1);
  });
});

describe('admin API', () => {
  it('needs the operator token or a valid session token', async () => {
    expect((await fetch(`${be.url}/api/v1/status`)).status).toBe(401);
    expect((await fetch(`${be.url}/api/v1/status`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(`${be.url}/api/v1/status`, { headers: { Authorization: `Bearer ${be.config.adminToken}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('serves the registry and merchant-controls routes behind the same auth', async () => {
    const auth = { Authorization: `Bearer ${be.config.adminToken}` };
    expect((await fetch(`${be.url}/api/v1/controls?shop=${SHOP}`)).status).toBe(401);
    expect((await fetch(`${be.url}/api/v1/controls?shop=${SHOP}`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${be.url}/api/v1/models?shop=${SHOP}`, { headers: auth })).status).toBe(200);
  });

  it('refuses session tokens with a wrong audience or past their expiry, and answers CORS preflight', async () => {
    const wrongAud = sessionToken({ apiKey: 'someone-else', secret: TEST_SECRET, shop: SHOP });
    expect((await fetch(`${be.url}/api/v1/status`, { headers: { Authorization: `Bearer ${wrongAud}` } })).status).toBe(401);
    const expired = sessionToken({ apiKey: TEST_API_KEY, secret: TEST_SECRET, shop: SHOP, exp: Math.floor(Date.now() / 1000) - 120 });
    expect((await fetch(`${be.url}/api/v1/status`, { headers: { Authorization: `Bearer ${expired}` } })).status).toBe(401);
    const pre = await fetch(`${be.url}/api/v1/status`, { method: 'OPTIONS', headers: { Origin: 'https://admin.shopify.com', 'Access-Control-Request-Method': 'GET' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
  });
});
