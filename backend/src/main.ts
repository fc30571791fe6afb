// `shopml serve`: config → store → app; graceful shutdown on SIGTERM / SIGINT.
import { ConfigError, loadConfig } from './config.ts';
import { startRuntime } from './runtime.ts';
import { missingServeFlags, SERVE_NODE_FLAGS } from './node-flags.ts';

export async function serve(env: Record<string, string | undefined> = process.env): Promise<number> {
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 78; // EX_CONFIG
    }
    throw err;
  }
  const rt = await startRuntime(config, { logger: true });
  rt.app.log.info({ url: rt.url, database: config.databasePath }, 'shopml listening');
  const missing = missingServeFlags(process.execArgv);
  if (missing.length > 0) {
    rt.app.log.warn({ missing, recommended: SERVE_NODE_FLAGS }, `started without ${missing.join(' ')}: tail latency under load is worse (npm start passes them; docs/operations.md)`);
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      rt.app.log.info({ signal }, 'shutting down');
      rt.close().then(resolve, (err) => {
        rt.app.log.error({ err }, 'error during shutdown');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
