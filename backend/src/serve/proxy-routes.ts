// The storefront's door, through Shopify's app proxy: GET /proxy/recommendations and
// POST /proxy/events. Every request carries Shopify's signature and a timestamp (90 s window).
// The storefront never sees a 5xx: any failure answers with what can still be served.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AppDeps } from '../app.ts';
import { errorBody } from '../errors.ts';
import { rawBodyOf, useRawBody } from '../http/raw-body.ts';
import { popularProducts } from './popular.ts';

type Query = Record<string, string | string[] | undefined>;

async function verifyProxy(deps: AppDeps, req: FastifyRequest, reply: FastifyReply, route: string) {
  const v = await deps.verifier.appProxy(req.query as Query);
  if (!v.ok) {
    deps.metrics.proxyRequests.inc({ route, outcome: 'rejected' });
    void reply.code(401).send(errorBody('unauthorized', v.reason));
    return null;
  }
  return v;
}

const idList = (v: string | string[] | undefined): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => /^\d{1,20}$/.test(s)).slice(0, 50);

const eventsBody = z.object({
  consent: z.boolean(),
  events: z.array(z.object({
    id: z.string().min(8).max(64),
    type: z.enum(['impression', 'click']),
    product_id: z.string().regex(/^\d{1,20}$/).optional(),
    rec_id: z.string().max(64).optional(),
    anonymous_id: z.string().max(64).optional(),
    occurred_at: z.string().refine((s) => !Number.isNaN(Date.parse(s))).optional(),
  })).max(50),
});

export async function proxyRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  useRawBody(app);

  app.get('/proxy/recommendations', async (req, reply) => {
    const v = await verifyProxy(deps, req, reply, 'recommendations');
    if (!v) return reply;
    const q = req.query as Query;
    const limitRaw = Number(Array.isArray(q.limit) ? q.limit[0] : q.limit);
    const limit = Number.isInteger(limitRaw) && limitRaw > 0 ? Math.min(limitRaw, 24) : 8;
    // Personal answers must never sit in a shared cache; anonymous product-keyed lists may, briefly.
    reply.header('Cache-Control', v.customerId ? 'private, no-store' : 'public, max-age=60');
    let products: ReturnType<typeof popularProducts> = [];
    try {
      products = popularProducts(deps.db, v.shop, { limit, exclude: idList(q.product_id) });
      deps.metrics.proxyRequests.inc({ route: 'recommendations', outcome: 'served' });
    } catch (err) {
      req.log.error({ err }, 'recommendations failed; answering an empty list');
      deps.metrics.proxyRequests.inc({ route: 'recommendations', outcome: 'error' });
    }
    return reply.send({ variant: 'fallback', model_version: 'popularity', rec_id: randomUUID(), products });
  });

  app.post('/proxy/events', { bodyLimit: 32 * 1024 }, async (req, reply) => {
    const v = await verifyProxy(deps, req, reply, 'events');
    if (!v) return reply;
    let parsed;
    try {
      parsed = eventsBody.safeParse(JSON.parse(rawBodyOf(req.body)));
    } catch {
      return reply.code(400).send(errorBody('bad_request', 'body is not valid JSON'));
    }
    if (!parsed.success) return reply.code(400).send(errorBody('bad_request', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')));
    if (!parsed.data.consent) {
      // Without analytics consent nothing is recorded, not even a count per shopper.
      deps.metrics.storefrontEventsDropped.inc({ reason: 'no_consent' }, parsed.data.events.length);
      return reply.code(204).send();
    }
    const now = deps.now().toISOString();
    try {
      await deps.writer.write((db) => {
        const ins = db.prepare(`INSERT OR IGNORE INTO storefront_events (shop, event_id, type, unit, customer_id, product_id, rec_id, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
        for (const e of parsed.data.events) {
          ins.run(v.shop, e.id, e.type, v.customerId ?? e.anonymous_id ?? null, v.customerId, e.product_id ?? null, e.rec_id ?? null, e.occurred_at ? new Date(e.occurred_at).toISOString() : now);
        }
      });
    } catch (err) {
      // Tracking must never break the storefront: count the loss and answer as if stored.
      req.log.error({ err: (err as Error).message }, 'storefront events dropped');
      deps.metrics.storefrontEventsDropped.inc({ reason: 'storage' }, parsed.data.events.length);
    }
    return reply.code(204).send();
  });
}
