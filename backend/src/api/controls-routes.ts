// /api/v1/controls — the merchant's controls over storefront recommendations (serve/controls.ts)
// and the revenue attributed to them. Same credentials as the rest of /api/v1: the operator
// token (any shop, ?shop=) or a Shopify admin session token (its own shop).
//
//   GET  /api/v1/controls                      excluded, pinned, min history, attribution window
//   PUT  /api/v1/controls/products/:id         {"action": "exclude"|"include"|"pin"|"unpin", "position"?: n}
//   PUT  /api/v1/controls/settings             {"min_history_orders"?: n, "attribution_days"?: n}
//   GET  /api/v1/controls/attribution          attributed orders, lines, revenue per arm [?since=ISO]
//
// Changes go through the group writer and apply to the next storefront request.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app.ts';
import { errorBody } from '../errors.ts';
import { ControlError, PRODUCT_ACTIONS, isProductId, setProductControl, setServeSettings, showControls, type ProductAction } from '../serve/controls.ts';
import { attributionSummary } from '../track/conversions.ts';
import { makeAuthenticate, targetShop, useApiHeaders } from './auth.ts';

const shopOf = (req: FastifyRequest, reply: FastifyReply): string | null => targetShop(req, reply, true) ?? null;

const wholeOrUndefined = (v: unknown): number | undefined | null => (v === undefined ? undefined : typeof v === 'number' && Number.isInteger(v) ? v : null);

export async function controlsRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  useApiHeaders(app);
  const authenticate = makeAuthenticate(deps);
  app.register(async (secured) => {
    secured.addHook('preHandler', authenticate);

    secured.get('/api/v1/controls', async (req, reply) => {
      const shop = shopOf(req, reply);
      if (!shop) return reply;
      return showControls(deps.db, shop);
    });

    secured.put('/api/v1/controls/products/:id', async (req, reply) => {
      const shop = shopOf(req, reply);
      if (!shop) return reply;
      const id = (req.params as { id: string }).id;
      const body = (req.body ?? {}) as { action?: unknown; position?: unknown };
      if (!isProductId(id)) return reply.code(400).send(errorBody('bad_request', 'product id must be a Shopify product id (digits)'));
      if (!PRODUCT_ACTIONS.includes(body.action as ProductAction)) return reply.code(400).send(errorBody('bad_request', `action must be one of ${PRODUCT_ACTIONS.join(', ')}`));
      const position = wholeOrUndefined(body.position);
      if (position === null || (position !== undefined && position < 1)) return reply.code(400).send(errorBody('bad_request', 'position must be a whole number ≥ 1'));
      try {
        return await deps.writer.write((db) => setProductControl(db, shop, id, body.action as ProductAction, deps.now().toISOString(), position));
      } catch (err) {
        if (err instanceof ControlError) return reply.code(400).send(errorBody('bad_request', err.message));
        throw err;
      }
    });

    secured.put('/api/v1/controls/settings', async (req, reply) => {
      const shop = shopOf(req, reply);
      if (!shop) return reply;
      if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) return reply.code(400).send(errorBody('bad_request', 'expected a JSON object'));
      const body = req.body as { min_history_orders?: unknown; attribution_days?: unknown };
      const minHistoryOrders = wholeOrUndefined(body.min_history_orders);
      const attributionDays = wholeOrUndefined(body.attribution_days);
      if (minHistoryOrders === null || attributionDays === null) return reply.code(400).send(errorBody('bad_request', 'min_history_orders and attribution_days must be whole numbers'));
      // Nothing to change is a mistake, not a write (it would bump the controls generation).
      if (minHistoryOrders === undefined && attributionDays === undefined) return reply.code(400).send(errorBody('bad_request', 'give min_history_orders and/or attribution_days'));
      try {
        return await deps.writer.write((db) => setServeSettings(db, shop, { minHistoryOrders, attributionDays }, deps.now().toISOString()));
      } catch (err) {
        if (err instanceof ControlError) return reply.code(400).send(errorBody('bad_request', err.message));
        throw err;
      }
    });

    secured.get('/api/v1/controls/attribution', async (req, reply) => {
      const shop = shopOf(req, reply);
      if (!shop) return reply;
      const since = (req.query as { since?: string }).since;
      if (since !== undefined && Number.isNaN(Date.parse(since))) return reply.code(400).send(errorBody('bad_request', 'since must be an ISO timestamp'));
      return { shop, since: since ? new Date(since).toISOString() : null, variants: attributionSummary(deps.db, shop, { since: since ? new Date(since).toISOString() : undefined }) };
    });
  });
}
