// App proxy verification on the storefront's hot path: the same rules as
// `shopify.utils.validateHmac(query, {signator: 'appProxy'})` in @shopify/shopify-api — `shop`,
// `signature`, `timestamp` (and `hmac`) at most once; an integer timestamp within 90 s of now;
// every other parameter, repeated values joined with ",", sorted by key (localeCompare, as the
// library sorts), concatenated as key=value with no separator; hex HMAC-SHA256 with the app's
// secret; constant-time comparison — computed synchronously with node:crypto. The library's
// version goes through WebCrypto (an async key import and sign per request); a test checks that
// both agree on valid, forged, tampered, stale and malformed queries.
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { isShopDomain, type Verified } from '../shopify/verify.ts';

export const PROXY_CLOCK_TOLERANCE_SEC = 90;
const SINGLE_VALUE = ['hmac', 'shop', 'signature', 'timestamp'];

export type ProxyQuery = Record<string, string | string[] | undefined>;
export type ProxyIdentity = Verified<{ shop: string; customerId: string | null }>;

export function createProxyVerifier(apiSecret: string, nowSec: () => number = () => Math.trunc(Date.now() / 1000)): (query: ProxyQuery) => ProxyIdentity {
  const key = createSecretKey(Buffer.from(apiSecret, 'utf8'));
  return (query) => {
    const signature = query.signature;
    if (typeof signature !== 'string') return { ok: false, reason: Array.isArray(signature) ? 'invalid_signature: repeated' : 'missing_signature' };
    for (const k of SINGLE_VALUE) if (Array.isArray(query[k])) return { ok: false, reason: `invalid_signature: "${k}" appears more than once` };
    const ts = query.timestamp;
    const t = ts === undefined ? NaN : Number(ts);
    if (!Number.isInteger(t)) return { ok: false, reason: 'invalid_timestamp: missing or invalid' };
    if (Math.abs(nowSec() - t) > PROXY_CLOCK_TOLERANCE_SEC) return { ok: false, reason: 'invalid_timestamp: outside of the tolerance range' };
    const keys: string[] = [];
    for (const k in query) if (k !== 'signature' && k !== 'hmac' && query[k] !== undefined) keys.push(k);
    keys.sort((a, b) => a.localeCompare(b));
    let message = '';
    for (const k of keys) {
      const v = query[k]!;
      message += `${k}=${Array.isArray(v) ? v.join(',') : v}`;
    }
    const expected = createHmac('sha256', key).update(message, 'utf8').digest();
    const given = Buffer.from(signature, 'utf8');
    const wanted = Buffer.from(expected.toString('hex'), 'utf8');
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      return { ok: false, reason: 'invalid_signature' };
    }
    const shop = query.shop;
    if (!isShopDomain(shop)) return { ok: false, reason: 'invalid_shop_domain' };
    const c = query.logged_in_customer_id;
    return { ok: true, shop, customerId: typeof c === 'string' && /^\d{1,20}$/.test(c) ? c : null };
  };
}
