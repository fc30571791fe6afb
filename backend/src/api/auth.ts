// /api/v1 and the dashboard accept two credentials: the operator's SHOPML_ADMIN_TOKEN (every
// shop; choose one with ?shop=) or a Shopify admin session token (that shop only). The first
// session token seen for a shop without an offline access token installs it (token exchange).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { AppDeps } from '../app.ts';
import { errorBody } from '../errors.ts';
import { ensureInstalled } from '../shopify/install.ts';
import { isShopDomain } from '../shopify/verify.ts';
import { TokenBuckets } from '../track/rate-limit.ts';

export type Principal = { kind: 'operator' } | { kind: 'shop'; shop: string; userId: string | null };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison is constant-time regardless of length.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Wrong credentials allowed per client IP: this many at once, then one every 3 s. */
export const AUTH_FAILURE_BURST = 20;
const failureBudgets = new WeakMap<AppDeps, TokenBuckets>();

/**
 * Failed credentials per client IP (req.ip: see SHOPML_TRUST_PROXY), shared by /api/v1 and the
 * dashboard: the operator token works on both, so guessing it must be limited on both. Checked
 * before a credential is looked at, so once the budget is spent a right guess is refused too.
 */
export function authFailures(deps: AppDeps): TokenBuckets {
  let b = failureBudgets.get(deps);
  if (!b) failureBudgets.set(deps, (b = new TokenBuckets({ burst: AUTH_FAILURE_BURST, perSecond: 1 / 3, maxKeys: 10_000, now: () => deps.now().getTime() })));
  return b;
}

/** Answers 429 (and returns true) when this client spent its failed-credential budget. */
export async function refuseGuessing(deps: AppDeps, req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  const failures = authFailures(deps);
  if (failures.has(req.ip)) return false;
  await reply.code(429).header('Retry-After', String(Math.max(1, failures.secondsUntil(req.ip))))
    .send(errorBody('rate_limited', 'too many wrong credentials from this address; wait before trying again'));
  return true;
}

export function makeAuthenticate(deps: AppDeps) {
  return async function authenticate(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = req.headers.authorization;
    if (header !== undefined && (await refuseGuessing(deps, req, reply))) return;
    const bearer = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
    if (bearer && sameSecret(bearer, deps.config.adminToken)) {
      req.principal = { kind: 'operator' };
      return;
    }
    const v = await deps.verifier.sessionToken(header);
    if (!v.ok) {
      // A credential that was given and is wrong counts against the client; none at all does not.
      if (header !== undefined) authFailures(deps).take(req.ip);
      await reply.code(401).send(errorBody('unauthorized', v.reason));
      return;
    }
    req.principal = { kind: 'shop', shop: v.shop, userId: v.userId };
    if (!(await ensureInstalled(deps, v.shop, bearer!, req.log))) {
      await reply.code(502).send(errorBody('internal', 'could not obtain an access token from Shopify'));
    }
  };
}

/**
 * The shop a request may act on: its own for a session token (naming another is 403), ?shop= for
 * the operator (a value that is not a myshopify.com domain is 400).
 */
export function shopFor(req: FastifyRequest, requested: unknown): { ok: true; shop: string | undefined } | { ok: false; status: 400 | 403 } {
  const p = req.principal;
  if (!p) return { ok: false, status: 403 };
  if (p.kind === 'shop') {
    if (requested !== undefined && requested !== p.shop) return { ok: false, status: 403 };
    return { ok: true, shop: p.shop };
  }
  if (requested === undefined) return { ok: true, shop: undefined };
  return isShopDomain(requested) ? { ok: true, shop: requested } : { ok: false, status: 400 };
}

/**
 * Headers every /api/v1 answer carries: admin UI extensions call from Shopify's admin
 * (cross-origin, Bearer ID token), and nothing here may be cached.
 */
export function useApiHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('Access-Control-Allow-Origin', '*');
    reply.header('Access-Control-Allow-Headers', 'Authorization, Content-Type');
    reply.header('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, OPTIONS');
    reply.header('Cache-Control', 'no-store');
    return payload;
  });
}

/**
 * The shop a request acts on: a session token's own, the operator's ?shop= (or body `shop`).
 * Sends the error itself and returns null when the request may not or cannot name one;
 * undefined when none was named and none is required.
 */
export function targetShop(req: FastifyRequest, reply: FastifyReply, required: boolean, body?: Record<string, unknown>): string | undefined | null {
  const q = (req.query as { shop?: string } | undefined)?.shop;
  const b = body?.shop;
  if (q !== undefined && b !== undefined && q !== b) {
    void reply.code(400).send(errorBody('bad_request', 'shop in the query and in the body differ'));
    return null;
  }
  const s = shopFor(req, q ?? b);
  if (!s.ok) {
    void reply.code(s.status).send(s.status === 403 ? errorBody('forbidden') : errorBody('bad_request', 'shop must be a *.myshopify.com domain'));
    return null;
  }
  if (required && !s.shop) {
    void reply.code(400).send(errorBody('bad_request', 'shop is required'));
    return null;
  }
  return s.shop;
}
