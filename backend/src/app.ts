// buildApp(deps): the Fastify instance with every route plugin registered. No globals: tests
// build as many apps as they like, each with its own database, metrics and clock.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.ts';
import type { Db } from './store/db.ts';
import type { GroupWriter } from './store/writer.ts';
import type { Keys } from './keys.ts';
import type { Metrics } from './metrics.ts';
import type { Verifier } from './shopify/verify.ts';
import type { FlowActionHandler } from './flow/routes.ts';
import type { JobHandler, TrainedHook } from './jobs/handlers.ts';
import { errorBody } from './errors.ts';
import { healthRoutes } from './http/health.ts';
import { webhookRoutes } from './ingest/webhook-route.ts';
import { flowRoutes } from './flow/routes.ts';
import { proxyRoutes } from './serve/proxy-routes.ts';
import { apiRoutes } from './api/routes.ts';
import { registryRoutes } from './api/registry-routes.ts';
import { controlsRoutes } from './api/controls-routes.ts';
import { jobsRoutes } from './api/jobs-routes.ts';
import { insightsRoutes } from './api/insights-routes.ts';
import { canaryRoutes } from './api/canary-routes.ts';

export interface AppDeps {
  config: Config;
  db: Db;
  writer: GroupWriter;
  keys: Keys;
  verifier: Verifier;
  metrics: Metrics;
  flowActions: Map<string, FlowActionHandler>;
  /** Job type → handler (jobs/handlers.ts); the runner runs only types found here. */
  jobHandlers: Map<string, JobHandler>;
  /** Called after each `train` job trained (jobs/train-handler.ts): re-tagging, Flow triggers, monitors. */
  onTrained?: TrainedHook[];
  now: () => Date;
  fetch: typeof globalThis.fetch;
  lifecycle: { shuttingDown: boolean };
  onBulkFinished?: (shop: string, operationId: string) => void;
}

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    // Secrets and signatures never reach logs.
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-shopify-hmac-sha256"]', 'req.headers["x-shopify-access-token"]', 'req.headers.cookie'],
      censor: '[redacted]',
    },
    serializers: {
      // The query string holds the app proxy signature and customer ids: log the path only.
      req: (req: { method: string; url: string; routeOptions?: { url?: string } }) => ({ method: req.method, path: req.url.split('?')[0] }),
    },
  };
}

export async function buildApp(deps: AppDeps, opts: { logger?: FastifyServerOptions['logger'] } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 1024 * 1024, trustProxy: true, return503OnClosing: true });

  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, req, reply) => {
    if (err.statusCode === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send(errorBody('payload_too_large'));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return reply.code(err.statusCode).send(errorBody('bad_request', err.message));
    req.log.error({ err }, 'unhandled error');
    return reply.code(500).send(errorBody('internal'));
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send(errorBody('not_found')));

  await app.register(healthRoutes, deps);
  await app.register(webhookRoutes, deps);
  await app.register(flowRoutes, deps);
  await app.register(proxyRoutes, deps);
  await app.register(apiRoutes, deps);
  await app.register(registryRoutes, deps);
  await app.register(controlsRoutes, deps);
  await app.register(jobsRoutes, deps);
  await app.register(insightsRoutes, deps);
  await app.register(canaryRoutes, deps);
  await app.register((await import('./dashboard/routes.ts')).dashboardRoutes, deps);
  return app;
}
