// Shopify Flow: POST /flow/actions/:handle (action runs) and POST /flow/lifecycle (is any
// workflow using one of our triggers?). HMAC-verified over the raw body; idempotent on
// action_run_id; the handle in the signed body wins over the URL.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app.ts';
import { errorBody, RETRY_AFTER_SECONDS } from '../errors.ts';
import { rawBytesOf, useRawBody, utf8Of } from '../http/raw-body.ts';
import { isShopDomain } from '../shopify/verify.ts';
import { StoreUnavailableError } from '../store/writer.ts';
import type { Db } from '../store/db.ts';
import type { Keys } from '../keys.ts';

export interface FlowActionContext {
  db: Db;
  keys: Keys;
  shop: string;
  actionRunId: string;
  properties: Record<string, unknown>;
  deps: AppDeps;
}

export interface FlowActionHandler {
  handle: string;
  /** Must finish well inside Flow's 10 s; slow work belongs in a job. Returns Flow return data, if any. */
  run(ctx: FlowActionContext): Promise<{ returnValue?: unknown }>;
}

/** Thrown by a handler when Flow should try again later (Admin API down, store busy). */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
}

const actionBody = z.object({
  shop_id: z.union([z.string(), z.number()]).optional(),
  shopify_domain: z.string().refine(isShopDomain, 'not a myshopify.com domain'),
  action_run_id: z.string().min(1).max(200),
  action_definition_id: z.string().optional(),
  handle: z.string().regex(/^[a-zA-Z0-9-]{1,50}$/),
  properties: z.record(z.string(), z.unknown()).default({}),
});

const lifecycleBody = z.object({
  flow_trigger_definition_id: z.string().min(1).max(200),
  has_enabled_flow: z.boolean(),
  shop_id: z.union([z.string(), z.number()]).optional(),
  shopify_domain: z.string().refine(isShopDomain, 'not a myshopify.com domain'),
  timestamp: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a timestamp'),
});

const HANDLER_BUDGET_MS = 8_000; // Flow gives up after 10 s

export async function flowRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  useRawBody(app);

  app.post('/flow/actions/:handle', { bodyLimit: 256 * 1024 }, async (req, reply) => {
    const bytes = rawBytesOf(req.body);
    const v = await deps.verifier.flow(bytes, req.raw);
    if (!v.ok) {
      deps.metrics.flowActions.inc({ handle: 'unknown', outcome: 'rejected' });
      return reply.code(401).send(errorBody('unauthorized', v.reason));
    }
    const raw = utf8Of(bytes);
    if (raw === null) return reply.code(400).send(errorBody('bad_request', 'body is not valid UTF-8'));
    let parsed;
    try {
      parsed = actionBody.safeParse(JSON.parse(raw));
    } catch {
      return reply.code(400).send(errorBody('bad_request', 'body is not valid JSON'));
    }
    if (!parsed.success) return reply.code(400).send(errorBody('bad_request', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')));
    const body = parsed.data;
    const handler = deps.flowActions.get(body.handle);
    if (!handler) {
      deps.metrics.flowActions.inc({ handle: body.handle, outcome: 'unknown' });
      return reply.code(404).send(errorBody('unknown_flow_action', body.handle));
    }
    const shop = body.shopify_domain;
    const previous = deps.db.prepare('SELECT result FROM flow_action_runs WHERE shop = ? AND action_run_id = ?').pluck().get(shop, body.action_run_id) as string | undefined;
    if (previous !== undefined) {
      deps.metrics.flowActions.inc({ handle: body.handle, outcome: 'duplicate' });
      return reply.code(200).send(JSON.parse(previous));
    }
    try {
      const result = await Promise.race([
        handler.run({ db: deps.db, keys: deps.keys, shop, actionRunId: body.action_run_id, properties: body.properties, deps }),
        new Promise<never>((_, rej) => setTimeout(() => rej(new RetryLaterError('handler exceeded its time budget')), HANDLER_BUDGET_MS).unref()),
      ]);
      const response = result.returnValue === undefined ? { ok: true } : { return_value: result.returnValue };
      await deps.writer.write((db) => db.prepare(`INSERT OR IGNORE INTO flow_action_runs (shop, action_run_id, handle, received_at, status, result) VALUES (?, ?, ?, ?, 'done', ?)`)
        .run(shop, body.action_run_id, body.handle, deps.now().toISOString(), JSON.stringify(response)));
      deps.metrics.flowActions.inc({ handle: body.handle, outcome: 'done' });
      return reply.code(200).send(response);
    } catch (err) {
      if (err instanceof RetryLaterError || err instanceof StoreUnavailableError) {
        deps.metrics.flowActions.inc({ handle: body.handle, outcome: 'retry' });
        req.log.warn({ handle: body.handle, err: (err as Error).message }, 'flow action deferred');
        // 503: Flow re-sends the same action_run_id with backoff for up to 24 h.
        return reply.code(503).header('Retry-After', String(RETRY_AFTER_SECONDS)).send(errorBody('store_unavailable', (err as Error).message));
      }
      deps.metrics.flowActions.inc({ handle: body.handle, outcome: 'failed' });
      req.log.error({ handle: body.handle, err }, 'flow action failed');
      // A 4xx ends the run as failed with our message in the merchant's run log; no retry.
      return reply.code(422).send(errorBody('bad_request', (err as Error).message));
    }
  });

  app.post('/flow/lifecycle', { bodyLimit: 64 * 1024 }, async (req, reply) => {
    const bytes = rawBytesOf(req.body);
    const v = await deps.verifier.flow(bytes, req.raw);
    if (!v.ok) return reply.code(401).send(errorBody('unauthorized', v.reason));
    const raw = utf8Of(bytes);
    if (raw === null) return reply.code(400).send(errorBody('bad_request', 'body is not valid UTF-8'));
    let parsed;
    try {
      parsed = lifecycleBody.safeParse(JSON.parse(raw));
    } catch {
      return reply.code(400).send(errorBody('bad_request', 'body is not valid JSON'));
    }
    if (!parsed.success) return reply.code(400).send(errorBody('bad_request', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')));
    const b = parsed.data;
    try {
      await deps.writer.write((db) => db.prepare(`INSERT INTO flow_trigger_lifecycle (shop, flow_trigger_definition_id, has_enabled_flow, timestamp) VALUES (?, ?, ?, ?)
        ON CONFLICT (shop, flow_trigger_definition_id) DO UPDATE SET has_enabled_flow = excluded.has_enabled_flow, timestamp = excluded.timestamp
        WHERE julianday(excluded.timestamp) >= julianday(flow_trigger_lifecycle.timestamp)`)
        .run(b.shopify_domain, b.flow_trigger_definition_id, b.has_enabled_flow ? 1 : 0, new Date(b.timestamp).toISOString()));
    } catch (err) {
      if (err instanceof StoreUnavailableError) return reply.code(503).header('Retry-After', String(RETRY_AFTER_SECONDS)).send(errorBody('store_unavailable'));
      throw err;
    }
    deps.metrics.flowActions.inc({ handle: 'lifecycle', outcome: 'done' });
    return reply.code(200).send({ ok: true });
  });
}
