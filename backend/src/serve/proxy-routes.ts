// The storefront's door, through Shopify's app proxy: GET /proxy/recommendations and
// POST /proxy/events (backend/src/track/events.ts). Every request carries Shopify's signature and
// a timestamp (90 s window), checked before anything else. The storefront never sees a 5xx: any
// failure answers with what can still be served (popularity, then an empty list).
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.ts';
import { errorBody } from '../errors.ts';
import { useRawBody } from '../http/raw-body.ts';
import { isRedacted } from '../ingest/record.ts';
import { ANONYMOUS_ID, eventsRoute } from '../track/events.ts';
import { createProxyVerifier, type ProxyQuery } from './proxy-verify.ts';
import { POPULARITY, type Recommendation } from './recommend.ts';
import type { ServedProduct } from './catalog.ts';
import { serveStateFor } from './state.ts';

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

// Served products are frozen objects kept by the catalog: each one's JSON is made once.
const productJson = new WeakMap<ServedProduct, string>();
function jsonOf(p: ServedProduct): string {
  let j = productJson.get(p);
  if (j === undefined) productJson.set(p, (j = JSON.stringify(p)));
  return j;
}

/** The response body: the same bytes JSON.stringify would give, built from cached product JSON. */
export function recommendationJson(r: Pick<Recommendation, 'variant' | 'model_version' | 'rec_id' | 'products'>): string {
  let products = '';
  for (let i = 0; i < r.products.length; i++) products += (i ? ',' : '') + jsonOf(r.products[i]!);
  return `{"variant":${JSON.stringify(r.variant)},"model_version":${JSON.stringify(r.model_version)},"rec_id":${JSON.stringify(r.rec_id)},"products":[${products}]}`;
}

/** `product_id` once, repeated, or comma-separated (a cart): digits only, at most 50. */
export const idList = (v: string | string[] | undefined): string[] =>
  [...new Set((Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => /^\d{1,20}$/.test(s)))].slice(0, 50);

export async function proxyRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  useRawBody(app);
  const verify = createProxyVerifier(deps.config.apiSecret);

  app.get('/proxy/recommendations', async (req, reply) => {
    const q = req.query as ProxyQuery;
    const v = verify(q);
    if (!v.ok) {
      deps.metrics.proxyRequests.inc({ route: 'recommendations', outcome: 'rejected' });
      return reply.code(401).send(errorBody('unauthorized', v.reason));
    }
    let body: string;
    let cacheable = false;
    try {
      const anon = first(q.anonymous_id);
      const rec = serveStateFor(deps).recommend(v.shop, {
        productIds: idList(q.product_id),
        // A customer who was redacted (customers/redact) is served as an anonymous shopper: no
        // exposure or assignment is ever logged under their id again.
        customerId: v.customerId !== null && isRedacted(deps.db, deps.keys, v.shop, 'customer', v.customerId) ? null : v.customerId,
        anonymousId: anon !== undefined && ANONYMOUS_ID.test(anon) ? anon : null,
        limit: Number(first(q.limit)),
        consent: first(q.consent) === '1' || first(q.consent) === 'true',
      });
      cacheable = rec.cacheable && v.customerId === null;
      deps.metrics.proxyRequests.inc({ route: 'recommendations', outcome: rec.fallback === undefined ? 'served' : 'fallback' });
      if (rec.fallback !== undefined) req.log.warn({ shop: v.shop, reason: rec.fallback }, 'recommendations degraded to popularity');
      body = recommendationJson(rec);
    } catch (err) {
      // serve.recommend never throws; this is the last line (serialisation, a bug): still a 200.
      req.log.error({ err }, 'recommendations failed; answering an empty list');
      deps.metrics.proxyRequests.inc({ route: 'recommendations', outcome: 'error' });
      body = JSON.stringify({ variant: 'fallback', model_version: POPULARITY, rec_id: `f-${Date.now().toString(36)}`, products: [] });
    }
    // Personal answers must never sit in a shared cache; anonymous product-keyed lists may, briefly.
    reply.header('Cache-Control', cacheable ? 'public, max-age=60' : 'private, no-store');
    reply.header('Content-Type', 'application/json; charset=utf-8');
    return reply.send(body);
  });

  eventsRoute(app, deps, { verify, recIds: () => serveStateFor(deps).recIds });

  app.addHook('onClose', async () => {
    await serveStateFor(deps).flush();
  });
}
