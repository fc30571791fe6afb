// /api/v1/models — the model registry over the admin API (same credentials as api/routes.ts:
// the operator token, any shop via ?shop=; a session token, its own shop only).
//   GET  /api/v1/models?shop=&kind=                 versions with metrics and aliases
//   GET  /api/v1/models/history?shop=&kind=&at=     alias moves (and, with at, the state then)
//   POST /api/v1/models/promote   {kind, version, to?, reason?, from?}
//   POST /api/v1/models/rollback  {kind, to?, alias?, reason?, from?}
// A move is effective on the next read of the alias (no restart, no cache to flush).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app.ts';
import { errorBody } from '../errors.ts';
import type { ModelKind } from '../models/types.ts';
import { aliasGeneration, currentAliases, isAliasName, moveJson, promote, rollback, type AliasMove } from '../registry/aliases.ts';
import { historyReport, modelCatalog } from '../registry/catalog.ts';
import { isModelKind, REGISTRY_KINDS, RegistryError, resolveVersion } from '../registry/versions.ts';
import type { Db } from '../store/db.ts';
import { isUnavailable, StoreUnavailableError } from '../store/writer.ts';
import { reconcile } from '../rollout/canary.ts';
import { makeAuthenticate, targetShop as target, useApiHeaders } from './auth.ts';

type Body = Record<string, unknown>;

function actorOf(req: FastifyRequest): string {
  const p = req.principal!;
  return p.kind === 'operator' ? 'api:operator' : `api:${p.userId ?? 'session'}`;
}

function optionalString(b: Body, key: string, max = 500): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new RegistryError('invalid', `${key} must be a non-empty string of at most ${max} characters`);
  return v;
}

function sendError(reply: FastifyReply, err: unknown) {
  if (err instanceof RegistryError) {
    if (err.code === 'not_found') return reply.code(404).send(errorBody('not_found', err.message));
    if (err.code === 'conflict') return reply.code(409).send({ error: 'conflict', message: 'the alias moved meanwhile', detail: err.message });
    return reply.code(400).send(errorBody('bad_request', err.message));
  }
  if (err instanceof StoreUnavailableError || isUnavailable(err)) return reply.code(503).send(errorBody('store_unavailable'));
  throw err;
}

export async function registryRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  useApiHeaders(app);

  const authenticate = makeAuthenticate(deps);
  app.register(async (secured) => {
    secured.addHook('preHandler', authenticate);

    const kindFrom = (v: unknown, required: boolean): ModelKind | undefined => {
      if (v === undefined) {
        if (required) throw new RegistryError('invalid', `kind is required (${REGISTRY_KINDS.join(', ')})`);
        return undefined;
      }
      if (!isModelKind(v)) throw new RegistryError('invalid', `kind must be one of ${REGISTRY_KINDS.join(', ')}`);
      return v;
    };

    secured.get('/api/v1/models', async (req, reply) => {
      const shop = target(req, reply, false);
      if (shop === null) return reply;
      try {
        const kind = kindFrom((req.query as { kind?: string }).kind, false);
        return modelCatalog(deps.db, { shop, kind });
      } catch (err) {
        return sendError(reply, err);
      }
    });

    secured.get('/api/v1/models/history', async (req, reply) => {
      const shop = target(req, reply, true);
      if (!shop) return reply;
      try {
        const q = req.query as { kind?: string; at?: string };
        return historyReport(deps.db, shop, kindFrom(q.kind, false), q.at);
      } catch (err) {
        return sendError(reply, err);
      }
    });

    const move = (name: 'promote' | 'rollback') => async (req: FastifyRequest, reply: FastifyReply) => {
      const body = req.body;
      if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) return reply.code(400).send(errorBody('bad_request', 'expected a JSON object'));
      const b = (body ?? {}) as Body;
      const shop = target(req, reply, true, b);
      if (!shop) return reply;
      try {
        const kind = kindFrom(b.kind, true)!;
        const reason = optionalString(b, 'reason');
        const typedTo = optionalString(b, 'to', 64);
        const typedFrom = optionalString(b, 'from', 64);
        const actor = actorOf(req);
        const at = deps.now().toISOString();
        let move: (db: Db) => AliasMove[];
        if (name === 'promote') {
          const typed = optionalString(b, 'version', 64);
          if (!typed) throw new RegistryError('invalid', 'version is required');
          const to = typedTo ?? 'champion';
          if (!isAliasName(to)) throw new RegistryError('invalid', 'to must be champion or challenger');
          move = (db) => promote(db, {
            shop, kind, to, actor, at, reason: reason ?? `manual promotion to ${to}`,
            version: resolveVersion(db, shop, kind, typed),
            expectFrom: typedFrom === undefined ? undefined : resolveVersion(db, shop, kind, typedFrom),
          });
        } else {
          const alias = optionalString(b, 'alias', 16) ?? 'champion';
          if (!isAliasName(alias)) throw new RegistryError('invalid', 'alias must be champion or challenger');
          move = (db) => [rollback(db, {
            shop, kind, alias, actor, at, reason: reason ?? `manual rollback of the ${alias}`,
            to: typedTo === undefined ? undefined : resolveVersion(db, shop, kind, typedTo),
            expectFrom: typedFrom === undefined ? undefined : resolveVersion(db, shop, kind, typedFrom),
          })];
        }
        // The move and the stop of a canary it supersedes commit together (one write, one
        // transaction): a crash between them would leave the canary live on stale versions.
        const { moves, stopped } = await deps.writer.write((db) => {
          const moves = move(db);
          return { moves, stopped: moves.length > 0 ? reconcile(db, shop, kind, deps.now(), actor) : null };
        });
        return { shop, kind, moves: moves.map(moveJson), aliases: currentAliases(deps.db, shop, kind), generation: aliasGeneration(deps.db, shop), stopped_experiment: stopped?.id ?? null };
      } catch (err) {
        return sendError(reply, err);
      }
    };
    secured.post('/api/v1/models/promote', move('promote'));
    secured.post('/api/v1/models/rollback', move('rollback'));
  });
}
