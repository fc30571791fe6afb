// Wires the process: config → store → keys, verifier, metrics → app. Shared by `shopml serve`,
// the demo and the integration tests, so they all run the same thing.
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { buildApp, loggerOptions, type AppDeps } from './app.ts';
import { openDb } from './store/db.ts';
import { createGroupWriter } from './store/writer.ts';
import { startCheckpointer } from './store/checkpointer.ts';
import { attachWebhookWriter, startWebhookWriter } from './ingest/webhook-writer.ts';
import { mainCompliancePasses } from './ingest/webhook-route.ts';
import { passPending } from './ingest/compliance-passes.ts';
import { startTelemetryWriter } from './serve/telemetry-writer.ts';
import { createKeys } from './keys.ts';
import { createMetrics } from './metrics.ts';
import { createShopifyApi, createVerifier } from './shopify/verify.ts';
import { defaultFlowActions } from './flow/actions.ts';
import { notifyBulkFinished } from './shopify/bulk-export.ts';
import { defaultJobHandlers } from './jobs/handlers.ts';
import { installLoop } from './jobs/loop.ts';
import { startBackgroundJobs, type BackgroundJobs, type BackgroundOptions } from './jobs/background.ts';

export interface Runtime {
  app: FastifyInstance;
  deps: AppDeps;
  url: string;
  /** The job runner and retraining scheduler; null when disabled (SHOPML_JOBS=off or opts.jobs false). */
  jobs: BackgroundJobs | null;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  logger?: boolean;
  now?: () => Date;
  fetch?: typeof globalThis.fetch;
  defaultMetrics?: boolean;
  /**
   * Webhook writes in their own thread and connection (default). false: on the main
   * connection's group writer, as every other write (a benchmark baseline; also the only
   * option for an in-memory database, which a second connection cannot open).
   */
  webhookWriterThread?: boolean;
  /** Run the job runner and retraining scheduler (default: config.jobs.enabled). false for benchmarks. */
  jobs?: boolean;
  /** Job runner / scheduler overrides and extra retrain triggers (drift, accuracy monitors). */
  jobOptions?: Omit<BackgroundOptions, 'log'>;
}

export async function createDeps(config: Config, opts: RuntimeOptions = {}): Promise<AppDeps> {
  const db = openDb(config.databasePath, { busyTimeoutMs: config.busyTimeoutMs });
  const deps: AppDeps = {
    config,
    db,
    writer: createGroupWriter(db),
    keys: createKeys(config.secretKey),
    verifier: createVerifier(createShopifyApi(config)),
    metrics: createMetrics({ defaultMetrics: opts.defaultMetrics ?? true }),
    flowActions: new Map(),
    jobHandlers: defaultJobHandlers(),
    now: opts.now ?? (() => new Date()),
    fetch: opts.fetch ?? globalThis.fetch,
    lifecycle: { shuttingDown: false },
    onBulkFinished: (shop, id) => notifyBulkFinished(shop, id),
  };
  for (const a of defaultFlowActions()) deps.flowActions.set(a.handle, a);
  installLoop(deps);
  return deps;
}

export async function startRuntime(config: Config, opts: RuntimeOptions = {}): Promise<Runtime> {
  const deps = await createDeps(config, opts);
  const webhookWriter = (opts.webhookWriterThread ?? true) && config.databasePath !== ':memory:'
    ? startWebhookWriter({ path: config.databasePath, secretKey: config.secretKey, busyTimeoutMs: config.busyTimeoutMs, redactInlineMaxEvents: config.redactInlineMaxEvents })
    : null;
  if (webhookWriter) {
    try {
      await webhookWriter.ready; // the thread opened the database: fail here, not on the first webhook
    } catch (err) {
      deps.db.close();
      throw err;
    }
    attachWebhookWriter(deps, webhookWriter);
  }
  // Serving's exposures and counts: written in their own thread and connection, never on the
  // event loop that answers the storefront (serve/telemetry-writer.ts says why).
  if (config.databasePath !== ':memory:') {
    const telemetry = startTelemetryWriter({ path: config.databasePath, busyTimeoutMs: config.busyTimeoutMs });
    try {
      await telemetry.ready;
    } catch (err) {
      await webhookWriter?.stop();
      deps.db.close();
      throw err;
    }
    deps.telemetry = telemetry;
  }
  const { app, checkpointer, address } = await (async () => {
    const app = await buildApp(deps, { logger: opts.logger ? loggerOptions(config.logLevel) : false });
    const checkpointer = startCheckpointer(deps.db, config.databasePath);
    const address = await app.listen({ port: config.port, host: config.host });
    return { app, checkpointer, address };
  })().catch(async (err: unknown) => {
    await webhookWriter?.stop();
    await deps.telemetry?.stop();
    throw err;
  });
  const jobs = (opts.jobs ?? config.jobs.enabled) ? startBackgroundJobs(deps, { log: app.log, ...opts.jobOptions }) : null;
  // A compliance pass left unfinished goes on (the webhook writer thread resumes its own).
  const passes = webhookWriter ? null : mainCompliancePasses(deps);
  if (passes && passPending(deps.db)) passes.kick();
  let closed = false;
  return {
    app,
    deps,
    url: address.replace('[::1]', '127.0.0.1'),
    jobs,
    async close() {
      if (closed) return;
      closed = true;
      deps.lifecycle.shuttingDown = true;
      await jobs?.stop(); // running handlers finish (or are released) while the store is still open
      // Stops accepting and lets in-flight requests finish. Node closes the keep-alive
      // connections that are idle when close() starts; one whose response goes out later (a
      // webhook answered after its commit) would hold close() open until keepAliveTimeout, so
      // sweep idle connections until it returns.
      const closing = app.close();
      const sweep = setInterval(() => app.server.closeIdleConnections(), 20);
      try {
        await closing;
      } finally {
        clearInterval(sweep);
      }
      await webhookWriter?.stop(); // every delivery handed to the thread is answered first
      await passes?.stop();
      await deps.writer.drain();
      await deps.telemetry?.stop(); // every batch handed to the thread is committed first
      await checkpointer.stop();
      deps.db.pragma('wal_checkpoint(TRUNCATE)');
      deps.db.close();
    },
  };
}
