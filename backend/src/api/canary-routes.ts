// /api/v1/canary — the recommend canary over the admin API (same credentials as the registry
// routes: the operator token with ?shop=, or a session token for its own shop).
//   GET  /api/v1/canary?shop=&id=                    live (else last) experiment: report, next decision, log
//   GET  /api/v1/canary/plan?shop=&holdout=&challenger=&mde=   time to decision from the shop's traffic
//   GET  /api/v1/canary/experiments?shop=            every experiment, newest first
//   GET  /api/v1/canary/shadows?shop=&kind=          segment / churn / forecast challengers in shadow
//   POST /api/v1/canary/start     {version?, holdout?, challenger?, mde?, reason?}
//   POST /api/v1/canary/promote|rollback|stop   {reason?}
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app.ts';
import { errorBody } from '../errors.ts';
import { RegistryError } from '../registry/versions.ts';
import { listExperiments } from '../rollout/experiments.ts';
import { listShadows, SHADOW_KINDS } from '../rollout/shadow.ts';
import type { ModelKind } from '../models/types.ts';
import { CANARY_KIND, CanaryError, canaryStatus, decideCanary, planFor, startCanary, type PlanOptions } from '../rollout/canary.ts';
import { isUnavailable, StoreUnavailableError } from '../store/writer.ts';
import { makeAuthenticate, targetShop, useApiHeaders } from './auth.ts';

type Body = Record<string, unknown>;

class BadInput extends Error {}

function actorOf(req: FastifyRequest): string {
  const p = req.principal!;
  return p.kind === 'operator' ? 'api:operator' : `api:${p.userId ?? 'session'}`;
}

function num(v: unknown, name: string, lo: number, hi: number): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < lo || n > hi) throw new BadInput(`${name} must be a number between ${lo} and ${hi}`);
  return n;
}

function text(v: unknown, name: string, max: number): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new BadInput(`${name} must be a non-empty string of at most ${max} characters`);
  return v;
}

const planOptions = (o: Body): PlanOptions => ({
  holdoutPct: num(o.holdout, 'holdout', 0, 100), challengerPct: num(o.challenger, 'challenger', 0, 100), mdeRel: num(o.mde, 'mde', 0.001, 10),
});

function sendError(reply: FastifyReply, err: unknown) {
  if (err instanceof BadInput || err instanceof RangeError) return reply.code(400).send(errorBody('bad_request', err.message));
  if (err instanceof CanaryError) {
    if (err.code === 'conflict') return reply.code(409).send({ error: 'conflict', message: err.message });
    return reply.code(err.code === 'invalid' ? 400 : 409).send({ error: err.code, message: err.message });
  }
  if (err instanceof RegistryError) return reply.code(err.code === 'not_found' ? 404 : err.code === 'conflict' ? 409 : 400).send(errorBody(err.code === 'not_found' ? 'not_found' : 'bad_request', err.message));
  if (err instanceof StoreUnavailableError || isUnavailable(err)) return reply.code(503).send(errorBody('store_unavailable'));
  throw err;
}

function objectBody(req: FastifyRequest): Body {
  const b = req.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new BadInput('expected a JSON object');
  return b as Body;
}

export async function canaryRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  useApiHeaders(app);
  const authenticate = makeAuthenticate(deps);
  app.register(async (secured) => {
    secured.addHook('preHandler', authenticate);

    secured.get('/api/v1/canary', async (req, reply) => {
      const shop = targetShop(req, reply, true);
      if (!shop) return reply;
      try {
        const id = (req.query as { id?: string }).id;
        if (id !== undefined && !/^\d{1,12}$/.test(id)) throw new BadInput('id must be an experiment number');
        const s = canaryStatus(deps.db, shop, CANARY_KIND, deps.now(), id === undefined ? undefined : Number(id));
        return s ?? { experiment: null };
      } catch (err) {
        return sendError(reply, err);
      }
    });

    secured.get('/api/v1/canary/plan', async (req, reply) => {
      const shop = targetShop(req, reply, true);
      if (!shop) return reply;
      try {
        return planFor(deps.db, shop, CANARY_KIND, deps.now(), planOptions(req.query as Body));
      } catch (err) {
        return sendError(reply, err);
      }
    });

    secured.get('/api/v1/canary/experiments', async (req, reply) => {
      const shop = targetShop(req, reply, true);
      if (!shop) return reply;
      return { experiments: listExperiments(deps.db, shop, CANARY_KIND) };
    });

    secured.get('/api/v1/canary/shadows', async (req, reply) => {
      const shop = targetShop(req, reply, true);
      if (!shop) return reply;
      const kind = (req.query as { kind?: string }).kind;
      if (kind !== undefined && !(SHADOW_KINDS as readonly string[]).includes(kind)) return reply.code(400).send(errorBody('bad_request', `kind must be one of ${SHADOW_KINDS.join(', ')}`));
      return { shadows: listShadows(deps.db, shop, kind as ModelKind | undefined) };
    });

    secured.post('/api/v1/canary/start', async (req, reply) => {
      try {
        const b = objectBody(req);
        const shop = targetShop(req, reply, true, b);
        if (!shop) return reply;
        const opts = planOptions(b);
        const version = text(b.version, 'version', 64), reason = text(b.reason, 'reason', 500);
        const r = await deps.writer.write((db) => startCanary(db, { shop, version, reason, actor: actorOf(req), now: deps.now(), ...opts }));
        return reply.code(201).send(r);
      } catch (err) {
        return sendError(reply, err);
      }
    });

    for (const action of ['promote', 'rollback', 'stop'] as const) {
      secured.post(`/api/v1/canary/${action}`, async (req, reply) => {
        try {
          const b = objectBody(req);
          const shop = targetShop(req, reply, true, b);
          if (!shop) return reply;
          const reason = text(b.reason, 'reason', 500);
          const r = await deps.writer.write((db) => decideCanary(db, { shop, action, actor: actorOf(req), reason, now: deps.now() }));
          return { experiment: r.experiment, decision: r.decision };
        } catch (err) {
          return sendError(reply, err);
        }
      });
    }
  });
}
