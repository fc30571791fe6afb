// /api/v1 — the admin API (the operator's CLI and dashboard, and the admin UI extension).
// Cross-origin: admin UI extensions call it from Shopify's admin with a Bearer ID token.
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.ts';
import { errorBody } from '../errors.ts';
import { shopStatus } from '../store/status.ts';
import { listLeadTimes, setLeadTime } from '../store/product-settings.ts';
import { makeAuthenticate, targetShop, useApiHeaders } from './auth.ts';
import { readDataRequest } from '../ingest/data-request-export.ts';

export async function apiRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  useApiHeaders(app);
  app.options('/api/v1/*', async (_req, reply) => reply.code(204).send());

  const authenticate = makeAuthenticate(deps);
  app.register(async (secured) => {
    secured.addHook('preHandler', authenticate);

    secured.get('/api/v1/status', async (req, reply) => {
      const shop = targetShop(req, reply, false);
      if (shop === null) return reply;
      return { shops: shopStatus(deps.db, shop) };
    });

    secured.post('/api/v1/session', async (req) => {
      const p = req.principal!;
      return p.kind === 'shop' ? { shop: p.shop, installed: true } : { operator: true };
    });

    secured.get('/api/v1/products/lead-times', async (req, reply) => {
      const shop = targetShop(req, reply, true);
      if (!shop) return reply;
      return { shop, lead_times: listLeadTimes(deps.db, shop) };
    });

    secured.put('/api/v1/products/:id/lead-time', async (req, reply) => {
      const shop = targetShop(req, reply, true);
      if (!shop) return reply;
      const id = (req.params as { id: string }).id;
      const days = (req.body as { lead_time_days?: unknown } | null)?.lead_time_days;
      if (!/^[\w.-]{1,64}$/.test(id)) return reply.code(400).send(errorBody('bad_request', 'invalid product id'));
      if (days !== null && !(typeof days === 'number' && Number.isFinite(days) && days > 0 && days <= 365)) {
        return reply.code(400).send(errorBody('bad_request', 'lead_time_days must be a number of days from 0 to 365, or null'));
      }
      await deps.writer.write((db) => setLeadTime(db, shop, id, days as number | null, deps.now().toISOString()));
      return { shop, product_id: id, lead_time_days: days };
    });

    secured.get('/api/v1/data-requests/:id', async (req, reply) => {
      const shop = targetShop(req, reply, true);
      if (!shop) return reply;
      const r = readDataRequest(deps.db, shop, (req.params as { id: string }).id);
      // A long store's export is written in steps after the webhook's answer (data-request-export.ts).
      if (r.status === 'preparing') return reply.code(202).header('Retry-After', '5').send({ status: 'preparing' });
      if (r.status === 'missing') return reply.code(404).send(errorBody('not_found'));
      return { created_at: r.createdAt, data: r.data };
    });
  });
}
