// Liveness, readiness and Prometheus metrics.
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.ts';

export async function healthRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    if (deps.lifecycle.shuttingDown) return reply.code(503).send({ ready: false, reason: 'shutting down' });
    try {
      deps.db.prepare('SELECT 1').get();
      return { ready: true };
    } catch (err) {
      return reply.code(503).send({ ready: false, reason: (err as Error).message });
    }
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('Content-Type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
