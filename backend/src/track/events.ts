// POST /proxy/events: impressions and clicks from the storefront block. Signed (app proxy),
// rate-limited per shop + unit (token bucket in memory; 429 beyond), recorded only when the block
// reports the shopper's analytics consent, deduplicated by event id. Each event is stored with
// what attribution needs, read from its signed rec_id: the arm and the model version that
// produced the list. A storage failure answers 204 like a success and counts the events as
// dropped in /metrics: tracking never breaks the storefront.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app.ts';
import type { Db } from '../store/db.ts';
import { perConnection } from '../store/per-connection.ts';
import { errorBody } from '../errors.ts';
import { isRedacted } from '../ingest/record.ts';
import { rawBytesOf, utf8Of } from '../http/raw-body.ts';
import { REC_ID_MAX_LENGTH, type RecIds } from '../serve/rec-id.ts';
import type { ProxyIdentity, ProxyQuery } from '../serve/proxy-verify.ts';
import { TokenBuckets, type RateLimitOptions } from './rate-limit.ts';

export const ANONYMOUS_ID = /^[A-Za-z0-9_-]{1,64}$/;
const productId = z.string().regex(/^\d{1,20}$/);
const anonymousId = z.string().regex(ANONYMOUS_ID);

export const eventsBody = z.object({
  consent: z.boolean(),
  /** The block's id for a shopper who is not logged in (may also be given per event). */
  anonymous_id: anonymousId.optional(),
  events: z.array(z.object({
    id: z.string().min(8).max(64),
    type: z.enum(['impression', 'click']),
    /** A click's product, or an impression of one product. */
    product_id: productId.optional(),
    /** An impression of a whole list: the products shown. */
    product_ids: z.array(productId).max(50).optional(),
    rec_id: z.string().max(REC_ID_MAX_LENGTH).optional(),
    anonymous_id: anonymousId.optional(),
    occurred_at: z.string().max(40).refine((s) => !Number.isNaN(Date.parse(s))).optional(),
  })).max(50),
});
export type EventsBody = z.infer<typeof eventsBody>;

/** A client clock is trusted only within a day in the past and five minutes ahead. */
function occurredAt(given: string | undefined, nowMs: number): string {
  if (given) {
    const t = Date.parse(given);
    if (t >= nowMs - 86_400_000 && t <= nowMs + 300_000) return new Date(Math.min(t, nowMs)).toISOString();
  }
  return new Date(nowMs).toISOString();
}

const insertStatement = perConnection((db: Db) => db.prepare<unknown[]>(`INSERT OR IGNORE INTO storefront_events (shop, event_id, type, unit, customer_id, product_id, rec_id, occurred_at, variant, model_version, experiment_id, product_ids)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`));

/** Stores the events (must run in a transaction); returns how many were new. */
export function storeEvents(db: Db, recIds: RecIds, shop: string, customerId: string | null, body: EventsBody, nowMs: number): number {
  const ins = insertStatement(db);
  let stored = 0;
  for (const e of body.events) {
    const info = e.rec_id ? recIds.parse(shop, e.rec_id) : null;
    const unit = customerId ?? e.anonymous_id ?? body.anonymous_id ?? null;
    const ids = e.product_ids?.length ? e.product_ids.join(',') : null;
    stored += ins.run(shop, e.id, e.type, unit, customerId, e.product_id ?? e.product_ids?.[0] ?? null, e.rec_id ?? null,
      occurredAt(e.occurred_at, nowMs), info?.variant ?? null, info?.version ?? null, info?.experiment ?? null, ids).changes;
  }
  return stored;
}

/** The unit a (not yet validated) body is about, for rate limiting. */
function unitOf(customerId: string | null, raw: unknown): string | null {
  if (customerId) return customerId;
  const b = raw as { anonymous_id?: unknown; events?: { anonymous_id?: unknown }[] } | null;
  const a = b?.anonymous_id ?? (Array.isArray(b?.events) ? b.events[0]?.anonymous_id : undefined);
  return typeof a === 'string' && ANONYMOUS_ID.test(a) ? a : null;
}

export interface EventsRouteOptions {
  verify: (q: ProxyQuery) => ProxyIdentity;
  recIds: () => RecIds;
  rateLimit?: RateLimitOptions;
}

export function eventsRoute(app: FastifyInstance, deps: AppDeps, o: EventsRouteOptions): TokenBuckets {
  const buckets = new TokenBuckets(o.rateLimit);
  app.post('/proxy/events', { bodyLimit: 32 * 1024 }, async (req, reply) => {
    const v = o.verify(req.query as ProxyQuery);
    if (!v.ok) {
      deps.metrics.proxyRequests.inc({ route: 'events', outcome: 'rejected' });
      return reply.code(401).send(errorBody('unauthorized', v.reason));
    }
    const text = utf8Of(rawBytesOf(req.body));
    if (text === null) return reply.code(400).send(errorBody('bad_request', 'body is not valid UTF-8'));
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return reply.code(400).send(errorBody('bad_request', 'body is not valid JSON'));
    }
    const unit = unitOf(v.customerId, raw);
    if (!buckets.take(`${v.shop}|${unit ?? `ip:${req.ip}`}`)) {
      const n = Array.isArray((raw as { events?: unknown[] } | null)?.events) ? (raw as { events: unknown[] }).events.length : 0;
      deps.metrics.storefrontEventsDropped.inc({ reason: 'rate_limited' }, n);
      deps.metrics.proxyRequests.inc({ route: 'events', outcome: 'rate_limited' });
      return reply.code(429).header('Retry-After', '5').send(errorBody('rate_limited'));
    }
    const parsed = eventsBody.safeParse(raw);
    if (!parsed.success) return reply.code(400).send(errorBody('bad_request', parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')));
    if (!parsed.data.consent) {
      // Without analytics consent nothing is recorded, not even a count per shopper.
      deps.metrics.storefrontEventsDropped.inc({ reason: 'no_consent' }, parsed.data.events.length);
      return reply.code(204).send();
    }
    const nowMs = deps.now().getTime();
    const recIds = o.recIds();
    try {
      // A logged-in customer who was redacted (customers/redact) is tracked as an anonymous shopper.
      await deps.writer.write((db) => storeEvents(db, recIds, v.shop, v.customerId !== null && isRedacted(db, deps.keys, v.shop, 'customer', v.customerId) ? null : v.customerId, parsed.data, nowMs));
      deps.metrics.proxyRequests.inc({ route: 'events', outcome: 'recorded' });
    } catch (err) {
      // Tracking must never break the storefront: count the loss and answer as if stored.
      req.log.error({ err: (err as Error).message }, 'storefront events dropped');
      deps.metrics.storefrontEventsDropped.inc({ reason: 'storage' }, parsed.data.events.length);
    }
    return reply.code(204).send();
  });
  return buckets;
}
