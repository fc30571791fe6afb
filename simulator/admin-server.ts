// A local stand-in for Shopify's Admin API, for tests and the demo: GraphQL validated against the
// real 2026-07 schema, cost-based throttling with a leaky bucket per shop, bulk operations with
// JSONL results and the `bulk_operations/finish` webhook, token exchange, and failure injection.
// Routes live under /shops/:shop/ so one server plays several shops.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import {
  type DocumentNode,
  type GraphQLError,
  type OperationDefinitionNode,
  execute,
  getOperationAST,
  getVariableValues,
  Kind,
  parse,
  validate,
} from 'graphql';
import { adminSchema, ADMIN_API_VERSION } from '../backend/src/shopify/schema.ts';
import type { ShopState, SimBulkOperation } from './admin-state.ts';
import { bulkUserError, checkBulkQuery, executeBulk } from './bulk-ops.ts';
import { type ExecContext, mutationRoot, queryRoot, SUPPORTED_MUTATION_FIELDS, SUPPORTED_QUERY_FIELDS, type UserErr } from './graphql-exec.ts';
import { LeakyBucket } from './leaky-bucket.ts';
import { selectedProtectedFields } from './protected-fields.ts';
import { MAX_QUERY_COST, queryCost } from './query-cost.ts';
import { ID_TOKEN_TYPE, OFFLINE_TOKEN_TYPE, ONLINE_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT, verifySessionToken } from './token-exchange.ts';
import type { SimStore } from './types.ts';
import type { SimFlowTrigger } from './flow-extensions.ts';

export type CallOutcome = 'ok' | 'throttled' | 'invalid' | 'unauthorized' | 'injected' | 'access_denied' | 'max_cost' | 'unsupported' | 'bad_request';

export interface RecordedCall {
  shop: string;
  apiVersion: string;
  operationName: string | null;
  variables: Record<string, unknown>;
  query: string;
  at: string;
  status: number;
  outcome: CallOutcome;
  /** Requested cost (null when not computed: invalid document, auth failure, injected failure). */
  cost: number | null;
}

export interface WebhookDelivery {
  shop: string;
  topic: string;
  webhookId: string;
  body: string;
  status: number | null;
  error: string | null;
}

export type FailureKind = 429 | 500 | 502 | 503 | 504 | 'network';

export interface AdminSimulatorOptions {
  store: SimStore | SimStore[];
  /** Tokens accepted per shop; tokens issued by token exchange are accepted too. */
  accessTokens?: Record<string, string | string[]>;
  apiKey: string;
  apiSecret: string;
  scopes?: string[];
  bucketSize?: number;
  restoreRate?: number;
  now?: () => number;
  port?: number;
  host?: string;
  /** Receives signed `bulk_operations/finish` webhooks (secret defaults to apiSecret). */
  webhookTarget?: { url: string; secret?: string };
  /** Time a bulk operation stays RUNNING. */
  bulkDelayMs?: number;
  /** 'deferred' emits each order's line items after the next order (ungrouped output). */
  bulkLayout?: 'grouped' | 'deferred';
  maxConcurrentBulkQueries?: number;
  /** If set, flowTriggerReceive rejects other handles. */
  flowTriggerHandles?: string[];
  /** Deployed Flow trigger definitions (simulator/flow-extensions.ts loadFlowTriggers): payloads are checked against them, other handles rejected. */
  flowTriggers?: SimFlowTrigger[];
  /** Shopify withholds protected customer fields from unapproved apps; so does the simulator. */
  allowProtectedCustomerData?: boolean;
  /** Numeric app id for `$app` namespaces. */
  appId?: string;
  logger?: boolean;
}

export interface AdminSimulator {
  url: string;
  /** For createAdminClient's baseUrl: `${url}/shops/{shop}`. */
  baseUrlTemplate: string;
  calls: RecordedCall[];
  webhookDeliveries: WebhookDelivery[];
  shops: Map<string, ShopState>;
  state(shop: string): ShopState;
  /** The next `n` GraphQL requests (any shop) fail with this HTTP status or a dropped connection. */
  failNext(n: number, kind: FailureKind, opts?: { retryAfterSeconds?: number }): void;
  /** The next bulk operation ends FAILED with this error code. */
  failNextBulk(errorCode?: 'ACCESS_DENIED' | 'INTERNAL_SERVER_ERROR' | 'TIMEOUT'): void;
  setRestoreRate(rate: number, shop?: string): void;
  issueAccessToken(shop: string): string;
  /** Resolves when no bulk operation is running and no webhook is in flight. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const UNAUTHORIZED = '[API] Invalid API key or access token (unrecognized login or wrong password)';
const THROTTLE_DOCS = 'https://shopify.dev/api/usage/rate-limits';

function gqlErrors(errors: readonly GraphQLError[], code: string) {
  return errors.map((e) => {
    const j = e.toJSON();
    return { ...j, extensions: { code, ...(j.extensions ?? {}) } };
  });
}

export async function startAdminSimulator(opts: AdminSimulatorOptions): Promise<AdminSimulator> {
  const schema = adminSchema();
  const now = opts.now ?? Date.now;
  const iso = () => new Date(now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const scopes = opts.scopes ?? ['read_orders', 'read_all_orders', 'read_products', 'read_customers', 'write_customers'];
  const bulkDelayMs = opts.bulkDelayMs ?? 50;
  const maxBulk = opts.maxConcurrentBulkQueries ?? 1;
  const appId = opts.appId ?? '1000001';
  const fileDir = mkdtempSync(join(tmpdir(), 'shopml-sim-bulk-'));
  let idCounter = 1_000_000;
  const nextId = () => ++idCounter;

  const shops = new Map<string, ShopState>();
  for (const store of Array.isArray(opts.store) ? opts.store : [opts.store]) {
    shops.set(store.shop, {
      shop: store.shop,
      store,
      bucket: new LeakyBucket({ size: opts.bucketSize ?? 2000, restoreRate: opts.restoreRate ?? 100, now }),
      customerTags: new Map(),
      orderTags: new Map(),
      metafields: [],
      metafieldDefinitions: [],
      flowTriggers: [],
      bulkOperations: new Map(),
      appInstallationId: `gid://shopify/AppInstallation/${nextId()}`,
    });
  }
  const tokens = new Map<string, Set<string>>();
  for (const [shop, t] of Object.entries(opts.accessTokens ?? {})) tokens.set(shop, new Set(Array.isArray(t) ? t : [t]));
  const issueAccessToken = (shop: string): string => {
    const token = `shpat_${randomBytes(16).toString('hex')}`;
    if (!tokens.has(shop)) tokens.set(shop, new Set());
    tokens.get(shop)!.add(token);
    return token;
  };

  const calls: RecordedCall[] = [];
  const webhookDeliveries: WebhookDelivery[] = [];
  const failures: { kind: FailureKind; retryAfterSeconds?: number }[] = [];
  const bulkFailures: ('ACCESS_DENIED' | 'INTERNAL_SERVER_ERROR' | 'TIMEOUT')[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const timers = new Set<NodeJS.Timeout>();
  let baseUrl = '';
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => {});
    return p;
  };

  // ---- bulk operations ----

  async function deliverBulkFinished(state: ShopState, op: SimBulkOperation): Promise<void> {
    const target = opts.webhookTarget;
    if (!target) return;
    const body = JSON.stringify({
      admin_graphql_api_id: op.gid,
      completed_at: op.completedAt,
      created_at: op.createdAt,
      error_code: op.errorCode ? op.errorCode.toLowerCase() : null,
      status: op.status.toLowerCase(),
      type: 'query',
    });
    const webhookId = randomUUID();
    const delivery: WebhookDelivery = { shop: state.shop, topic: 'bulk_operations/finish', webhookId, body, status: null, error: null };
    webhookDeliveries.push(delivery);
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-Shopify-Hmac-Sha256': createHmac('sha256', target.secret ?? opts.apiSecret).update(body, 'utf8').digest('base64'),
          'X-Shopify-Topic': 'bulk_operations/finish',
          'X-Shopify-Shop-Domain': state.shop,
          'X-Shopify-API-Version': ADMIN_API_VERSION,
          'X-Shopify-Webhook-Id': webhookId,
          'X-Shopify-Event-Id': randomUUID(),
          'X-Shopify-Triggered-At': new Date(now()).toISOString(),
        },
        body,
      });
      delivery.status = res.status;
      await res.body?.cancel();
    } catch (err) {
      delivery.error = (err as Error).message;
    }
  }

  function runBulkQuery(state: ShopState, query: string, groupObjects: boolean): { bulkOperation: SimBulkOperation | null; userErrors: UserErr[] } {
    const running = [...state.bulkOperations.values()].filter((o) => o.status === 'CREATED' || o.status === 'RUNNING');
    if (running.length >= maxBulk) {
      return { bulkOperation: null, userErrors: [bulkUserError(`A bulk query operation for this app and shop is already in progress: ${running[0]!.gid}.`, 'OPERATION_IN_PROGRESS')] };
    }
    const checked = checkBulkQuery(schema, query);
    if ('error' in checked) return { bulkOperation: null, userErrors: [bulkUserError(checked.error, 'INVALID')] };
    const id = nextId();
    const op: SimBulkOperation = {
      id,
      gid: `gid://shopify/BulkOperation/${id}`,
      query,
      status: 'RUNNING',
      errorCode: null,
      createdAt: iso(),
      completedAt: null,
      objectCount: 0,
      rootObjectCount: 0,
      fileSize: null,
      url: null,
      file: null,
    };
    state.bulkOperations.set(op.gid, op);
    const forcedFailure = bulkFailures.shift();
    const ctx = execContext(state);
    // Snapshot now, publish after the delay (Shopify also reads while RUNNING).
    // groupObjects: true asks for children right after their parent, whatever the layout option.
    const work = executeBulk(schema, checked, rootValue, ctx, opts.bulkLayout === 'deferred' && !groupObjects);
    const timer = setTimeout(() => {
      timers.delete(timer);
      track(
        work.then(async (result) => {
          op.completedAt = iso();
          if (forcedFailure || 'error' in result) {
            op.status = 'FAILED';
            op.errorCode = forcedFailure ?? 'INTERNAL_SERVER_ERROR';
          } else {
            op.status = 'COMPLETED';
            op.objectCount = result.lines.length;
            op.rootObjectCount = result.roots;
            if (result.lines.length > 0) {
              op.file = join(fileDir, `${state.shop}-${id}.jsonl`);
              writeFileSync(op.file, result.lines.join('\n') + '\n');
              op.fileSize = statSync(op.file).size;
              op.url = `${baseUrl}/shops/${state.shop}/bulk/${id}.jsonl`;
            }
          }
          await deliverBulkFinished(state, op);
        }),
      );
    }, bulkDelayMs);
    timers.add(timer);
    return { bulkOperation: op, userErrors: [] };
  }

  const rootValue = { ...queryRoot, ...mutationRoot };
  const execContext = (state: ShopState): ExecContext => ({
    state,
    bulk: false,
    scopes,
    now,
    nextId,
    appId,
    flowTriggerHandles: opts.flowTriggerHandles ?? null,
    flowTriggers: opts.flowTriggers ? new Map(opts.flowTriggers.map((t) => [t.handle, t])) : null,
    runBulkQuery,
  });

  // ---- HTTP ----

  const app = Fastify({ logger: opts.logger ?? false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const stateOf = (shop: string): ShopState | undefined => shops.get(shop);

  function answerGraphql(req: FastifyRequest<{ Params: { shop: string; version: string } }>, reply: FastifyReply): unknown {
    const { shop, version } = req.params;
    const body = (req.body ?? {}) as { query?: unknown; variables?: unknown; operationName?: unknown };
    const query = typeof body.query === 'string' ? body.query : '';
    const variables = body.variables && typeof body.variables === 'object' ? (body.variables as Record<string, unknown>) : {};
    const opNameGuess = /\b(?:query|mutation)\s+([_A-Za-z]\w*)/.exec(query)?.[1] ?? null;
    const call: RecordedCall = { shop, apiVersion: version, operationName: opNameGuess, variables, query, at: iso(), status: 200, outcome: 'ok', cost: null };
    calls.push(call);
    const send = (status: number, outcome: CallOutcome, payload: unknown) => {
      call.status = status;
      call.outcome = outcome;
      return reply.code(status).send(payload);
    };

    const failure = failures.shift();
    if (failure) {
      call.outcome = 'injected';
      if (failure.kind === 'network') {
        call.status = 0;
        reply.hijack();
        req.raw.socket.destroy();
        return reply;
      }
      if (failure.kind === 429) reply.header('Retry-After', String(failure.retryAfterSeconds ?? 1));
      return send(failure.kind, 'injected', { errors: failure.kind === 429 ? 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.' : 'Internal Server Error' });
    }

    const state = stateOf(shop);
    if (!state) return send(404, 'bad_request', { errors: 'Not Found' });
    const token = req.headers['x-shopify-access-token'];
    if (typeof token !== 'string' || !tokens.get(shop)?.has(token)) return send(401, 'unauthorized', { errors: UNAUTHORIZED });
    if (!query) return send(400, 'bad_request', { errors: { query: 'Required parameter missing or invalid' } });

    let doc: DocumentNode;
    try {
      doc = parse(query);
    } catch (err) {
      return send(200, 'invalid', { errors: gqlErrors([err as GraphQLError], 'GRAPHQL_PARSE_FAILED') });
    }
    const invalid = validate(schema, doc);
    if (invalid.length > 0) return send(200, 'invalid', { errors: gqlErrors(invalid, 'GRAPHQL_VALIDATION_FAILED') });
    const operationName = typeof body.operationName === 'string' ? body.operationName : undefined;
    const op = getOperationAST(doc, operationName) as OperationDefinitionNode | null;
    if (!op) return send(200, 'invalid', { errors: [{ message: 'An operation name is required when the document has several operations', extensions: { code: 'BAD_REQUEST' } }] });
    call.operationName = op.name?.value ?? null;
    const coerced = getVariableValues(schema, op.variableDefinitions ?? [], variables);
    if (coerced.errors) return send(200, 'invalid', { errors: gqlErrors(coerced.errors, 'INVALID_VARIABLE') });

    const supported: readonly string[] = op.operation === 'mutation' ? SUPPORTED_MUTATION_FIELDS : SUPPORTED_QUERY_FIELDS;
    const unsupported = op.selectionSet.selections
      .filter((s) => s.kind === Kind.FIELD && !s.name.value.startsWith('__') && !supported.includes(s.name.value))
      .map((s) => (s.kind === Kind.FIELD ? s.name.value : ''));
    if (unsupported.length > 0) {
      return send(200, 'unsupported', {
        errors: unsupported.map((f) => ({
          message: `The shopml Admin API simulator does not implement ${op.operation} field '${f}' (supported: ${supported.join(', ')})`,
          extensions: { code: 'NOT_IMPLEMENTED_IN_SIMULATOR' },
        })),
      });
    }
    if (!opts.allowProtectedCustomerData) {
      const prot = selectedProtectedFields(doc);
      if (prot.length > 0) {
        return send(200, 'access_denied', {
          errors: [{ message: `This app is not approved to access protected customer data (${prot.join(', ')}).`, extensions: { code: 'ACCESS_DENIED', fields: prot } }],
        });
      }
    }

    const cost = queryCost(schema, doc, op, coerced.coerced);
    call.cost = cost;
    if (cost > MAX_QUERY_COST) {
      return send(200, 'max_cost', {
        errors: [{ message: `Query cost is ${cost}, which exceeds the single query max cost limit (${MAX_QUERY_COST}).`, extensions: { code: 'MAX_COST_EXCEEDED', cost, maxCost: MAX_QUERY_COST } }],
      });
    }
    if (!state.bucket.tryTake(cost)) {
      return send(200, 'throttled', {
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: THROTTLE_DOCS } }],
        extensions: { cost: { requestedQueryCost: cost, actualQueryCost: null, throttleStatus: state.bucket.status() } },
      });
    }
    return Promise.resolve(execute({ schema, document: doc, rootValue, contextValue: execContext(state), variableValues: variables, operationName })).then((result) => {
      const payload: Record<string, unknown> = {};
      if (result.errors?.length) payload.errors = gqlErrors(result.errors, 'INTERNAL_SERVER_ERROR');
      payload.data = result.data ?? null;
      payload.extensions = { cost: { requestedQueryCost: cost, actualQueryCost: cost, throttleStatus: state.bucket.status() } };
      return send(200, 'ok', payload);
    });
  }

  app.post('/shops/:shop/admin/api/:version/graphql.json', (req: FastifyRequest<{ Params: { shop: string; version: string } }>, reply) => answerGraphql(req, reply));

  app.get('/shops/:shop/bulk/:file', (req: FastifyRequest<{ Params: { shop: string; file: string } }>, reply) => {
    const id = /^(\d+)\.jsonl$/.exec(req.params.file)?.[1];
    const op = id ? shops.get(req.params.shop)?.bulkOperations.get(`gid://shopify/BulkOperation/${id}`) : undefined;
    if (!op?.file) return reply.code(404).send({ errors: 'Not Found' });
    return reply.type('application/jsonl').send(createReadStream(op.file));
  });

  app.post('/shops/:shop/admin/oauth/access_token', (req: FastifyRequest<{ Params: { shop: string } }>, reply) => {
    const { shop } = req.params;
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!shops.has(shop)) return reply.code(404).send({ errors: 'Not Found' });
    if (b.client_id !== opts.apiKey || b.client_secret !== opts.apiSecret) {
      return reply.code(401).send({ error: 'invalid_client', error_description: 'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.' });
    }
    if (b.grant_type !== TOKEN_EXCHANGE_GRANT) return reply.code(400).send({ error: 'unsupported_grant_type', error_description: `grant_type must be ${TOKEN_EXCHANGE_GRANT}` });
    if (b.subject_token_type !== ID_TOKEN_TYPE) return reply.code(400).send({ error: 'invalid_request', error_description: `subject_token_type must be ${ID_TOKEN_TYPE}` });
    const requested = b.requested_token_type ?? OFFLINE_TOKEN_TYPE;
    if (requested !== OFFLINE_TOKEN_TYPE && requested !== ONLINE_TOKEN_TYPE) {
      return reply.code(400).send({ error: 'invalid_request', error_description: 'requested_token_type is not supported' });
    }
    const v = verifySessionToken(String(b.subject_token ?? ''), { apiKey: opts.apiKey, apiSecret: opts.apiSecret, shop, nowMs: now() });
    if (!v.ok) return reply.code(400).send({ error: 'invalid_subject_token', error_description: `The subject token is invalid: ${v.reason}` });
    const access_token = issueAccessToken(shop);
    if (requested === OFFLINE_TOKEN_TYPE) return reply.send({ access_token, scope: scopes.join(',') });
    return reply.send({
      access_token,
      scope: scopes.join(','),
      expires_in: 86_399,
      associated_user_scope: scopes.join(','),
      associated_user: { id: Number(v.payload.sub ?? 0) },
    });
  });

  const address = await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  baseUrl = address.replace('[::1]', '127.0.0.1');

  const stateOrThrow = (shop: string): ShopState => {
    const s = shops.get(shop);
    if (!s) throw new Error(`simulator has no shop ${shop}`);
    return s;
  };

  return {
    url: baseUrl,
    baseUrlTemplate: `${baseUrl}/shops/{shop}`,
    calls,
    webhookDeliveries,
    shops,
    state: stateOrThrow,
    failNext(n, kind, o = {}) {
      for (let i = 0; i < n; i++) failures.push({ kind, retryAfterSeconds: o.retryAfterSeconds });
    },
    failNextBulk(errorCode = 'INTERNAL_SERVER_ERROR') {
      bulkFailures.push(errorCode);
    },
    setRestoreRate(rate, shop) {
      for (const s of shop ? [stateOrThrow(shop)] : shops.values()) s.bucket.setRestoreRate(rate);
    },
    issueAccessToken,
    async idle() {
      while (timers.size > 0 || inFlight.size > 0) {
        await Promise.allSettled([...inFlight]);
        if (timers.size > 0) await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.allSettled([...inFlight]);
      await app.close();
      rmSync(fileDir, { recursive: true, force: true });
    },
  };
}
