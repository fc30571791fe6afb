// Starts the real backend (Fastify on port 0, a real SQLite file in a temp folder) for a test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../backend/src/config.ts';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../backend/src/runtime.ts';

export const TEST_SECRET = 'test-api-secret-0123456789';
export const TEST_API_KEY = 'test-api-key';
export const SHOP = 'test-shop.myshopify.com';

export function testEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SHOPIFY_API_KEY: TEST_API_KEY,
    SHOPIFY_API_SECRET: TEST_SECRET,
    SHOPIFY_APP_URL: 'https://shopml.test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_PATH: join(dir, 'shopml.db'),
    ARTIFACTS_DIR: join(dir, 'artifacts'),
    SHOPML_SECRET_KEY: 'k'.repeat(48),
    SHOPML_ADMIN_TOKEN: 'operator-token-0123456789',
    LOG_LEVEL: 'silent',
    ...extra,
  };
}

export interface TestBackend extends Runtime {
  dir: string;
  config: Config;
  stop(): Promise<void>;
}

export async function startTestBackend(extraEnv: Record<string, string> = {}, opts: RuntimeOptions = {}): Promise<TestBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'shopml-test-'));
  const config = loadConfig(testEnv(dir, extraEnv));
  const rt = await startRuntime(config, { defaultMetrics: false, ...opts });
  return {
    ...rt,
    dir,
    config,
    async stop() {
      await rt.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
