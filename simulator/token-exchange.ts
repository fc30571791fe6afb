// Shopify's token exchange (`POST /admin/oauth/access_token`, grant type token-exchange): the
// app trades a session token (an HS256 JWT signed with the app's secret) for an access token.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
export const OFFLINE_TOKEN_TYPE = 'urn:shopify:params:oauth:token-type:offline-access-token';
export const ONLINE_TOKEN_TYPE = 'urn:shopify:params:oauth:token-type:online-access-token';

export interface SessionTokenPayload {
  iss: string;
  dest: string;
  aud: string;
  sub?: string;
  exp: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  sid?: string;
}

const CLOCK_TOLERANCE_S = 10; // as @shopify/shopify-api's decodeSessionToken

/** Verifies a session token for `shop`; returns its payload or why it is not acceptable. */
export function verifySessionToken(
  token: string,
  opts: { apiKey: string; apiSecret: string; shop: string; nowMs: number },
): { ok: true; payload: SessionTokenPayload } | { ok: false; reason: string } {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'not a JWT' };
  const [h, p, sig] = parts as [string, string, string];
  let header: { alg?: string };
  let payload: SessionTokenPayload;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'undecodable JWT' };
  }
  if (header.alg !== 'HS256') return { ok: false, reason: `unsupported alg ${header.alg}` };
  const expected = createHmac('sha256', opts.apiSecret).update(`${h}.${p}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
  const now = opts.nowMs / 1000;
  if (typeof payload.exp !== 'number' || payload.exp + CLOCK_TOLERANCE_S < now) return { ok: false, reason: 'expired' };
  if (typeof payload.nbf === 'number' && payload.nbf - CLOCK_TOLERANCE_S > now) return { ok: false, reason: 'not yet valid' };
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!aud.includes(opts.apiKey)) return { ok: false, reason: 'audience is not this app' };
  if (payload.dest !== `https://${opts.shop}`) return { ok: false, reason: `dest ${payload.dest} is not https://${opts.shop}` };
  return { ok: true, payload };
}

/** Signs a session token as Shopify admin would (for tests and the demo). */
export function signSessionToken(payload: SessionTokenPayload, apiSecret: string): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(payload)}`;
  return `${body}.${createHmac('sha256', apiSecret).update(body).digest('base64url')}`;
}
