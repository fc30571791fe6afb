// Who may see the dashboard, and how they prove it.
//
//   standalone  the operator's SHOPML_ADMIN_TOKEN, typed once into the login form (→ a signed
//               session cookie: HttpOnly, SameSite=Strict, Secure over https) or sent as
//               `Authorization: Bearer <token>`; sees every shop.
//   embedded    Shopify opens the app inside its admin with `?id_token=<session token>`; the
//               token is verified (HS256, our API key, our secret) and the view is scoped to its
//               shop. The page then carries a short-lived dashboard session of its own (an
//               embedded iframe gets no SameSite=Strict cookie), sent as a Bearer header by the
//               page's script.
//
// Dashboard sessions are stateless: `v1.<payload>.<hmac>`, keyed by HKDF of SHOPML_SECRET_KEY
// and a hash of SHOPML_ADMIN_TOKEN, so rotating either secret ends every session. A CSRF token
// (HMAC of the session's nonce) guards every state-changing request that relies on the cookie.
import { createHash, createHmac, createSecretKey, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

export type DashboardPrincipal =
  | { kind: 'operator'; via: 'bearer' | 'cookie' | 'session' }
  | { kind: 'shop'; shop: string; userId: string | null; via: 'id_token' | 'session' };

export interface SessionClaims {
  /** 'op' = operator (every shop), 'shop' = one shop. */
  p: 'op' | 'shop';
  s?: string;
  u?: string | null;
  /** Expiry, epoch seconds. */
  exp: number;
  /** Random nonce: the CSRF token is derived from it. */
  n: string;
}

export const COOKIE_NAME = 'shopml_dash';
/** Operator sessions (cookie) last a working day. */
export const OPERATOR_SESSION_SECONDS = 12 * 3600;
/** Sessions minted from a Shopify session token (which itself lives one minute). */
export const EMBEDDED_SESSION_SECONDS = 3600;

export interface SessionKeys {
  sign(claims: SessionClaims): string;
  verify(token: string, nowMs: number): SessionClaims | null;
  csrfFor(claims: SessionClaims): string;
  checkCsrf(claims: SessionClaims, given: unknown): boolean;
  /** Constant-time comparison with the operator's token. */
  isAdminToken(given: string): boolean;
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createSessionKeys(secretKey: string, adminToken: string): SessionKeys {
  const adminHash = createHash('sha256').update(adminToken).digest();
  const key: KeyObject = createSecretKey(Buffer.from(hkdfSync('sha256', Buffer.from(secretKey, 'utf8'), adminHash, Buffer.from('dashboard-session-v1'), 32)));
  const mac = (msg: string) => createHmac('sha256', key).update(msg).digest();
  return {
    sign(claims) {
      const body = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
      return `v1.${body}.${mac(`v1.${body}`).toString('base64url')}`;
    },
    verify(token, nowMs) {
      if (typeof token !== 'string' || token.length > 2048) return null;
      const parts = token.split('.');
      if (parts.length !== 3 || parts[0] !== 'v1') return null;
      const given = Buffer.from(parts[2]!, 'base64url');
      if (!sameBytes(given, mac(`v1.${parts[1]}`))) return null;
      let c: SessionClaims;
      try {
        c = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as SessionClaims;
      } catch {
        return null;
      }
      if (typeof c.exp !== 'number' || c.exp * 1000 <= nowMs || typeof c.n !== 'string') return null;
      if (c.p === 'op') return c;
      if (c.p === 'shop' && typeof c.s === 'string') return c;
      return null;
    },
    csrfFor(claims) {
      return mac(`csrf\u0000${claims.n}`).toString('base64url');
    },
    checkCsrf(claims, given) {
      if (typeof given !== 'string' || given.length > 200) return false;
      return sameBytes(Buffer.from(given, 'utf8'), Buffer.from(mac(`csrf\u0000${claims.n}`).toString('base64url'), 'utf8'));
    },
    isAdminToken(given) {
      // Hash both sides: constant time whatever the length.
      return timingSafeEqual(createHash('sha256').update(given).digest(), adminHash);
    },
  };
}

export function newClaims(p: { kind: 'operator' } | { kind: 'shop'; shop: string; userId: string | null }, nowMs: number, seconds: number): SessionClaims {
  const exp = Math.floor(nowMs / 1000) + seconds;
  const n = randomBytes(16).toString('base64url');
  return p.kind === 'operator' ? { p: 'op', exp, n } : { p: 'shop', s: p.shop, u: p.userId, exp, n };
}

/** The value of one cookie from a Cookie header (first occurrence), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** https as the client saw it (Fastify trusts X-Forwarded-Proto from the proxy: trustProxy). */
export const isHttps = (req: FastifyRequest): boolean => req.protocol === 'https';

export function sessionCookie(token: string, req: FastifyRequest, maxAgeSeconds = OPERATOR_SESSION_SECONDS): string {
  return `${COOKIE_NAME}=${token}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${isHttps(req) ? '; Secure' : ''}`;
}

export function clearedCookie(req: FastifyRequest): string {
  return `${COOKIE_NAME}=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0${isHttps(req) ? '; Secure' : ''}`;
}
