// shopml's synchronous webhook and Flow checks must agree with @shopify/shopify-api's
// webhooks.validate and flow.validate (on UTF-8 bodies; ours verify the bytes as received).
import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { createFlowVerifier, createShopifyApi, createWebhookVerifier } from '../../backend/src/shopify/verify.ts';
import { webhookHeaders } from '../../simulator/sign.ts';

const secret = 'cross-check-secret-0123456789';
const shopify = createShopifyApi({ apiKey: 'k', apiSecret: secret, scopes: ['read_orders'], appUrl: 'https://x.test' });
const ours = createWebhookVerifier(secret);

function request(headers: Record<string, string>): IncomingMessage {
  return { headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])), method: 'POST', url: '/webhooks' } as unknown as IncomingMessage;
}

const body = JSON.stringify({ id: 1, note: 'ünïcödé ✓', line_items: [] });
const good = webhookHeaders({ secret, shop: 'a-shop.myshopify.com', topic: 'orders/create', rawBody: body, webhookId: 'w-1' });
const without = (name: string) => Object.fromEntries(Object.entries(good).filter(([k]) => k.toLowerCase() !== name));

const cases: [string, string, Record<string, string>][] = [
  ['valid', body, good],
  ['tampered body', body.replace('1', '2'), good],
  ['wrong secret', body, webhookHeaders({ secret: 'another-secret-0123456789', shop: 'a-shop.myshopify.com', topic: 'orders/create', rawBody: body, webhookId: 'w-1' })],
  ['hmac not base64 of 32 bytes', body, { ...good, 'X-Shopify-Hmac-Sha256': 'abc' }],
  ['no hmac', body, without('x-shopify-hmac-sha256')],
  ['no topic', body, without('x-shopify-topic')],
  ['no webhook id', body, without('x-shopify-webhook-id')],
  ['no shop domain', body, without('x-shopify-shop-domain')],
  ['no api version', body, without('x-shopify-api-version')],
];

describe('webhook verification agrees with @shopify/shopify-api', () => {
  it.each(cases)('%s', async (_name, raw, headers) => {
    const lib = await shopify.webhooks.validate({ rawBody: raw, rawRequest: request(headers) as never });
    const mine = ours(raw, request(headers));
    expect(mine.ok).toBe(lib.valid);
    if (!lib.valid && !mine.ok) expect(mine.reason.split(':')[0]).toBe(lib.reason);
  });
});

const flowOurs = createFlowVerifier(secret);
const flowGood = { 'Content-Type': 'application/json', 'X-Shopify-Hmac-Sha256': good['X-Shopify-Hmac-Sha256']! };
const flowCases: [string, string, Record<string, string>][] = [
  ['valid', body, flowGood],
  ['tampered body', body.replace('1', '2'), flowGood],
  ['hmac of another secret', body, { ...flowGood, 'X-Shopify-Hmac-Sha256': webhookHeaders({ secret: 'another-secret-0123456789', shop: 'a-shop.myshopify.com', topic: 't', rawBody: body, webhookId: 'w' })['X-Shopify-Hmac-Sha256']! }],
  ['hmac not base64 of 32 bytes', body, { ...flowGood, 'X-Shopify-Hmac-Sha256': 'abc' }],
  ['no hmac', body, { 'Content-Type': 'application/json' }],
  ['empty body', '', flowGood],
];

describe('Flow verification agrees with @shopify/shopify-api', () => {
  it.each(flowCases)('%s', async (_name, raw, headers) => {
    const lib = await shopify.flow.validate({ rawBody: raw, rawRequest: request(headers) as never });
    const mine = flowOurs(raw, request(headers));
    expect(mine.ok).toBe(lib.valid);
    if (!lib.valid && !mine.ok) expect(mine.reason).toBe(lib.reason);
    // The same verdict over the bytes as received.
    expect(flowOurs(Buffer.from(raw, 'utf8'), request(headers)).ok).toBe(lib.valid);
  });
});
