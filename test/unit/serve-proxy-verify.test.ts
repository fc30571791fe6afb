// The synchronous app proxy verifier agrees with @shopify/shopify-api's validateHmac (appProxy)
// on valid, forged, tampered, stale, repeated and malformed queries; queries are signed by the
// simulator (an independent implementation of Shopify's rules).
import { describe, expect, it } from 'vitest';
import { appProxyQuery, appProxySignature } from '../../simulator/sign.ts';
import { createShopifyApi } from '../../backend/src/shopify/verify.ts';
import { createProxyVerifier, type ProxyQuery } from '../../backend/src/serve/proxy-verify.ts';

const SECRET = 'proxy-verify-secret-0123456789';
const SHOP = 'verify-shop.myshopify.com';
const shopify = createShopifyApi({ apiKey: 'k', apiSecret: SECRET, scopes: ['read_orders'], appUrl: 'https://app.test' });
const verify = createProxyVerifier(SECRET);

/** What Fastify's query parser gives: repeated keys as arrays. */
function asQuery(q: URLSearchParams): ProxyQuery {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of q.entries()) {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}

async function library(q: ProxyQuery): Promise<boolean> {
  if (typeof q.signature !== 'string') return false;
  try {
    return await shopify.utils.validateHmac(q as never, { signator: 'appProxy' });
  } catch {
    return false;
  }
}

function cases(): [string, ProxyQuery][] {
  const now = Math.floor(Date.now() / 1000);
  const ok = asQuery(appProxyQuery({ secret: SECRET, shop: SHOP, extra: { product_id: '123', limit: '4' } }));
  const cart = asQuery(appProxyQuery({ secret: SECRET, shop: SHOP, loggedInCustomerId: '42', extra: { product_id: ['1', '2', '3'], anonymous_id: 'a-b_c' } }));
  const unicode = asQuery(appProxyQuery({ secret: SECRET, shop: SHOP, extra: { q: 'ünïcødé ✓', empty: '' } }));
  const forged = asQuery(appProxyQuery({ secret: 'another-secret-entirely', shop: SHOP }));
  const stale = asQuery(appProxyQuery({ secret: SECRET, shop: SHOP, timestamp: now - 91 }));
  const future = asQuery(appProxyQuery({ secret: SECRET, shop: SHOP, timestamp: now + 120 }));
  const edge = asQuery(appProxyQuery({ secret: SECRET, shop: SHOP, timestamp: now - 85 }));
  const tampered = { ...ok, product_id: '124' };
  const added = { ...ok, logged_in_customer_id: '42' };
  const noSig = { ...ok, signature: undefined };
  const repeatedShop = { ...ok, shop: [SHOP, SHOP] };
  const badTs: ProxyQuery = { shop: SHOP, timestamp: 'soon', path_prefix: '/apps/shopml' };
  badTs.signature = appProxySignature(SECRET, badTs as Record<string, string>);
  const upper = { ...ok, signature: String(ok.signature).toUpperCase() };
  const withHmac: ProxyQuery = { ...ok, hmac: 'ignored' };
  return [
    ['valid', ok], ['valid cart, logged in', cart], ['valid unicode and empty values', unicode], ['valid near the window edge', edge],
    ['forged', forged], ['stale', stale], ['from the future', future], ['tampered value', tampered], ['added parameter', added],
    ['no signature', noSig], ['repeated shop', repeatedShop], ['non-numeric timestamp', badTs], ['upper-case hex', upper], ['extra hmac parameter', withHmac],
  ];
}

describe('app proxy verification', () => {
  it('agrees with @shopify/shopify-api on every case', async () => {
    for (const [name, q] of cases()) {
      const mine = verify(q);
      expect({ name, ok: mine.ok }).toEqual({ name, ok: await library(q) });
    }
  });

  it('accepts what Shopify signs and reports the shop and the logged-in customer', () => {
    const [, cart] = cases()[1]!;
    expect(verify(cart)).toEqual({ ok: true, shop: SHOP, customerId: '42' });
    const [, anon] = cases()[0]!;
    expect(verify(anon)).toEqual({ ok: true, shop: SHOP, customerId: null });
  });

  it('rejects a signed but invalid shop domain', () => {
    const q = asQuery(appProxyQuery({ secret: SECRET, shop: 'evil.example.com' }));
    expect(verify(q)).toMatchObject({ ok: false, reason: 'invalid_shop_domain' });
  });
});
