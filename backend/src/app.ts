// buildApp(deps): the Fastify instance with every route plugin registered. No globals: tests
// build as many apps as they like, each with its own database, metrics and clock.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.ts';
import type { Db } from './store/db.ts';
import type { GroupWriter } from './store/writer.ts';
import type { Keys } from './keys.ts';
import type { Metrics } from './metrics.ts';
import type { Verifier } from './shopify/verify.ts';
import type { FlowActionHandler } from './flow/routes.ts';
import type { JobHandler, TrainedHook } from './jobs/handlers.ts';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERRORS, errorBody, type ErrorCode } from './errors.ts';
import { utf8Of } from './http/raw-body.ts';
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
import type { TelemetryWriter } from './serve/telemetry-writer.ts';

export interface AppDeps {
  config: Config;
  db: Db;
  writer: GroupWriter;
  /**
   * Serving's best-effort telemetry (exposures, serving counts), written in a worker thread on
   * its own connection (synchronous = NORMAL), off the event loop (serve/telemetry-writer.ts,
   * started by runtime.ts). Absent (in-memory database, tests): serving writes through `writer`.
   */
  telemetry?: TelemetryWriter;
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
      // The query string holds the app proxy signature and customer ids, and paths hold ids too
      // (/api/v1/customers/:id/insights): log the matched route's pattern, the path only when
      // nothing matched. A log line never names a customer (logs cannot be redacted later).
      req: (req: { method: string; url: string; routeOptions?: { url?: string } }) => ({ method: req.method, path: req.routeOptions?.url ?? req.url.split('?')[0] }),
    },
  };
}

/** Errors Node's HTTP parser raises before Fastify sees a request, answered in shopml's error shape. */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'bad_request';
  const body = JSON.stringify(errorBody(code, code === 'bad_request' ? 'not a valid HTTP request' : undefined));
  const status = ERRORS[code].status;
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

/** proxy-addr's rule for a hop count: the socket peer is hop 0, each X-Forwarded-For entry from the right one more. */
const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

const httpError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });

export async function buildApp(deps: AppDeps, opts: { logger?: FastifyServerOptions['logger'] } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? false, bodyLimit: 1024 * 1024, return503OnClosing: true,
    // req.ip / protocol / host from X-Forwarded-* set by this many proxies in front (0: none). Never
    // `true`: the left-most X-Forwarded-For entry is whatever the client wrote (rate limits by IP).
    trustProxy: trustHops(deps.config.trustProxyHops ?? 1),
    clientErrorHandler,
    // Fastify's own refusals (a URL that is not valid percent-encoding, a path parameter over
    // 100 characters) in the same error shape as every other answer.
    frameworkErrors: (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      reply.header('X-Content-Type-Options', 'nosniff'); // no onRequest hook runs for these
      if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return reply.code(414).send(errorBody('uri_too_long'));
      return reply.code(400).send(errorBody('bad_request', err.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid (bad percent-encoding)' : err.message));
    },
  });

  app.addHook('onRequest', (req, reply, done) => {
    // Every answer, JSON included: never sniffed as something else.
    reply.header('X-Content-Type-Options', 'nosniff');
    // Nobody (Shopify included) sends compressed request bodies: refuse rather than read gzip as text.
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      void reply.code(415).send(errorBody('unsupported_media_type', `Content-Encoding ${encoding.slice(0, 40)} is not accepted: send the body uncompressed`));
      return;
    }
    done();
  });

  // JSON bodies (the admin API, the dashboard's script): UTF-8 only, as RFC 8259 requires —
  // invalid bytes are a 400, not silently replaced; another declared charset is a 415. No
  // text/plain parser: a JSON route sent text/plain answers 415 instead of reading a string.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return done(httpError(415, `charset ${charset.slice(0, 40)} is not accepted: JSON is UTF-8`), undefined);
    const text = utf8Of(body as Buffer);
    if (text === null) return done(httpError(400, 'body is not valid UTF-8'), undefined);
    parseJson(req, text, done);
  });

  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, req, reply) => {
    if (err.statusCode === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send(errorBody('payload_too_large'));
    if (err.statusCode === 415) return reply.code(415).send(errorBody('unsupported_media_type', err.message));
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
