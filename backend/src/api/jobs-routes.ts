// /api/v1/jobs — the background job queue over the admin API (same credentials as the rest of
// /api/v1: the operator token, any shop via ?shop=; a session token, its own shop only).
//   GET  /api/v1/jobs?shop=&status=&type=&limit=   counts per status and the newest jobs
//   POST /api/v1/jobs/:id/retry                    a dead or failed job becomes pending again
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.ts';
import { errorBody } from '../errors.ts';
import { getJob, JOB_STATUSES, JobError, jobCounts, listJobs, retryJob, type JobStatus } from '../jobs/queue.ts';
import { isUnavailable, StoreUnavailableError } from '../store/writer.ts';
import { makeAuthenticate, targetShop, useApiHeaders } from './auth.ts';

export async function jobsRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  useApiHeaders(app);
  const authenticate = makeAuthenticate(deps);
  app.register(async (secured) => {
    secured.addHook('preHandler', authenticate);

    secured.get('/api/v1/jobs', async (req, reply) => {
      const shop = targetShop(req, reply, false);
      if (shop === null) return reply;
      const q = req.query as { status?: string; type?: string; limit?: string };
      if (q.status !== undefined && !(JOB_STATUSES as readonly string[]).includes(q.status)) {
        return reply.code(400).send(errorBody('bad_request', `status must be one of ${JOB_STATUSES.join(', ')}`));
      }
      if (q.limit !== undefined && (!/^\d+$/.test(q.limit) || Number(q.limit) < 1 || Number(q.limit) > 1000)) {
        return reply.code(400).send(errorBody('bad_request', 'limit must be a whole number from 1 to 1000'));
      }
      return {
        counts: jobCounts(deps.db, shop),
        jobs: listJobs(deps.db, { shop, status: q.status as JobStatus | undefined, type: q.type, limit: q.limit ? Number(q.limit) : 50 }),
      };
    });

    secured.post('/api/v1/jobs/:id/retry', async (req, reply) => {
      const id = (req.params as { id: string }).id;
      if (!/^\d+$/.test(id)) return reply.code(400).send(errorBody('bad_request', 'job id must be a whole number'));
      const shop = targetShop(req, reply, false);
      if (shop === null) return reply;
      const job = getJob(deps.db, Number(id));
      // A session token sees only its own shop's jobs: another shop's job is "not found".
      if (!job || (shop !== undefined && job.shop !== shop)) return reply.code(404).send(errorBody('not_found', `no job ${id}`));
      try {
        return { job: await deps.writer.write((db) => retryJob(db, job.id, deps.now())) };
      } catch (err) {
        if (err instanceof JobError) return reply.code(err.code === 'not_found' ? 404 : 409).send({ error: err.code, message: err.message });
        if (err instanceof StoreUnavailableError || isUnavailable(err)) return reply.code(503).send(errorBody('store_unavailable'));
        throw err;
      }
    });
  });
}
