// /api/v1 insights for the admin UI extension (extensions/customer-insights): what shopml's
// champion models say about one customer or one product. Same credentials as the rest of /api/v1:
// a Shopify admin session / ID token (its own shop only — the extension's case) or the operator
// token with ?shop=. Cross-origin from Shopify's admin: the CORS headers (useApiHeaders) and the
// OPTIONS preflight (api/routes.ts) are shared with every /api/v1 route.
//
//   GET /api/v1/customers/:id/insights   segment, churn risk, expected next order, predicted value, tags applied
//   GET /api/v1/products/:id/insights    forecast with interval, stock-out date, reorder suggestion, related products
//
// :id is Shopify's numeric id or its GID (gid://shopify/Customer/123, gid://shopify/Product/123).
// Answers are documented in docs/admin-extension.md; their types are backend/src/insights/types.ts.
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.ts';
import { errorBody } from '../errors.ts';
import { SummaryCache } from '../dashboard/views/artifact-summaries.ts';
import { parseGid } from '../shopify/gid.ts';
import { serveStateFor } from '../serve/state.ts';
import { customerInsights } from '../insights/customer-insights.ts';
import { productInsights } from '../insights/product-insights.ts';
import { makeAuthenticate, targetShop, useApiHeaders } from './auth.ts';

/** Shopify's numeric id from the path: digits, or a GID of the expected type; null otherwise. */
export function resourceId(raw: string, type: 'Customer' | 'Product'): string | null {
  if (/^\d{1,20}$/.test(raw)) return raw;
  const g = parseGid(raw);
  return g && g.type === type && g.id.length <= 20 ? g.id : null;
}

const caches = new WeakMap<AppDeps, SummaryCache>();
function artifactsOf(deps: AppDeps): SummaryCache {
  let c = caches.get(deps);
  if (!c) caches.set(deps, (c = new SummaryCache(8)));
  return c;
}

export async function insightsRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  useApiHeaders(app);
  const authenticate = makeAuthenticate(deps);
  app.register(async (secured) => {
    secured.addHook('preHandler', authenticate);

    secured.get('/api/v1/customers/:id/insights', async (req, reply) => {
      const shop = targetShop(req, reply, true);
      if (!shop) return reply;
      const id = resourceId((req.params as { id: string }).id, 'Customer');
      if (id === null) return reply.code(400).send(errorBody('bad_request', 'id must be a Shopify customer id (digits) or its GID'));
      return customerInsights({ db: deps.db, artifactsDir: deps.config.artifactsDir, artifacts: artifactsOf(deps), now: deps.now() }, shop, id);
    });

    secured.get('/api/v1/products/:id/insights', async (req, reply) => {
      const shop = targetShop(req, reply, true);
      if (!shop) return reply;
      const id = resourceId((req.params as { id: string }).id, 'Product');
      if (id === null) return reply.code(400).send(errorBody('bad_request', 'id must be a Shopify product id (digits) or its GID'));
      return productInsights({ db: deps.db, artifactsDir: deps.config.artifactsDir, artifacts: artifactsOf(deps), serve: serveStateFor(deps), now: deps.now() }, shop, id);
    });
  });
}
