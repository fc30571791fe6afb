// The simulator signs with node:crypto only; here it is checked against fixed known answers
// and, independently, against @shopify/shopify-api (what the backend verifies with).
import '@shopify/shopify-api/adapters/node';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appProxyQuery,
  appProxySignature,
  flowActionRequest,
  flowHmac,
  flowLifecycleRequest,
  sessionToken,
  webhookHeaders,
  webhookHmac,
} from '../../simulator/sign.ts';

const apiKey = 'test-api-key';
const secret = 'shpss_test_secret';
const shop = 'demo-shop.myshopify.com';
const shopify = shopifyApi({
  apiKey,
  apiSecretKey: secret,
  scopes: ['read_orders'],
  hostName: 'app.example.com',
  apiVersion: ApiVersion.July26,
  isEmbeddedApp: true,
  logger: { log: () => {} },
});

describe('app proxy signature', () => {
  it('matches the golden vector (reference §3.3)', () => {
    expect(appProxySignature('hush', {
      extra: ['1', '2'],
      path_prefix: '/apps/awesome_reviews',
      shop: 'shop-name.myshopify.com',
      timestamp: '1317327555',
    })).toBe('a9718877bea71c2484f91608a7eaea1532bdf71f5c56825065fa4ccabe549ef3');
  });

  it('ignores an existing signature, joins repeated keys from URLSearchParams, sorts keys', () => {
    const q = new URLSearchParams('timestamp=1317327555&extra=1&shop=shop-name.myshopify.com&extra=2&path_prefix=%2Fapps%2Fawesome_reviews&signature=zzz');
    expect(appProxySignature('hush', q)).toBe('a9718877bea71c2484f91608a7eaea1532bdf71f5c56825065fa4ccabe549ef3');
  });

  it('appProxyQuery builds what Shopify forwards, and @shopify/shopify-api accepts it', async () => {
    const query = appProxyQuery({ secret, shop, loggedInCustomerId: '', extra: { limit: '4', handle: ['a', 'b'] } });
    expect(query.get('shop')).toBe(shop);
    expect(query.get('path_prefix')).toBe('/apps/shopml');
    expect(query.get('logged_in_customer_id')).toBe('');
    expect(query.getAll('handle')).toEqual(['a', 'b']);
    expect(Math.abs(Number(query.get('timestamp')) - Date.now() / 1000)).toBeLessThan(5);
    expect(query.get('signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(await shopify.utils.validateHmac(query, { signator: 'appProxy' })).toBe(true);
    expect(await shopify.utils.validateHmac(Object.fromEntries(query), { signator: 'appProxy' })).toBe(false); // repeated `handle` lost

    const tampered = new URLSearchParams(query);
    tampered.set('logged_in_customer_id', '42');
    expect(await shopify.utils.validateHmac(tampered, { signator: 'appProxy' })).toBe(false);
    const wrongSecret = appProxyQuery({ secret: 'other', shop, loggedInCustomerId: '7' });
    expect(await shopify.utils.validateHmac(wrongSecret, { signator: 'appProxy' })).toBe(false);
    const stale = appProxyQuery({ secret, shop, timestamp: Math.floor(Date.now() / 1000) - 600 });
    await expect(shopify.utils.validateHmac(stale, { signator: 'appProxy' })).rejects.toThrow();
  });
});

describe('webhook and Flow HMAC', () => {
  const body = '{"id":820982911946154508,"email":"jon@example.com"}';

  it('known answer (computed with openssl) and by hand with node:crypto', () => {
    expect(webhookHmac(secret, body)).toBe('LnwdZPLBbdjkBwPD/lDL1/rYEGby/GHPtL1aAH6Dxjc=');
    expect(webhookHmac(secret, body)).toBe(createHmac('sha256', secret).update(Buffer.from(body, 'utf8')).digest('base64'));
    expect(webhookHmac(secret, Buffer.from(body))).toBe(webhookHmac(secret, body));
    expect(flowHmac(secret, body)).toBe(webhookHmac(secret, body));
    // Multi-byte characters: the HMAC is over the UTF-8 bytes.
    const utf8 = '{"name":"Müller ☕"}';
    expect(webhookHmac(secret, utf8)).toBe(createHmac('sha256', secret).update(Buffer.from(utf8, 'utf8')).digest('base64'));
  });

  it('webhookHeaders has every header Shopify sends', () => {
    const h = webhookHeaders({ secret, shop, topic: 'orders/create', rawBody: body, webhookId: 'wh-1', triggeredAt: '2026-11-01T10:00:00.000Z', eventId: 'ev-1' });
    expect(h).toEqual({
      'Content-Type': 'application/json',
      'X-Shopify-Hmac-Sha256': 'LnwdZPLBbdjkBwPD/lDL1/rYEGby/GHPtL1aAH6Dxjc=',
      'X-Shopify-Topic': 'orders/create',
      'X-Shopify-Shop-Domain': shop,
      'X-Shopify-API-Version': '2026-07',
      'X-Shopify-Webhook-Id': 'wh-1',
      'X-Shopify-Triggered-At': '2026-11-01T10:00:00.000Z',
      'X-Shopify-Event-Id': 'ev-1',
    });
  });

  it('flowActionRequest and flowLifecycleRequest bodies and signatures', () => {
    const req = flowActionRequest({ secret, shop, shopId: '60000000001', handle: 'tag-customer-by-segment', actionRunId: 'run-1', actionDefinitionId: 'Tag customer by segment', properties: { customer_id: '7400000000001', segment: 'loyal' }, stepReference: 'step-1' });
    expect(JSON.parse(req.body)).toEqual({
      shop_id: '60000000001',
      shopify_domain: shop,
      action_run_id: 'run-1',
      action_definition_id: 'Tag customer by segment',
      handle: 'tag-customer-by-segment',
      properties: { customer_id: '7400000000001', segment: 'loyal', step_reference: 'step-1' },
    });
    expect(req.headers['X-Shopify-Hmac-Sha256']).toBe(createHmac('sha256', secret).update(req.body).digest('base64'));
    expect(JSON.parse(flowActionRequest({ secret, shop, shopId: 1, handle: 'h', actionDefinitionId: 'd', properties: {}, stepReference: null }).body).properties).toEqual({});

    const life = flowLifecycleRequest({ secret, shop, shopId: 60000000001, flowTriggerDefinitionId: 'trigger-1', hasEnabledFlow: true, timestamp: '2026-11-01T10:00:00Z' });
    expect(JSON.parse(life.body)).toEqual({ flow_trigger_definition_id: 'trigger-1', has_enabled_flow: true, shop_id: 60000000001, shopify_domain: shop, timestamp: '2026-11-01T10:00:00Z' });
    expect(life.headers['X-Shopify-Hmac-Sha256']).toBe(webhookHmac(secret, life.body));
  });
});

describe('cross-check with @shopify/shopify-api over real HTTP', () => {
  let server: Server;
  let url: string;
  const results: unknown[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        const check = req.url === '/flow' ? shopify.flow.validate : shopify.webhooks.validate;
        results.push(await check({ rawBody, rawRequest: req, rawResponse: res }));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('webhooks.validate accepts a simulator-signed webhook and rejects a tampered one', async () => {
    const rawBody = JSON.stringify({ id: 6050000000001, email: 'ann@example.com', total_price: '19.99' });
    const headers = webhookHeaders({ secret, shop, topic: 'orders/create', rawBody, webhookId: 'wh-xcheck', eventId: 'ev-x' });
    await fetch(`${url}/webhook`, { method: 'POST', headers, body: rawBody });
    expect(results.pop()).toMatchObject({ valid: true, topic: 'ORDERS_CREATE', domain: shop, apiVersion: '2026-07', webhookId: 'wh-xcheck', eventId: 'ev-x' });
    await fetch(`${url}/webhook`, { method: 'POST', headers, body: rawBody.replace('19.99', '19.98') });
    expect(results.pop()).toMatchObject({ valid: false, reason: 'invalid_hmac' });
  });

  it('flow.validate accepts flowActionRequest and flowLifecycleRequest', async () => {
    for (const req of [
      flowActionRequest({ secret, shop, shopId: '1', handle: 'h', actionDefinitionId: 'Tag', properties: { customer_id: '1' } }),
      flowLifecycleRequest({ secret, shop, shopId: 1, flowTriggerDefinitionId: 't', hasEnabledFlow: false }),
    ]) {
      await fetch(`${url}/flow`, { method: 'POST', headers: req.headers, body: req.body });
      expect(results.pop()).toEqual({ valid: true });
      await fetch(`${url}/flow`, { method: 'POST', headers: req.headers, body: `${req.body} ` });
      expect(results.pop()).toMatchObject({ valid: false, reason: 'invalid_hmac' });
    }
  });
});

describe('sessionToken', () => {
  it('is an HS256 JWT with App Bridge claims (verified by hand)', () => {
    const iat = 1_800_000_000;
    const token = sessionToken({ apiKey, secret, shop, sub: '42', iat, jti: 'jti-1', sid: 'sid-1' });
    const [h, p, sig] = token.split('.');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(sig).toBe(createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url'));
    expect(JSON.parse(Buffer.from(p!, 'base64url').toString())).toEqual({
      iss: `https://${shop}/admin`,
      dest: `https://${shop}`,
      aud: apiKey,
      sub: '42',
      exp: iat + 60,
      nbf: iat,
      iat,
      jti: 'jti-1',
      sid: 'sid-1',
    });
  });

  it('round-trips through shopify.session.decodeSessionToken; expiry and wrong secret are rejected', async () => {
    const payload = await shopify.session.decodeSessionToken(sessionToken({ apiKey, secret, shop }));
    expect(payload).toMatchObject({ iss: `https://${shop}/admin`, dest: `https://${shop}`, aud: apiKey, sub: '1' });
    const past = Math.floor(Date.now() / 1000) - 600;
    await expect(shopify.session.decodeSessionToken(sessionToken({ apiKey, secret, shop, iat: past }))).rejects.toThrow();
    await expect(shopify.session.decodeSessionToken(sessionToken({ apiKey, secret: 'other', shop }))).rejects.toThrow();
    await expect(shopify.session.decodeSessionToken(sessionToken({ apiKey: 'someone-else', secret, shop }))).rejects.toThrow();
  });
});
