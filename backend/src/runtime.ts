// Wires the process: config → store → keys, verifier, metrics → app. Shared by `shopml serve`,
// the demo and the integration tests, so they all run the same thing.
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { buildApp, loggerOptions, type AppDeps } from './app.ts';
import { openDb } from './store/db.ts';
import { createGroupWriter } from './store/writer.ts';
import { startCheckpointer } from './store/checkpointer.ts';
import { createKeys } from './keys.ts';
import { createMetrics } from './metrics.ts';
import { createShopifyApi, createVerifier } from './shopify/verify.ts';
import { defaultFlowActions } from './flow/actions.ts';
import { notifyBulkFinished } from './shopify/bulk-export.ts';

export interface Runtime {
  app: FastifyInstance;
  deps: AppDeps;
  url: string;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  logger?: boolean;
  now?: () => Date;
  fetch?: typeof globalThis.fetch;
  defaultMetrics?: boolean;
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
    now: opts.now ?? (() => new Date()),
    fetch: opts.fetch ?? globalThis.fetch,
    lifecycle: { shuttingDown: false },
    onBulkFinished: (shop, id) => notifyBulkFinished(shop, id),
  };
  for (const a of defaultFlowActions()) deps.flowActions.set(a.handle, a);
  return deps;
}

export async function startRuntime(config: Config, opts: RuntimeOptions = {}): Promise<Runtime> {
  const deps = await createDeps(config, opts);
  const app = await buildApp(deps, { logger: opts.logger ? loggerOptions(config.logLevel) : false });
  const checkpointer = startCheckpointer(deps.db, config.databasePath);
  const address = await app.listen({ port: config.port, host: config.host });
  let closed = false;
  return {
    app,
    deps,
    url: address.replace('[::1]', '127.0.0.1'),
    async close() {
      if (closed) return;
      closed = true;
      deps.lifecycle.shuttingDown = true;
      await app.close(); // stops accepting, lets in-flight requests finish
      await deps.writer.drain();
      await checkpointer.stop();
      deps.db.pragma('wal_checkpoint(TRUNCATE)');
      deps.db.close();
    },
  };
}
